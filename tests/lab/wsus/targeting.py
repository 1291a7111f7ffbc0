"""Computer target groups, approvals with deadlines and declines of an emulated WSUS server.

What ``IUpdateServer.CreateComputerTargetGroup``, ``IComputerTargetGroup.Delete``,
``IUpdate.Approve`` (with a deadline), ``IUpdateApproval.Delete`` and ``IUpdate.Decline`` do,
as the Microsoft documentation describes them, against the server's SUSDB tables
(``tbTargetGroup``, ``tbDeployment``, ``tbRevision``):

- group names are unique on the whole server (compared without regard to case, as SUSDB's
  collation compares them), shorter than 256 characters and free of
  ``~!@#$^&*()=+[]\\{}|;:'"<>/``; a replica server refuses to create groups or approve;
- the built-in groups All Computers and Unassigned Computers cannot be deleted;
- approving replaces the update's approval for that group (one action per group), and an
  approved update is no longer declined, as approving a declined update in the console does;
- ``Approve(NotApproved, All Computers)`` is how a declined update is made "not approved"
  again: it clears the decline and removes the All Computers approval.

The last two are what the console shows; no Microsoft page states them for the API
(unconfirmed). The collection does not depend on the first: it un-declines before approving.

The functions take the :class:`~.server.WsusServer` and are what the twins
``ops/approvals_read.py`` and ``ops/approvals_apply.py`` (and tests setting up a server) call.
"""
from __future__ import annotations

import datetime
import typing as t
import uuid

from . import constants as C
from . import errors
from .susdb import sql_time, utcnow

INVALID_NAME_CHARS = frozenset('~!@#$^&*()=+[]\\{}|;:\'"<>/')
MAX_NAME_LENGTH = 255
BUILTIN_GROUPS = (C.ALL_COMPUTERS, C.UNASSIGNED_COMPUTERS)
NOT_APPROVED = 'NotApproved'


class WsusObjectAlreadyExistsError(errors.WsusApiError):
    """``CreateComputerTargetGroup`` with a name the server already has."""

    type_name = 'Microsoft.UpdateServices.Administration.WsusObjectAlreadyExistsException'


class WsusObjectNotFoundError(errors.WsusApiError):
    """An update or target group that is not in the database."""

    type_name = 'Microsoft.UpdateServices.Administration.WsusObjectNotFoundException'


def _is_replica(wsus: t.Any) -> bool:
    return bool(wsus.db.scalar('SELECT ReplicaMode FROM tbConfigurationC WHERE ConfigurationID = 1'))


def groups(wsus: t.Any) -> list[tuple[str, t.Optional[str], str]]:
    """``(id, parent id or None, name)`` of every computer target group, ids upper case."""
    return [(gid.upper(), parent.upper() if parent else None, name) for gid, parent, name in wsus.db.query(
        'SELECT TargetGroupID, ParentGroupID, Name FROM tbTargetGroup ORDER BY OrderValue')]


def group_id(wsus: t.Any, path: str) -> t.Optional[str]:
    """The id of the group at ``path`` (names joined by ``/``, starting with the root's name), or None."""
    names = path.split('/')
    rows = groups(wsus)
    current = next((gid for gid, parent, name in rows if parent is None and name.lower() == names[0].lower()), None)
    for name in names[1:]:
        if current is None:
            return None
        current = next((gid for gid, parent, child in rows if parent == current and child.lower() == name.lower()), None)
    return current


