"""``airgap.wsus.content_verify``: round trips, results and the reset's wait, against a fake WSUS host with fake time."""
from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

from ansible_collections.airgap.wsus.plugins.action import content_verify
from ansible_collections.airgap.wsus.plugins.modules import content_verify as doc
from ansible_collections.airgap.wsus.plugins.plugin_utils import _jobs
from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils.doc_argspec import assert_doc_matches_spec

COLUMNS = ['FileDigest', 'FileName', 'Size', 'IsEula', 'DesiredState', 'ActualState']
ROOT = 'D:\\WSUS\\WsusContent'


def digest(n):
    return hashlib.sha1(str(n).encode()).hexdigest().upper()


def relpath(n, ext='cab'):
    return f'{digest(n)[-2:]}\\{digest(n)}.{ext}'


class FakeHost:
    """Approved files 0..count-1 (file 0 a license file), all on disk unless removed; a reset WSUS takes ``reset_polls`` polls to finish."""

    transport = 'winrm'

    def __init__(self, count=6, is_admin=True, reset_polls=2):
        self._shell = SimpleNamespace(tmpdir=None, SHELL_FAMILY='powershell')
        self.files = {n: [digest(n), f'{digest(n).lower()}.{"txt" if n == 0 else "cab"}', 100 + n, n == 0, 1, 1] for n in range(count)}
        self.disk = {relpath(n, 'txt' if n == 0 else 'cab'): [100 + n, digest(n)] for n in range(count)}
        self.is_admin = is_admin
        self.reset_polls = reset_polls
        self.reset_started = False
        self.polls_since_reset = 0
        self.sent = []
        self.now = 0.0
        self.jobs = {}

    def exec_command(self, cmd, in_data=None, sudoable=True):
        payload = json.loads(in_data)
        self.sent.append((payload['name'], payload['params']))
        answer = getattr(self, 'op_' + payload['name'])(payload['params'])
        return 0, ('AIRGAP-WSUS-RESULT:' + json.dumps(answer)).encode(), b''

    def reset(self):
        pass

    def names(self):
        return [name for name, _params in self.sent]

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds

    def op_server_state(self, params):
        return {'computer_name': 'WSUS02', 'account': {'name': 'WSUS02\\admin', 'is_admin': self.is_admin},
                'registry': {'installed': True, 'content_dir': 'D:\\WSUS', 'target_dir': 'C:\\Program Files\\Update Services\\'},
                'service': {}, 'config': {'available': True, 'local_content_cache_path': ROOT}, 'subscription': None,
                'content_drive': {}, 'status': None}

    def op_susdb_query(self, params):
        results = {}
        for query in params['Queries']:
            name = query['name']
            if name == 'approved_files':
                rows = [r for r in self.files.values() if not r[3]]
            elif name == 'approved_eula_files':
                rows = [r for r in self.files.values() if r[3]]
            else:
                if self.reset_started:
                    self.polls_since_reset += 1
                    if self.polls_since_reset >= self.reset_polls:
                        self._checked()
                rows = [r for r in self.files.values() if r[5] != 1]
            results[name] = {'columns': COLUMNS, 'rows': rows}
        return {'results': results, 'server': 'MICROSOFT##WID', 'database': 'SUSDB'}

    def _checked(self):
        """What the reset's check ends with: each file's state is what the disk says."""
        for n, row in self.files.items():
            on_disk = self.disk.get(relpath(n, 'txt' if n == 0 else 'cab'))
            row[5] = 1 if on_disk and on_disk[0] == row[2] and on_disk[1] == row[0] else 2

    def op_content_inventory(self, params):
        hashed = bool(params.get('Algorithms'))
        files = [[path, size] + ([sha1] if hashed else []) for path, (size, sha1) in sorted(self.disk.items())]
        return {'root': params['Root'], 'exists': True, 'files': files, 'count': len(files), 'bytes': 0, 'errors': []}

    def op_job_start(self, params):
        assert params['Steps'][0]['file'] == 'C:\\Program Files\\Update Services\\Tools\\WsusUtil.exe'
        assert params['Steps'][0]['arguments'] == 'reset'
        self.reset_started = True
        self.jobs[params['JobId']] = {'collected': False}
        return {'job_id': params['JobId'], 'job_dir': 'C:\\ProgramData\\airgap.wsus\\jobs\\' + params['JobId'], 'state': 'exited',
                'attached': False, 'pid': 1, 'started_at': 'x'}

    def op_job_poll(self, params):
        step = {'name': 'reset', 'state': 'exited', 'exit_code': 0, 'max_success_code': 0, 'pid': 2, 'started_at': 'x',
                'ended_at': 'y', 'error': None, 'log_tail': '', 'stderr_tail': ''}
        return {'state': 'exited', 'steps': [step], 'free_bytes': 1, 'now': 'z', 'started_at': 'x', 'ended_at': 'y', 'error': None,
                'collected': False}


