"""``airgap.wsus.content_sync``: planning and judging robocopy runs, and the action's decisions against a fake host.

The fake host answers the host scripts the action sends and "runs" each job step at once:
a robocopy step is handed to a function of the test that returns its exit code and log text,
so each test states exactly what robocopy reported.
"""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.airgap.wsus.plugins.action import content_sync
from ansible_collections.airgap.wsus.plugins.modules import content_sync as doc
from ansible_collections.airgap.wsus.plugins.plugin_utils import _cmdline, _content_sync, _winpath
from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils.doc_argspec import assert_doc_matches_spec

HASHED = '0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C0A'
ARGS = {'mode': 'incremental', 'threads': 8, 'retries': 2, 'retry_wait': 5, 'restartable': False, 'unbuffered': True,
        'fat_timestamps': 'auto', 'work_dir': 'C:\\ProgramData\\airgap.wsus', 'timeout': 86400, 'poll_interval': 30,
        'on_timeout': 'cancel'}


def robocopy_log(files=(0, 0, 0, 0, 0, 0), sizes=None, dirs=(1, 0, 1, 0, 0, 0), errors=(), retry_limit=False):
    """A robocopy log as Windows writes it with /BYTES /NP /NFL /NDL /LOG (see ROBOCOPY_SAMPLES)."""
    sizes = sizes if sizes is not None else tuple(v * 1000 for v in files)
    lines = ['', '-' * 79, '   ROBOCOPY     ::     Robust File Copy for Windows', '-' * 79, '',
             '  Started : Tuesday, March 5, 2024 10:15:32 AM', '   Source : D:\\WSUS\\WsusContent\\',
             '     Dest : E:\\t\\WsusContent\\', '', '    Files : *.*', '',
             '  Options : *.* /NDL /NFL /S /E /DCOPY:DA /COPY:DAT /J /NP /BYTES /MT:8 /R:2 /W:5', '', '-' * 78, '']
    for code, path, message in errors:
        lines += [f'2024/03/05 10:15:33 ERROR {code} (0x{code:08X}) Copying File {path}', message, '']
        if retry_limit:
            lines += ['ERROR: RETRY LIMIT EXCEEDED.', '']
    lines += ['-' * 78, '', '               Total    Copied   Skipped  Mismatch    FAILED    Extras']
    for label, values in (('    Dirs :', dirs), ('   Files :', files), ('   Bytes :', sizes)):
        # Columns are 10 wide; a wider number keeps one space before it.
        lines.append(label + ''.join(f' {v:>9}' for v in values))
    lines += ['   Times :   0:00:05   0:00:04                       0:00:00   0:00:00',
              '   Ended : Tuesday, March 5, 2024 10:15:37 AM', '']
    return '\r\n'.join(lines)


NOTHING = robocopy_log(files=(3, 0, 3, 0, 0, 0))
THREE_NEW = robocopy_log(files=(3, 3, 0, 0, 0, 0))


