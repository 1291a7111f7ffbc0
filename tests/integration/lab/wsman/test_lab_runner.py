"""The in-process lab: hosts on their own ports, inventory, counters, spec faults, stop."""
from __future__ import annotations

import configparser
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
import requests

SPEC = {'hosts': [
    {'name': 'wsus-connected', 'role': 'export'},
    {'name': 'wsus-disconnected', 'role': 'import', 'scheme': 'https', 'transport': 'basic'},
]}


def test_each_host_gets_its_own_port_and_inventory_entry(lab_factory, fake_backend):
    lab = lab_factory(SPEC, backend=fake_backend)
    connected, disconnected = lab.hosts['wsus-connected'], lab.hosts['wsus-disconnected']
    assert connected.port != disconnected.port
    assert (connected.endpoint, disconnected.endpoint) == ('http://127.0.0.1:%d/wsman' % connected.port,
                                                           'https://127.0.0.1:%d/wsman' % disconnected.port)
    assert stat.S_IMODE(os.stat(lab.inventory_path).st_mode) == 0o600       # it holds passwords
    ini = configparser.ConfigParser(allow_no_value=True, delimiters=(' ',))
    ini.optionxform = str
    ini.read(lab.inventory_path)
    assert list(ini['export']) == ['wsus-connected'] and list(ini['import']) == ['wsus-disconnected']
    assert list(ini['wsus:children']) == ['export', 'import']
    line = dict(kv.split('=', 1) for kv in ini['import']['wsus-disconnected'].split())
    assert line == {
        'ansible_connection': 'winrm', 'ansible_host': '127.0.0.1', 'ansible_port': str(disconnected.port),
        'ansible_winrm_scheme': 'https', 'ansible_winrm_transport': 'basic', 'ansible_user': 'Administrator',
        'ansible_password': disconnected.password, 'ansible_winrm_server_cert_validation': 'ignore'}
    assert 'server_cert_validation' not in ini['export']['wsus-connected']
    # No secret in what the lab publishes about itself.
    assert connected.password not in json.dumps(lab.describe())


def test_ansible_reads_the_inventory(lab_factory, fake_backend):
    lab = lab_factory(SPEC, backend=fake_backend)
    inventory_cli = os.path.join(os.path.dirname(sys.executable), 'ansible-inventory')
    if not os.path.exists(inventory_cli):
        inventory_cli = shutil.which('ansible-inventory') or pytest.fail('ansible-inventory is not installed')
    proc = subprocess.run([inventory_cli, '-i', lab.inventory_path, '--list'], capture_output=True, text=True,
                          timeout=60, check=True)
    data = json.loads(proc.stdout)
    assert data['export']['hosts'] == ['wsus-connected'] and data['import']['hosts'] == ['wsus-disconnected']
    hostvars = data['_meta']['hostvars']['wsus-connected']
    assert hostvars['ansible_port'] == lab.hosts['wsus-connected'].port
    assert hostvars['ansible_password'] == lab.hosts['wsus-connected'].password


