-- airgap.wsus SUSDB query
-- name: update_files
-- parameters: update_id
-- columns: FileDigest, FileName, Size, IsEula, DesiredState, ActualState
-- The files of the latest revision of one update (update_id: its UpdateID GUID as text), with
-- the server's view of each: what a report names when an approved update lacks content.
SELECT DISTINCT
    f.FileDigest AS FileDigest,
    f.FileName AS FileName,
    f.Size AS Size,
    f.IsEula AS IsEula,
    fos.DesiredState AS DesiredState,
    fos.ActualState AS ActualState
FROM dbo.tbUpdate AS u
JOIN dbo.tbRevision AS r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1
JOIN dbo.tbFileForRevision AS ffr ON ffr.RevisionID = r.RevisionID
JOIN dbo.tbFile AS f ON f.FileDigest = ffr.FileDigest
LEFT JOIN dbo.tbFileOnServer AS fos ON fos.FileDigest = f.FileDigest
WHERE u.UpdateID = ?
ORDER BY f.FileName