class FakeHost:
    """Answers host scripts for content_sync. ``robocopy(args, list_only) -> (exit code, log)`` runs each step."""

    transport = 'winrm'

    def __init__(self, robocopy, content_dir='D:\\WSUS', free=10 ** 12, file_systems=('NTFS', 'NTFS'), src_exists=True,
                 installed=True):
        self._shell = SimpleNamespace(tmpdir=None, SHELL_FAMILY='powershell')
        self.robocopy = robocopy
        self.content_dir = content_dir
        self.free = free
        self.file_systems = file_systems
        self.src_exists = src_exists
        self.installed = installed
        self.jobs = {}
        self.sent = []

    # the connection interface the host-script runner uses
    def exec_command(self, cmd, in_data=None, sudoable=True):
        payload = json.loads(in_data)
        self.sent.append((payload['name'], payload['params']))
        answer = getattr(self, 'op_' + payload['name'])(payload['params'])
        return 0, ('AIRGAP-WSUS-RESULT:' + json.dumps(answer)).encode(), b''

    def reset(self):
        pass

    def names(self):
        return [name for name, _params in self.sent]

    def started(self):
        return [params for name, params in self.sent if name == 'job_start']

    # host scripts
    def op_server_state(self, params):
        registry = {'installed': self.installed, 'content_dir': self.content_dir if self.installed else None}
        return {'computer_name': 'WSUS01', 'account': {'is_admin': True}, 'registry': registry, 'service': {}, 'config': {},
                'subscription': None, 'content_drive': {}, 'status': None}

    def op_path_info(self, params):
        out = []
        for index, path in enumerate(params['Paths']):
            exists = self.src_exists if index == 0 else False
            out.append({'path': path, 'exists': exists, 'is_dir': exists, 'size': None, 'free_bytes': self.free,
                        'total_bytes': 2 * self.free, 'file_system': self.file_systems[min(index, 1)], 'drive_type': 'fixed'})
        return {'paths': out}

    def op_job_start(self, params):
        job_id = params['JobId']
        job = self.jobs.get(job_id)
        if job and not job['collected']:
            return {'job_id': job_id, 'job_dir': 'C:\\j\\' + job_id, 'state': 'exited', 'attached': True, 'pid': 1, 'started_at': 'x'}
        steps = []
        for step in params['Steps']:
            args = _cmdline.split_args(step['arguments'])
            code, log = self.robocopy(args, '/L' in args)
            steps.append({'name': step['name'], 'state': 'exited', 'exit_code': code, 'max_success_code': step['max_success_code'],
                          'pid': 2, 'started_at': '2024-03-05T10:15:32.000Z', 'ended_at': '2024-03-05T10:15:37.500Z',
                          'error': None, 'log_size': len(log), 'log': log, 'stderr_tail': ''})
            if code > step['max_success_code']:
                break
        self.jobs[job_id] = {'steps': steps, 'collected': False, 'files': params.get('Files') or []}
        return {'job_id': job_id, 'job_dir': 'C:\\j\\' + job_id, 'state': 'exited', 'attached': False, 'pid': 1, 'started_at': 'x'}

    def op_job_poll(self, params):
        job = self.jobs.get(params['JobId'])
        base = {'free_bytes': self.free, 'now': '2024-03-05T10:16:00.000Z', 'started_at': 'x', 'ended_at': 'y', 'error': None}
        if job is None:
            return dict(base, state='missing', steps=[], collected=False)
        collected = job['collected']
        if params.get('Collect'):
            job['collected'] = True
        tail = params.get('TailBytes', 4096)
        steps = [dict({k: v for k, v in s.items() if k != 'log'}, log_tail=s['log'][-tail:] if tail else '') for s in job['steps']]
        return dict(base, state='exited', steps=steps, collected=collected)


def listing(start):
    """Whether a job_start's first step is a robocopy listing (/L)."""
    return '/L' in _cmdline.split_args(start['Steps'][0]['arguments'])


def make_action(args, host, check_mode=False):
    task = SimpleNamespace(args=dict(ARGS, **args), async_val=0, check_mode=check_mode, action='airgap.wsus.content_sync', diff=False)
    action = content_sync.ActionModule(task, host, SimpleNamespace(remote_addr='wsus01'), None, None, None)
    action._load_name = 'airgap.wsus.content_sync'
    return action


def run(args, host, check_mode=False):
    return make_action(args, host, check_mode).run(task_vars={})


# --------------------------------------------------------------------------- documentation

def test_documentation_matches_the_argument_spec():
    assert_doc_matches_spec(doc.DOCUMENTATION, content_sync.ActionModule.ARGUMENT_SPEC)


# --------------------------------------------------------------------------- planning

def plan(**args):
    merged = dict(ARGS, **args)
    return _content_sync.make_plan(merged.pop('src', 'D:\\WSUS\\WsusContent'), merged.pop('dest', 'E:\\t\\WsusContent'), merged, False)