def test_passwords_that_need_quoting_survive_the_inventory(lab_factory, fake_backend):
    password = "it's a p@ss #1"
    lab = lab_factory({'hosts': [{'name': 'h', 'role': 'export', 'transport': 'basic',
                                  'accounts': {'Administrator': {'password': password}}}]}, backend=fake_backend)
    inventory_cli = os.path.join(os.path.dirname(sys.executable), 'ansible-inventory')
    proc = subprocess.run([inventory_cli, '-i', lab.inventory_path, '--host', 'h'], capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(proc.stdout)['ansible_password'] == password


def test_counters_start_at_zero_and_spec_faults_apply_from_the_first_request(lab_factory, fake_backend):
    lab = lab_factory({'hosts': [{'name': 'h', 'role': 'export', 'transport': 'basic',
                                  'faults': {'winrm': {'drop_next': 1}}}]}, backend=fake_backend)
    handle = lab.hosts['h']
    assert handle.server.counters['requests'] == 0           # the start-up probe is not counted
    protocol = handle.protocol()
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol.open_shell()
    protocol.close_shell(protocol.open_shell())
    assert handle.server.counters.snapshot()['dropped'] == 1


def test_stop_closes_shells_and_the_port(lab_factory, fake_backend):
    lab = lab_factory({'hosts': [{'name': 'h', 'role': 'export', 'transport': 'basic'}]}, backend=fake_backend)
    handle = lab.hosts['h']
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    lab.stop()
    assert shell_id.upper() in handle.host.closed_shells
    with pytest.raises(requests.exceptions.ConnectionError):
        handle.protocol().open_shell()


def test_host_backend_gets_its_entry_a_folder_and_the_shared_media(lab_factory, tmp_path):
    seen = {}

    def backend(entry, state_dir, shared):
        from ansible_collections.airgap.wsus.tests.lab.wsman import CommandResult

        seen[entry['name']] = (state_dir, shared)

        class Host:
            name = entry['name']

            def authenticate(self, username, password):
                return entry['accounts'].get(username, {}).get('password') == password

            def run_command(self, ctx, command_line, stdin):
                return CommandResult(stdout=command_line)

            def process_running(self, image_name):
                return False
        return Host()

    lab = lab_factory(SPEC, backend=backend)
    (dir_a, shared_a), (dir_b, shared_b) = seen['wsus-connected'], seen['wsus-disconnected']
    assert dir_a != dir_b and os.path.isdir(dir_a) and os.path.isdir(dir_b)
    assert shared_a is shared_b                       # one dict for the whole lab
    assert set(shared_a['hosts']) == {'wsus-connected', 'wsus-disconnected'}
    assert os.path.isdir(shared_a['media']['transfer']['path'])
    assert shared_a['media']['transfer']['file_system'] == 'exFAT'
    # A host without shell_closed() still works.
    protocol = lab.hosts['wsus-connected'].protocol()
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, 'ipconfig', ['/all'])
    assert protocol.get_command_output(shell_id, command_id) == (b'ipconfig /all', b'', 0)
    protocol.close_shell(shell_id)


def test_a_host_that_raises_is_reported_as_a_lab_error_not_as_windows(lab_factory):
    def backend(entry, state_dir, shared):
        class Broken:
            name = entry['name']

            def authenticate(self, username, password):
                return True

            def run_command(self, ctx, command_line, stdin):
                raise KeyError('registry value missing')
        return Broken()

    from winrm.exceptions import WSManFaultError

    lab = lab_factory({'hosts': [{'name': 'h', 'role': 'export', 'transport': 'basic'}]}, backend=backend)
    protocol = lab.hosts['h'].protocol()
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, 'whoami')
    with pytest.raises(WSManFaultError, match="LAB EMULATOR ERROR .* KeyError: 'registry value missing'"):
        protocol.get_command_output(shell_id, command_id)


REAL_HOST = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'lab', 'windows', 'host.py')


@pytest.mark.skipif(not os.path.exists(REAL_HOST), reason='the emulated Windows host is not in this checkout yet')
def test_real_hosts_share_the_transfer_medium(lab_factory):
    """With the lab's own emulated hosts: E: is the same USB stick on both sides of the gap."""
    lab = lab_factory({'hosts': [{'name': 'wsus-connected', 'role': 'export'},
                                 {'name': 'wsus-disconnected', 'role': 'import', 'transport': 'basic'}]})

    def cmd(name, *line):
        protocol = lab.hosts[name].protocol()
        shell_id = protocol.open_shell(codepage=65001)
        try:
            command_id = protocol.run_command(shell_id, *line)
            return protocol.get_command_output(shell_id, command_id)
        finally:
            protocol.close_shell(shell_id)

    assert cmd('wsus-connected', 'echo', ['%COMPUTERNAME%']) == (b'WSUS-CONNECTED\r\n', b'', 0)
    assert cmd('wsus-connected', 'echo', ['carried>E:\\note.txt'])[2] == 0
    assert cmd('wsus-disconnected', 'type', ['E:\\note.txt']) == (b'carried\r\n', b'', 0)
