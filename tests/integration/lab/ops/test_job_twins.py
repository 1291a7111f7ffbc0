"""Detached jobs: job_start, the emulated job_runner, job_poll and job_cancel, as the controller
drives them through the bootstrap."""
from __future__ import annotations

import json
import threading
import time
import typing as t

import pytest

from ansible_collections.airgap.wsus.tests.lab.ops import scripts

ROOT = 'C:\\ProgramData\\airgap.wsus'
JOB = '0123456789abcdef'
ROBOCOPY = 'C:\\Windows\\System32\\Robocopy.exe'
GATE = 'C:\\Tools\\gate.exe'


@pytest.fixture(name='gate')
def gate_fixture(host: t.Any) -> threading.Event:
    """``C:\\Tools\\gate.exe <code>``: prints, waits until the test opens the gate, exits with <code>."""
    opened = threading.Event()

    def main(proc: t.Any) -> int:
        proc.write('gate waiting\n')
        proc.error('to stderr\n')
        while not opened.is_set():
            proc.sleep(0.01)
        return int(proc.argv[1]) if len(proc.argv) > 1 else 0
    host.register_executable(GATE, main)
    yield opened
    opened.set()


def start(call: t.Any, steps: t.List[t.Dict[str, t.Any]], job: str = JOB, **extra: t.Any) -> t.Any:
    params = {'JobRoot': ROOT, 'JobId': job, 'Steps': steps, 'Runner': scripts.get('job_runner').data.decode('utf-8')}
    params.update(extra)
    return call('job_start', params)


def poll(call: t.Any, job: str = JOB, **extra: t.Any) -> t.Dict[str, t.Any]:
    answer = call('job_poll', dict({'JobRoot': ROOT, 'JobId': job}, **extra))
    assert answer.error is None, answer
    return answer.result


def wait_for(call: t.Any, states: t.Tuple[str, ...] = ('exited', 'cancelled', 'lost'), job: str = JOB,
             timeout: float = 10, **extra: t.Any) -> t.Dict[str, t.Any]:
    deadline = time.monotonic() + timeout
    while True:
        result = poll(call, job, **extra)
        if result['state'] in states or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def step(name: str, program: str, arguments: str = '', max_success: int = 0, **extra: t.Any) -> t.Dict[str, t.Any]:
    return dict({'name': name, 'file': program, 'arguments': arguments, 'max_success_code': max_success}, **extra)


def test_a_robocopy_job_runs_detached_and_reports_its_log(call, host) -> None:
    host.fs.write_bytes('D:\\WSUS\\WsusContent\\0A\\x.cab', b'x' * 100, make_parents=True)
    log = 'C:\\ProgramData\\airgap.wsus\\copy.log'
    started = start(call, [step('copy', ROBOCOPY, 'D:\\WSUS\\WsusContent E:\\bundle\\WsusContent /E /NP /BYTES /R:1 /W:1 '
                                '/LOG:"%s"' % log, 7, log=log)], Files=[{'path': 'list.rcj', 'content_b64': 'Ojo='}])
    assert started.error is None
    result = started.result
    assert result['job_id'] == JOB and result['attached'] is False and result['state'] == 'running'
    assert result['job_dir'] == ROOT + '\\jobs\\' + JOB
    assert host.processes.get(result['pid']).name == 'powershell.exe'
    done = wait_for(call, SpacePath='E:\\bundle')
    assert done['state'] == 'exited' and done['error'] is None and done['collected'] is False
    (copy,) = done['steps']
    assert (copy['name'], copy['state'], copy['exit_code'], copy['max_success_code']) == ('copy', 'exited', 1, 7)
    assert 'Files :         1         1' in copy['log_tail'] and copy['log_size'] == host.fs.stat(log).size
    assert done['free_bytes'] == host.fs.volume_info('E:').free_bytes
    assert host.fs.read_bytes(ROOT + '\\jobs\\' + JOB + '\\list.rcj') == b'::'
    state = json.loads(host.fs.read_bytes(ROOT + '\\jobs\\' + JOB + '\\state.json'))
    assert state['state'] == 'exited' and state['runner_pid'] == result['pid'] and state['current_step'] == -1
    assert host.fs.read_bytes(ROOT + '\\jobs\\' + JOB + '\\runner.ps1').startswith(b'\xef\xbb\xbf# airgap.wsus host script')
    tail = poll(call, TailBytes=10)['steps'][0]['log_tail']
    assert tail == log_tail_of(host, log, 10)


