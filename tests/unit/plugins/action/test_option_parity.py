"""``airgap.wsus.option_parity``'s decisions, against a fake connection that answers host scripts."""
from __future__ import annotations

import copy
import json

import pytest
from ansible.errors import AnsibleConnectionFailure

from ansible_collections.airgap.wsus.plugins.action import option_parity
from ansible_collections.airgap.wsus.tests.unit.plugins.action.test_server_info import STATE, FakeWsusConnection, file_row, make_action

EXPORT_SETTINGS = {'express_files': False, 'all_languages': False, 'languages': ['de', 'en'], 'deferred_download': True,
                   'host_binaries_on_mu': False}


def import_state(**config):
    state = copy.deepcopy(STATE)
    state['computer_name'] = 'WSUS-DMZ'
    state['config'].update({'enabled_update_languages': ['en'], 'server_id': 'C0FFEE00-0000-4000-8000-000000000001'}, **config)
    return state


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def run(args, connection, check_mode=False, diff=False, clock=None):
    action = make_action(option_parity.ActionModule, args, connection, check_mode=check_mode, diff=diff, name='option_parity')
    if clock is not None:
        action.clock = clock
        action.sleep = clock.sleep
    return action.run(task_vars={})


def parity(mode='check', side='import', reference=None, **extra):
    return dict(side=side, mode=mode, reference=reference if reference is not None else dict(EXPORT_SETTINGS), **extra)


def test_a_language_mismatch_fails_in_check_mode_and_changes_nothing():
    connection = FakeWsusConnection(import_state())
    result = run(parity(), connection)
    assert result['failed'] and not result['changed']
    assert result['differences'] == [{'setting': 'languages', 'export': ['de', 'en'], 'import': ['en'], 'note': result['differences'][0]['note']}]
    assert 'update languages: the export server (as the reference settings record it) has [de, en], import server WSUS-DMZ has [en]' in result['msg']
    assert 'mode=enforce' in result['msg']
    assert connection.names() == ['server_state']


def test_a_server_info_reference_names_the_other_server_and_reports_informational_differences():
    from ansible_collections.airgap.wsus.plugins.action.server_info import shape  # pylint: disable=import-outside-toplevel
    export_state = copy.deepcopy(STATE)
    export_state['subscription']['products'] = ['Windows Server 2019', 'Windows 10']
    reference = dict(shape(export_state, {'updates': 1}, 'host'), changed=False)
    connection = FakeWsusConnection(import_state(use_proxy=False))
    result = run(parity(reference=reference), connection)
    assert 'export server WSUS01 has [de, en], import server WSUS-DMZ has [en]' in result['msg']
    informational = {d['setting']: (d['export'], d['import']) for d in result['informational']}
    assert informational['products'] == (['Windows 10', 'Windows Server 2019'], ['Windows Server 2019'])
    assert informational['proxy'] == ('proxy.contoso.com:3128', 'none')


def test_enforce_sends_only_what_differs_and_is_idempotent():
    connection = FakeWsusConnection(import_state())
    first = run(parity('enforce'), connection, diff=True)
    assert not first.get('failed') and first['changed'] is True
    assert connection.sent[-1] == ('config_set', {'EnabledUpdateLanguages': ['de', 'en']})
    assert first['settings']['languages'] == ['de', 'en']
    assert first['diff']['before'] == 'express_files: false\nall_languages: false\nlanguages: [en]\n'
    assert first['diff']['after'] == 'express_files: false\nall_languages: false\nlanguages: [de, en]\n'
    assert any('listinactiveapprovals' in w for w in first['warnings'])
    connection.sent.clear()
    second = run(parity('enforce'), connection, diff=True)
    assert second['changed'] is False and second['differences'] == [] and 'diff' not in second
    assert connection.names() == ['server_state']


def test_enforce_in_check_mode_predicts_without_saving():
    connection = FakeWsusConnection(import_state(download_express_packages=True))
    result = run(parity('enforce'), connection, check_mode=True, diff=True)
    assert result['changed'] is True and not result.get('failed')
    assert result['settings']['languages'] == ['de', 'en'] and result['settings']['express_files'] is False
    assert 'express_files: true' in result['diff']['before'] and 'express_files: false' in result['diff']['after']
    assert 'config_set' not in connection.names()
    assert connection.state['config']['enabled_update_languages'] == ['en']


