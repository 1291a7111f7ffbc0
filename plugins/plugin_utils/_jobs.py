"""Detached jobs on the host: start (or re-attach), poll with backoff, time out, collect.

Modelled on ``ansible.windows.win_updates``: the action plugin starts a worker that outlives
the WinRM shell, then polls it with short calls, retrying polls across dropped connections.
Here the worker is ``job_runner.ps1`` (started by ``job_start.ps1``), which runs a list of
steps (robocopy, WsusUtil) and records pids, exit codes and times in the job folder.

- The job id is derived from the task (:func:`job_id_for`), so running the same task again
  finds the job it started: a job still running is re-attached, not started twice.
- Polls start every couple of seconds and slow down to ``poll_interval``, so a short job ends
  quickly and a multi-hour one costs a poll every half minute.
- ``timeout`` bounds the wait. On expiry, ``on_timeout='cancel'`` stops the job's process tree;
  ``'leave'`` leaves it running and reports so (for ``WsusUtil import``, where a kill could
  leave SUSDB half-imported): running the task again re-attaches and keeps waiting.
- The final poll marks the job *collected*; only then does the next start with the same id
  begin anew.

The pure parts (:class:`BackoffSchedule`, :class:`ProgressEstimator`, :func:`interpret_poll`,
:func:`format_progress`) hold the logic; :class:`JobDriver` is the thin loop that does I/O
through a host-script runner (``_host_script.HostScriptRunner`` or a fake in tests).
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import _host_script
from ._errors import JobError, UsageError

ENDED_STATES = frozenset(['exited', 'cancelled', 'lost'])
ON_TIMEOUT = ('cancel', 'leave')
DEFAULT_POLL_INTERVAL = 30.0
DEFAULT_TAIL_BYTES = 4096


def job_id_for(kind: str, args: Mapping) -> str:
    """Return the job id for operation ``kind`` with canonical ``args``: 16 hex digits of SHA-256.

    Arguments are serialised with sorted keys, so the same task gives the same id whatever
    the order of its options; any change in a value gives another job.
    """
    if not kind:
        raise UsageError('a job kind is required')
    canonical = json.dumps({'kind': kind, 'args': args}, sort_keys=True, separators=(',', ':'), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode('ascii')).hexdigest()[:16]


@dataclass(frozen=True)
class JobStep:
    """One program run by the job runner.

    ``arguments`` is the complete command-line tail, built with ``_cmdline.join_args``.
    ``max_success_code`` is the highest exit code that lets the next step run (robocopy: 7).
    ``log`` is the file the program writes its own log to, if any (its tail is reported).
    """

    name: str
    file: str
    arguments: str = ''
    max_success_code: int = 0
    log: str | None = None

    def to_param(self) -> dict:
        """The step as ``job_start`` takes it."""
        step = {'name': self.name, 'file': self.file, 'arguments': self.arguments, 'max_success_code': self.max_success_code}
        if self.log:
            step['log'] = self.log
        return step


@dataclass
class JobSpec:
    """What to run: where the job folder lives, its id, its steps and extra files for the folder."""

    job_root: str
    job_id: str
    steps: list
    files: dict = field(default_factory=dict)
    kind: str = 'job'

    def start_params(self) -> dict:
        """Parameters for ``job_start``."""
        if not self.steps:
            raise UsageError('a job needs at least one step')
        return {
            'JobRoot': self.job_root,
            'JobId': self.job_id,
            'Steps': [s.to_param() for s in self.steps],
            'Runner': _host_script.load_script('job_runner').text,
            'Files': [{'path': name, 'content_b64': base64.b64encode(data).decode('ascii')} for name, data in sorted(self.files.items())],
        }


# --------------------------------------------------------------------------- pure logic

class BackoffSchedule:
    """Poll intervals: ``initial``, growing by ``factor``, capped at ``cap`` seconds."""

    def __init__(self, initial: float = 2.0, factor: float = 1.5, cap: float = DEFAULT_POLL_INTERVAL) -> None:
        if initial <= 0 or factor < 1 or cap <= 0:
            raise UsageError('backoff needs initial > 0, factor >= 1 and cap > 0')
        self.initial = min(initial, cap)
        self.factor = factor
        self.cap = cap
        self._next = self.initial

    def next(self) -> float:
        """Return the next interval and advance."""
        value = self._next
        self._next = min(self.cap, self._next * self.factor)
        return value

    def reset(self) -> None:
        """Start again from ``initial`` (a new step began: it may be short)."""
        self._next = self.initial


def parse_iso(text) -> datetime | None:
    """Parse the hosts' ``yyyy-MM-ddTHH:mm:ss.fffZ`` times (``None`` for empty input)."""
    if not text or not isinstance(text, str):
        return None
    value = text.strip()
    if value.endswith('Z'):
        value = value[:-1] + '+00:00'
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def seconds_between(start, end) -> float | None:
    """Seconds from ISO time ``start`` to ``end`` (``None`` if either is missing)."""
    a, b = parse_iso(start), parse_iso(end)
    if a is None or b is None:
        return None
    return max(0.0, (b - a).total_seconds())


