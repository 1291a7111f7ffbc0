"""``airgap.wsus.server_info``'s decisions, against a fake connection that answers host scripts.

``FakeWsusConnection`` and ``make_action`` are reused by ``test_option_parity.py``.
"""
from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest

from ansible_collections.airgap.wsus.plugins.action import server_info
from ansible_collections.airgap.wsus.plugins.plugin_utils import _susdb

COUNT_COLUMNS = ['Updates', 'Declined', 'Approved', 'ApprovedNotPresent', 'ApprovedUntracked']
FILE_COLUMNS = ['FileDigest', 'FileName', 'Size', 'IsEula', 'DesiredState', 'ActualState']

# A server_state answer as Windows PowerShell 5.1 writes it for a WSUS 2019 server.
STATE = {
    'computer_name': 'WSUS01',
    'account': {'name': 'CONTOSO\\wsus-admin', 'sid': 'S-1-5-21-1-2-3-1104', 'is_admin': True},
    'registry': {'installed': True, 'content_dir': 'D:\\WSUS', 'target_dir': 'C:\\Program Files\\Update Services\\',
                 'sql_server_name': 'MICROSOFT##WID', 'sql_database_name': 'SUSDB', 'port_number': 8530, 'using_ssl': False},
    'service': {'name': 'WsusService', 'exists': True, 'status': 'Running', 'start_type': 'Automatic'},
    'config': {
        'available': True, 'error': None, 'version': '10.0.17763.678', 'server_id': '1B9E8A36-5C1D-4F7E-9A5B-6D0C2E4F8A11',
        'download_express_packages': False, 'all_update_languages_enabled': False, 'enabled_update_languages': ['en', 'de'],
        'download_update_binaries_as_needed': True, 'host_binaries_on_microsoft_update': False, 'get_content_from_mu': False,
        'is_replica_server': False, 'sync_from_microsoft_update': True, 'upstream_wsus_server_name': '',
        'upstream_wsus_server_port_number': 8530, 'upstream_wsus_server_use_ssl': False, 'use_proxy': True,
        'proxy_name': 'proxy.contoso.com', 'proxy_server_port': 3128, 'local_content_cache_path': 'D:\\WSUS\\WsusContent'},
    'subscription': {
        'synchronize_automatically': True, 'last_synchronization_time': '2026-01-13T03:12:45.000Z',
        'synchronization_status': 'NotProcessing', 'last_synchronization_result': 'Succeeded',
        'products': ['Windows Server 2019'], 'classifications': ['Critical Updates', 'Security Updates'],
        'schedule': {'synchronize_automatically': True, 'time_of_day': '03:00:00', 'number_of_synchronizations_per_day': 1}},
    'content_drive': {'content_dir': 'D:\\WSUS', 'content_dir_exists': True, 'wsus_content_exists': True, 'root': 'D:\\',
                      'free_bytes': 400 * 2 ** 30, 'total_bytes': 500 * 2 ** 30, 'file_system': 'NTFS', 'drive_type': 'fixed'},
    'status': {'updates_needing_files_count': 2, 'downloaded_bytes': 1000, 'total_bytes_to_download': 1500},
}


def file_row(name, desired=1, actual=1, digest='AB' * 20):
    return [digest, name, 1234, False, desired, actual]


class FakeWsusConnection:
    """A winrm-like connection whose host answers the collection's host scripts from Python state.

    ``state`` is the ``server_state`` answer; ``counts`` the ``update_counts`` row (a list, or a
    list of lists consumed one per query to model downloads finishing); ``files`` the
    ``approved_files`` rows; ``config_set`` a callable ``params -> answer`` or an exception to
    raise. ``sent`` records ``(name, params)`` of every call.
    """

    transport = 'winrm'

    def __init__(self, state=None, counts=None, files=(), config_set=None):
        self._shell = SimpleNamespace(tmpdir=None, SHELL_FAMILY='powershell')
        self.state = copy.deepcopy(state or STATE)
        self.counts = counts if counts is not None else [200, 13, 93, 0, 0]
        self.files = list(files)
        self.config_set = config_set or self._apply
        self.sent = []
        self.errors = {}

    def _apply(self, params):
        config = self.state['config']
        before = {'download_express_packages': config['download_express_packages'],
                  'all_update_languages_enabled': config['all_update_languages_enabled'],
                  'enabled_update_languages': sorted(config['enabled_update_languages'])}
        mapping = {'DownloadExpressPackages': 'download_express_packages', 'AllUpdateLanguagesEnabled': 'all_update_languages_enabled',
                   'EnabledUpdateLanguages': 'enabled_update_languages'}
        changed = False
        for key, value in params.items():
            if config[mapping[key]] != value:
                config[mapping[key]] = value
                changed = True
        after = {key: (sorted(config[key]) if isinstance(config[key], list) else config[key]) for key in before}
        return {'changed': changed, 'before': before, 'after': after}

    def _counts_row(self):
        if self.counts and isinstance(self.counts[0], list):
            return self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]
        return self.counts

    def _answer(self, name, params):
        if name in self.errors:
            error = self.errors[name]
            if isinstance(error, Exception):
                raise error
            return 1, ('AIRGAP-WSUS-ERROR:' + json.dumps(error)).encode(), b''
        if name == 'server_state':
            data = copy.deepcopy(self.state)
        elif name == 'susdb_query':
            results = {}
            for query in params['Queries']:
                if query['name'] == 'update_counts':
                    results['update_counts'] = {'columns': COUNT_COLUMNS, 'rows': [self._counts_row()]}
                elif query['name'] == 'approved_files':
                    results['approved_files'] = {'columns': FILE_COLUMNS, 'rows': self.files}
                else:
                    results[query['name']] = {'columns': FILE_COLUMNS, 'rows': []}
            data = {'results': results, 'server': 'np:\\\\.\\pipe\\MICROSOFT##WID\\tsql\\query', 'database': 'SUSDB'}
        elif name == 'config_set':
            if isinstance(self.config_set, Exception):
                raise self.config_set
            if isinstance(self.config_set, dict):
                return 1, ('AIRGAP-WSUS-ERROR:' + json.dumps(self.config_set)).encode(), b''
            data = self.config_set(params)
        else:
            raise AssertionError(f'unexpected host script {name}')
        return 0, ('AIRGAP-WSUS-RESULT:' + json.dumps(data)).encode(), b''

    def exec_command(self, cmd, in_data=None, sudoable=True):
        del cmd, sudoable
        payload = json.loads(in_data)
        self.sent.append((payload['name'], payload['params']))
        return self._answer(payload['name'], payload['params'])

    def reset(self):
        pass

    def names(self):
        return [name for name, _params in self.sent]


