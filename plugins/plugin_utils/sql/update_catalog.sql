-- airgap.wsus SUSDB query
-- name: update_catalog
-- parameters: none
-- columns: UpdateId, RevisionNumber, IsDeclined, PublicationState
-- Every update the server knows, at its latest revision: the import side's catalog, against
-- which an approvals document is planned (an update missing here is skipped, an expired one
-- is not approved for install). Four narrow columns keep 100,000 updates to a few megabytes.
SELECT
    u.UpdateId AS UpdateId,
    u.RevisionNumber AS RevisionNumber,
    u.IsDeclined AS IsDeclined,
    u.PublicationState AS PublicationState
FROM PUBLIC_VIEWS.vUpdate AS u
ORDER BY u.UpdateId
