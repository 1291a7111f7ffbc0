"""Lab specs: defaults of a minimal spec and clear errors for bad ones."""
from __future__ import annotations

import re

import pytest

from ansible_collections.airgap.wsus.tests.lab import spec as lab_spec

MINIMAL = {'hosts': [{'name': 'wsus-connected', 'role': 'export'}, {'name': 'wsus-disconnected', 'role': 'import'}]}
GiB = 2 ** 30


def test_minimal_spec_gets_realistic_defaults():
    spec = lab_spec.normalize(MINIMAL)
    export, imp = spec['hosts']
    settings = (export['transport'], export['scheme'], export['port'], export['connect_as'])
    assert settings == ('ntlm', 'http', 0, 'Administrator')
    assert {name: acc['admin'] for name, acc in export['accounts'].items()} == {'Administrator': True, 'operator': False}
    for account in export['accounts'].values():
        password = account['password']
        # Windows complexity: upper, lower, digit and symbol; and unique per account.
        assert re.search('[A-Z]', password) and re.search('[a-z]', password) and re.search('[0-9]', password)
        assert re.search('[^A-Za-z0-9]', password) and len(password) >= 14
    assert export['accounts']['Administrator']['password'] != imp['accounts']['Administrator']['password']
    assert export['catalog'] == {'seed': 1, 'updates': 20, 'files': 40}
    assert imp['catalog'] == {'seed': 1, 'updates': 0, 'files': 0}
    assert export['winrm'] == {'max_envelope_size_kb': 500, 'max_concurrent_operations_per_user': 1500,
                               'max_shells_per_user': 30, 'idle_timeout': 7200, 'max_timeout_ms': 60000}
    assert export['wsus']['content_dir'] == 'D:\\WSUS' and export['wsus']['languages'] == ['en']
    assert export['wsus']['deferred_download'] is True and export['wsus']['replica'] is False
    assert export['drives']['C:']['size'] == 127 * GiB and export['drives']['D:']['file_system'] == 'NTFS'
    assert export['drives']['E:'] == {'size': 256 * GiB, 'free': 256 * GiB, 'file_system': 'exFAT',
                                      'label': 'TRANSFER', 'type': 'removable', 'medium': 'transfer'}
    assert spec['media'] == {'transfer': {'size': 256 * GiB, 'free': 256 * GiB, 'file_system': 'exFAT',
                                          'label': 'TRANSFER', 'type': 'removable'}}
    assert export['shares'] == [] and export['faults'] == {'winrm': {}}


def test_spec_file_defaults_section_and_overrides(tmp_path):
    path = tmp_path / 'lab.yml'
    path.write_text(
        'defaults:\n'
        '  transport: basic\n'
        '  winrm: {idle_timeout: 30}\n'
        'media:\n'
        '  stick: {size: 64 GiB, free: 10GB}\n'
        'hosts:\n'
        '  - name: up\n'
        '    role: export\n'
        '    scheme: https\n'
        '    accounts: {Administrator: {password: "P@ss w0rd:1"}, backup: {admin: true}}\n'
        '    drives: {E: {medium: stick}, F: {size: 2 TB, free: 1 TB}}\n'
        '    shares: [{name: WsusContent, path: "D:\\\\WSUS\\\\WsusContent"}]\n'
        '    wsus: {languages: [en, PT-BR], download_express_packages: true}\n'
        '    faults: {winrm: {drop_next: 2}, robocopy: {fail_after_files: 3}}\n'
        '  - name: down\n'
        '    role: import\n'
        '    transport: ntlm\n')
    up, down = lab_spec.load(path)['hosts']
    assert (up['transport'], up['scheme'], up['winrm']['idle_timeout'], up['winrm']['max_shells_per_user']) == (
        'basic', 'https', 30, 30)
    assert down['transport'] == 'ntlm' and down['drives']['E:']['medium'] == 'transfer'
    assert up['accounts']['Administrator']['password'] == 'P@ss w0rd:1'
    assert up['accounts']['backup']['admin'] is True and up['accounts']['operator']['admin'] is False
    assert up['drives']['E:']['medium'] == 'stick' and up['drives']['E:']['free'] == 10 ** 10
    assert up['drives']['F:']['size'] == 2 * 10 ** 12
    assert up['shares'] == [{'name': 'WsusContent', 'path': 'D:\\WSUS\\WsusContent'}]
    assert up['wsus']['languages'] == ['en', 'pt-br'] and up['wsus']['download_express_packages'] is True
    # WinRM faults are checked here; the host's own fault keys pass through to the host.
    assert up['faults'] == {'winrm': {'drop_next': 2}, 'robocopy': {'fail_after_files': 3}}


