"""``airgap.wsus.server_info`` through ansible-playbook and WinRM against the emulated lab."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.tests.integration.playbook import EXPORT, IMPORT

READ_BOTH = '''
- name: Read both servers
  hosts: wsus
  gather_facts: false
  tasks:
    - name: Read
      airgap.wsus.server_info:
    - name: Read in check mode
      airgap.wsus.server_info:
      check_mode: true

- name: Read as an account that is not an administrator
  hosts: wsus-connected
  gather_facts: false
  vars:
    ansible_user: "{{ operator_user }}"
    ansible_password: "{{ operator_password }}"
  tasks:
    - name: Read as operator
      airgap.wsus.server_info:
'''


@pytest.fixture(scope='module')
def read_both(wsus_lab_shared):
    lab = wsus_lab_shared
    versions = {name: lab.wsus(name).db.get_state('config_version') for name in (EXPORT, IMPORT)}
    operator = lab.credentials('operator')
    run = lab.run_playbook(READ_BOTH, extra_vars={'operator_user': operator['ansible_user'],
                                                  'operator_password': operator['ansible_password']})
    return lab, run, versions


@pytest.mark.parametrize('name', [EXPORT, IMPORT])
def test_returns_the_servers_configuration_and_catalog(read_both, name):
    lab, run, _versions = read_both
    info = run.result('Read', name)
    wsus = lab.wsus(name)
    config = wsus.get_configuration()
    status = wsus.get_status()
    volume = lab.hosts[name].host.fs.volume_info('D:\\')
    assert run.status('Read', name) == 'ok' and info['changed'] is False
    assert info['computer_name'] == name.upper()
    assert info['account']['name'] == f'{name.upper()}\\Administrator' and info['account']['is_admin'] is True
    assert info['wsus'] == {
        'version': wsus.version, 'install_dir': 'C:\\Program Files\\Update Services',
        'wsusutil_path': 'C:\\Program Files\\Update Services\\Tools\\WsusUtil.exe', 'content_dir': 'D:\\WSUS\\WsusContent',
        'database': {'kind': 'wid', 'server': 'MICROSOFT##WID', 'name': 'SUSDB'}, 'port': 8530, 'use_ssl': False,
        'service': {'name': 'WsusService', 'state': 'running', 'start_type': 'automatic'}}
    assert info['config'] == {
        'server_id': config.server_id.upper(), 'express_files': config.download_express_packages,
        'all_languages': config.all_update_languages_enabled, 'languages': sorted(config.enabled_languages),
        'deferred_download': config.download_update_binaries_as_needed, 'host_binaries_on_mu': config.host_binaries_on_microsoft_update,
        'content_from_mu': config.get_content_from_mu, 'replica': config.is_replica_server,
        'sync_from_microsoft_update': config.sync_from_microsoft_update,
        'upstream': {'server': None, 'port': config.upstream_wsus_server_port_number, 'use_ssl': False},
        'proxy': {'enabled': False, 'server': None, 'port': config.proxy_server_port}}
    assert info['settings'] == {'express_files': False, 'all_languages': False, 'languages': ['en'], 'deferred_download': True,
                                'host_binaries_on_mu': False}
    assert info['counts'] == {'updates': status['UpdateCount'], 'approved': status['ApprovedUpdateCount'],
                              'declined': status['DeclinedUpdateCount'], 'approved_needing_files': 0, 'approved_untracked_files': 0}
    assert info['content_drive'] == {'path': 'D:\\WSUS\\WsusContent', 'exists': True, 'root': 'D:\\', 'drive_type': 'fixed',
                                     'free_bytes': volume.free_bytes, 'total_bytes': volume.total_bytes, 'file_system': 'NTFS'}
    subscription = wsus.subscription()
    assert info['subscription']['products'] == sorted(subscription['products'], key=str.lower)
    assert info['subscription']['synchronize_automatically'] is True
    assert info['susdb_source'] == 'host'


def test_the_export_catalog_is_counted_and_the_import_server_is_empty(read_both):
    _lab, run, _versions = read_both
    exported = run.result('Read', EXPORT)['counts']
    assert exported['updates'] == 200 and 0 < exported['approved'] < 200 and 0 < exported['declined'] < 200
    assert run.result('Read', IMPORT)['counts'] == {'updates': 0, 'approved': 0, 'declined': 0, 'approved_needing_files': 0,
                                                    'approved_untracked_files': 0}


@pytest.mark.parametrize('name', [EXPORT, IMPORT])
def test_check_mode_reads_the_same_and_nothing_is_saved(read_both, name):
    lab, run, versions = read_both
    assert run.result('Read in check mode', name) == run.result('Read', name)
    assert lab.wsus(name).db.get_state('config_version') == versions[name]


def test_an_account_that_is_not_an_administrator_is_reported(read_both):
    _lab, run, _versions = read_both
    info = run.result('Read as operator', EXPORT)
    assert run.status('Read as operator', EXPORT) == 'ok'
    assert info['account']['name'] == f'{EXPORT.upper()}\\operator' and info['account']['is_admin'] is False
    assert info['counts'] == run.result('Read', EXPORT)['counts']


def test_susdb_through_the_controller_gives_the_same_counts(wsus_lab_shared):
    lab = wsus_lab_shared
    run = lab.run_playbook('''
    - name: Read SUSDB both ways
      hosts: wsus-connected
      gather_facts: false
      tasks:
        - name: Through the host
          airgap.wsus.server_info:
        - name: Through the controller
          airgap.wsus.server_info:
            susdb:
              connection_string: "{{ odbc }}"
        - name: Through the controller explicitly
          airgap.wsus.server_info:
            susdb:
              via: controller
              connection_string: "{{ odbc }}"
    ''', extra_vars={'odbc': lab.wsus(EXPORT).odbc_connection_string()})
    on_host = run.result('Through the host')
    for task in ('Through the controller', 'Through the controller explicitly'):
        via_controller = run.result(task)
        assert via_controller['susdb_source'] == 'controller'
        assert via_controller['counts'] == on_host['counts']
        assert {k: v for k, v in via_controller.items() if k != 'susdb_source'} == {k: v for k, v in on_host.items() if k != 'susdb_source'}
    assert on_host['susdb_source'] == 'host'


def test_a_wrong_odbc_connection_never_shows_the_password(wsus_lab_shared):
    lab = wsus_lab_shared
    secret = 'Wr0ng-Secret-Pass'
    good = lab.wsus(EXPORT).odbc_connection_string()
    wrong_database = good.replace(lab.wsus(EXPORT).database_path, '/nonexistent/folder/SUSDB.sqlite') + f';PWD={secret}'
    run = lab.run_playbook('''
    - name: Read SUSDB with wrong credentials
      hosts: wsus-connected
      gather_facts: false
      tasks:
        - name: Wrong connection string
          airgap.wsus.server_info:
            susdb:
              connection_string: "{{ wrong }}"
          ignore_errors: true
        - name: SQL login without its ODBC driver
          airgap.wsus.server_info:
            susdb:
              server: 127.0.0.1
              port: 1
              username: wsus_reader
              password: "{{ secret }}"
              timeout: 2
          ignore_errors: true
    ''', extra_vars={'wrong': wrong_database, 'secret': secret}, verbosity=3)
    wrong = run.record('Wrong connection string')
    assert wrong.status == 'failed'
    assert wrong.result['msg'].startswith('cannot connect to SUSDB (DRIVER={SQLite3};Database=/nonexistent/folder/SUSDB.sqlite;')
    assert 'PWD=********' in wrong.result['msg'] and 'connect failed' in wrong.result['msg']
    login = run.record("SQL login without its ODBC driver")
    assert login.status == 'failed' and 'cannot connect to SUSDB' in login.result['msg']
    assert 'SERVER=127.0.0.1,1' in login.result['msg'] and 'Check the server name' in login.result['msg']
    assert secret not in run.everything


def test_a_server_whose_wsus_api_cannot_be_read_fails_with_the_cause(wsus_lab_factory):
    lab = wsus_lab_factory(import_={'wsus': {'installed': False}})
    # The export host has the role, but its UpdateServices API assembly cannot be loaded.
    lab.export.host.wsus = None
    run = lab.run_playbook('''
    - name: Read servers without a working WSUS
      hosts: wsus
      gather_facts: false
      tasks:
        - name: Read
          airgap.wsus.server_info:
    ''', expect_failure=True)
    missing = run.record('Read', IMPORT)
    assert missing.status == 'failed'
    assert missing.result['msg'].startswith('WSUS is not installed on WSUS-DISCONNECTED (')
    assert 'Install-WindowsFeature UpdateServices' in missing.result['msg']
    broken = run.record('Read', EXPORT)
    assert broken.status == 'failed'
    assert broken.result['msg'].startswith("the WSUS API on WSUS-CONNECTED could not be read: Could not load file or assembly "
                                           "'Microsoft.UpdateServices.Administration'")
    assert 'UpdateServices-API' in broken.result['msg']


def test_a_dropped_connection_is_retried(wsus_lab):
    lab = wsus_lab
    lab.export.server.faults.drop_at_request(3)
    run = lab.run_playbook('''
    - name: Read over a flaky link
      hosts: wsus-connected
      gather_facts: false
      tasks:
        - name: Read
          airgap.wsus.server_info:
    ''', verbosity=2)
    info = run.result('Read')
    assert lab.export.server.counters.snapshot()['dropped'] == 1
    assert 'connection lost during server_state' in run.stdout
    assert info['counts']['updates'] == 200 and info['computer_name'] == 'WSUS-CONNECTED'
