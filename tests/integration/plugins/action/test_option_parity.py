"""``airgap.wsus.option_parity`` through ansible-playbook and WinRM against the emulated lab (issue 4's acceptance)."""
from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.airgap.wsus.tests.integration.playbook import EXPORT, IMPORT

# The export server downloads English and German updates; the import server only English.
BILINGUAL_EXPORT = {'wsus': {'languages': ['en', 'de']}}

IMPORT_SIDE = '''
- name: Read the export server
  hosts: wsus-connected
  gather_facts: false
  tasks:
    - name: Read export
      airgap.wsus.server_info:
      register: export_server

- name: Option parity on the import server
  hosts: wsus-disconnected
  gather_facts: false
  vars:
    reference: "{{ hostvars['wsus-connected'].export_server }}"
  tasks:
%s
'''

CHECK_TASK = '''
    - name: Check
      airgap.wsus.option_parity:
        side: import
        reference: "{{ reference }}"
      ignore_errors: true
'''

ENFORCE_TASK = '''
    - name: Enforce%s
      airgap.wsus.option_parity:
        side: import
        reference: "{{ reference }}"
        mode: enforce
      ignore_errors: %s
'''


def import_side(*tasks):
    return IMPORT_SIDE % ''.join(tasks)


def enforce(suffix='', ignore_errors=False):
    return ENFORCE_TASK % (suffix, 'true' if ignore_errors else 'false')


def languages(lab, name=IMPORT):
    config = lab.wsus(name).get_configuration()
    return sorted(config.enabled_languages), config.all_update_languages_enabled, config.download_express_packages


def test_a_language_mismatch_fails_with_the_difference_and_check_mode_changes_nothing(wsus_lab_factory):
    lab = wsus_lab_factory(export=BILINGUAL_EXPORT)
    version = lab.wsus(IMPORT).db.get_state('config_version')
    run = lab.run_playbook(import_side(CHECK_TASK, enforce()), check=True, diff=True)
    check = run.record('Check')
    assert check.status == 'failed' and check.ignored
    assert check.result['differences'] == [{'setting': 'languages', 'export': ['de', 'en'], 'import': ['en'],
                                            'note': check.result['differences'][0]['note']}]
    assert check.result['msg'].startswith('the export and import servers must agree on express installation files and update '
                                          'languages, and they differ: update languages: export server WSUS-CONNECTED has [de, en], '
                                          'import server WSUS-DISCONNECTED has [en]. Run this task with mode=enforce')
    predicted = run.record('Enforce')
    assert predicted.status == 'ok' and predicted.changed
    assert predicted.result['settings']['languages'] == ['de', 'en']
    assert predicted.result['diff']['before'].endswith('languages: [en]\n')
    assert predicted.result['diff']['after'].endswith('languages: [de, en]\n')
    assert '-languages: [en]\n+languages: [de, en]' in run.stdout
    assert languages(lab) == (['en'], False, False)
    assert lab.wsus(IMPORT).db.get_state('config_version') == version


def test_enforce_makes_the_import_server_match_once(wsus_lab_factory):
    lab = wsus_lab_factory(export={'wsus': {'languages': ['en', 'de'], 'download_express_packages': True}})
    run = lab.run_playbook(import_side(enforce(), enforce(' again'), CHECK_TASK), diff=True)
    first = run.record('Enforce')
    assert first.status == 'ok' and first.changed
    assert {d['setting'] for d in first.result['differences']} == {'express_files', 'languages'}
    assert first.result['settings'] == {'express_files': True, 'all_languages': False, 'languages': ['de', 'en'],
                                        'deferred_download': True, 'host_binaries_on_mu': False}
    assert first.result['diff'] == {
        'before': 'express_files: false\nall_languages: false\nlanguages: [en]\n',
        'after': 'express_files: true\nall_languages: false\nlanguages: [de, en]\n',
        'before_header': 'WSUS-DISCONNECTED (before)', 'after_header': 'WSUS-DISCONNECTED (after)'}
    assert '-express_files: false\n+express_files: true' in run.stdout
    assert any('listinactiveapprovals' in w for w in first.result['warnings'])
    again = run.record('Enforce again')
    assert again.status == 'ok' and not again.changed and again.result['differences'] == [] and 'diff' not in again.result
    assert run.record('Check').status == 'ok'
    assert languages(lab) == (['de', 'en'], False, True)
    # The import server is now the one that matches: the export server was left alone.
    assert languages(lab, EXPORT) == (['de', 'en'], False, True)


def test_all_languages_on_the_export_server_is_enforced_as_all(wsus_lab_factory):
    lab = wsus_lab_factory(export={'wsus': {'all_languages': True}})
    run = lab.run_playbook(import_side(enforce()))
    assert run.record('Enforce').result['differences'][0]['export'] == 'all'
    assert languages(lab)[1] is True


