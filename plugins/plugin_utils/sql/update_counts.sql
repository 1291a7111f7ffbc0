-- airgap.wsus SUSDB query
-- name: update_counts
-- parameters: none
-- columns: Updates, Declined, Approved, ApprovedNotPresent, ApprovedUntracked
-- Counts of updates, declined updates, updates approved for install to at least one group,
-- and approved updates whose latest revision has a file the server wants but does not have
-- (tbFileOnServer: DesiredState <> 0 and ActualState <> 1, where ActualState 1 is "present" as
-- public SUSDB scripts read it) or a file the server does not track at all.
SELECT
    (SELECT COUNT(*) FROM PUBLIC_VIEWS.vUpdate AS u) AS Updates,
    (SELECT COUNT(*) FROM PUBLIC_VIEWS.vUpdate AS u WHERE u.IsDeclined = 1) AS Declined,
    (SELECT COUNT(DISTINCT a.UpdateId) FROM PUBLIC_VIEWS.vUpdateApproval AS a WHERE a.Action = 'Install') AS Approved,
    (SELECT COUNT(DISTINCT a.UpdateId)
        FROM PUBLIC_VIEWS.vUpdateApproval AS a
        JOIN dbo.tbUpdate AS u ON u.UpdateID = a.UpdateId
        JOIN dbo.tbRevision AS r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1
        JOIN dbo.tbFileForRevision AS ffr ON ffr.RevisionID = r.RevisionID
        JOIN dbo.tbFileOnServer AS fos ON fos.FileDigest = ffr.FileDigest
        WHERE a.Action = 'Install' AND fos.DesiredState <> 0 AND fos.ActualState <> 1) AS ApprovedNotPresent,
    (SELECT COUNT(DISTINCT a.UpdateId)
        FROM PUBLIC_VIEWS.vUpdateApproval AS a
        JOIN dbo.tbUpdate AS u ON u.UpdateID = a.UpdateId
        JOIN dbo.tbRevision AS r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1
        JOIN dbo.tbFileForRevision AS ffr ON ffr.RevisionID = r.RevisionID
        LEFT JOIN dbo.tbFileOnServer AS fos ON fos.FileDigest = ffr.FileDigest
        WHERE a.Action = 'Install' AND fos.FileDigest IS NULL) AS ApprovedUntracked