def test_tree_copy_arguments_are_safe_and_compact():
    spec, logs = _content_sync.build_job(plan(), False, 'C:\\Windows\\System32\\Robocopy.exe')
    args = _cmdline.split_args(spec.steps[0].arguments)
    assert args[:3] == ['D:\\WSUS\\WsusContent', 'E:\\t\\WsusContent', '/E']
    for flag in ('/BYTES', '/NP', '/NFL', '/NDL', '/R:2', '/W:5', '/MT:8', '/J'):
        assert flag in args
    assert '/MIR' not in args and '/PURGE' not in args and '/L' not in args and '/Z' not in args
    assert logs == [f'C:\\ProgramData\\airgap.wsus\\jobs\\{spec.job_id}\\robocopy.log'] and args[-1] == '/LOG:' + logs[0]
    assert spec.steps[0].max_success_code == 7 and spec.steps[0].log == logs[0]
    listing, _logs = _content_sync.build_job(plan(), True, 'C:\\Windows\\System32\\Robocopy.exe')
    assert '/L' in _cmdline.split_args(listing.steps[0].arguments) and listing.job_id != spec.job_id


def test_mirror_and_options_reach_robocopy():
    spec, _logs = _content_sync.build_job(plan(mode='mirror', restartable=True, threads=16, retries=0, retry_wait=1,
                                               log_path='C:\\logs\\copy.log'), False, 'C:\\R.exe')
    args = _cmdline.split_args(spec.steps[0].arguments)
    assert '/MIR' in args and '/E' not in args and {'/Z', '/J', '/MT:16', '/R:0', '/W:1'} <= set(args)
    assert args[-1] == '/LOG:C:\\logs\\copy.log'
    assert '/FFT' in _cmdline.split_args(_content_sync.build_job(
        _content_sync.make_plan('D:\\a', 'E:\\b', dict(ARGS), True), False, 'C:\\R.exe')[0].steps[0].arguments)


@pytest.mark.parametrize('args, message', [
    ({'mode': 'mirror', 'files': ['0A/' + HASHED + '.cab']}, 'files cannot be used with mode=mirror'),
    ({'files': ['0A/x.cab'], 'log_path': 'C:\\l.log'}, 'log_path cannot be used with files'),
    ({'files': ['..\\..\\Windows\\x.dll']}, '".."'),
    ({'files': ['C:\\x.cab']}, 'names a drive'),
    ({'mode': 'mirror', 'dest': 'E:\\'}, 'root of E:\\'),
    ({'mode': 'mirror', 'dest': 'C:\\ProgramData'}, 'work_dir C:\\ProgramData\\airgap.wsus lies inside dest'),
    ({'dest': 'D:\\WSUS\\WsusContent\\sub'}, 'contain one another'),
    ({'dest': 'd:\\wsus\\wsuscontent'}, 'the same folder'),
    ({'dest': 'relative\\path'}, 'relative path'),
    ({'threads': 200}, 'threads must be between 1 and 128'),
    ({'retry_wait': 4000}, 'retry_wait must be between 0 and 3600'),
    ({'work_dir': '\\\\server\\share\\jobs'}, 'local drive path'),
    ({'work_dir': 'C:\\Jobs+Logs'}, 'may hold only letters'),
])
def test_unsafe_options_are_refused_with_the_option_named(args, message):
    with pytest.raises(_content_sync.ContentSyncError, match=re.escape(message)):
        plan(**args)


def test_job_id_depends_on_what_is_copied_not_on_list_order():
    a = plan(files=['0A/' + HASHED + '.cab', '1B/x.txt'])
    b = plan(files=['1b/X.TXT', '0A/' + HASHED + '.cab'])
    assert a.job_id(False) == b.job_id(False)
    assert plan(files=['1B/x.txt']).job_id(False) != a.job_id(False)
    assert plan().job_id(False) != plan(dest='E:\\other').job_id(False)
    assert plan().job_id(False) != plan(retries=3).job_id(False)


def test_a_hundred_thousand_files_become_twenty_runs_with_job_files():
    names = [f'{i % 256:02X}/{i:038X}{i % 256:02X}.cab' for i in range(100_000)]
    big = plan(files=names)
    spec, logs = _content_sync.build_job(big, False, 'C:\\R.exe')
    assert len(spec.steps) == 20 and len(spec.files) == 20 and len(logs) == 20
    listed = sum(text.count(b'\r\n\t') for text in spec.files.values())
    assert listed == 100_000
    first = _cmdline.split_args(spec.steps[0].arguments)
    assert '/S' in first and any(a.startswith('/JOB:') and a.endswith('copy_000.rcj') for a in first)
    # The job file names match what the steps read, inside the job folder.
    job_folder = _content_sync.job_dir(big, spec.job_id)
    assert all(_winpath.is_within(log, job_folder) for log in logs)


