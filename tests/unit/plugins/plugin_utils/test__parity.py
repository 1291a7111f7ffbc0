"""Unit tests for option parity between the export and the import server."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _parity
from ansible_collections.airgap.wsus.plugins.plugin_utils._parity import ParityError


def server(name='wsus-a', **config):
    """Return a server_state-shaped answer with sensible defaults, overridden by ``config``."""
    base = {
        'download_express_packages': False,
        'all_update_languages_enabled': False,
        'enabled_update_languages': ['en', 'de'],
        'download_update_binaries_as_needed': False,
        'host_binaries_on_microsoft_update': False,
        'is_replica_server': False,
        'upstream_wsus_server_name': '',
        'sync_from_microsoft_update': True,
    }
    base.update(config)
    return {'computer_name': name, 'config': base,
            'subscription': {'products': ['Windows Server 2019'], 'classifications': ['Security Updates'], 'schedule': 'daily 03:00'}}


def test_fingerprint_from_server_state_sorts_and_lowercases_languages():
    fp = _parity.fingerprint(server(enabled_update_languages=['EN', 'pt-BR', 'de', 'en']))
    assert fp == {'express_files': False, 'all_languages': False, 'languages': ['de', 'en', 'pt-br'],
                  'deferred_download': False, 'host_binaries_on_mu': False}


def test_fingerprint_of_a_manifest_settings_is_itself():
    settings = {'express_files': True, 'all_languages': True, 'languages': [], 'deferred_download': True, 'host_binaries_on_mu': False}
    assert _parity.fingerprint(settings) == settings


def test_fingerprint_refuses_a_server_state_missing_keys():
    info = server()
    del info['config']['download_express_packages']
    with pytest.raises(ParityError, match='download_express_packages'):
        _parity.fingerprint(info)


@pytest.mark.parametrize('settings, fragment', [
    ({'express_files': 'yes', 'all_languages': False, 'languages': [], 'deferred_download': False, 'host_binaries_on_mu': False},
     'express_files must be true or false'),
    ({'express_files': False, 'all_languages': False, 'languages': ['en'], 'deferred_download': False}, 'missing host_binaries_on_mu'),
    ({'express_files': False, 'all_languages': False, 'languages': ['en'], 'deferred_download': False, 'host_binaries_on_mu': False,
      'colour': 'red'}, 'unknown colour'),
    ({'express_files': False, 'all_languages': False, 'languages': ['english!'], 'deferred_download': False, 'host_binaries_on_mu': False},
     'not an update language code'),
    ({'express_files': False, 'all_languages': False, 'languages': 'en', 'deferred_download': False, 'host_binaries_on_mu': False},
     'must be a list'),
])
def test_validate_settings_names_the_wrong_key(settings, fragment):
    with pytest.raises(ParityError, match=fragment):
        _parity.validate_settings(settings)


def test_normalize_languages_accepts_a_comma_string():
    assert _parity.normalize_languages('en, DE fr') == ['de', 'en', 'fr']


def test_matching_servers_have_no_required_difference():
    result = _parity.compare(server('exp'), server('imp', enabled_update_languages=['de', 'en']))
    assert result == {'required': [], 'informational': [], 'match': True}


def test_express_files_mismatch_is_required():
    result = _parity.compare(server(download_express_packages=True), server())
    assert not result['match']
    assert [(d['setting'], d['export'], d['import']) for d in result['required']] == [('express_files', True, False)]


def test_all_languages_versus_a_list_is_a_required_difference():
    result = _parity.compare(server(all_update_languages_enabled=True), server())
    [diff] = result['required']
    assert diff['setting'] == 'languages' and diff['export'] == 'all' and diff['import'] == ['de', 'en']


def test_both_all_languages_match_whatever_their_lists():
    result = _parity.compare(server(all_update_languages_enabled=True, enabled_update_languages=['fr']),
                             server(all_update_languages_enabled=True, enabled_update_languages=[]))
    assert result['match']


def test_language_lists_compare_as_sets():
    assert _parity.compare(server(enabled_update_languages=['de', 'en', 'en']), server(enabled_update_languages=['EN', 'de']))['match']
    result = _parity.compare(server(enabled_update_languages=['de', 'en']), server(enabled_update_languages=['en']))
    assert result['required'][0]['export'] == ['de', 'en'] and result['required'][0]['import'] == ['en']


def test_deferred_download_is_informational_and_says_it_has_no_effect():
    result = _parity.compare(server(download_update_binaries_as_needed=True), server())
    assert result['match']
    [diff] = result['informational']
    assert diff['setting'] == 'deferred_download'
    assert 'has no effect on the import server' in diff['note']


def test_products_schedule_source_and_proxy_are_informational():
    exp = server(sync_from_microsoft_update=True)
    imp = server(sync_from_microsoft_update=False, upstream_wsus_server_name='wsus-up', use_proxy=True, proxy_name='proxy', proxy_server_port=8080)
    imp['subscription'] = {'products': ['Office'], 'classifications': ['Critical Updates'], 'schedule': None}
    result = _parity.compare(exp, imp)
    assert result['match']
    by_setting = {d['setting']: d for d in result['informational']}
    assert set(by_setting) == {'products', 'classifications', 'schedule', 'source', 'proxy'}
    assert by_setting['source']['export'] == 'Microsoft Update' and by_setting['source']['import'] == 'upstream WSUS wsus-up'
    assert by_setting['proxy']['import'] == 'proxy:8080'


def test_compare_against_manifest_settings_skips_what_a_manifest_does_not_carry():
    settings = _parity.fingerprint(server())
    imp = server(sync_from_microsoft_update=False)
    imp['subscription']['products'] = ['Office']
    assert _parity.compare(settings, imp) == {'required': [], 'informational': [], 'match': True}


def test_plan_enforce_nothing_to_do():
    plan = _parity.plan_enforce(server(), server())
    assert plan['changed'] is False and plan['params'] == {} and plan['diff']['before'] == plan['diff']['after']
    assert plan['warnings'] == []


def test_plan_enforce_changes_only_express_files():
    plan = _parity.plan_enforce(server('imp'), server('exp', download_express_packages=True), server_name='imp')
    assert plan['params'] == {'DownloadExpressPackages': True}
    assert 'express_files: false' in plan['diff']['before'] and 'express_files: true' in plan['diff']['after']
    assert plan['diff']['before_header'] == 'imp (before)'
    assert plan['warnings'] == []


def test_plan_enforce_switches_to_all_languages_without_touching_the_list():
    plan = _parity.plan_enforce(server(), server(all_update_languages_enabled=True))
    assert plan['params'] == {'AllUpdateLanguagesEnabled': True}
    assert 'permanently inactive' in plan['warnings'][0]


def test_plan_enforce_leaves_all_languages_to_a_list():
    reference = {'express_files': False, 'all_languages': False, 'languages': ['fr'], 'deferred_download': True, 'host_binaries_on_mu': False}
    plan = _parity.plan_enforce(server(all_update_languages_enabled=True), reference)
    assert plan['params'] == {'AllUpdateLanguagesEnabled': False, 'EnabledUpdateLanguages': ['fr']}
    assert 'languages: [fr]' in plan['diff']['after'] and 'all_languages: false' in plan['diff']['after']


def test_plan_enforce_updates_only_the_list_when_sets_differ():
    plan = _parity.plan_enforce(server(enabled_update_languages=['en']), server(enabled_update_languages=['de', 'en']))
    assert plan['params'] == {'EnabledUpdateLanguages': ['de', 'en']}


def test_plan_enforce_refuses_an_empty_language_list_wsus_would_not_save():
    reference = {'express_files': False, 'all_languages': False, 'languages': [], 'deferred_download': False, 'host_binaries_on_mu': False}
    with pytest.raises(ParityError, match='refuses to save'):
        _parity.plan_enforce(server(), reference)


def test_plan_enforce_refuses_a_language_list_with_host_binaries_on_mu():
    with pytest.raises(ParityError, match='HostBinariesOnMicrosoftUpdate') as info:
        _parity.plan_enforce(server('imp', all_update_languages_enabled=True, host_binaries_on_microsoft_update=True), server(),
                             server_name='imp')
    assert 'imp' in str(info.value)


def test_plan_enforce_does_not_mutate_its_inputs():
    current, reference = server(), server(download_express_packages=True, enabled_update_languages=['fr'])
    before = copy.deepcopy((current, reference))
    _parity.plan_enforce(current, reference)
    assert (current, reference) == before


def test_replica_import_server_is_named_with_its_upstream_and_the_fix():
    [problem] = _parity.import_side_problems(server('wsus-dc', is_replica_server=True, upstream_wsus_server_name='wsus-hq'))
    assert problem['blocking'] and problem['problem'] == 'replica'
    message = problem['message']
    assert 'the import server wsus-dc is a replica of wsus-hq' in message
    assert 'IsReplicaServer=false' in message and 'autonomous' in message


def test_autonomous_import_server_has_no_problem():
    assert _parity.import_side_problems(server()) == []


def test_import_server_hosting_binaries_on_mu_is_a_warning():
    [problem] = _parity.import_side_problems(server(host_binaries_on_microsoft_update=True))
    assert problem['blocking'] is False and 'cannot reach' in problem['message']


def test_export_with_deferred_download_and_pending_files_says_how_many_and_which():
    titles = [f'KB{n}' for n in range(25)]
    [problem] = _parity.export_side_problems(server('wsus-c', download_update_binaries_as_needed=True),
                                             {'approved_needing_files': 25, 'needing_files': titles})
    message = problem['message']
    assert problem['blocking'] and problem['problem'] == 'files_pending'
    assert 'deferred download' in message and '25 approved update(s)' in message
    assert 'KB0' in message and 'KB19' in message and 'KB20' not in message and 'and 5 more' in message
    assert 'wait for the downloads' in message


def test_export_pending_count_without_a_list():
    [problem] = _parity.export_side_problems(server(), {'approved_needing_files': 3})
    assert '3 approved update(s)' in problem['message'] and 'deferred' not in problem['message']


def test_export_with_nothing_pending_has_no_problem():
    assert _parity.export_side_problems(server(download_update_binaries_as_needed=True), {'approved_needing_files': 0}) == []
    assert _parity.export_side_problems(server()) == []


def test_export_hosting_binaries_on_mu_blocks():
    [problem] = _parity.export_side_problems(server(host_binaries_on_microsoft_update=True))
    assert problem['blocking'] and 'WsusContent lacks them' in problem['message']


def test_problems_need_a_config():
    with pytest.raises(ParityError, match='server_state'):
        _parity.import_side_problems({'computer_name': 'x'})


def test_unreadable_configuration_says_why():
    info = {'computer_name': 'wsus-x', 'config': {'available': False, 'error': 'WSUS is not installed'}}
    with pytest.raises(ParityError, match='configuration of wsus-x could not be read .WSUS is not installed.'):
        _parity.fingerprint(info)
    with pytest.raises(ParityError, match='wsus-x'):
        _parity.import_side_problems(info)
