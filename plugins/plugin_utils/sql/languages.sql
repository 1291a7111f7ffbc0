-- airgap.wsus SUSDB query
-- name: languages
-- parameters: none
-- columns: ShortLanguage, Enabled
-- Every update language WSUS knows, with whether this server downloads it.
SELECT
    l.ShortLanguage AS ShortLanguage,
    l.Enabled AS Enabled
FROM dbo.tbLanguage AS l
ORDER BY l.ShortLanguage