# --------------------------------------------------------------------------- judging

def step(code, log, state='exited', name='robocopy', duration=5.5):
    return SimpleNamespace(name=name, state=state, exit_code=code, log_tail=log, stderr_tail='', error=None, duration=duration)


def test_runs_add_up_and_exit_codes_are_or_ed():
    outcome = _content_sync.judge([step(1, robocopy_log(files=(5, 2, 3, 0, 0, 0))), step(3, robocopy_log(files=(4, 4, 0, 0, 0, 1)))])
    assert outcome.ok and outcome.rc == 3
    assert outcome.files == {'total': 9, 'copied': 6, 'skipped': 3, 'mismatch': 0, 'failed': 0, 'extras': 1}
    assert outcome.bytes['copied'] == 6000 and outcome.duration == 11.0


def test_a_locked_file_fails_the_copy_with_its_path_and_message():
    locked = 'D:\\WSUS\\WsusContent\\0A\\' + HASHED + '.cab'
    log = robocopy_log(files=(3, 2, 0, 0, 1, 0), errors=[(32, locked, 'The process cannot access the file because it is being used by another process.')] * 3,
                       retry_limit=True)
    outcome = _content_sync.judge([step(9, log)])
    assert not outcome.ok and outcome.rc == 9
    assert outcome.errors == [{'code': 32, 'action': 'Copying File', 'path': locked,
                               'message': 'The process cannot access the file because it is being used by another process.'}]
    message = _content_sync.failure_message(outcome, plan())
    assert 'exit code 9' in message and locked in message and 'Another process holds a file open' in message and 'stop WsusService' in message


def test_exit_codes_below_8_still_fail_when_the_log_says_files_failed():
    log = robocopy_log(files=(3, 2, 0, 0, 1, 0), errors=[(5, 'D:\\x\\y.cab', 'Access is denied.')], retry_limit=True)
    outcome = _content_sync.judge([step(1, log)])
    assert not outcome.ok and any('failed file' in r for r in outcome.reasons)


def test_a_step_that_never_started_is_fatal():
    outcome = _content_sync.judge([SimpleNamespace(name='robocopy', state='failed_to_start', exit_code=None, log_tail=None,
                                                   stderr_tail=None, error='file not found', duration=None)])
    assert not outcome.ok and outcome.rc == 16 and 'could not start: file not found' in outcome.reasons[0]


def test_a_run_that_did_not_finish_has_no_exit_code():
    outcome = _content_sync.judge([step(None, '', state='running')])
    assert not outcome.ok and outcome.rc is None and outcome.reasons == ['robocopy did not finish (running)']
    assert 'did not finish copying' in _content_sync.failure_message(outcome, plan())


def test_warnings_for_extras_mismatches_and_deletions():
    extras = _content_sync.judge([step(2, robocopy_log(files=(3, 0, 3, 0, 0, 2), dirs=(1, 0, 1, 0, 0, 1)))])
    assert 'left in place' in _content_sync.listing_warnings(extras, plan(), check_mode=False)[0]
    mirror = plan(mode='mirror')
    assert 'would delete 2 file(s)' in _content_sync.listing_warnings(extras, mirror, check_mode=True)[0]
    assert 'deleted 2 file(s)' in _content_sync.listing_warnings(extras, mirror, check_mode=False)[0]
    assert _content_sync.changed(extras, mirror) and not _content_sync.changed(extras, plan())
    mismatch = _content_sync.judge([step(4, robocopy_log(files=(3, 0, 2, 1, 0, 0)))])
    assert any('mismatched' in w for w in _content_sync.listing_warnings(mismatch, plan(), check_mode=False))