def log_tail_of(host: t.Any, path: str, nbytes: int) -> str:
    return host.fs.read_bytes(path)[-nbytes:].decode('cp1252')


def test_the_job_outlives_the_shell_and_polls_re_attach(call, host, gate) -> None:
    first = start(call, [step('wait', GATE)]).result
    host.shell_closed('every-shell')            # the shell that started it is gone
    assert poll(call)['state'] == 'running'
    again = start(call, [step('wait', GATE)]).result
    assert again['attached'] is True and again['pid'] == first['pid'] and again['started_at'] == first['started_at']
    assert host.process_running('powershell.exe') and host.process_running('gate.exe')
    running = poll(call)
    assert running['steps'][0]['state'] == 'running' and running['steps'][0]['log_tail'] == 'gate waiting\r\n'
    assert running['steps'][0]['stderr_tail'] == 'to stderr\r\n'
    gate.set()
    assert wait_for(call)['state'] == 'exited'


def test_an_ended_job_is_attached_until_collected_then_archived(call, host, gate) -> None:
    gate.set()
    first = start(call, [step('wait', GATE)]).result
    assert wait_for(call)['state'] == 'exited'
    attached = start(call, [step('wait', GATE)]).result
    assert attached['attached'] is True and attached['state'] == 'exited' and attached['pid'] == first['pid']
    collected = poll(call, Collect=True)
    assert collected['collected'] is True
    fresh = start(call, [step('wait', GATE)]).result
    assert fresh['attached'] is False and fresh['pid'] != first['pid']
    names = [e.name for e in host.fs.listdir(ROOT + '\\jobs')]
    assert JOB in names and any(n.startswith(JOB + '-') and n.endswith('Z') for n in names)
    assert wait_for(call)['state'] == 'exited'


def test_archives_keep_the_newest_three(call, host, gate) -> None:
    gate.set()
    for _run in range(5):
        assert start(call, [step('wait', GATE)]).error is None
        wait_for(call)
        poll(call, Collect=True)
        time.sleep(0.002)
    archives = [e.name for e in host.fs.listdir(ROOT + '\\jobs') if e.name.startswith(JOB + '-')]
    assert len(archives) == 3


@pytest.mark.usefixtures('gate')
def test_cancel_kills_the_tree_and_records_it(call, host) -> None:
    started = start(call, [step('first', GATE), step('second', GATE)]).result
    running = wait_for(call, ('running',))
    for _tick in range(200):
        if poll(call)['steps'][0]['pid']:
            break
        time.sleep(0.01)
    child = poll(call)['steps'][0]['pid']
    answer = call('job_cancel', {'JobRoot': ROOT, 'JobId': JOB}).result
    assert answer['state'] == 'cancelled' and answer['killed'] == [child, started['pid']]   # deepest first
    assert not host.process_running('gate.exe') and not host.processes.get(started['pid']).running
    assert host.processes.get(child).exit_code == -1
    after = poll(call)
    assert after['state'] == 'cancelled'
    assert [s['state'] for s in after['steps']] == ['cancelled', 'skipped']
    assert call('job_cancel', {'JobRoot': ROOT, 'JobId': JOB}).result == {'state': 'cancelled', 'killed': []}
    assert running['state'] == 'running'


def test_a_failing_step_stops_the_job(call, gate) -> None:
    gate.set()
    start(call, [step('ok', GATE, '3', max_success=7), step('bad', GATE, '9', max_success=7), step('never', GATE)])
    done = wait_for(call, TailSteps='all')
    assert [(s['state'], s['exit_code']) for s in done['steps']] == [('exited', 3), ('exited', 9), ('skipped', None)]
    assert done['steps'][2]['log_tail'] is None and done['steps'][0]['log_tail'] == 'gate waiting\r\n'
    active = poll(call)['steps']
    assert active[0]['log_tail'] is None and active[1]['log_tail'] == 'gate waiting\r\n'   # 'active': the failed step


