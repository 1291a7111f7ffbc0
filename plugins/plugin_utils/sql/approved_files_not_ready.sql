-- airgap.wsus SUSDB query
-- name: approved_files_not_ready
-- parameters: none
-- columns: FileDigest, FileName, Size, IsEula, DesiredState, ActualState
-- The files (license files included) of the latest revisions of updates approved for install
-- that WSUS wants and does not hold as present (ActualState 1), or does not track at all:
-- what the server still reports as needing files. After a WsusUtil reset, this shrinks to the
-- files really missing or damaged on disk. One narrow query per poll however large the catalog.
SELECT
    f.FileDigest AS FileDigest,
    f.FileName AS FileName,
    f.Size AS Size,
    f.IsEula AS IsEula,
    fos.DesiredState AS DesiredState,
    fos.ActualState AS ActualState
FROM PUBLIC_VIEWS.vUpdateApproval AS a
JOIN dbo.tbUpdate AS u ON u.UpdateID = a.UpdateId
JOIN dbo.tbRevision AS r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1
JOIN dbo.tbFileForRevision AS ffr ON ffr.RevisionID = r.RevisionID
JOIN dbo.tbFile AS f ON f.FileDigest = ffr.FileDigest
LEFT JOIN dbo.tbFileOnServer AS fos ON fos.FileDigest = f.FileDigest
WHERE a.Action = 'Install' AND (fos.FileDigest IS NULL OR (fos.DesiredState <> 0 AND fos.ActualState <> 1))
UNION
SELECT
    f.FileDigest AS FileDigest,
    f.FileName AS FileName,
    f.Size AS Size,
    f.IsEula AS IsEula,
    fos.DesiredState AS DesiredState,
    fos.ActualState AS ActualState
FROM PUBLIC_VIEWS.vUpdateApproval AS a
JOIN dbo.tbUpdate AS u ON u.UpdateID = a.UpdateId
JOIN dbo.tbRevision AS r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1
JOIN dbo.tbEulaProperty AS e ON e.RevisionID = r.RevisionID
JOIN dbo.tbFile AS f ON f.FileDigest = e.EulaFileDigest
LEFT JOIN dbo.tbFileOnServer AS fos ON fos.FileDigest = f.FileDigest
WHERE a.Action = 'Install' AND (fos.FileDigest IS NULL OR (fos.DesiredState <> 0 AND fos.ActualState <> 1))
ORDER BY FileName
