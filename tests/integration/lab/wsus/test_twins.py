"""The WSUS twins (server_state, config_set, susdb_query) against emulated hosts."""
from __future__ import annotations

import os
import re

import pytest

from ansible_collections.airgap.wsus.tests.lab.ops import HostScriptError, config_set, dispatch, Invocation, server_state, susdb_query
from ansible_collections.airgap.wsus.tests.lab.wsman.context import ShellContext
from ansible_collections.airgap.wsus.tests.lab.wsus import constants as C
from ansible_collections.airgap.wsus.tests.lab.wsus import errors

SCRIPTS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'plugin_utils', 'powershell')


def _ctx(user='Administrator'):
    return ShellContext(username=user, codepage=65001, shell_id='S1', working_directory='C:\\Users\\' + user,
                        environment={}, skip_cmd_shell=True, client_address='127.0.0.1')


@pytest.fixture
def host(wsus_hosts):
    return wsus_hosts.add('wsus-connected', 'export', wsus={'download_express_packages': False, 'languages': ['en', 'de']},
                          catalog={'seed': 9, 'updates': 20, 'files': 60, 'pending_updates': 2})


@pytest.mark.parametrize('twin', [server_state, config_set, susdb_query])
def test_twin_headers_match_the_real_scripts(twin):
    path = os.path.join(SCRIPTS, twin.OPERATION + '.ps1')
    if not os.path.exists(path):
        pytest.skip(f'{path} is not there yet')
    with open(path, encoding='utf-8') as handle:
        header = dict(re.findall(r'^# (operation|input|output):[ \t]*(.*)$', handle.read(), re.M))

    def split(text):
        return tuple(x.strip() for x in text.split(',') if x.strip())

    assert header['operation'] == twin.OPERATION
    assert split(header['input']) == tuple(twin.INPUT)
    assert split(header['output']) == tuple(twin.OUTPUT)


def test_server_state_reports_without_changing_anything(host):
    version = host.wsus.db.get_state('config_version')
    state = server_state.run(host, {}, _ctx())
    assert tuple(state) == server_state.OUTPUT
    assert state['computer_name'] == 'WSUS-CONNECTED'
    assert state['account']['name'] == 'WSUS-CONNECTED\\Administrator' and state['account']['is_admin'] is True
    assert state['account']['sid'].endswith('-500')
    assert state['registry'] == {'installed': True, 'content_dir': 'D:\\WSUS', 'target_dir': 'C:\\Program Files\\Update Services\\',
                                 'sql_server_name': 'MICROSOFT##WID', 'sql_database_name': 'SUSDB', 'port_number': 8530,
                                 'using_ssl': False}
    assert state['service'] == {'name': 'WsusService', 'exists': True, 'status': 'Running', 'start_type': 'Automatic'}
    config = state['config']
    assert config['available'] is True and config['enabled_update_languages'] == ['de', 'en']
    assert config['download_update_binaries_as_needed'] is True, "the spec's default: deferred download"
    assert config['local_content_cache_path'] == 'D:\\WSUS\\WsusContent' and config['version'].startswith('10.0.')
    assert re.fullmatch(r'[0-9A-F-]{36}', config['server_id'])
    assert state['subscription']['synchronization_status'] == 'NotProcessing'
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', state['subscription']['last_synchronization_time'])
    drive = state['content_drive']
    assert drive['content_dir'] == 'D:\\WSUS' and drive['wsus_content_exists'] and drive['drive_type'] == 'fixed'
    assert drive['root'] == 'D:\\' and 0 < drive['free_bytes'] <= drive['total_bytes']
    assert state['status']['updates_needing_files_count'] == 2
    assert state['status']['downloaded_bytes'] < state['status']['total_bytes_to_download']
    assert host.wsus.db.get_state('config_version') == version
    assert server_state.run(host, {}, _ctx('operator'))['account']['is_admin'] is False


def test_server_state_without_the_wsus_role(wsus_hosts):
    bare = wsus_hosts.add('plain', 'import', wsus={'installed': False})
    state = server_state.run(bare, {}, _ctx())
    assert state['registry']['installed'] is False and state['config']['available'] is False
    assert state['service']['exists'] is False and state['subscription'] is None and state['status'] is None


def test_config_set_changes_only_what_differs(host):
    result = config_set.run(host, {'DownloadExpressPackages': True, 'EnabledUpdateLanguages': ['EN', 'fr']}, _ctx())
    assert result['changed'] is True
    assert result['before']['download_express_packages'] is False and result['before']['enabled_update_languages'] == ['de', 'en']
    assert result['after'] == {'download_express_packages': True, 'all_update_languages_enabled': False,
                               'enabled_update_languages': ['en', 'fr']}
    again = config_set.run(host, {'DownloadExpressPackages': True, 'EnabledUpdateLanguages': ['fr', 'en']}, _ctx())
    assert again['changed'] is False and again['after'] == again['before'] == result['after']
    assert server_state.run(host, {}, _ctx())['config']['download_express_packages'] is True