def test_a_program_that_cannot_start(call, host) -> None:
    host.fs.write_bytes('C:\\Tools\\real.exe', b'MZ', make_parents=True)      # exists, but nothing emulates it
    start(call, [step('real', 'C:\\Tools\\real.exe'), step('after', ROBOCOPY)])
    done = wait_for(call)
    first = done['steps'][0]
    assert first['state'] == 'failed_to_start' and first['error'].startswith('This command cannot be run due to the error:')
    assert done['steps'][1]['state'] == 'skipped'


@pytest.mark.usefixtures('gate')
def test_a_runner_that_dies_is_lost(call, host) -> None:
    started = start(call, [step('wait', GATE)]).result
    wait_for(call, ('running',))
    host.processes.kill(started['pid'], 1)          # the runner only: a reboot, a crash
    lost = poll(call)
    assert lost['state'] == 'lost' and lost['steps'][0]['state'] in ('lost', 'pending')
    assert start(call, [step('wait', GATE)]).result['attached'] is True


def test_job_start_validates_like_the_script(call) -> None:
    errors = {
        'bad id': start(call, [step('s', ROBOCOPY)], job='ABC').error,
        'bad root': call('job_start', {'JobRoot': '\\\\server\\share', 'JobId': JOB, 'Steps': [step('s', ROBOCOPY)],
                                       'Runner': scripts.get('job_runner').data.decode()}).error,
        'no program': start(call, [step('s', 'C:\\nope.exe')]).error,
        'no name': start(call, [{'file': ROBOCOPY}]).error,
        'no steps': start(call, []).error,
        'bad file': start(call, [step('s', ROBOCOPY)], Files=[{'path': 'state.json', 'content_b64': ''}]).error,
        'runner': call('job_start', {'JobRoot': ROOT, 'JobId': JOB, 'Steps': [step('s', ROBOCOPY)], 'Runner': 'x'}).error,
    }
    assert errors['bad id']['message'] == "JobId 'ABC' must be 16 lower-case hex digits"
    assert errors['bad root']['message'].startswith("JobRoot '\\\\server\\share' must be a local path")
    assert errors['no program']['message'] == "step 0 (s): program 'C:\\nope.exe' is not an existing file given by its full path"
    assert errors['no name']['message'] == 'step 0 has no name'
    # [Parameter(Mandatory)][object[]] refuses an empty array before the script's own check runs
    assert errors['no steps']['message'] == "Cannot bind argument to parameter 'Steps' because it is an empty array."
    assert "job file name 'state.json'" in errors['bad file']['message']
    assert errors['runner']['message'] == 'Runner is not the airgap.wsus job_runner script'
    for error in errors.values():
        assert error['script'] == 'job_start.ps1' and error['line'] > 0
    assert errors['no name']['line'] == scripts.line_of('job_start', 'has no name')


def test_poll_and_cancel_of_unknown_jobs(call) -> None:
    assert poll(call)['state'] == 'missing'
    assert call('job_cancel', {'JobRoot': ROOT, 'JobId': JOB}).result == {'state': 'missing', 'killed': []}
    drive = call('job_poll', {'JobRoot': 'Q:\\jobs', 'JobId': JOB}).error
    assert drive['message'] == "Cannot find drive. A drive with the name 'Q' does not exist."
    assert drive['type'] == 'System.Management.Automation.DriveNotFoundException'


@pytest.mark.parametrize('nbytes', range(1, 12))
def test_a_utf8_log_tail_cut_inside_a_character_keeps_its_text(call, host, nbytes) -> None:
    # WsusUtil and robocopy logs name files in any language; a tail that starts or ends inside a
    # multi-byte character must still read as UTF-8, not turn into ANSI mojibake.
    log = 'C:\\ProgramData\\airgap.wsus\\utf8.log'
    text = 'Prüfung — ✓ 完了'

    def main(proc: t.Any) -> int:
        host.fs.write_bytes(log, text.encode('utf-8')[:-1], make_parents=True)   # still being written: its last character is cut
        return 0
    host.register_executable('C:\\Tools\\writer.exe', main)
    assert start(call, [step('write', 'C:\\Tools\\writer.exe', log=log)]).error is None
    tail = wait_for(call, TailBytes=nbytes)['steps'][0]['log_tail']
    assert 'Prüfung — ✓ 完'.endswith(tail)
    assert len(tail.encode('utf-8')) >= nbytes - 5   # at most a character's 3 trailing bytes at the start, 2 lead bytes at the end