def create_group(wsus: t.Any, name: str, parent_id: str = C.ALL_COMPUTERS) -> str:
    """``CreateComputerTargetGroup(name, parent)``: the new group's id (a new GUID, as on any server)."""
    if name is None:
        raise errors.WsusApiError('Value cannot be null.\r\nParameter name: name')
    if not name or len(name) > MAX_NAME_LENGTH:
        raise errors.WsusArgumentError('Specified argument was out of the range of valid values.\r\nParameter name: name')
    bad = sorted(set(name) & INVALID_NAME_CHARS)
    if bad:
        raise errors.WsusArgumentError(f'The name contains characters that are not valid: {"".join(bad)}')
    if _is_replica(wsus):
        raise errors.WsusInvalidOperationError('You cannot create a computer target group on a replica server.')
    new_id = str(uuid.uuid4()).upper()
    with wsus.db.transaction() as conn:
        if conn.execute('SELECT 1 FROM tbTargetGroup WHERE TargetGroupID = ?', (parent_id,)).fetchone() is None:
            raise WsusObjectNotFoundError(f'The target group {parent_id} was not found in the database.')
        if conn.execute('SELECT 1 FROM tbTargetGroup WHERE Name = ? COLLATE NOCASE', (name,)).fetchone() is not None:
            raise WsusObjectAlreadyExistsError(f'A computer target group with the name {name} already exists. The group name must be unique.')
        order = conn.execute('SELECT COALESCE(MAX(OrderValue), 0) + 1 FROM tbTargetGroup').fetchone()[0]
        conn.execute('INSERT INTO tbTargetGroup (TargetGroupID, Name, Description, ParentGroupID, OrderValue, IsBuiltin) '
                     'VALUES (?, ?, ?, ?, ?, 0)', (new_id, name, '', parent_id.upper(), order))
    return new_id


def delete_group(wsus: t.Any, gid: str) -> None:
    """``IComputerTargetGroup.Delete()``: the group, the groups below it and their approvals."""
    gid = gid.upper()
    if gid in BUILTIN_GROUPS:
        raise errors.WsusInvalidOperationError('Cannot delete the target group. You cannot delete the All Computers or Unassigned '
                                               'Computers target group.')
    with wsus.db.transaction() as conn:
        if conn.execute('SELECT 1 FROM tbTargetGroup WHERE TargetGroupID = ?', (gid,)).fetchone() is None:
            raise WsusObjectNotFoundError(f'The target group {gid} has been deleted.')
        doomed, pending = [], [gid]
        while pending:
            current = pending.pop()
            doomed.append(current)
            pending.extend(row[0] for row in conn.execute('SELECT TargetGroupID FROM tbTargetGroup WHERE ParentGroupID = ?', (current,)))
        conn.executemany('DELETE FROM tbDeployment WHERE TargetGroupID = ?', [(g,) for g in doomed])
        conn.executemany('DELETE FROM tbTargetGroup WHERE TargetGroupID = ?', [(g,) for g in doomed])
        wsus._refresh_file_states(conn)  # pylint: disable=protected-access
        wsus._refresh_deployments(conn)  # pylint: disable=protected-access


def _latest(conn: t.Any, update_id: str) -> tuple[int, int, int]:
    row = conn.execute('SELECT r.RevisionID, r.RevisionNumber, r.State FROM tbUpdate u JOIN tbRevision r ON r.LocalUpdateID = u.LocalUpdateID '
                       'AND r.IsLatestRevision = 1 WHERE u.UpdateID = ?', (update_id.upper(),)).fetchone()
    if row is None:
        raise WsusObjectNotFoundError(f'The update {update_id} was not found in the database.')
    return row


def _group_exists(conn: t.Any, gid: str) -> None:
    if conn.execute('SELECT 1 FROM tbTargetGroup WHERE TargetGroupID = ?', (gid,)).fetchone() is None:
        raise WsusObjectNotFoundError(f'The target group {gid} was not found in the database.')


def approve(wsus: t.Any, update_id: str, gid: str, action: str = 'Install', deadline: t.Optional[datetime.datetime] = None,
            admin: str = C.DEFAULT_ADMIN_NAME) -> None:
    """``IUpdate.Approve(action, group[, deadline])``; ``deadline`` is naive UTC (None: ``DateTime.MaxValue``).

    ``NotApproved`` removes the group's approval; on All Computers it also clears a decline.
    """
    codes = {name: code for code, name in C.ACTIONS.items()}
    if action not in codes and action != NOT_APPROVED:
        raise errors.WsusArgumentError('The value for action is not valid. Only Install, Uninstall, and NotApproved are valid values.')
    if _is_replica(wsus):
        raise errors.WsusInvalidOperationError('You cannot approve the update if the server is a replica WSUS server.')
    gid = gid.upper()
    with wsus.db.transaction() as conn:
        _group_exists(conn, gid)
        rid, _number, state = _latest(conn, update_id)
        if action == NOT_APPROVED:
            conn.execute('DELETE FROM tbDeployment WHERE RevisionID = ? AND TargetGroupID = ?', (rid, gid))
            if gid == C.ALL_COMPUTERS and state == C.REVISION_STATE_DECLINED:
                conn.execute('UPDATE tbRevision SET State = ? WHERE RevisionID = ?', (C.REVISION_STATE_NORMAL, rid))
        else:
            now = utcnow()
            wsus._approve(conn, update_id, gid, codes[action], admin, now)  # pylint: disable=protected-access
            if deadline is not None:
                conn.execute('UPDATE tbDeployment SET Deadline = ? WHERE RevisionID = ? AND TargetGroupID = ?', (sql_time(deadline), rid, gid))
            if state == C.REVISION_STATE_DECLINED:
                conn.execute('UPDATE tbRevision SET State = ? WHERE RevisionID = ?', (C.REVISION_STATE_NORMAL, rid))
        wsus._refresh_file_states(conn)  # pylint: disable=protected-access
        wsus._refresh_deployments(conn)  # pylint: disable=protected-access


