-- airgap.wsus SUSDB query
-- name: approval_updates
-- parameters: none
-- columns: UpdateId, RevisionNumber, IsDeclined, PublicationState, KnowledgebaseArticle, DefaultTitle
-- The updates an approvals document names: every declined update and every update with an
-- Install or Uninstall approval, with its latest revision, KB number and title (so the import
-- side can say which update it skips). PublicationState is Expired for an expired update.
SELECT
    u.UpdateId AS UpdateId,
    u.RevisionNumber AS RevisionNumber,
    u.IsDeclined AS IsDeclined,
    u.PublicationState AS PublicationState,
    u.KnowledgebaseArticle AS KnowledgebaseArticle,
    u.DefaultTitle AS DefaultTitle
FROM PUBLIC_VIEWS.vUpdate AS u
WHERE u.IsDeclined = 1
    OR EXISTS (
        SELECT 1 FROM PUBLIC_VIEWS.vUpdateApproval AS a
        WHERE a.UpdateId = u.UpdateId AND (a.Action = 'Install' OR a.Action = 'Uninstall'))
ORDER BY u.UpdateId
