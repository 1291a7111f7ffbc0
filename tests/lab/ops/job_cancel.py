"""Twin of ``job_cancel.ps1``: stop a running job's process tree and record it as cancelled.

The tree is rebuilt from the process table as the script does (``Win32_Process``): from the
runner and the running step's process, each verified by its start time, down through children
created after their parent; it is killed deepest first (``Stop-Process -Force``: exit code
-1). A job that already ended is left alone; cancelling twice is harmless.
"""
from __future__ import annotations

import re
import typing as t

from . import HostScriptError
from . import _dotnet as net
from . import jobs

OPERATION = 'job_cancel'
INPUT = ('JobRoot', 'JobId')
OUTPUT = ('state', 'killed')
KILL_EXIT_CODE = -1   # Process.Kill() is TerminateProcess(handle, -1)


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    del ctx
    job_id = params['JobId']
    if not re.fullmatch(r'[0-9a-f]{16}', job_id):
        raise HostScriptError.thrown(OPERATION, 'must be 16 lower-case hex digits',
                                     "JobId '%s' must be 16 lower-case hex digits" % job_id)
    job_dir = net.join_path(host, OPERATION, '$jobDir = Join-Path', params['JobRoot'], 'jobs') + '\\' + job_id
    state_path = job_dir + '\\state.json'
    if not net.file_exists(host, job_dir + '\\job.json', None):
        return {'state': 'missing', 'killed': []}
    launch = net.read_json_file(host, OPERATION, job_dir + '\\launch.json')
    state = net.read_json_file(host, OPERATION, state_path)
    recorded = jobs.get(state, 'state')
    if recorded in ('exited', 'cancelled'):
        return {'state': recorded, 'killed': []}

    runner_pid, runner_start = jobs.runner_identity(launch, state)
    roots = []
    if runner_pid is not None:
        roots.append((int(runner_pid), runner_start))
    for step in jobs.get(state, 'steps') or []:
        if jobs.get(step, 'state') == 'running' and jobs.get(step, 'pid') is not None:
            roots.append((int(jobs.get(step, 'pid')), jobs.get(step, 'process_start')))

    live = {p.pid: p for p in host.processes.all() if p.running}
    order: t.List[int] = []
    queue = []
    for pid, start in roots:
        proc = live.get(pid)
        if proc is not None and _same_start(start, proc) and pid not in order:
            order.append(pid)
            queue.append(proc)
    while queue:
        current = queue.pop(0)
        for child in sorted((p for p in live.values() if p.ppid == current.pid), key=lambda p: p.pid):
            if child.pid != current.pid and child.started_at >= current.started_at and child.pid not in order:
                order.append(child.pid)
                queue.append(child)
    killed = []
    for pid in reversed(order):
        if host.processes.kill(pid, KILL_EXIT_CODE):
            killed.append(pid)

    state = net.read_json_file(host, OPERATION, state_path)
    recorded = jobs.get(state, 'state')
    if recorded in ('exited', 'cancelled'):
        return {'state': recorded, 'killed': killed}
    now = net.iso_now()
    job = net.read_json_file(host, OPERATION, job_dir + '\\job.json')
    definitions = list(jobs.get(job, 'steps') or [])
    records = list(jobs.get(state, 'steps') or [])
    steps_out = []
    for index, definition in enumerate(definitions):
        record = records[index] if index < len(records) else None
        step_state = jobs.get(record, 'state')
        ended_at = jobs.get(record, 'ended_at')
        if step_state == 'running':
            step_state, ended_at = 'cancelled', now
        elif not step_state or step_state == 'pending':
            step_state = 'skipped'
        steps_out.append({'name': net.string_path(jobs.get(definition, 'name')), 'state': step_state,
                          'pid': jobs.get(record, 'pid'), 'process_start': jobs.get(record, 'process_start'),
                          'exit_code': jobs.get(record, 'exit_code'), 'started_at': jobs.get(record, 'started_at'),
                          'ended_at': ended_at, 'error': jobs.get(record, 'error')})
    net.write_text_atomic(host, state_path, net.ps_json({
        'state': 'cancelled', 'runner_pid': runner_pid, 'runner_start': runner_start,
        'started_at': jobs.get(state, 'started_at') or jobs.get(launch, 'started_at'), 'ended_at': now,
        'current_step': -1, 'error': None, 'steps': steps_out}), attempts=25)
    return {'state': 'cancelled', 'killed': killed}


def _same_start(recorded: t.Any, proc: t.Any) -> bool:
    moment = net.parse_iso(recorded)
    return moment is not None and abs((moment - proc.started_at).total_seconds()) < 2