@dataclass
class StepResult:
    """A step as the last poll saw it."""

    name: str
    state: str
    exit_code: int | None
    max_success_code: int
    pid: int | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration: float | None = None
    error: str | None = None
    log_size: int | None = None
    log_tail: str | None = None
    stderr_tail: str | None = None

    @property
    def succeeded(self) -> bool:
        """Ran to the end with an exit code the step accepts."""
        return self.state == 'exited' and self.exit_code is not None and self.exit_code <= self.max_success_code

    def to_dict(self) -> dict:
        """The step for a task result."""
        return {
            'name': self.name, 'state': self.state, 'exit_code': self.exit_code, 'pid': self.pid,
            'started_at': self.started_at, 'ended_at': self.ended_at, 'duration': self.duration,
            'error': self.error, 'log_tail': self.log_tail, 'stderr_tail': self.stderr_tail,
        }


@dataclass
class JobStatus:
    """One poll, interpreted."""

    state: str
    steps: list
    free_bytes: int | None
    now: str | None
    started_at: str | None
    ended_at: str | None
    error: str | None
    collected: bool

    @property
    def ended(self) -> bool:
        """The job will not change any more (or does not exist)."""
        return self.state in ENDED_STATES or self.state == 'missing'

    def current_step(self) -> tuple[int, StepResult | None]:
        """Index and record of the running step, else of the last step that started."""
        last = (-1, None)
        for index, step in enumerate(self.steps):
            if step.state == 'running':
                return index, step
            if step.state not in ('pending', 'skipped'):
                last = (index, step)
        return last


def interpret_poll(poll: Mapping) -> JobStatus:
    """Turn a ``job_poll`` answer into a :class:`JobStatus` (durations computed, types checked)."""
    state = poll.get('state')
    if state not in ENDED_STATES and state not in ('running', 'missing'):
        raise JobError(f'job_poll reported an unknown state {state!r}; the host scripts and the collection are out of step')
    steps = []
    for raw in poll.get('steps') or []:
        exit_code = raw.get('exit_code')
        steps.append(StepResult(
            name=str(raw.get('name') or ''),
            state=str(raw.get('state') or 'pending'),
            exit_code=int(exit_code) if exit_code is not None else None,
            max_success_code=int(raw.get('max_success_code') or 0),
            pid=raw.get('pid'),
            started_at=raw.get('started_at'),
            ended_at=raw.get('ended_at'),
            duration=seconds_between(raw.get('started_at'), raw.get('ended_at') or (poll.get('now') if raw.get('state') == 'running' else None)),
            error=raw.get('error'),
            log_size=raw.get('log_size'),
            log_tail=raw.get('log_tail'),
            stderr_tail=raw.get('stderr_tail'),
        ))
    free = poll.get('free_bytes')
    return JobStatus(state=state, steps=steps, free_bytes=int(free) if free is not None else None, now=poll.get('now'),
                     started_at=poll.get('started_at'), ended_at=poll.get('ended_at'), error=poll.get('error'),
                     collected=bool(poll.get('collected')))