def remove_approvals(wsus: t.Any, update_id: str, gid: str) -> int:
    """``IUpdateApproval.Delete()`` of each approval of the update's latest revision for the group; how many went."""
    gid = gid.upper()
    with wsus.db.transaction() as conn:
        _group_exists(conn, gid)
        rid = _latest(conn, update_id)[0]
        removed = conn.execute('DELETE FROM tbDeployment WHERE RevisionID = ? AND TargetGroupID = ? AND ActionID IN (0, 1)', (rid, gid)).rowcount
        wsus._refresh_file_states(conn)  # pylint: disable=protected-access
        wsus._refresh_deployments(conn)  # pylint: disable=protected-access
    return removed


def decline(wsus: t.Any, update_id: str) -> None:
    """``IUpdate.Decline()``: removes its approvals."""
    with wsus.db.transaction() as conn:
        _latest(conn, update_id)
    wsus.decline(update_id)


def approvals(wsus: t.Any) -> list[tuple[str, int, str, str, t.Optional[datetime.datetime]]]:
    """``(update id, revision number, group id, action, deadline)`` of every Install or Uninstall approval."""
    out = []
    for uid, number, gid, action, deadline in wsus.db.query(
            'SELECT u.UpdateID, r.RevisionNumber, d.TargetGroupID, d.ActionID, d.Deadline FROM tbDeployment d '
            'JOIN tbRevision r ON r.RevisionID = d.RevisionID JOIN tbUpdate u ON u.LocalUpdateID = r.LocalUpdateID '
            'WHERE d.ActionID IN (0, 1) ORDER BY u.UpdateID, d.TargetGroupID'):
        when = datetime.datetime.fromisoformat(deadline) if deadline else None
        out.append((uid.upper(), number, gid.upper(), C.ACTIONS[action], when))
    return out


def updates(wsus: t.Any, referenced_only: bool) -> list[tuple[str, int, bool, str, t.Optional[str], str]]:
    """``(update id, latest revision, declined, publication state, KB number, title)``.

    ``referenced_only``: only updates that are declined or have an approval.
    """
    where = ('WHERE r.State = 2 OR EXISTS (SELECT 1 FROM tbDeployment d JOIN tbRevision x ON x.RevisionID = d.RevisionID '
             'WHERE x.LocalUpdateID = u.LocalUpdateID AND d.ActionID IN (0, 1))') if referenced_only else ''
    rows = wsus.db.query(
        'SELECT u.UpdateID, r.RevisionNumber, r.State, i.KnowledgebaseArticle, i.DefaultTitle FROM tbUpdate u '
        'JOIN tbRevision r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1 '
        'JOIN labUpdateInfo i ON i.LocalUpdateID = u.LocalUpdateID ' + where + ' ORDER BY u.LocalUpdateID')
    return [(uid.upper(), number, state == C.REVISION_STATE_DECLINED, 'Published', kb, title) for uid, number, state, kb, title in rows]


def deadline_of(text: t.Optional[str]) -> t.Optional[datetime.datetime]:
    """A deadline as the apply script sends it (ISO 8601 UTC), as naive UTC; None for none."""
    if not text:
        return None
    return datetime.datetime.strptime(text.rstrip('Z')[:19], '%Y-%m-%dT%H:%M:%S')
