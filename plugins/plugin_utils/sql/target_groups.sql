-- airgap.wsus SUSDB query
-- name: target_groups
-- parameters: none
-- columns: ComputerTargetGroupId, ParentGroupId, Name
-- Every computer target group with its parent (NULL for All Computers). The built-in groups
-- are named in the language WSUS was installed in, so the controller matches them by id and
-- every other group by its name path.
SELECT
    g.ComputerTargetGroupId AS ComputerTargetGroupId,
    g.ParentGroupId AS ParentGroupId,
    g.Name AS Name
FROM PUBLIC_VIEWS.vComputerTargetGroup AS g
ORDER BY g.ComputerTargetGroupId