def test_a_non_administrator_cannot_enforce():
    state = import_state()
    state['account'] = {'name': 'WSUS-DMZ\\operator', 'sid': 'S-1-5-21-9-9-9-1001', 'is_admin': False}
    connection = FakeWsusConnection(state)
    result = run(parity('enforce'), connection)
    assert result['failed']
    assert 'WSUS-DMZ\\operator is not a local administrator on WSUS-DMZ' in result['msg'] and 'EnabledUpdateLanguages' in result['msg']
    assert 'config_set' not in connection.names()


def test_a_non_administrator_may_check():
    state = import_state(enabled_update_languages=['de', 'en'])
    state['account']['is_admin'] = False
    result = run(parity('enforce'), FakeWsusConnection(state))
    assert not result.get('failed') and result['changed'] is False


def test_a_replica_import_server_is_refused_before_any_change():
    connection = FakeWsusConnection(import_state(is_replica_server=True, sync_from_microsoft_update=False,
                                                 upstream_wsus_server_name='wsus-hq.contoso.com'))
    result = run(parity('enforce'), connection)
    assert result['failed'] and 'replica of wsus-hq.contoso.com' in result['msg'] and 'IsReplicaServer=false' in result['msg']
    assert connection.names() == ['server_state']


def test_a_save_refusal_names_the_setting_and_is_not_retried():
    refusal = {'message': 'Exception calling "Save" with "0" argument(s): "WSUS is currently synchronizing updates. Try again after '
                          'the synchronization finishes."', 'type': 'System.Management.Automation.MethodInvocationException',
               'script': 'config_set.ps1', 'line': 77, 'category': 'NotSpecified'}
    connection = FakeWsusConnection(import_state(), config_set=refusal)
    result = run(parity('enforce'), connection)
    assert result['failed'] and 'refused to save' in result['msg'] and 'synchronization' in result['msg']
    assert 'WSUS is currently synchronizing updates' in result['msg']
    assert result['host_error']['line'] == 77
    assert connection.names().count('config_set') == 1


def test_host_binaries_on_mu_refusal_is_named():
    refusal = {'message': 'Exception calling "Save" with "0" argument(s): "If HostBinariesOnMicrosoftUpdate is true, '
                          'AllUpdateLanguagesEnabled must be true."', 'type': 'System.Management.Automation.MethodInvocationException',
               'script': 'config_set.ps1', 'line': 77, 'category': 'NotSpecified'}
    result = run(parity('enforce'), FakeWsusConnection(import_state(), config_set=refusal))
    assert result['failed'] and 'because of HostBinariesOnMicrosoftUpdate' in result['msg']


def test_a_dropped_connection_during_save_is_not_retried():
    connection = FakeWsusConnection(import_state(), config_set=AnsibleConnectionFailure('winrm connection error: reset by peer'))
    result = run(parity('enforce'), connection)
    assert result['unreachable'] and connection.names().count('config_set') == 1


def test_a_save_that_did_not_take_is_reported():
    connection = FakeWsusConnection(import_state(), config_set=lambda params: {
        'changed': True, 'before': {'download_express_packages': False, 'all_update_languages_enabled': False, 'enabled_update_languages': ['en']},
        'after': {'download_express_packages': False, 'all_update_languages_enabled': False, 'enabled_update_languages': ['en']}})
    result = run(parity('enforce'), connection)
    assert result['failed'] and 'still differs' in result['msg']


def test_export_side_with_undownloaded_approved_updates_fails_with_how_many_and_which():
    files = [file_row('windows10.0-kb5034441-x64.cab', 1, 0), file_row('present.cab', 1, 1, 'CD' * 20),
             file_row('ndp48-kb5033911.exe', 1, 2, 'EF' * 20)]
    connection = FakeWsusConnection(counts=[200, 13, 93, 2, 0], files=files)
    result = run(parity(side='export', reference={**EXPORT_SETTINGS}), connection)
    assert result['failed'] and result['approved_needing_files'] == 2
    assert '2 approved update(s) still need their files: windows10.0-kb5034441-x64.cab, ndp48-kb5033911.exe' in result['msg']
    assert 'deferred download' in result['msg'] and 'present.cab' not in result['msg']
    assert connection.names() == ['server_state', 'susdb_query', 'susdb_query']