def test_a_replica_import_server_is_refused(wsus_lab_factory):
    lab = wsus_lab_factory(export=BILINGUAL_EXPORT, import_={'wsus': {'replica': True, 'upstream': 'wsus-hq.contoso.com'}})
    run = lab.run_playbook(import_side(enforce()), expect_failure=True)
    refused = run.record('Enforce')
    assert refused.status == 'failed'
    assert refused.result['msg'].startswith('the import server WSUS-DISCONNECTED is a replica of wsus-hq.contoso.com; WSUS cannot '
                                            'import into a centrally managed server. Turn replica mode off')
    assert languages(lab) == (['en'], False, False)


def test_an_account_that_is_not_an_administrator_cannot_enforce(wsus_lab_factory):
    lab = wsus_lab_factory(export=BILINGUAL_EXPORT)
    operator = lab.credentials('operator', IMPORT)
    playbook = import_side(enforce()).replace(
        'reference: "{{ hostvars', 'ansible_user: "{{ operator_user }}"\n    ansible_password: "{{ operator_password }}"\n'
        '    reference: "{{ hostvars', 1)
    run = lab.run_playbook(playbook, extra_vars={'operator_user': operator['ansible_user'],
                                                 'operator_password': operator['ansible_password']}, expect_failure=True)
    refused = run.record('Enforce')
    assert refused.status == 'failed'
    assert refused.result['msg'].startswith('WSUS-DISCONNECTED\\operator is not a local administrator on WSUS-DISCONNECTED, so it '
                                            'cannot change the WSUS options (EnabledUpdateLanguages). Connect as a member of the local '
                                            'Administrators group')
    assert languages(lab) == (['en'], False, False)


def test_a_save_the_server_refuses_names_the_cause(wsus_lab_factory):
    lab = wsus_lab_factory(export=BILINGUAL_EXPORT)
    lab.wsus(IMPORT).set_synchronizing(True)
    run = lab.run_playbook(import_side(enforce()), expect_failure=True)
    refused = run.record('Enforce')
    assert refused.status == 'failed'
    assert refused.result['msg'].startswith('WSUS on WSUS-DISCONNECTED refused to save the new express/language options because of '
                                            'the synchronization state: ')
    assert 'WSUS is currently synchronizing updates' in refused.result['msg']
    assert refused.result['host_error']['operation'] == 'config_set'
    assert lab.hosts[IMPORT].server.counters.snapshot()['commands'] == 2     # server_state, one config_set: never retried
    assert languages(lab) == (['en'], False, False)


EXPORT_SIDE = '''
- name: Read the import server
  hosts: wsus-disconnected
  gather_facts: false
  tasks:
    - name: Read import
      airgap.wsus.server_info:
      register: import_server

- name: Option parity on the export server
  hosts: wsus-connected
  gather_facts: false
  tasks:
    - name: Export side
      airgap.wsus.option_parity:
        side: export
        reference: "{{ hostvars['wsus-disconnected'].import_server.settings }}"
        wait_for_downloads: "{{ wait }}"
        poll_interval: 1
'''


def pending_files(lab):
    return sorted(name for name, (desired, actual) in lab.wsus(EXPORT).file_states().items() if desired == 1 and actual != 1)


@pytest.fixture
def downloading_export(wsus_lab_factory):
    """Deferred download on the export server, with 3 approved updates whose files have not arrived."""
    lab = wsus_lab_factory(export={'catalog': {'pending_updates': 3}})
    assert pending_files(lab)
    return lab


def test_undownloaded_approved_updates_are_refused_with_how_many_and_which(downloading_export):
    lab = downloading_export
    missing = pending_files(lab)
    run = lab.run_playbook(EXPORT_SIDE, extra_vars={'wait': 0}, expect_failure=True)
    refused = run.record('Export side')
    assert refused.status == 'failed' and refused.result['approved_needing_files'] == 3
    assert refused.result['msg'].startswith('the export server WSUS-CONNECTED downloads files only for approved updates (deferred '
                                            'download), and 3 approved update(s) still need their files: ')
    for name in missing:
        assert name in refused.result['msg']
    assert pending_files(lab) == missing


def start_downloads_once_polling(lab):
    """Let the files arrive only after the task found them missing (its second command on the export host)."""
    counters = lab.export.server.counters

    def watch():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and counters.snapshot()['commands'] < 2:
            time.sleep(0.05)
        lab.wsus(EXPORT).start_downloads(files_per_second=5)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_waiting_for_downloads_succeeds_once_they_arrive(downloading_export):
    lab = downloading_export
    watcher = start_downloads_once_polling(lab)
    run = lab.run_playbook(EXPORT_SIDE, extra_vars={'wait': 120})
    watcher.join(5)
    done = run.record('Export side')
    assert done.status == 'ok' and not done.changed
    assert done.result['approved_needing_files'] == 0 and done.result['waited'] > 0
    assert pending_files(lab) == []
    assert done.result['differences'] == []


def test_waiting_gives_up_at_the_limit(downloading_export):
    lab = downloading_export
    run = lab.run_playbook(EXPORT_SIDE, extra_vars={'wait': 2}, expect_failure=True)
    refused = run.record('Export side')
    assert refused.result['msg'].startswith('after waiting 2 s, the export server WSUS-CONNECTED downloads files only for approved')
    assert refused.result['approved_needing_files'] == 3 and refused.result['waited'] >= 2