def test_emulator_options_pass_through_but_typos_do_not():
    raw = {'hosts': [{'name': 'a', 'role': 'export', 'catalog': {'updates': 5, 'approved_ratio': 1.0, 'seed': 'x'},
                      'wsus': {'runtime_scale': 0.01, 'target_dir': 'C:\\Program Files\\Update Services'}}]}
    (entry,) = lab_spec.normalize(raw)['hosts']
    assert entry['catalog'] == {'seed': 'x', 'updates': 5, 'files': 40, 'approved_ratio': 1.0}
    assert entry['wsus']['runtime_scale'] == 0.01 and entry['wsus']['port'] == 8530
    raw['hosts'][0]['catalog'] = {'aproved_ratio': 1.0}
    with pytest.raises(lab_spec.SpecError, match='catalog: unknown key.s. aproved_ratio'):
        lab_spec.normalize(raw)


def test_normalize_does_not_change_its_input():
    raw = {'hosts': [{'name': 'a', 'role': 'export', 'winrm': {'idle_timeout': 5}}]}
    lab_spec.normalize(raw)
    assert raw == {'hosts': [{'name': 'a', 'role': 'export', 'winrm': {'idle_timeout': 5}}]}


@pytest.mark.parametrize('raw, message', [
    ({}, 'non-empty "hosts" list'),
    ({'hosts': [{'name': 'a', 'role': 'exporter'}]}, 'host a: "role" must be one of export, import'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'trasport': 'ntlm'}]}, "unknown key(s) trasport"),
    ({'hosts': [{'name': 'a', 'role': 'export', 'transport': 'kerberos'}]}, '"transport" must be one of ntlm, basic'),
    ({'hosts': [{'name': 'a', 'role': 'export'}, {'name': 'A', 'role': 'import'}]}, "'A' is used twice"),
    ({'hosts': [{'name': 'bad_name', 'role': 'export'}]}, '"name" must be a host name'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'wsus': {'content_dir': 'F:\\WSUS'}}]},
     'drive F:, which the host does not have'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'drives': {'E:': {'medium': 'usb'}}}]},
     "medium 'usb' is not defined"),
    ({'hosts': [{'name': 'a', 'role': 'export', 'drives': {'D:': {'size': '1 GiB', 'free': '2 GiB'}}}]},
     '"free" (2147483648 bytes) exceeds "size"'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'drives': {'D:': {'size': 'lots'}}}]}, "expected a size such as 64 GiB"),
    ({'hosts': [{'name': 'a', 'role': 'export', 'accounts': {'bad:name': {}}}]}, 'not a valid Windows account name'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'connect_as': 'nobody'}]}, '"connect_as" names \'nobody\''),
    ({'hosts': [{'name': 'a', 'role': 'export', 'faults': {'winrm': {'drop_later': 1}}}]},
     'unknown WinRM fault setting(s) drop_later'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'wsus': {'languages': []}}]}, 'WSUS refuses to save that'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'wsus': {'replica': True}}]}, 'a replica needs an "upstream"'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'winrm': {'idle_timeout': 0}}]}, '"idle_timeout" must be a number > 0'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'catalog': {'updates': -1}}]}, '"updates" must be a whole number'),
    ({'hosts': [{'name': 'a', 'role': 'export', 'port': 5985}, {'name': 'b', 'role': 'import', 'port': 5985}]},
     'same port'),
])
def test_invalid_specs_are_refused_with_the_field_named(raw, message):
    with pytest.raises(lab_spec.SpecError) as info:
        lab_spec.normalize(raw)
    assert message in str(info.value)


def test_unreadable_spec_files(tmp_path):
    with pytest.raises(lab_spec.SpecError, match='cannot read the lab spec'):
        lab_spec.load(tmp_path / 'missing.yml')
    bad = tmp_path / 'bad.yml'
    bad.write_text('hosts: [\n')
    with pytest.raises(lab_spec.SpecError, match='not valid YAML'):
        lab_spec.load(bad)


@pytest.mark.parametrize('value, expected', [(1024, 1024), ('64 GiB', 64 * GiB), ('500GB', 500 * 10 ** 9),
                                             ('1.5 KiB', 1536), ('7', 7)])
def test_sizes(value, expected):
    assert lab_spec.parse_size(value, 'x') == expected