def test_export_side_waits_for_downloads_then_succeeds():
    clock = Clock()
    connection = FakeWsusConnection(counts=[[200, 13, 93, 5, 0], [200, 13, 93, 3, 0], [200, 13, 93, 0, 0]])
    result = run(parity(side='export', wait_for_downloads=600, poll_interval=10), connection, clock=clock)
    assert not result.get('failed') and result['approved_needing_files'] == 0
    assert result['waited'] == 20.0 and clock.sleeps == [10, 10]
    assert connection.names() == ['server_state'] + ['susdb_query'] * 3


def test_export_side_gives_up_at_the_deadline():
    clock = Clock()
    connection = FakeWsusConnection(counts=[200, 13, 93, 4, 0], files=[file_row('slow.cab', 1, 0)])
    result = run(parity(side='export', wait_for_downloads=25, poll_interval=10), connection, clock=clock)
    assert result['failed'] and result['msg'].startswith('after waiting 25 s, ')
    assert clock.sleeps == [10, 10, 5] and result['waited'] == 25.0


def test_check_mode_does_not_wait():
    clock = Clock()
    connection = FakeWsusConnection(counts=[200, 13, 93, 4, 0], files=[file_row('slow.cab', 1, 0)])
    result = run(parity(side='export', wait_for_downloads=600), connection, check_mode=True, clock=clock)
    assert not result.get('failed') and clock.sleeps == []
    assert any('check mode does not wait' in w and 'slow.cab' in w for w in result['warnings'])


def test_export_server_hosting_files_on_microsoft_update_is_refused():
    state = copy.deepcopy(STATE)
    state['config'].update(host_binaries_on_microsoft_update=True, all_update_languages_enabled=True)
    reference = dict(EXPORT_SETTINGS, all_languages=True, languages=[], host_binaries_on_mu=False)
    result = run(parity(side='export', reference=reference), FakeWsusConnection(state))
    assert result['failed'] and 'HostBinariesOnMicrosoftUpdate=true' in result['msg']


@pytest.mark.parametrize('reference, needle', [
    ({'failed': True, 'msg': 'boom'}, 'failed task'),
    ({'settings': EXPORT_SETTINGS, 'files': []}, 'pass its settings'),
    ({'express_files': False}, 'missing all_languages'),
    (dict(EXPORT_SETTINGS, languages=['english']), 'not an update language code'),
])
def test_bad_references_fail_before_any_round_trip(reference, needle):
    connection = FakeWsusConnection(import_state())
    result = run(parity(reference=reference), connection)
    assert result['failed'] and needle in result['msg'] and connection.sent == []


@pytest.mark.parametrize('extra, needle', [({'wait_for_downloads': -1}, 'wait_for_downloads'), ({'poll_interval': 0}, 'poll_interval')])
def test_out_of_range_values_fail(extra, needle):
    result = run(parity(**extra), FakeWsusConnection(import_state()))
    assert result['failed'] and needle in result['msg']


def test_comparing_a_server_with_itself_warns():
    from ansible_collections.airgap.wsus.plugins.action.server_info import shape  # pylint: disable=import-outside-toplevel
    reference = shape(STATE, {}, 'host')
    result = run(parity(reference=reference), FakeWsusConnection(STATE))
    assert not result.get('failed') and any('itself' in w for w in result['warnings'])


def test_result_is_json_serialisable():
    result = run(parity('enforce'), FakeWsusConnection(import_state()), diff=True)
    json.dumps(result)


def test_waiting_on_the_import_side_is_ignored_with_a_warning():
    connection = FakeWsusConnection(import_state(enabled_update_languages=['de', 'en']))
    result = run(parity(wait_for_downloads=60), connection)
    assert not result.get('failed') and any('only with side=export' in w for w in result['warnings'])
    assert 'approved_needing_files' not in result and connection.names() == ['server_state']
