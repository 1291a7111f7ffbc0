"""Twin of ``server_state.ps1``: what the host says about its WSUS role. Never changes anything.

It reads the Setup registry key, the WsusService service, the configuration and subscription
(``GetConfiguration()`` / ``GetSubscription()``, never ``Save()``), the server status, the
account the script runs as, and the volume holding the content folder, in the shapes the real
script returns. Without the WSUS role (no Setup key) ``config`` says so as data.
"""
from __future__ import annotations

import hashlib
import typing as t

from ..wsus import constants as C

OPERATION = 'server_state'
INPUT: t.Tuple[str, ...] = ()
OUTPUT = ('computer_name', 'account', 'registry', 'service', 'config', 'subscription', 'content_drive', 'status')


def computer_name(host: t.Any) -> str:
    """``$env:COMPUTERNAME``: the NetBIOS name, upper case."""
    return str(getattr(host, 'computer_name', host.name)).upper()


def account_sid(host: t.Any, username: str) -> str:
    """A stable local-account SID: the machine's domain part, then RID 500 for Administrator."""
    words = hashlib.sha1(computer_name(host).encode()).digest()
    domain = '-'.join(str(int.from_bytes(words[i:i + 4], 'little')) for i in (0, 4, 8))
    if username.lower() == 'administrator':
        rid = 500
    else:
        rid = 1000 + int.from_bytes(hashlib.sha1(username.lower().encode()).digest()[:2], 'little') % 9000
    return f'S-1-5-21-{domain}-{rid}'


def _account(host: t.Any, ctx: t.Any) -> t.Dict[str, t.Any]:
    username = str(getattr(ctx, 'username', '') or '')
    account = host.accounts.get(username)
    name = account.name if account is not None else username
    return {'name': f'{computer_name(host)}\\{name}', 'sid': account_sid(host, name), 'is_admin': bool(host.accounts.is_admin(username))}


def _registry(host: t.Any) -> t.Dict[str, t.Any]:
    result: t.Dict[str, t.Any] = {'installed': False, 'content_dir': None, 'target_dir': None, 'sql_server_name': None,
                                  'sql_database_name': None, 'port_number': None, 'using_ssl': None}
    if not host.registry.key_exists(C.SETUP_KEY):
        return result
    values = host.registry.values(C.SETUP_KEY)
    result['installed'] = True
    for key, name in (('content_dir', 'ContentDir'), ('target_dir', 'TargetDir'), ('sql_server_name', 'SqlServerName'),
                      ('sql_database_name', 'SqlDatabaseName')):
        result[key] = str(values.get(name, '') or '')
    if values.get('PortNumber') is not None:
        result['port_number'] = int(values['PortNumber'])
    if values.get('UsingSSL') is not None:
        result['using_ssl'] = int(values['UsingSSL']) != 0
    return result


def _service(host: t.Any) -> t.Dict[str, t.Any]:
    svc = host.services.get(C.SERVICE_NAME)
    if svc is None:
        return {'name': C.SERVICE_NAME, 'exists': False, 'status': None, 'start_type': None}
    return {'name': C.SERVICE_NAME, 'exists': True, 'status': svc.status, 'start_type': svc.start_type}


def _config(wsus: t.Any) -> t.Dict[str, t.Any]:
    cfg = wsus.get_configuration()
    return {
        'available': True, 'error': None, 'version': wsus.version, 'server_id': cfg.server_id.upper(),
        'download_express_packages': cfg.download_express_packages,
        'all_update_languages_enabled': cfg.all_update_languages_enabled,
        'enabled_update_languages': sorted(code.lower() for code in cfg.get_enabled_update_languages()),
        'download_update_binaries_as_needed': cfg.download_update_binaries_as_needed,
        'host_binaries_on_microsoft_update': cfg.host_binaries_on_microsoft_update,
        'get_content_from_mu': cfg.get_content_from_mu,
        'is_replica_server': cfg.is_replica_server,
        'sync_from_microsoft_update': cfg.sync_from_microsoft_update,
        'upstream_wsus_server_name': cfg.upstream_wsus_server_name,
        'upstream_wsus_server_port_number': cfg.upstream_wsus_server_port_number,
        'upstream_wsus_server_use_ssl': cfg.upstream_wsus_server_use_ssl,
        'use_proxy': cfg.use_proxy, 'proxy_name': cfg.proxy_name, 'proxy_server_port': cfg.proxy_server_port,
        'local_content_cache_path': cfg.local_content_cache_path,
    }