def test_listed_files_missing_from_the_source_are_reported():
    listed = plan(files=['0A/' + HASHED + '.cab', '1B/x.txt', '1b/X.TXT', '2C/y.txt'])
    outcome = _content_sync.judge([step(1, robocopy_log(files=(2, 2, 0, 0, 0, 0)))])
    assert any('1 of the 3 listed file(s) are not in D:\\WSUS\\WsusContent' in w
               for w in _content_sync.listing_warnings(outcome, listed, check_mode=False))


def test_space_check_compares_the_listing_with_free_space():
    listing = _content_sync.judge([step(1, robocopy_log(files=(10, 10, 0, 0, 0, 0), sizes=(10 ** 9,) * 2 + (0,) * 4))])
    assert _content_sync.space_problem(listing, plan(), 2 * 10 ** 9) is None
    problem = _content_sync.space_problem(listing, plan(), 5 * 10 ** 8)
    assert 'needs at least 1.0 GB' in problem and '500.0 MB free' in problem and 'nothing was copied' in problem
    assert _content_sync.space_problem(listing, plan(), None) is None


# --------------------------------------------------------------------------- the action

def test_copies_from_the_content_folder_after_a_listing():
    def robocopy(args, list_only):
        return 1, THREE_NEW
    host = FakeHost(robocopy)
    result = run({'dest': 'E:\\t\\WsusContent'}, host)
    assert not result['failed'] and result['changed'] is True and result['rc'] == 1
    assert result['src'] == 'D:\\WSUS\\WsusContent' and result['dest'] == 'E:\\t\\WsusContent'
    assert result['files']['copied'] == 3 and result['bytes']['copied'] == 3000 and result['errors'] == []
    started = host.started()
    assert len(started) == 2 and listing(started[0]) and not listing(started[1])
    assert result['job_id'] == started[1]['JobId'] and result['log_path'].endswith(started[1]['JobId'] + '\\robocopy.log')
    assert host.names()[:3] == ['server_state', 'path_info', 'job_poll']


def test_nothing_to_copy_runs_only_the_listing():
    host = FakeHost(lambda args, list_only: (0, NOTHING))
    result = run({'src': 'E:\\t\\WsusContent'}, host)
    assert result['changed'] is False and not result['failed'] and result['rc'] == 0
    assert len(host.started()) == 1 and result['files']['skipped'] == 3


def test_check_mode_lists_without_copying_and_reports_counts():
    host = FakeHost(lambda args, list_only: (1, THREE_NEW))
    result = run({'dest': 'E:\\t\\WsusContent'}, host, check_mode=True)
    assert result['changed'] is True and result['files']['copied'] == 3 and 'would copy 3 file(s)' in result['msg']
    assert len(host.started()) == 1 and '/L' in _cmdline.split_args(host.started()[0]['Steps'][0]['arguments'])
    assert 'job_poll' not in host.names()[:2]


def test_robocopy_failure_fails_the_task_with_the_errors():
    denied = 'E:\\t\\WsusContent\\0A\\'

    def robocopy(args, list_only):
        if list_only:
            return 1, THREE_NEW
        return 16, robocopy_log(files=(0, 0, 0, 0, 0, 0), errors=[(5, denied, 'Access is denied.')])
    result = run({'dest': 'E:\\t\\WsusContent'}, FakeHost(robocopy))
    assert result['failed'] and result['rc'] == 16
    assert denied in result['msg'] and 'Access is denied.' in result['msg'] and 'Access was denied' in result['msg']
    assert result['errors'][0]['code'] == 5


def test_a_full_destination_is_refused_before_copying():
    host = FakeHost(lambda args, list_only: (1, robocopy_log(files=(3, 3, 0, 0, 0, 0), sizes=(3 * 10 ** 9,) * 2 + (0,) * 4)), free=10 ** 9)
    result = run({'dest': 'E:\\t\\WsusContent'}, host)
    assert result['failed'] and 'needs at least' in result['msg'] and len(host.started()) == 1
    assert result['changed'] is False