def make_action(cls, args, connection, check_mode=False, diff=False, name='server_info'):
    task = SimpleNamespace(args=args, async_val=0, check_mode=check_mode, action=f'airgap.wsus.{name}', diff=diff)
    action = cls(task, connection, SimpleNamespace(remote_addr='wsus01.contoso.com'), None, None, None)
    action._load_name = f'airgap.wsus.{name}'
    return action


def run(args=None, connection=None, check_mode=False):
    connection = connection or FakeWsusConnection()
    return make_action(server_info.ActionModule, args or {}, connection, check_mode=check_mode).run(task_vars={}), connection


def test_returns_the_documented_shape_in_two_round_trips():
    result, connection = run()
    assert connection.names() == ['server_state', 'susdb_query']
    assert result['changed'] is False and not result.get('failed')
    assert result['computer_name'] == 'WSUS01'
    assert result['account'] == {'name': 'CONTOSO\\wsus-admin', 'sid': 'S-1-5-21-1-2-3-1104', 'is_admin': True}
    assert result['wsus'] == {
        'version': '10.0.17763.678', 'install_dir': 'C:\\Program Files\\Update Services',
        'wsusutil_path': 'C:\\Program Files\\Update Services\\Tools\\WsusUtil.exe', 'content_dir': 'D:\\WSUS\\WsusContent',
        'database': {'kind': 'wid', 'server': 'MICROSOFT##WID', 'name': 'SUSDB'}, 'port': 8530, 'use_ssl': False,
        'service': {'name': 'WsusService', 'state': 'running', 'start_type': 'automatic'}}
    assert result['config']['languages'] == ['de', 'en']
    assert result['config']['deferred_download'] is True and result['config']['replica'] is False
    assert result['config']['upstream'] == {'server': None, 'port': 8530, 'use_ssl': False}
    assert result['config']['proxy'] == {'enabled': True, 'server': 'proxy.contoso.com', 'port': 3128}
    assert result['settings'] == {'express_files': False, 'all_languages': False, 'languages': ['de', 'en'],
                                  'deferred_download': True, 'host_binaries_on_mu': False}
    assert result['counts'] == {'updates': 200, 'declined': 13, 'approved': 93, 'approved_needing_files': 0, 'approved_untracked_files': 0}
    assert result['download_progress'] == {'updates_needing_files': 2, 'downloaded_bytes': 1000, 'total_bytes': 1500}
    assert result['content_drive'] == {'path': 'D:\\WSUS\\WsusContent', 'exists': True, 'root': 'D:\\', 'drive_type': 'fixed',
                                       'free_bytes': 400 * 2 ** 30, 'total_bytes': 500 * 2 ** 30, 'file_system': 'NTFS'}
    assert result['subscription']['schedule'] == {'time_of_day': '03:00:00', 'per_day': 1}
    assert result['susdb_source'] == 'host'


def test_check_mode_reads_the_same():
    normal = run()[0]
    checked, connection = run(check_mode=True)
    assert checked == normal and connection.names() == ['server_state', 'susdb_query']


def test_content_dir_falls_back_to_the_registry_and_sql_server_is_recognised():
    connection = FakeWsusConnection()
    connection.state['config']['local_content_cache_path'] = ''
    connection.state['registry']['sql_server_name'] = 'SQL01\\WSUS'
    result = run(connection=connection)[0]
    assert result['wsus']['content_dir'] == 'D:\\WSUS\\WsusContent'
    assert result['wsus']['database'] == {'kind': 'sqlserver', 'server': 'SQL01\\WSUS', 'name': 'SUSDB'}


