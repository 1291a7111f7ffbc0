"""The lab's WS-Management server as Ansible's own ``winrm`` connection plugin sees it.

One ``ansible-playbook`` run drives several emulated hosts, each with different WinRM settings
or an injected fault; a small callback records every task result for the assertions.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ansible')
PAYLOAD = 'abcdefghij' * 30000        # 300,000 bytes: Ansible sends it in two Sends (200,000 + 100,000)


def ansible_playbook() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    found = beside if os.path.exists(beside) else shutil.which('ansible-playbook')
    if not found:
        pytest.fail('ansible-playbook is not installed next to %s nor on PATH' % sys.executable)
    return found


@pytest.fixture(scope='module')
def played(tmp_path_factory, fakehost):
    from ansible_collections.airgap.wsus.tests.lab.lab import Lab

    tmp = tmp_path_factory.mktemp('ansible')
    spec = {'hosts': [
        # The first command gets the operations-quota fault: the plugin must re-create its shell.
        {'name': 'ntlm-http', 'role': 'export', 'transport': 'ntlm', 'faults': {'winrm': {'quota_exceeded': 1}}},
        {'name': 'ntlm-https', 'role': 'import', 'transport': 'ntlm', 'scheme': 'https'},
        {'name': 'basic-http', 'role': 'import', 'transport': 'basic'},
        {'name': 'password-changed', 'role': 'import', 'transport': 'ntlm', 'faults': {'winrm': {'reject_password': 1000}}},
        # Requests: Create, Command, then the Receive of the first task is dropped.
        {'name': 'link-drops', 'role': 'export', 'transport': 'basic', 'faults': {'winrm': {'drop_at_request': 3}}},
    ]}
    lab = Lab.from_spec(spec, tmp / 'lab', backend_factory=fakehost.build).start()
    try:
        inventory = lab.write_inventory(tmp / 'inventory.ini')
        results_file = tmp / 'results.json'
        env = dict(os.environ, ANSIBLE_ACTION_PLUGINS=os.path.join(HERE, 'action_plugins'),
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
                   ANSIBLE_CALLBACKS_ENABLED='lab_results', LAB_RESULTS_FILE=str(results_file),
                   ANSIBLE_LOCAL_TEMP=str(tmp / 'ansible-local'), ANSIBLE_NOCOLOR='1', ANSIBLE_FORKS='5',
                   ANSIBLE_RETRY_FILES_ENABLED='0')
        proc = subprocess.run([ansible_playbook(), '-i', inventory, os.path.join(HERE, 'winrm.yml')], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        if not results_file.exists():
            pytest.fail('ansible-playbook wrote no results (rc %d):\n%s\n%s'
                        % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        results: dict = {}
        for record in json.loads(results_file.read_text()):
            results.setdefault(record['host'], []).append(record)
        counters = {name: handle.server.counters.snapshot() for name, handle in lab.hosts.items()}
        yield results, counters, proc
    finally:
        lab.stop()


@pytest.mark.parametrize('host', ['ntlm-http', 'ntlm-https', 'basic-http'])
def test_tasks_run_through_the_winrm_plugin(played, host):
    results, counters = played[:2]
    raw, stdin, long_line, *loop = results[host]
    assert raw['status'] == 'ok', raw
    assert raw['result']['stdout'] == 'h\u00e9llo \u2603\r\n'     # UTF-8 from the 65001 shell, decoded
    assert stdin['status'] == 'ok', stdin
    assert stdin['result']['stdout'] == PAYLOAD + '\r\n'
    assert long_line['status'] == 'ok', long_line          # the play expects exit code 1 (failed_when)
    assert (long_line['result']['rc'], long_line['result']['stderr']) == (1, 'The command line is too long.\r\n')
    assert [item['status'] for item in loop] == ['ok']
    assert [r['stdout'] for r in loop[0]['result']['results']] == ['call 1\r\n', 'call 2\r\n', 'call 3\r\n']
    assert counters[host]['actions']['Send'] == 2        # the 300,000-byte stdin, in Ansible's 200,000-byte pieces


def test_ntlm_over_http_is_sealed(played):
    counters = played[1]
    assert counters['ntlm-http']['encrypted_requests'] >= counters['ntlm-http']['actions']['Command']
    assert counters['ntlm-https']['encrypted_requests'] == 0
    assert counters['basic-http']['encrypted_requests'] == 0


def test_quota_fault_makes_the_plugin_recreate_its_shell(played):
    results, counters = played[:2]
    assert results['ntlm-http'][0]['status'] == 'ok'
    assert counters['ntlm-http']['faults'] >= 1
    # Ansible opens a shell per task; on the quota fault it closed and re-opened one once more.
    assert counters['ntlm-http']['shells_created'] == counters['ntlm-https']['shells_created'] + 1


def test_wrong_password_makes_the_host_unreachable_with_a_clear_message(played):
    results, counters = played[:2]
    (first,) = results['password-changed']
    assert first['status'] == 'unreachable'
    assert 'ntlm: the specified credentials were rejected by the server' in first['result']['msg']
    assert counters['password-changed']['auth_failures'] >= 1


def test_dropped_connection_fails_the_task_and_says_why(played):
    results, counters = played[:2]
    first = results['link-drops'][0]
    assert first['status'] in ('failed', 'unreachable')
    assert 'Connection aborted' in json.dumps(first['result'])
    assert counters['link-drops']['dropped'] == 1
