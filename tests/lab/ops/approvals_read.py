"""Twin of ``approvals_read.ps1``: target groups, approvals and declines through the UpdateServices API.

Rows come in the column order of the collection's SUSDB queries (see the script's header);
only Install and Uninstall approvals of each update's latest revision are listed, deadlines
as ISO 8601 UTC (none for ``DateTime.MaxValue``). ``Updates: referenced`` lists the declined
and approved updates, ``all`` the whole catalog.
"""
from __future__ import annotations

import typing as t

from . import HostScriptError
from ..wsus import targeting

OPERATION = 'approvals_read'
INPUT = ('Updates?',)
OUTPUT = ('groups', 'approvals', 'updates')


def api_missing() -> HostScriptError:
    """What ``Add-Type`` throws on a host without the WSUS API."""
    return HostScriptError("Could not load file or assembly 'Microsoft.UpdateServices.Administration' or one of its "
                           'dependencies. The system cannot find the file specified.', 'System.IO.FileNotFoundException',
                           'NotSpecified')


def _iso(moment: t.Any) -> t.Optional[str]:
    if moment is None:
        return None
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (moment.microsecond // 1000)


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    del ctx
    wsus = getattr(host, 'wsus', None)
    if wsus is None:
        raise api_missing()
    referenced = str(params.get('Updates') or 'referenced').lower() == 'referenced'
    groups = [[gid, parent, name] for gid, parent, name in targeting.groups(wsus)]
    updates = targeting.updates(wsus, referenced_only=referenced)
    latest = {row[0]: row[1] for row in updates}
    approvals = [[uid, revision, gid, action, _iso(deadline)] for uid, revision, gid, action, deadline in targeting.approvals(wsus)
                 if latest.get(uid) == revision]
    return {'groups': groups, 'approvals': approvals, 'updates': [list(row) for row in updates]}
