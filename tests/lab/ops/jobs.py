r"""Detached jobs on an emulated host: the job folder, and the emulation of ``job_runner.ps1``.

``job_start.ps1`` writes ``<JobRoot>\jobs\<JobId>\`` (``job.json``, ``runner.ps1`` and the
caller's files), then starts ``powershell.exe -EncodedCommand <launcher>`` with that folder as
its current directory through ``Win32_Process.Create``; the launcher runs ``runner.ps1``. The
emulated ``powershell.exe`` recognises the launcher and calls :func:`run_launcher`, which
insists that ``runner.ps1`` is the shipped ``job_runner.ps1`` and then does what it does:

- runs each step of ``job.json`` in order (``"<file>" <arguments>``, current directory the
  job folder, stdout to ``stepN.out``, stderr to ``stepN.err``);
- records every transition in ``state.json`` (written to a temp file, then replaced);
- stops after a step whose exit code exceeds its ``max_success_code``, or that could not start
  (the later steps become ``skipped``);
- ends with ``state: exited``; a runner that dies first leaves ``running`` behind, which
  ``job_poll`` reports as ``lost``.

:func:`job_status` is the ``Get-JobStatus``/``Test-ProcessAlive`` logic the job scripts share.
"""
from __future__ import annotations

import typing as t

from ..windows.errors import WinError
from ..windows.processes import FileSink, NotEmulated
from . import _dotnet as net
from . import scripts


def process_start(proc: t.Any) -> str:
    """A process's start time as the scripts record it."""
    return net.iso(proc.started_at)


def process_alive(host: t.Any, pid: t.Any, started_at: t.Any) -> bool:
    """``Test-ProcessAlive``: the pid runs *and* started within 2 s of the recorded time."""
    if pid is None or not started_at:
        return False
    try:
        proc = host.processes.get(int(pid))
    except (TypeError, ValueError):
        return False
    if proc is None or not proc.running:
        return False
    recorded = net.parse_iso(started_at)
    return recorded is not None and abs((proc.started_at - recorded).total_seconds()) < 2


def get(record: t.Any, name: str) -> t.Any:
    """``Get-Prop``: a property of a JSON object, or None."""
    return record.get(name) if isinstance(record, dict) else None


def job_status(host: t.Any, operation: str, job_dir: str) -> t.Dict[str, t.Any]:
    """``Get-JobStatus`` of job_start.ps1: state, pid, started_at, collected."""
    status: t.Dict[str, t.Any] = {'state': 'missing', 'pid': None, 'started_at': None, 'collected': False}
    if not net.file_exists(host, job_dir + '\\job.json', None):
        return status
    launch = net.read_json_file(host, operation, job_dir + '\\launch.json')
    state = net.read_json_file(host, operation, job_dir + '\\state.json')
    status['collected'] = net.file_exists(host, job_dir + '\\collected', None)
    runner_pid, runner_start = runner_identity(launch, state)
    status['pid'] = runner_pid
    status['started_at'] = get(launch, 'started_at') or get(state, 'started_at')
    recorded = get(state, 'state')
    if recorded in ('exited', 'cancelled'):
        status['state'] = recorded
    elif process_alive(host, runner_pid, runner_start):
        status['state'] = 'running'
    else:
        status['state'] = 'lost'
    return status


def runner_identity(launch: t.Any, state: t.Any) -> t.Tuple[t.Any, t.Any]:
    """The runner's (pid, start time): from launch.json, else from state.json."""
    pid, start = get(launch, 'pid'), get(launch, 'process_start')
    if pid is None:
        pid, start = get(state, 'runner_pid'), get(state, 'runner_start')
    return pid, start