def run(host, check_mode=False, **args):
    task = SimpleNamespace(args=dict({'poll_interval': 5}, **args), async_val=0, check_mode=check_mode,
                           action='airgap.wsus.content_verify', diff=False)
    action = content_verify.ActionModule(task, host, SimpleNamespace(remote_addr='wsus02'), None, None, None)
    action._load_name = 'airgap.wsus.content_verify'
    action.clock = host.clock
    action.sleep = host.sleep
    action.job_driver = lambda runner=None: _jobs.JobDriver(runner, clock=host.clock, sleep=host.sleep)
    return action.run(task_vars={})


def test_documentation_matches_the_argument_spec():
    assert_doc_matches_spec(doc.DOCUMENTATION, content_verify.ActionModule.ARGUMENT_SPEC)


def test_complete_content_costs_three_round_trips_and_changes_nothing():
    host = FakeHost()
    result = run(host)
    assert host.names() == ['server_state', 'susdb_query', 'content_inventory']
    assert [q['name'] for q in host.sent[1][1]['Queries']] == ['approved_files', 'approved_eula_files']
    assert host.sent[2][1] == {'Root': ROOT, 'Algorithms': []}
    assert result['changed'] is False and not result.get('failed') and result['approved_files'] == 6 == result['present_files']
    assert result['files'] == [] and result['content_dir'] == ROOT and 'all 6 file(s)' in result['msg']


def test_missing_files_fail_the_task_with_paths_sizes_and_the_plain_list():
    host = FakeHost()
    del host.disk[relpath(0, 'txt')]
    del host.disk[relpath(3)]
    result = run(host)
    expected = sorted([(relpath(0, 'txt').replace('\\', '/'), 100), (relpath(3).replace('\\', '/'), 103)])
    assert result['failed'] is True and [(m['path'], m['size']) for m in result['missing_files']] == expected
    assert result['files'] == [path for path, _size in expected] and result['missing_bytes'] == 203
    assert any('counts 2 of the missing' in w for w in result['warnings'])
    relaxed = run(host, fail_on_missing=False)
    assert not relaxed.get('failed') and relaxed['files'] == result['files']


def test_hash_asks_the_inventory_for_sha1_and_finds_damage_that_keeps_the_size():
    host = FakeHost()
    host.disk[relpath(2)][1] = digest(99)
    assert run(host)['files'] == []
    result = run(host, hash=True)
    assert host.sent[-1][1]['Algorithms'] == ['sha1']
    assert result['corrupt_files'] == [{'path': relpath(2).replace('\\', '/'), 'size': 102, 'actual_size': 102, 'reason': 'sha1'}]


def test_reset_runs_wsusutil_and_waits_until_wsus_agrees_with_the_disk():
    host = FakeHost(reset_polls=3)
    del host.disk[relpath(4)]
    result = run(host, reset=True, fail_on_missing=False)
    assert result['changed'] is True and result['reset']['ran'] is True and result['reset']['settled'] is True
    assert result['reset']['not_ready_files'] == 1 and host.names().count('job_start') == 1
    assert host.names().count('susdb_query') == 1 + 3, 'one files query, then one small query per poll'
    assert result['reset']['waited'] > 0


def test_reset_wait_ends_at_the_timeout_with_a_warning():
    host = FakeHost(reset_polls=10 ** 6)
    del host.disk[relpath(4)]
    result = run(host, reset=True, fail_on_missing=False, timeout=60)
    assert result['reset']['settled'] is False and any('timeout ended' in w for w in result['warnings'])
    assert 55 <= host.now <= 70


def test_check_mode_never_resets_and_a_non_administrator_cannot():
    host = FakeHost()
    result = run(host, check_mode=True, reset=True)
    assert result['changed'] is True and result['reset'] == {'ran': False} and 'job_start' not in host.names()
    refused = run(FakeHost(is_admin=False), reset=True)
    assert refused['failed'] and 'not a member of the local Administrators group' in refused['msg']


def test_a_given_content_dir_is_used_and_a_missing_folder_is_said():
    host = FakeHost()
    host.op_content_inventory = lambda params: {'root': params['Root'], 'exists': False, 'files': [], 'count': 0, 'bytes': 0, 'errors': []}
    result = run(host, content_dir='E:\\copy\\WsusContent')
    assert host.sent[2][1]['Root'] == 'E:\\copy\\WsusContent' and result['failed'] and len(result['files']) == 6
    assert any('does not exist' in w for w in result['warnings'])