def test_a_non_administrator_is_reported_not_refused():
    connection = FakeWsusConnection()
    connection.state['account'] = {'name': 'WSUS01\\operator', 'sid': 'S-1-5-21-1-2-3-1001', 'is_admin': False}
    result = run(connection=connection)[0]
    assert not result.get('failed') and result['account']['is_admin'] is False


def test_a_stopped_update_service_fails_with_the_cause_and_the_fix():
    connection = FakeWsusConnection()
    connection.state['service']['status'] = 'Stopped'
    connection.state['config'] = {'available': False, 'error': 'The request failed with HTTP status 503: Service Unavailable.',
                                  'error_type': 'System.Net.WebException'}
    result = run(connection=connection)[0]
    assert result['failed']
    assert 'WSUS01' in result['msg'] and 'HTTP status 503' in result['msg']
    assert 'Start-Service WsusService' in result['msg'] and 'WsusPool' in result['msg']
    assert connection.names() == ['server_state']


def test_a_host_without_wsus_fails_saying_so():
    connection = FakeWsusConnection()
    connection.state['registry'] = {'installed': False}
    connection.state['config'] = {'available': False, 'error': 'WSUS is not installed (no Update Services Setup registry key)',
                                  'error_type': None}
    result = run(connection=connection)[0]
    assert result['failed'] and 'WSUS is not installed on WSUS01' in result['msg'] and 'Install-WindowsFeature UpdateServices' in result['msg']


def test_susdb_from_the_controller_costs_one_round_trip(monkeypatch):
    seen = {}

    class Cursor:
        description = [(c,) for c in COUNT_COLUMNS]

        def execute(self, sql, *params):
            seen['sql'] = sql

        def fetchall(self):
            return [(150, 2, 40, 3, 0)]

    class Connection:
        def cursor(self):
            return Cursor()

        def rollback(self):
            pass

        def close(self):
            pass

    fake = SimpleNamespace(Error=RuntimeError, connect=lambda text, **kwargs: seen.update(dsn=text, kwargs=kwargs) or Connection())
    monkeypatch.setattr(_susdb.PyodbcExecutor, '_pyodbc', lambda self: fake)
    result, connection = run({'susdb': {'server': 'sql01.contoso.com', 'username': 'wsus_reader', 'password': 'S3cret-Pass'}})
    assert connection.names() == ['server_state']
    assert result['susdb_source'] == 'controller'
    assert result['counts'] == {'updates': 150, 'declined': 2, 'approved': 40, 'approved_needing_files': 3, 'approved_untracked_files': 0}
    assert 'SERVER=sql01.contoso.com' in seen['dsn'] and seen['kwargs']['readonly'] is True
    assert 'update_counts' in seen['sql']


def test_a_refused_sql_login_never_shows_the_password(monkeypatch):
    def connect(text, **kwargs):
        raise RuntimeError(f"[28000] Login failed for user 'wsus_reader'. (18456) connection: {text}")

    monkeypatch.setattr(_susdb.PyodbcExecutor, '_pyodbc', lambda self: SimpleNamespace(Error=RuntimeError, connect=connect))
    result, connection = run({'susdb': {'server': 'sql01.contoso.com', 'username': 'wsus_reader', 'password': 'S3cret-Pass'}})
    assert result['failed'] and 'Login failed' in result['msg'] and 'sql01.contoso.com' in result['msg']
    assert 'S3cret-Pass' not in json.dumps(result)
    assert connection.names() == ['server_state']


def test_susdb_options_that_cannot_work_fail_before_any_round_trip():
    result, connection = run({'susdb': {'via': 'host', 'username': 'sa', 'password': 'x-Secret-1'}})
    assert result['failed'] and 'Windows identity' in result['msg'] and connection.sent == []


@pytest.mark.parametrize('name, kind', [('MICROSOFT##WID', 'wid'), ('microsoft##ssee', 'wid'),
                                        ('np:\\\\.\\pipe\\MICROSOFT##WID\\tsql\\query', 'wid'), ('SQL01', 'sqlserver'), (None, 'sqlserver')])
def test_database_kind(name, kind):
    assert server_info.database_kind(name) == kind


def test_to_server_state_round_trips_what_parity_reads():
    result = run()[0]
    back = server_info.to_server_state(result)
    for key in ('download_express_packages', 'all_update_languages_enabled', 'download_update_binaries_as_needed',
                'host_binaries_on_microsoft_update', 'is_replica_server', 'sync_from_microsoft_update', 'use_proxy', 'proxy_name'):
        assert back['config'][key] == STATE['config'][key], key
    assert sorted(back['config']['enabled_update_languages']) == ['de', 'en']
    assert back['subscription']['schedule']['number_of_synchronizations_per_day'] == 1
    assert server_info.is_server_info(result) and not server_info.is_server_info(result['settings'])