# -- the runner ----------------------------------------------------------------------------------
def run_launcher(proc: t.Any) -> int:
    """The launcher: run ``runner.ps1`` from the current directory with ``-JobDir`` set to it."""
    job_dir = str(proc.cwd)
    runner = scripts.get('job_runner')
    try:
        text = proc.fs.read_bytes(job_dir + '\\runner.ps1').decode('utf-8-sig')
    except (WinError, UnicodeDecodeError) as exc:
        proc.error('Exception calling "ReadAllText" with "1" argument(s): "%s"\n' % getattr(exc, 'dotnet_message', exc))
        return 1
    if runner is None or text not in (runner.text, runner.data.decode('utf-8')):
        from ..windows.powershell import not_emulated  # pylint: disable=import-outside-toplevel
        return not_emulated(proc, text, '%s\\runner.ps1, which is not the shipped job_runner.ps1' % job_dir)
    return Runner(proc, job_dir).run()


class Runner:
    """The emulation of ``job_runner.ps1`` in its detached ``powershell.exe`` process."""

    def __init__(self, proc: t.Any, job_dir: str) -> None:
        self.proc = proc
        self.fs = proc.fs
        self.job_dir = job_dir
        self.state_path = job_dir + '\\state.json'
        self.state: t.Dict[str, t.Any] = {
            'state': 'running', 'runner_pid': proc.pid, 'runner_start': process_start(proc.process),
            'started_at': net.iso_now(), 'ended_at': None, 'current_step': -1, 'error': None, 'steps': [],
        }

    def save(self) -> None:
        """``Save-State``: temp file, then replace; a reader holding state.json is waited for."""
        net.write_text_atomic(self.proc.host, self.state_path, net.ps_json(self.state), sleep=self.proc.sleep,
                              attempts=25)

    def run(self) -> int:
        try:
            job = net.read_json_file(self.proc.host, 'job_runner', self.job_dir + '\\job.json', sleep=self.proc.sleep)
            steps = list(get(job, 'steps') or [])
            self.state['steps'] = [{'name': str(get(step, 'name') or ''), 'state': 'pending', 'pid': None,
                                    'process_start': None, 'exit_code': None, 'started_at': None, 'ended_at': None,
                                    'error': None} for step in steps]
            self.save()
            for index, step in enumerate(steps):
                record = self.state['steps'][index]
                record['state'] = 'running'
                record['started_at'] = net.iso_now()
                self.state['current_step'] = index
                self.save()
                self._run_step(index, step, record)
                record['ended_at'] = net.iso_now()
                failed = record['state'] != 'exited' or record['exit_code'] > int(get(step, 'max_success_code') or 0)
                if failed:
                    for later in self.state['steps'][index + 1:]:
                        later['state'] = 'skipped'
                    self.save()
                    break
                self.save()
        except Exception as exc:  # pylint: disable=broad-except  # the runner records any failure
            message = getattr(exc, 'message', None) or str(exc)
            self.state['error'] = message
            self.fs.write_bytes(self.job_dir + '\\runner.err', message.encode('utf-8'))
        finally:
            self.state['state'] = 'exited'
            self.state['current_step'] = -1
            self.state['ended_at'] = net.iso_now()
            self.save()
        return 0

    def _run_step(self, index: int, step: t.Any, record: t.Dict[str, t.Any]) -> None:
        """``Start-Process -FilePath file -ArgumentList arguments -RedirectStandardOutput/Error``."""
        program = str(get(step, 'file') or '')
        arguments = str(get(step, 'arguments') or '')
        command_line = '"%s"' % program + (' ' + arguments if arguments else '')
        out = err = None
        try:
            out = FileSink(self.fs.open_write('%s\\step%d.out' % (self.job_dir, index)), 437)
            err = FileSink(self.fs.open_write('%s\\step%d.err' % (self.job_dir, index)), 437)
            child = self.proc.start_child(command_line, stdout=out, stderr=err, program=program)
        except (WinError, NotEmulated) as exc:
            for sink in (out, err):
                if sink is not None:
                    sink.close()
            reason = exc.message if isinstance(exc, WinError) else str(exc)
            record['state'] = 'failed_to_start'
            record['error'] = 'This command cannot be run due to the error: %s' % reason
            return
        record['pid'] = child.pid
        record['process_start'] = process_start(child)
        self.save()
        record['exit_code'] = self.proc.wait_child(child)
        record['state'] = 'exited'