def test_config_set_lets_save_refusals_through(host):
    with pytest.raises(HostScriptError) as info:
        config_set.run(host, {'EnabledUpdateLanguages': []}, _ctx())
    assert info.value.message == 'Exception calling "Save" with "0" argument(s): "%s"' % errors.SAVE_NEEDS_A_LANGUAGE
    assert info.value.type_name == 'System.Management.Automation.MethodInvocationException' and info.value.line > 0
    host.wsus.set_synchronizing(True)
    with pytest.raises(HostScriptError, match='currently synchronizing'):
        config_set.run(host, {'AllUpdateLanguagesEnabled': True}, _ctx())


def test_twins_run_through_the_dispatcher(host):
    """PowerShell's parameter binding in front of the twins: [bool] and [string[]] parameters."""
    result = dispatch(host, 'config_set', {'DownloadExpressPackages': 1, 'EnabledUpdateLanguages': 'de'}, Invocation('Administrator'))
    assert result['after']['download_express_packages'] is True and result['after']['enabled_update_languages'] == ['de']
    state = dispatch(host, 'server_state', {}, Invocation('Administrator'))
    assert state['account']['is_admin'] is True and state['config']['download_express_packages'] is True
    rows = dispatch(host, 'susdb_query', {'Queries': [{'name': 'n', 'sql': 'SELECT COUNT(*) AS n FROM dbo.tbUpdate WHERE UpdateID <> ?',
                                                       'params': ['x']}]}, Invocation('Administrator'))
    assert rows['results']['n'] == {'columns': ['n'], 'rows': [[20]]}


def test_susdb_query_runs_tsql_and_encodes_values(host):
    result = susdb_query.run(host, {'Queries': [
        {'name': 'files', 'sql': 'SELECT f.FileDigest, f.FileName, fs.ActualState FROM dbo.tbFile f '
                                 'JOIN dbo.tbFileOnServer fs ON fs.FileDigest = f.FileDigest WHERE fs.DesiredState = ? ORDER BY f.FileName',
         'params': [1]},
        {'name': 'updates', 'sql': 'SELECT UpdateId, CreationDate, IsDeclined FROM PUBLIC_VIEWS.vUpdate WHERE UpdateId = ?',
         'params': [host.wsus.update_ids()[0].lower()]},
        {'name': 'config', 'sql': 'SELECT LazySync, ReplicaMode FROM dbo.tbConfigurationC'},
    ]}, _ctx())
    assert tuple(result) == susdb_query.OUTPUT
    assert result['server'] == C.WID_PIPE and result['database'] == 'SUSDB'
    files = result['results']['files']
    assert files['columns'] == ['FileDigest', 'FileName', 'ActualState'] and files['rows']
    for digest, name, _state in files['rows']:
        assert re.fullmatch('[0-9A-F]{40}', digest) and name.startswith(digest)
    ((update_id, created, declined),) = result['results']['updates']['rows']
    assert update_id == host.wsus.update_ids()[0] and update_id == update_id.upper()
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', created) and declined in (0, False)
    assert result['results']['config']['rows'] == [[True, False]]


def test_susdb_query_is_read_only_and_reports_sql_errors(host):
    with pytest.raises(HostScriptError, match='not authorized'):
        susdb_query.run(host, {'Queries': [{'name': 'x', 'sql': 'DELETE FROM dbo.tbFileOnServer'}]}, _ctx())
    assert host.wsus.db.scalar('SELECT COUNT(*) FROM tbFileOnServer') > 0
    with pytest.raises(HostScriptError, match='Cannot open database "NOPE"'):
        susdb_query.run(host, {'Queries': [], 'Database': 'NOPE'}, _ctx())
    with pytest.raises(HostScriptError, match='network-related or instance-specific'):
        susdb_query.run(host, {'Queries': [], 'Server': 'sql-elsewhere'}, _ctx())
    with pytest.raises(HostScriptError, match='each query needs a name and sql'):
        susdb_query.run(host, {'Queries': [{'name': 'x'}]}, _ctx())
    with pytest.raises(HostScriptError, match='network-related'):
        susdb_query.run(host, {'Queries': [], 'Server': '.'}, _ctx())   # the default instance: none on a WID host
    assert susdb_query.run(host, {'Queries': [], 'Server': 'MICROSOFT##WID'}, _ctx())['server'] == C.WID_PIPE
