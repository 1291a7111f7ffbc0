-- airgap.wsus SUSDB query
-- name: approved_eula_files
-- parameters: none
-- columns: FileDigest, FileName, Size, IsEula, DesiredState, ActualState
-- License (EULA) files of the latest revisions of updates approved for install. SUSDB links
-- them through tbEulaProperty rather than tbFileForRevision, and WSUS refuses to approve an
-- update whose license file is missing, so they must travel with the content.
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
JOIN dbo.tbEulaProperty AS e ON e.RevisionID = r.RevisionID
JOIN dbo.tbFile AS f ON f.FileDigest = e.EulaFileDigest
LEFT JOIN dbo.tbFileOnServer AS fos ON fos.FileDigest = f.FileDigest
WHERE a.Action = 'Install'
ORDER BY f.FileName
