r"""Install the WSUS role on an emulated Windows host (what WSUS setup and postinstall leave).

- the Setup registry key (``ContentDir``, ``TargetDir``, ``SqlServerName``, ...);
- ``<ContentDir>\WsusContent`` on the host's drive, and the SUSDB (SQLite, in the host's
  state folder);
- ``<TargetDir>\Tools\WsusUtil.exe``, an emulated executable;
- the ``WsusService`` service, running;
- ``host.wsus``: the :class:`~.server.WsusServer`.

Spec keys read (``entry['wsus']``, defaults from ``spec.py``): ``content_dir``, ``port``,
``ssl``, ``database`` (``wid`` or ``sql``), ``download_express_packages``,
``all_languages``, ``languages``, ``deferred_download``, ``replica``, ``upstream``; and, when
present, ``runtime_scale`` (seconds of WsusUtil work per 1,000 updates), ``os``,
``host_binaries_on_mu``, ``get_content_from_mu``, ``upstream_port``, ``upstream_ssl``,
``save_busy_seconds``, ``connected``. ``entry['catalog']``: ``seed``, ``updates``, ``files``
and the optional keys of :class:`~.catalog.CatalogOptions` plus ``pending_updates``.
"""
from __future__ import annotations

import os
import typing as t

from . import catalog as cat
from . import constants as C
from .server import ServerSettings, WsusServer

DEFAULT_RUNTIME_SCALE = 0.5


def _settings(wsus: t.Mapping[str, t.Any]) -> ServerSettings:
    spec: dict[str, t.Any] = {key: wsus[key] for key in (
        'download_express_packages', 'deferred_download', 'replica', 'upstream', 'upstream_port', 'upstream_ssl',
        'host_binaries_on_mu', 'get_content_from_mu', 'port', 'ssl', 'save_busy_seconds', 'products', 'classifications')
        if key in wsus and wsus[key] is not None}
    if wsus.get('all_languages'):
        spec['languages'] = 'all'
    elif 'languages' in wsus:
        spec['languages'] = wsus['languages']
    return ServerSettings.from_spec(spec)


def _sql_server_name(host_name: str, database: str) -> str:
    return C.WID_SERVER_NAME if database == 'wid' else host_name.upper()


def bind(host: t.Any, entry: t.Mapping[str, t.Any]) -> WsusServer:
    """Create the WSUS role on ``host`` from its normalized spec entry; sets ``host.wsus``."""
    wsus = dict(entry.get('wsus') or entry.get('settings') or {})
    role = entry.get('role', 'export')
    content_dir = str(wsus.get('content_dir') or C.DEFAULT_CONTENT_DIR).rstrip('\\')
    target_dir = str(wsus.get('target_dir') or C.DEFAULT_TARGET_DIR).rstrip('\\')
    database = 'sql' if str(wsus.get('database', 'wid')).lower() in ('sql', 'sqlserver') else 'wid'
    fs = host.fs

    content_path = content_dir + '\\' + C.CONTENT_FOLDER
    fs.mkdir(content_path)
    catalog_spec = dict(entry.get('catalog') or {})
    pending = int(catalog_spec.pop('pending_updates', 0) or 0)
    server = WsusServer(
        state_dir=os.path.join(str(host.state_dir), 'wsus'), content_root=str(fs.real_path(content_path)),
        content_dir=content_dir, name=host.name, role=role, os_release=str(wsus.get('os', C.DEFAULT_OS)),
        catalog=cat.CatalogOptions.from_spec(catalog_spec, default_updates=0), settings=_settings(wsus),
        connected=wsus.get('connected'), sql='wid' if database == 'wid' else 'sqlserver', pending_updates=pending,
        runtime_scale=float(wsus.get('runtime_scale', DEFAULT_RUNTIME_SCALE)))
    # Creation wrote the catalog's files straight into the sandbox (fast); from now on every
    # download goes through the host's file layer, so capacity and disk faults apply.
    fs.invalidate_usage()
    server.content.set_writer(lambda real, data: _write_through(fs, content_path, server.content.root, real, data))
    server.host = host

    reg = host.registry
    reg.set_value(C.SETUP_KEY, 'ContentDir', content_dir, 'REG_EXPAND_SZ')
    reg.set_value(C.SETUP_KEY, 'TargetDir', target_dir + '\\', 'REG_SZ')
    reg.set_value(C.SETUP_KEY, 'SqlServerName', _sql_server_name(host.name, database), 'REG_SZ')
    reg.set_value(C.SETUP_KEY, 'SqlDatabaseName', C.DATABASE_NAME, 'REG_SZ')
    reg.set_value(C.SETUP_KEY, 'PortNumber', int(wsus.get('port', 8530)), 'REG_DWORD')
    reg.set_value(C.SETUP_KEY, 'UsingSSL', int(bool(wsus.get('ssl', False))), 'REG_DWORD')
    reg.set_value(C.SETUP_KEY, 'VersionString', server.version, 'REG_SZ')

    from ..exe import wsusutil  # pylint: disable=import-outside-toplevel
    host.register_executable(target_dir + '\\Tools\\WsusUtil.exe', wsusutil.main)
    host.services.add(C.SERVICE_NAME, C.SERVICE_DISPLAY_NAME, status='Running', start_type='Automatic')
    host.wsus = server
    return server


def _write_through(fs: t.Any, content_path: str, root: str, real: str, data: bytes) -> None:
    """Write a content file given by its sandbox path through the host's file layer."""
    rel = os.path.relpath(real, root).replace(os.sep, '\\')
    target = content_path + '\\' + rel
    fs.write_bytes(target, data, make_parents=True)
