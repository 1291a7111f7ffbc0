# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``airgap.wsus.server_info``: read a WSUS server's state, change nothing.

Two round trips: ``server_state`` on the host (retried across dropped connections), then the
``update_counts`` SUSDB query through the executor the ``susdb`` option selects (pyodbc on the
controller, or ``susdb_query`` on the host).

The pure helpers here, :func:`shape` (``server_state`` answer to the documented result) and
:func:`to_server_state` (back again, for ``_parity``), are also used by ``option_parity``.
"""
from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.plugin_utils import _argspec, _parity, _susdb, _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._action import AirgapWsusAction, hint_for
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError, HostScriptError

WSUSUTIL_RELPATH = 'Tools\\WsusUtil.exe'
CONTENT_FOLDER = 'WsusContent'
# SqlServerName values that mean the Windows Internal Database (WSUS 3.0 called it SSEE).
_WID_NAMES = ('MICROSOFT##WID', 'MICROSOFT##SSEE')


def database_kind(sql_server_name: str | None) -> str:
    """``wid`` for the Windows Internal Database, ``sqlserver`` for anything else."""
    name = (sql_server_name or '').upper()
    return 'wid' if any(wid in name for wid in _WID_NAMES) else 'sqlserver'


def unavailable_message(state: Mapping) -> str:
    """Why the WSUS API could not be read, and what to do about it (``config.available`` is false)."""
    config = state.get('config') or {}
    name = state.get('computer_name') or 'the host'
    error = str(config.get('error') or 'no reason given').strip()
    registry = state.get('registry') or {}
    service = state.get('service') or {}
    if not registry.get('installed'):
        return (f'WSUS is not installed on {name} ({error}). Run this task against the WSUS server itself, or install the '
                'role there (Install-WindowsFeature UpdateServices -IncludeManagementTools, then wsusutil postinstall).')
    fixes = []
    status = str(service.get('status') or '')
    if not service.get('exists'):
        fixes.append('The WsusService service does not exist: finish the WSUS installation (wsusutil postinstall).')
    elif status.lower() != 'running':
        fixes.append(f'The WsusService service is {status.lower() or "not running"}: start it (Start-Service WsusService).')
    hint = hint_for(HostScriptError(error, error_type=str(config.get('error_type') or '')))
    if hint:
        fixes.append(hint)
    if not fixes:
        fixes.append('Check that WsusService and the IIS site "WSUS Administration" run, and that the account is a local '
                     'administrator.')
    return f'the WSUS API on {name} could not be read: {error.rstrip(".")}. ' + ' '.join(fixes)


def _join(base: str | None, relative: str) -> str | None:
    if not base:
        return None
    try:
        return _winpath.join(base, relative)
    except _winpath.WinPathError:
        # A registry value this module cannot parse is still worth showing as it is.
        return base.rstrip('\\') + '\\' + relative


def shape(state: Mapping, counts: Mapping, susdb_source: str) -> dict:
    """The documented result of ``server_info`` from a ``server_state`` answer and SUSDB counts.

    ``state['config']`` must be available (see :func:`unavailable_message`).
    """
    registry = state.get('registry') or {}
    config = state['config']
    subscription = state.get('subscription') or {}
    schedule = subscription.get('schedule') or {}
    service = state.get('service') or {}
    drive = state.get('content_drive') or {}
    status = state.get('status') or {}
    account = state.get('account') or {}
    target_dir = registry.get('target_dir') or None
    content_dir = config.get('local_content_cache_path') or _join(registry.get('content_dir'), CONTENT_FOLDER)
    return {
        'computer_name': state.get('computer_name'),
        'account': {'name': account.get('name'), 'sid': account.get('sid'), 'is_admin': bool(account.get('is_admin'))},
        'wsus': {
            'version': config.get('version'),
            'install_dir': target_dir.rstrip('\\') if target_dir else None,
            'wsusutil_path': _join(target_dir, WSUSUTIL_RELPATH),
            'content_dir': content_dir,
            'database': {'kind': database_kind(registry.get('sql_server_name')), 'server': registry.get('sql_server_name') or None,
                         'name': registry.get('sql_database_name') or None},
            'port': registry.get('port_number'),
            'use_ssl': bool(registry.get('using_ssl')),
            'service': {'name': service.get('name') or 'WsusService',
                        'state': str(service.get('status')).lower() if service.get('exists') else 'missing',
                        'start_type': str(service.get('start_type')).lower() if service.get('start_type') else None},
        },
        'config': {
            'server_id': config.get('server_id'),
            'express_files': bool(config.get('download_express_packages')),
            'all_languages': bool(config.get('all_update_languages_enabled')),
            'languages': _parity.normalize_languages(config.get('enabled_update_languages') or []),
            'deferred_download': bool(config.get('download_update_binaries_as_needed')),
            'host_binaries_on_mu': bool(config.get('host_binaries_on_microsoft_update')),
            'content_from_mu': bool(config.get('get_content_from_mu')),
            'replica': bool(config.get('is_replica_server')),
            'sync_from_microsoft_update': bool(config.get('sync_from_microsoft_update')),
            'upstream': {'server': config.get('upstream_wsus_server_name') or None,
                         'port': config.get('upstream_wsus_server_port_number'),
                         'use_ssl': bool(config.get('upstream_wsus_server_use_ssl'))},
            'proxy': {'enabled': bool(config.get('use_proxy')), 'server': config.get('proxy_name') or None,
                      'port': config.get('proxy_server_port')},
        },
        'settings': _parity.fingerprint(state),
        'subscription': {
            'products': list(subscription.get('products') or []),
            'classifications': list(subscription.get('classifications') or []),
            'synchronize_automatically': bool(subscription.get('synchronize_automatically')),
            'schedule': {'time_of_day': schedule.get('time_of_day'),
                         'per_day': schedule.get('number_of_synchronizations_per_day')},
            'last_synchronization_time': subscription.get('last_synchronization_time'),
            'synchronization_status': subscription.get('synchronization_status'),
        },
        'counts': {
            'updates': counts.get('updates'),
            'approved': counts.get('approved'),
            'declined': counts.get('declined'),
            'approved_needing_files': counts.get('approved_not_present'),
            'approved_untracked_files': counts.get('approved_untracked'),
        },
        'download_progress': {
            'updates_needing_files': status.get('updates_needing_files_count'),
            'downloaded_bytes': status.get('downloaded_bytes'),
            'total_bytes': status.get('total_bytes_to_download'),
        },
        'content_drive': {
            'path': content_dir,
            'exists': bool(drive.get('wsus_content_exists')),
            'root': drive.get('root'),
            'drive_type': drive.get('drive_type'),
            'free_bytes': drive.get('free_bytes'),
            'total_bytes': drive.get('total_bytes'),
            'file_system': drive.get('file_system'),
        },
        'susdb_source': susdb_source,
    }


def is_server_info(value) -> bool:
    """Whether ``value`` looks like a registered ``server_info`` result (rather than ``settings`` or a raw answer)."""
    return (isinstance(value, Mapping) and isinstance(value.get('config'), Mapping)
            and 'express_files' in value['config'] and 'languages' in value['config'])


def to_server_state(info: Mapping) -> dict:
    """Turn a ``server_info`` result back into the ``server_state`` shape ``_parity`` reads.

    Raises :class:`AirgapWsusError` when a key ``_parity`` needs is missing (a result from
    another version of the collection, or a hand-made dict).
    """
    config = info.get('config') or {}
    missing = [key for key in ('express_files', 'all_languages', 'languages', 'deferred_download', 'host_binaries_on_mu')
               if key not in config]
    if missing:
        raise AirgapWsusError(f'the server_info result lacks config.{", config.".join(missing)}: register the result of '
                              'airgap.wsus.server_info (of the same collection version) and pass it whole')
    upstream = config.get('upstream') or {}
    proxy = config.get('proxy') or {}
    subscription = info.get('subscription') or {}
    schedule = subscription.get('schedule') or {}
    return {
        'computer_name': info.get('computer_name'),
        'account': dict(info.get('account') or {}),
        'config': {
            'available': True,
            'server_id': config.get('server_id'),
            'download_express_packages': config['express_files'],
            'all_update_languages_enabled': config['all_languages'],
            'enabled_update_languages': list(config['languages'] or []),
            'download_update_binaries_as_needed': config['deferred_download'],
            'host_binaries_on_microsoft_update': config['host_binaries_on_mu'],
            'get_content_from_mu': bool(config.get('content_from_mu')),
            'is_replica_server': bool(config.get('replica')),
            'sync_from_microsoft_update': bool(config.get('sync_from_microsoft_update', True)),
            'upstream_wsus_server_name': upstream.get('server') or '',
            'upstream_wsus_server_port_number': upstream.get('port'),
            'upstream_wsus_server_use_ssl': bool(upstream.get('use_ssl')),
            'use_proxy': bool(proxy.get('enabled')),
            'proxy_name': proxy.get('server') or '',
            'proxy_server_port': proxy.get('port'),
        },
        'subscription': {
            'products': list(subscription.get('products') or []),
            'classifications': list(subscription.get('classifications') or []),
            'synchronize_automatically': bool(subscription.get('synchronize_automatically')),
            'schedule': {'synchronize_automatically': bool(subscription.get('synchronize_automatically')),
                         'time_of_day': schedule.get('time_of_day'),
                         'number_of_synchronizations_per_day': schedule.get('per_day')},
        },
    }


class ActionModule(AirgapWsusAction):
    """Reads the WSUS server that is the task's host."""

    ARGUMENT_SPEC = _argspec.merge_specs(_argspec.SUSDB_SPEC)

    def read_state(self, runner) -> dict:
        """``server_state``, failing with the cause and the fix when the WSUS API is unavailable."""
        state = runner.run_retrying('server_state')
        if not (state.get('config') or {}).get('available'):
            raise AirgapWsusError(unavailable_message(state))
        return state

    def susdb_source(self, executor) -> str:
        """``controller`` or ``host``, for the result."""
        return 'controller' if isinstance(executor, _susdb.PyodbcExecutor) else 'host'

    def execute(self, args: dict, task_vars: dict) -> dict:
        runner = self.host_runner()
        # Build the executor first: a susdb option that cannot work fails before any round trip.
        executor = self.susdb_executor(args.get('susdb'), runner)
        state = self.read_state(runner)
        counts = _susdb.read_update_counts(executor)
        result = shape(state, counts, self.susdb_source(executor))
        result['changed'] = False
        return result