def _iso(value: t.Optional[str]) -> t.Optional[str]:
    """SUSDB's ``YYYY-MM-DD HH:MM:SS.fff`` (UTC) as the script writes it: ``...T...Z``."""
    if not value:
        return None
    return value.replace(' ', 'T')[:23] + 'Z'


def _subscription(wsus: t.Any) -> t.Dict[str, t.Any]:
    sub = wsus.subscription()
    synced = sub['last_synchronization_time']
    return {
        'synchronize_automatically': bool(sub['synchronize_automatically']),
        'last_synchronization_time': _iso(synced),
        'synchronization_status': 'Running' if sub['synchronizing'] else 'NotProcessing',
        'last_synchronization_result': 'Succeeded' if synced else None,
        'products': sorted(sub['products'], key=str.lower),
        'classifications': sorted(sub['classifications'], key=str.lower),
        'schedule': {
            'synchronize_automatically': bool(sub['synchronize_automatically']),
            'time_of_day': sub['sync_time_of_day'],
            'number_of_synchronizations_per_day': int(sub['syncs_per_day']),
        },
    }


def _status(wsus: t.Any) -> t.Dict[str, t.Any]:
    status = wsus.get_status()
    progress = wsus.get_content_download_progress()
    return {'updates_needing_files_count': status['UpdatesNeedingFilesCount'],
            'downloaded_bytes': progress['DownloadedBytes'], 'total_bytes_to_download': progress['TotalBytesToDownload']}


def _drive(host: t.Any, path: t.Optional[str]) -> t.Dict[str, t.Any]:
    facts: t.Dict[str, t.Any] = {'content_dir': path, 'content_dir_exists': False, 'wsus_content_exists': False, 'root': None,
                                 'free_bytes': None, 'total_bytes': None, 'file_system': None, 'drive_type': None}
    if not path:
        return facts
    facts['content_dir_exists'] = host.fs.is_dir(path)
    facts['wsus_content_exists'] = host.fs.is_dir(path.rstrip('\\') + '\\WsusContent')
    root = path[:3] if len(path) >= 2 and path[1] == ':' else None
    facts['root'] = root
    if root:
        try:
            info = host.fs.volume_info(root)
        except OSError:
            return facts
        facts.update(drive_type=info.drive_type.lower(), free_bytes=info.free_bytes, total_bytes=info.total_bytes,
                     file_system=info.file_system)
    return facts


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    """Answer the ``server_state`` operation for ``host``; ``params`` is empty."""
    del params
    registry = _registry(host)
    wsus = getattr(host, 'wsus', None)
    subscription = status = None
    if not registry['installed']:
        config: t.Dict[str, t.Any] = {'available': False, 'error': 'WSUS is not installed (no Update Services Setup registry key)',
                                      'error_type': None}
    elif wsus is None:
        config = {'available': False, 'error': "Could not load file or assembly 'Microsoft.UpdateServices.Administration' "
                                               'or one of its dependencies. The system cannot find the file specified.',
                  'error_type': 'System.IO.FileNotFoundException'}
    else:
        config = _config(wsus)
        subscription = _subscription(wsus)
        status = _status(wsus)
    content_dir = registry['content_dir']
    if not content_dir and config.get('local_content_cache_path'):
        content_dir = config['local_content_cache_path'].rsplit('\\', 1)[0]
    return {'computer_name': computer_name(host), 'account': _account(host, ctx), 'registry': registry, 'service': _service(host),
            'config': config, 'subscription': subscription, 'content_drive': _drive(host, content_dir), 'status': status}
