-- airgap.wsus SUSDB query
-- name: update_approvals
-- parameters: none
-- columns: UpdateId, RevisionNumber, ComputerTargetGroupId, Action, Deadline
-- Install and Uninstall approvals of the latest revision of each update, per computer target
-- group. Deadline is NULL when the approval has none. An approval left on an older revision
-- (automatic approval refresh turned off) does not approve the revision clients get, so it is
-- not listed, as the API's IUpdate.GetUpdateApprovals() of the latest revision does not.
SELECT
    a.UpdateId AS UpdateId,
    a.RevisionNumber AS RevisionNumber,
    a.ComputerTargetGroupId AS ComputerTargetGroupId,
    a.Action AS Action,
    a.Deadline AS Deadline
FROM PUBLIC_VIEWS.vUpdateApproval AS a
JOIN PUBLIC_VIEWS.vUpdate AS u ON u.UpdateId = a.UpdateId AND u.RevisionNumber = a.RevisionNumber
WHERE a.Action = 'Install' OR a.Action = 'Uninstall'
ORDER BY a.UpdateId, a.ComputerTargetGroupId
