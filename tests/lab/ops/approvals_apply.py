"""Twin of ``approvals_apply.ps1``: apply an approvals plan through the UpdateServices API, item by item.

The order is the script's: delete groups, create groups (parents first), undecline, approve,
remove approvals, decline. An item the API refuses is reported in ``failed`` with the message
PowerShell gives a .NET method's exception, and the others go on.
"""
from __future__ import annotations

import contextlib
import typing as t

from . import method_message
from .approvals_read import api_missing
from ..wsus import constants as C
from ..wsus import errors, targeting

OPERATION = 'approvals_apply'
INPUT = ('Groups?', 'DeleteGroups?', 'Undecline?', 'Approve?', 'Unapprove?', 'Decline?')
OUTPUT = ('groups_created', 'groups_deleted', 'undeclined', 'approved', 'unapproved', 'declined', 'failed')


class _PlanError(Exception):
    """A ``throw`` of the script itself (a group the plan does not describe, or whose creation failed)."""


def _get(item: t.Any, name: str) -> t.Any:
    return item.get(name) if isinstance(item, dict) else None


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    del ctx
    wsus = getattr(host, 'wsus', None)
    if wsus is None:
        raise api_missing()
    # One refresh of file and approval states for the whole plan, as WSUS works them out in the background.
    batch = getattr(wsus, 'batched_refresh', None)
    with batch() if batch is not None else contextlib.nullcontext():
        return _apply(wsus, params)


def _apply(wsus: t.Any, params: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    failed: t.List[t.Dict[str, t.Any]] = []
    groups: t.Dict[str, t.Optional[str]] = {}
    created: t.List[t.Dict[str, str]] = []
    counts = dict.fromkeys(('deleted', 'undeclined', 'approved', 'unapproved', 'declined'), 0)

    def fail(op: str, item: t.Any, message: str) -> None:
        failed.append({'op': op, 'update_id': str(_get(item, 'update_id') or ''), 'group': str(_get(item, 'group') or ''),
                       'error': message})

    def group(key: str) -> str:
        if key not in groups:
            raise _PlanError(f"the plan names group '{key}' but does not describe it in Groups")
        if groups[key] is None:
            raise _PlanError(f"group '{key}' could not be created (see the failure reported for it)")
        return t.cast(str, groups[key])

    def attempt(op: str, item: t.Any, method: str, nargs: int, action: t.Callable[[], t.Any]) -> t.Tuple[bool, t.Any]:
        """Run one API call; a refusal is reported in ``failed`` as PowerShell words it, and the others go on."""
        try:
            return True, action()
        except errors.WsusApiError as exc:
            fail(op, item, method_message(method, nargs, exc.message))
        except _PlanError as exc:
            fail(op, item, str(exc))
        return False, None

    for gid in params.get('DeleteGroups') or []:
        if attempt('delete_group', {'group': gid}, 'Delete', 0, lambda gid=gid: targeting.delete_group(wsus, gid))[0]:
            counts['deleted'] += 1

    for entry in params.get('Groups') or []:
        key = str(_get(entry, 'key') or '')
        existing = _get(entry, 'id')
        if existing:
            found = any(g[0] == str(existing).upper() for g in targeting.groups(wsus))
            groups[key] = str(existing).upper() if found else None
            if not found:
                fail('create_group', {'group': key}, method_message('GetComputerTargetGroup', 1,
                                                                    f'The target group {existing} was not found in the database.'))
            continue
        groups[key] = None
        ok, new_id = attempt('create_group', {'group': key}, 'CreateComputerTargetGroup', 2,
                             lambda entry=entry: targeting.create_group(wsus, str(_get(entry, 'name') or ''),
                                                                        group(str(_get(entry, 'parent') or ''))))
        if ok:
            groups[key] = new_id
            created.append({'key': key, 'id': new_id})

    for item in params.get('Undecline') or []:
        if attempt('undecline', item, 'Approve', 2,
                   lambda item=item: targeting.approve(wsus, str(_get(item, 'update_id')), C.ALL_COMPUTERS, targeting.NOT_APPROVED))[0]:
            counts['undeclined'] += 1

    for item in params.get('Approve') or []:
        deadline = targeting.deadline_of(_get(item, 'deadline'))
        if attempt('approve', item, 'Approve', 3 if deadline else 2,
                   lambda item=item, deadline=deadline: targeting.approve(wsus, str(_get(item, 'update_id')), group(str(_get(item, 'group'))),
                                                                          str(_get(item, 'action')), deadline))[0]:
            counts['approved'] += 1

    for item in params.get('Unapprove') or []:
        if attempt('unapprove', item, 'Delete', 0,
                   lambda item=item: targeting.remove_approvals(wsus, str(_get(item, 'update_id')), group(str(_get(item, 'group')))))[0]:
            counts['unapproved'] += 1

    for item in params.get('Decline') or []:
        if attempt('decline', item, 'Decline', 0, lambda item=item: targeting.decline(wsus, str(_get(item, 'update_id'))))[0]:
            counts['declined'] += 1

    return {'groups_created': created, 'groups_deleted': counts['deleted'], 'undeclined': counts['undeclined'],
            'approved': counts['approved'], 'unapproved': counts['unapproved'], 'declined': counts['declined'], 'failed': failed}
