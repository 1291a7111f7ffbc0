"""``tests/lab/cli.py``: up / status / fault / down, run the way acceptance checks run it
(``python tests/lab/cli.py ...`` from the repository root, outside any ansible_collections tree)."""
from __future__ import annotations

import configparser
import json
import os
import stat
import subprocess
import sys
import time

import pytest
import requests
import winrm

from ansible_collections.airgap.wsus.tests.lab.control import ControlClient, ControlError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLI = os.path.join('tests', 'lab', 'cli.py')
FAKEHOST = os.path.join(REPO, 'tests', 'integration', 'lab', 'wsman', 'fakehost.py')

SPEC = """\
hosts:
  - name: wsus-connected
    role: export
  - name: wsus-disconnected
    role: import
    transport: basic
    scheme: https
"""


def cli(*args, cwd=REPO, timeout=120):
    # A clean environment: the CLI must not depend on pytest's import shim.
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTHON', 'ANSIBLE_'))}
    return subprocess.run([sys.executable, os.path.join(REPO, CLI) if cwd != REPO else CLI, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def inventory_hosts(path):
    ini = configparser.ConfigParser(allow_no_value=True, delimiters=(' ',))
    ini.optionxform = str
    ini.read(path)
    hosts = {}
    for group in ('export', 'import'):
        for name, line in ini[group].items():
            hosts[name] = dict(kv.split('=', 1) for kv in line.split())
    return hosts


def protocol_for(hostvars):
    endpoint = '%s://127.0.0.1:%s/wsman' % (hostvars['ansible_winrm_scheme'], hostvars['ansible_port'])
    return winrm.Protocol(endpoint, transport=hostvars['ansible_winrm_transport'], username=hostvars['ansible_user'],
                          password=hostvars['ansible_password'], server_cert_validation='ignore')


@pytest.fixture
def lab_dir(tmp_path):
    """A state dir whose lab is always brought down, even when a test fails half-way."""
    state = tmp_path / 'state'
    yield state
    cli('down', '--state-dir', str(state))


def test_up_status_fault_down(tmp_path, lab_dir):
    spec = tmp_path / 'spec.yml'
    spec.write_text(SPEC)
    inventory = tmp_path / 'inventory.ini'
    started = time.monotonic()
    up = cli('up', '--spec', str(spec), '--state-dir', str(lab_dir), '--inventory', str(inventory),
             '--backend', FAKEHOST + ':build')
    assert up.returncode == 0, up.stdout + up.stderr
    assert time.monotonic() - started < 30
    assert 'wsus-connected' in up.stdout and 'wsus-disconnected' in up.stdout
    hosts = inventory_hosts(inventory)
    for hostvars in hosts.values():
        assert hostvars['ansible_password'] not in up.stdout + up.stderr       # secrets stay in files
    assert stat.S_IMODE(os.stat(inventory).st_mode) == 0o600

    # The lab outlives the CLI and answers through the inventory's settings.
    for name, hostvars in hosts.items():
        protocol = protocol_for(hostvars)
        shell_id = protocol.open_shell()
        command_id = protocol.run_command(shell_id, 'echo', [name])
        assert protocol.get_command_output(shell_id, command_id) == (name.encode() + b'\r\n', b'', 0)
        protocol.close_shell(shell_id)

    status = cli('status', '--state-dir', str(lab_dir), '--json')
    assert status.returncode == 0, status.stderr
    view = json.loads(status.stdout)['hosts']
    assert view['wsus-connected']['counters']['commands'] == 1
    assert view['wsus-disconnected']['scheme'] == 'https'
    assert cli('status', '--state-dir', str(lab_dir)).returncode == 0

    fault = cli('fault', '--state-dir', str(lab_dir), 'wsus-disconnected', '--drop-next', '1')
    assert fault.returncode == 0, fault.stderr
    protocol = protocol_for(hosts['wsus-disconnected'])
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol.open_shell()
    protocol.close_shell(protocol.open_shell())

    # Tests and benchmarks in other processes use the control endpoint directly.
    client = ControlClient.from_state_dir(lab_dir)
    assert client.counters('wsus-connected')['commands'] == 1
    assert client.reset_counters('wsus-connected')['requests'] == 0
    with pytest.raises(ControlError, match='unknown WinRM fault setting.s. drop_everything'):
        client.inject('wsus-connected', drop_everything=True)
    with pytest.raises(ControlError, match='no host named'):
        client.counters('nosuchhost')
    with pytest.raises(ControlError, match='X-Lab-Token'):
        ControlClient(client.port, 'wrong-token').hosts()

    state = json.loads((lab_dir / 'lab.json').read_text())
    down = cli('down', '--state-dir', str(lab_dir))
    assert down.returncode == 0, down.stderr
    assert not os.path.exists('/proc/%d' % state['pid']) or _zombie(state['pid'])
    assert not (lab_dir / 'lab.json').exists()
    assert cli('status', '--state-dir', str(lab_dir)).returncode == 1
    assert cli('down', '--state-dir', str(lab_dir)).returncode == 0          # idempotent
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol_for(hosts['wsus-connected']).open_shell()
    log = (lab_dir / 'lab.log').read_text()
    assert 'ready' in log and 'stopped' in log
    for hostvars in hosts.values():
        assert hostvars['ansible_password'] not in log


def test_up_from_another_directory_and_twice(tmp_path, lab_dir):
    spec = tmp_path / 'spec.yml'
    spec.write_text('hosts: [{name: solo, role: export, transport: basic}]\n')
    # Relative paths are taken from the caller's directory, though the lab process runs elsewhere.
    first = cli('up', '--spec', 'spec.yml', '--state-dir', 'state', '--inventory', 'inv.ini',
                '--backend', os.path.relpath(FAKEHOST, tmp_path) + ':build', cwd=str(tmp_path))
    args = ('up', '--spec', str(spec), '--state-dir', str(lab_dir), '--inventory', str(tmp_path / 'inv.ini'),
            '--backend', FAKEHOST + ':build')
    assert first.returncode == 0, first.stdout + first.stderr
    assert (tmp_path / 'inv.ini').exists() and lab_dir == tmp_path / 'state'
    second = cli(*args)
    assert second.returncode == 2
    assert 'a lab already runs from' in second.stderr and 'down --state-dir' in second.stderr


@pytest.mark.parametrize('spec_text, message', [
    ('hosts: [{name: a, role: exporter}]\n', '"role" must be one of export, import'),
    ('hosts: [\n', 'not valid YAML'),
])
def test_bad_spec_fails_fast_with_the_reason(tmp_path, lab_dir, spec_text, message):
    spec = tmp_path / 'spec.yml'
    spec.write_text(spec_text)
    result = cli('up', '--spec', str(spec), '--state-dir', str(lab_dir), '--inventory', str(tmp_path / 'inv.ini'))
    assert result.returncode == 2
    assert message in result.stderr
    assert not (lab_dir / 'lab.json').exists()


def test_a_lab_that_cannot_start_shows_its_log(tmp_path, lab_dir):
    broken = tmp_path / 'broken.py'
    broken.write_text('def build(entry, state_dir, shared):\n    raise RuntimeError("emulator exploded")\n')
    spec = tmp_path / 'spec.yml'
    spec.write_text('hosts: [{name: a, role: export}]\n')
    result = cli('up', '--spec', str(spec), '--state-dir', str(lab_dir), '--inventory', str(tmp_path / 'inv.ini'),
                 '--backend', str(broken) + ':build')
    assert result.returncode == 2
    assert 'exited' in result.stderr and 'emulator exploded' in result.stderr


@pytest.mark.skipif(not os.path.exists(os.path.join(REPO, 'tests', 'lab', 'windows', 'host.py')),
                    reason='the emulated Windows host (tests/lab/windows/host.py) is not in this checkout yet')
def test_up_with_the_lab_s_own_emulated_hosts(tmp_path, lab_dir):
    spec = tmp_path / 'spec.yml'
    spec.write_text('hosts:\n  - {name: wsus-connected, role: export}\n  - {name: wsus-disconnected, role: import}\n')
    inventory = tmp_path / 'inventory.ini'
    up = cli('up', '--spec', str(spec), '--state-dir', str(lab_dir), '--inventory', str(inventory))
    assert up.returncode == 0, up.stdout + up.stderr
    assert set(inventory_hosts(inventory)) == {'wsus-connected', 'wsus-disconnected'}
    assert cli('down', '--state-dir', str(lab_dir)).returncode == 0


def _zombie(pid):
    try:
        with open('/proc/%d/stat' % pid, encoding='ascii') as handle:
            return handle.read().split(')')[-1].split()[0] == 'Z'
    except OSError:
        return True
