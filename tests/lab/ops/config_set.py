"""Twin of ``config_set.ps1``: set express installation files and update languages, then ``Save()``.

Only the options given and different are touched; ``Save()`` runs only then, with the
server's rules (``wsus/configuration.py``). A refusal propagates as the .NET exception the
real script lets through (``WsusInvalidDataException``, ``InvalidOperationException``).
"""
from __future__ import annotations

import typing as t

from . import HostScriptError
from ..wsus import errors

OPERATION = 'config_set'
INPUT = ('DownloadExpressPackages?', 'AllUpdateLanguagesEnabled?', 'EnabledUpdateLanguages?')
OUTPUT = ('changed', 'before', 'after')


def _snapshot(cfg: t.Any) -> t.Dict[str, t.Any]:
    return {
        'download_express_packages': bool(cfg.download_express_packages),
        'all_update_languages_enabled': bool(cfg.all_update_languages_enabled),
        'enabled_update_languages': sorted(code.lower() for code in cfg.get_enabled_update_languages()),
    }


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    """Apply the given settings to ``host.wsus`` through its configuration API."""
    del ctx
    wsus = getattr(host, 'wsus', None)
    if wsus is None:
        raise HostScriptError("Could not load file or assembly 'Microsoft.UpdateServices.Administration' or one of its "
                              'dependencies. The system cannot find the file specified.', 'System.IO.FileNotFoundException',
                              'NotSpecified')
    cfg = wsus.get_configuration()
    before = _snapshot(cfg)
    dirty = False
    if 'DownloadExpressPackages' in params and before['download_express_packages'] != bool(params['DownloadExpressPackages']):
        cfg.download_express_packages = bool(params['DownloadExpressPackages'])
        dirty = True
    if 'AllUpdateLanguagesEnabled' in params and before['all_update_languages_enabled'] != bool(params['AllUpdateLanguagesEnabled']):
        cfg.all_update_languages_enabled = bool(params['AllUpdateLanguagesEnabled'])
        dirty = True
    if 'EnabledUpdateLanguages' in params:
        wanted = params['EnabledUpdateLanguages']
        wanted = [] if wanted is None else [wanted] if isinstance(wanted, str) else list(wanted)
        if {str(x).lower() for x in wanted if x} != {x.lower() for x in before['enabled_update_languages']}:
            try:
                cfg.set_enabled_update_languages([str(x).lower() for x in wanted])
            except errors.WsusApiError as exc:
                raise HostScriptError.method(OPERATION, '$config.SetEnabledUpdateLanguages(', 'SetEnabledUpdateLanguages', 1, exc.message) from exc
            dirty = True
    after = before
    if dirty:
        try:
            cfg.save()
        except errors.WsusApiError as exc:
            raise HostScriptError.method(OPERATION, '$config.Save()', 'Save', 0, exc.message) from exc
        after = _snapshot(wsus.get_configuration())
    return {'changed': dirty, 'before': before, 'after': after}