@dataclass
class Progress:
    """An estimate of how far a job is."""

    done_bytes: int | None = None
    total_bytes: int | None = None
    percent: float | None = None
    rate: float | None = None
    eta: float | None = None


class ProgressEstimator:
    """Estimates progress from a measure the host reports, such as free space on the destination.

    Copying ``total_bytes`` onto a volume lowers its free space by about that much, so
    ``baseline_free - free_now`` is the work done. The rate is measured over the last
    ``window`` seconds of observations, so a stall shows up in the ETA instead of being
    averaged away.
    """

    def __init__(self, total_bytes: int | None, baseline_free: int | None = None, window: float = 300.0) -> None:
        self.total = total_bytes if total_bytes and total_bytes > 0 else None
        self.baseline = baseline_free
        self.window = window
        self._samples: list[tuple[float, int]] = []

    def update(self, elapsed: float, free_bytes: int | None) -> Progress:
        """Add an observation (seconds since start, free bytes now) and return the estimate."""
        if free_bytes is None:
            return Progress(total_bytes=self.total)
        if self.baseline is None:
            self.baseline = free_bytes
        done = max(0, self.baseline - free_bytes)
        if self.total is not None:
            done = min(done, self.total)
        self._samples.append((elapsed, done))
        while len(self._samples) > 2 and elapsed - self._samples[0][0] > self.window:
            self._samples.pop(0)
        rate = None
        if len(self._samples) >= 2:
            (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
            if t1 > t0:
                rate = max(0.0, (d1 - d0) / (t1 - t0))
        percent = eta = None
        if self.total is not None:
            percent = round(100.0 * done / self.total, 1)
            if rate:
                eta = (self.total - done) / rate
            elif done >= self.total:
                eta = 0.0
        return Progress(done_bytes=done, total_bytes=self.total, percent=percent, rate=rate, eta=eta)


@dataclass
class ProgressInfo:
    """What a progress callback receives on each poll."""

    job_id: str
    kind: str
    elapsed: float
    state: str
    step_index: int
    step_count: int
    step_name: str | None
    progress: Progress


def format_duration(seconds: float | None) -> str:
    """``3h07m``, ``12m03s``, ``45s``."""
    if seconds is None:
        return '?'
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f'{hours}h{minutes:02d}m'
    if minutes:
        return f'{minutes}m{secs:02d}s'
    return f'{secs}s'


def format_bytes(value: int | None) -> str:
    """Decimal units, as drives are sold: ``4.7 GB``."""
    if value is None:
        return '?'
    size = float(value)
    for unit in ('B', 'KB', 'MB', 'GB', 'TB'):
        if size < 1000 or unit == 'TB':
            return f'{size:.0f} {unit}' if unit == 'B' else f'{size:.1f} {unit}'
        size /= 1000
    return f'{value} B'


def format_progress(info: ProgressInfo) -> str:
    """One ``-v`` display line for a poll."""
    parts = [f'{info.kind} job {info.job_id}']
    if info.step_index >= 0 and info.step_count:
        parts.append(f'step {info.step_index + 1}/{info.step_count} {info.step_name or ""}'.rstrip())
    parts.append(f'{info.state}, {format_duration(info.elapsed)} elapsed')
    p = info.progress
    if p.percent is not None:
        parts.append(f'{p.percent:.1f}% ({format_bytes(p.done_bytes)} of {format_bytes(p.total_bytes)})')
    elif p.done_bytes:
        parts.append(f'{format_bytes(p.done_bytes)} written')
    if p.eta is not None:
        parts.append(f'ETA {format_duration(p.eta)}')
    return ': '.join(parts[:1]) + ': ' + ', '.join(parts[1:])


@dataclass
class JobResult:
    """How a job ended (or why the wait stopped)."""

    job_id: str
    job_dir: str
    kind: str
    state: str
    attached: bool
    steps: list
    elapsed: float
    polls: int
    timed_out: bool = False
    left_running: bool = False
    restarted_lost: bool = False
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """The runner ended normally and every step succeeded."""
        return self.state == 'exited' and not self.error and bool(self.steps) and all(s.succeeded for s in self.steps)

    def failed_steps(self) -> list:
        """Steps that did not succeed and were not merely skipped."""
        return [s for s in self.steps if not s.succeeded and s.state != 'skipped']

    def summary(self) -> str:
        """A sentence for a task's ``msg``."""
        if self.timed_out and self.left_running:
            return (f'{self.kind} job {self.job_id} is still running after the timeout and was left running, as asked; '
                    'run the task again to re-attach and keep waiting')
        if self.timed_out:
            return (f'{self.kind} job {self.job_id} did not finish within the timeout and was cancelled; raise timeout (0 means '
                    'no limit) and run the task again')
        if self.state == 'lost':
            return (f'{self.kind} job {self.job_id} lost its runner (killed, or the host restarted) before it recorded an end; '
                    'run the task again to start it anew')
        if self.state == 'cancelled':
            return f'{self.kind} job {self.job_id} was cancelled'
        if self.error:
            return f'{self.kind} job {self.job_id} runner failed: {self.error}'
        failed = self.failed_steps()
        if failed:
            step = failed[0]
            detail = step.error or f'exit code {step.exit_code}'
            return f'{self.kind} job {self.job_id} step {step.name} failed ({detail})'
        return f'{self.kind} job {self.job_id} finished in {format_duration(self.elapsed)}'

    def to_dict(self) -> dict:
        """The job for a task result."""
        return {
            'job_id': self.job_id, 'job_dir': self.job_dir, 'state': self.state, 'attached': self.attached,
            'timed_out': self.timed_out, 'left_running': self.left_running, 'elapsed': round(self.elapsed, 1),
            'started_at': self.started_at, 'ended_at': self.ended_at, 'error': self.error, 'polls': self.polls,
            'steps': [s.to_dict() for s in self.steps],
        }


# --------------------------------------------------------------------------- I/O loop

class JobDriver:
    """Runs a :class:`JobSpec` to its end through a host-script runner.

    ``runner`` needs ``run_retrying(name, params, deadline=...)`` (a
    ``_host_script.HostScriptRunner``). ``clock``/``sleep`` are injectable so tests drive time.
    """

    def __init__(self, runner, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 log: Callable[[str], None] | None = None) -> None:
        self.runner = runner
        self.clock = clock
        self.sleep = sleep
        self.log = log or (lambda message: None)

    def _call(self, name: str, params: dict, deadline: float | None) -> dict:
        return self.runner.run_retrying(name, params, deadline=deadline)

    def _poll(self, spec: JobSpec, tail_bytes: int, space_path: str | None, collect: bool, all_tails: bool,
              deadline: float | None) -> JobStatus:
        params = {'JobRoot': spec.job_root, 'JobId': spec.job_id, 'TailBytes': tail_bytes, 'Collect': collect,
                  'TailSteps': 'all' if all_tails else 'active'}
        if space_path:
            params['SpacePath'] = space_path
        return interpret_poll(self._call('job_poll', params, deadline))

    def run(self, spec: JobSpec, timeout: float | None = None, poll_interval: float = DEFAULT_POLL_INTERVAL,
            on_timeout: str = 'cancel', progress: Callable[[ProgressInfo], None] | None = None,
            space_path: str | None = None, total_bytes: int | None = None, baseline_free_bytes: int | None = None,
            tail_bytes: int = DEFAULT_TAIL_BYTES, restart_lost: bool = True, connection_grace: float = 600.0) -> JobResult:
        """Start or re-attach to ``spec``'s job and wait for it; see the module docstring.

        ``connection_grace`` is how long a dropped connection is retried past the job timeout.
        """
        if on_timeout not in ON_TIMEOUT:
            raise UsageError(f'on_timeout must be one of {", ".join(ON_TIMEOUT)}')
        if timeout is not None and timeout <= 0:
            raise UsageError('timeout must be positive (or None for no limit)')
        begin = self.clock()
        deadline = begin + timeout if timeout is not None else None

        def _io_deadline() -> float | None:
            return None if deadline is None else max(deadline, self.clock()) + connection_grace

        start = self._call('job_start', spec.start_params(), _io_deadline())
        attached = bool(start.get('attached'))
        job_dir = str(start.get('job_dir') or '')
        restarted = False
        if attached and start.get('state') == 'lost' and restart_lost:
            self.log(f'{spec.kind} job {spec.job_id}: its runner was lost (killed or host restarted); starting it again')
            self._poll(spec, 0, None, collect=True, all_tails=False, deadline=_io_deadline())
            start = self._call('job_start', spec.start_params(), _io_deadline())
            attached = bool(start.get('attached'))
            restarted = True
        elif attached:
            self.log(f'{spec.kind} job {spec.job_id} was already {start.get("state")}: re-attached')

        estimator = ProgressEstimator(total_bytes, baseline_free_bytes)
        backoff = BackoffSchedule(cap=max(1.0, poll_interval))
        polls = 0
        last_step = None
        status = None
        if start.get('state') in ENDED_STATES:
            status = self._poll(spec, tail_bytes, space_path, collect=True, all_tails=True, deadline=_io_deadline())
            polls += 1
        while status is None or not status.ended:
            now = self.clock()
            if deadline is not None and now >= deadline:
                return self._timed_out(spec, job_dir, attached, on_timeout, tail_bytes, polls, begin, status, _io_deadline())
            wait = backoff.next()
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - now))
            self.sleep(wait)
            status = self._poll(spec, tail_bytes, space_path, collect=True, all_tails=False, deadline=_io_deadline())
            polls += 1
            index, step = status.current_step()
            if index != last_step:
                backoff.reset()
                last_step = index
            if progress is not None:
                progress(ProgressInfo(job_id=spec.job_id, kind=spec.kind, elapsed=self.clock() - begin, state=status.state,
                                      step_index=index, step_count=len(status.steps), step_name=step.name if step else None,
                                      progress=estimator.update(self.clock() - begin, status.free_bytes)))
        if status.state == 'missing':
            raise JobError(f'{spec.kind} job {spec.job_id} disappeared from {job_dir or spec.job_root}: '
                           'its folder was removed while it ran')
        if any(s.log_tail is None and s.state not in ('pending', 'skipped') for s in status.steps) and len(status.steps) > 1:
            status = self._poll(spec, tail_bytes, None, collect=True, all_tails=True, deadline=_io_deadline())
            polls += 1
        return JobResult(job_id=spec.job_id, job_dir=job_dir, kind=spec.kind, state=status.state, attached=attached,
                         steps=status.steps, elapsed=self.clock() - begin, polls=polls, restarted_lost=restarted,
                         started_at=status.started_at, ended_at=status.ended_at, error=status.error)

    def _timed_out(self, spec: JobSpec, job_dir: str, attached: bool, on_timeout: str, tail_bytes: int, polls: int,
                   begin: float, status: JobStatus | None, io_deadline: float | None) -> JobResult:
        if on_timeout == 'leave':
            self.log(f'{spec.kind} job {spec.job_id} reached the timeout; leaving it running as asked')
            steps = status.steps if status else []
            return JobResult(job_id=spec.job_id, job_dir=job_dir, kind=spec.kind, state='running', attached=attached,
                             steps=steps, elapsed=self.clock() - begin, polls=polls, timed_out=True, left_running=True,
                             started_at=status.started_at if status else None)
        self.log(f'{spec.kind} job {spec.job_id} reached the timeout; cancelling it')
        self._call('job_cancel', {'JobRoot': spec.job_root, 'JobId': spec.job_id}, io_deadline)
        final = self._poll(spec, tail_bytes, None, collect=True, all_tails=True, deadline=io_deadline)
        # The job may have ended on its own between the last poll and the cancel.
        return JobResult(job_id=spec.job_id, job_dir=job_dir, kind=spec.kind, state=final.state, attached=attached,
                         steps=final.steps, elapsed=self.clock() - begin, polls=polls + 1, timed_out=final.state != 'exited',
                         started_at=final.started_at, ended_at=final.ended_at, error=final.error)
