-- airgap.wsus SUSDB query
-- name: approved_files
-- parameters: none
-- columns: FileDigest, FileName, Size, IsEula, DesiredState, ActualState
-- Every file the latest revision of an update approved for install needs, with the server's
-- view of it (DesiredState/ActualState are NULL when the server does not track the file).
-- FileDigest is the binary SHA-1. The executors return it as upper-case hex, which names the
-- file on disk: <last two hex digits>\<hex><extension of FileName>. The hex is made in Python
-- (or by the host script) because CONVERT(varchar(40), FileDigest, 2) is SQL Server only.
SELECT DISTINCT
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
WHERE a.Action = 'Install'
ORDER BY f.FileName