def test_a_copy_left_running_by_a_lost_controller_is_reattached_without_listing():
    host = FakeHost(lambda args, list_only: (1, THREE_NEW))
    action = make_action({'dest': 'E:\\t\\WsusContent'}, host)
    copy_id = _content_sync.make_plan('D:\\WSUS\\WsusContent', 'E:\\t\\WsusContent', dict(ARGS, dest='E:\\t\\WsusContent'), False).job_id(False)
    host.jobs[copy_id] = {'collected': False, 'files': [], 'steps': [
        {'name': 'robocopy', 'state': 'exited', 'exit_code': 1, 'max_success_code': 7, 'pid': 2, 'started_at': '2024-03-05T10:15:32.000Z',
         'ended_at': '2024-03-05T10:25:32.000Z', 'error': None, 'log_size': 1, 'log': THREE_NEW, 'stderr_tail': ''}]}
    result = action.run(task_vars={})
    assert result['changed'] and result['job_id'] == copy_id and result['duration'] == 600.0
    starts = host.started()
    assert len(starts) == 1 and not listing(starts[0])


def test_mirror_warns_that_it_deletes():
    def robocopy(args, list_only):
        return 3, robocopy_log(files=(3, 1, 2, 0, 0, 4))
    result = run({'dest': 'E:\\t\\WsusContent', 'mode': 'mirror'}, FakeHost(robocopy))
    assert result['changed'] and any('deletes every file' in w for w in result['warnings'])
    assert any('deleted 4 file(s)' in w for w in result['warnings'])


def test_fat_media_get_two_second_timestamps():
    host = FakeHost(lambda args, list_only: (0, NOTHING), file_systems=('NTFS', 'exFAT'))
    run({'dest': 'E:\\t\\WsusContent'}, host)
    assert '/FFT' in _cmdline.split_args(host.started()[0]['Steps'][0]['arguments'])
    host = FakeHost(lambda args, list_only: (0, NOTHING), file_systems=('NTFS', 'exFAT'))
    run({'dest': 'E:\\t\\WsusContent', 'fat_timestamps': 'off'}, host)
    assert '/FFT' not in _cmdline.split_args(host.started()[0]['Steps'][0]['arguments'])


def test_a_file_list_travels_as_job_files_in_two_job_starts():
    names = [f'{i % 256:02X}/{i:038X}{i % 256:02X}.cab' for i in range(12_000)]
    host = FakeHost(lambda args, list_only: (1, THREE_NEW))
    result = run({'src': 'E:\\t\\WsusContent', 'files': names}, host)
    assert not result['failed'] and result['files']['copied'] == 9          # three runs of three
    starts = host.started()
    assert len(starts) == 2 and len(starts[1]['Steps']) == 3 and len(starts[1]['Files']) == 3
    assert len(host.sent) < 12


@pytest.mark.parametrize('args, host_kwargs, message', [
    ({'src': 'E:\\missing'}, {'src_exists': False}, 'src E:\\missing does not exist'),
    ({'dest': 'E:\\t'}, {'installed': False}, 'WSUS is not installed'),
    ({'dest': 'E:\\t', 'files': ['0A/x.cab'], 'mode': 'mirror'}, {}, 'files cannot be used with mode=mirror'),
    ({'dest': 'E:\\t', 'poll_interval': 0}, {}, 'poll_interval must be between'),
])
def test_bad_requests_fail_with_a_clear_message(args, host_kwargs, message):
    host = FakeHost(lambda args, list_only: (0, NOTHING), **host_kwargs)
    result = run(args, host)
    assert result['failed'] and message in result['msg'] and host.started() == []


def test_src_or_dest_is_required():
    result = run({}, FakeHost(lambda args, list_only: (0, NOTHING)))
    assert result['failed'] and 'src' in result['msg'] and 'dest' in result['msg']


def test_result_keys_are_the_documented_ones():
    documented = set(yaml.safe_load(doc.RETURN))
    result = run({'dest': 'E:\\t\\WsusContent'}, FakeHost(lambda args, list_only: (1, THREE_NEW)))
    assert documented <= set(result)
    assert set(result) - documented <= {'changed', 'failed', 'msg', 'warnings'}
    assert json.loads(json.dumps(result)) == result      # plain data, as Ansible needs
