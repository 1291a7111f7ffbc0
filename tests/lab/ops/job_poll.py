"""Twin of ``job_poll.ps1``: a detached job's state, its steps and the tails of their logs.

States: ``running``; ``exited`` (recorded by the runner); ``cancelled`` (recorded by
job_cancel); ``lost`` (the runner is gone without recording an end); ``missing``. Each step
that started carries the last ``TailBytes`` of its log (its own ``log`` file when it names one
and it exists, else ``stepN.out``) and of ``stepN.err``, decoded as the script decodes them
(UTF-16 by BOM, else strict UTF-8, else the ANSI code page). ``TailSteps: active`` tails only
the running step, the last one that ended and failed ones. ``Collect`` marks an ended job
collected.
"""
from __future__ import annotations

import re
import typing as t

from ..windows.errors import WinError
from . import HostScriptError
from . import _dotnet as net
from . import jobs

OPERATION = 'job_poll'
INPUT = ('JobRoot', 'JobId', 'TailBytes?', 'SpacePath?', 'Collect?', 'TailSteps?')
OUTPUT = ('state', 'steps', 'free_bytes', 'now', 'started_at', 'ended_at', 'error', 'collected')
ANSI = 'cp1252'


def utf8_complete_end(data: bytes, start: int) -> int:
    """``Get-Utf8CompleteEnd``: where ``data`` ends on a whole UTF-8 character (a character cut short at the end is left out)."""
    for back in range(1, 4):
        if len(data) - back < start:
            break
        byte = data[len(data) - back]
        if byte & 0xC0 == 0x80:
            continue
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte & 0xF8 == 0xF0 else 1
        return len(data) - back if need > back else len(data)
    return len(data)


def read_tail(host: t.Any, path: str, nbytes: int) -> t.Optional[str]:
    """``Read-Tail``: the last ``nbytes`` of a file as text, or None."""
    if nbytes <= 0 or not net.file_exists(host, path, None):
        return None
    try:
        with host.fs.open_read(path) as handle:
            head = handle.read(3)
            handle.seek(0, 2)
            size = handle.tell()
            unicode = len(head) >= 2 and head[:2] == b'\xff\xfe'
            start = max(0, size - nbytes)
            if unicode:
                start = max(2, start)
                start += start % 2
            elif head == b'\xef\xbb\xbf':
                start = max(3, start)
            if size - start <= 0:
                return ''
            handle.seek(start)
            data = handle.read(size - start)
    except WinError as exc:
        raise HostScriptError.method(OPERATION, 'New-Object -TypeName System.IO.FileStream -ArgumentList $Path',
                                     '.ctor', 4, exc.dotnet_message) from None
    if unicode:
        return data.decode('utf-16-le', errors='replace')
    first = 0
    if start > 0:
        while first < 3 and first < len(data) and data[first] & 0xC0 == 0x80:
            first += 1
    try:
        return data[first:utf8_complete_end(data, first)].decode('utf-8')
    except UnicodeDecodeError:
        return data.decode(ANSI, errors='replace')


def free_bytes(host: t.Any, path: t.Any) -> t.Optional[int]:
    """``Get-FreeBytes``: the space free on the volume of ``path``, or None."""
    if not path:
        return None
    facts = net.volume_facts(host, path)
    return None if facts is None else facts['free_bytes']


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    del ctx
    tail_bytes = params.get('TailBytes', 4096)
    tail_all = str(params.get('TailSteps', 'active')).lower() == 'all'
    result: t.Dict[str, t.Any] = {'state': 'missing', 'steps': [], 'free_bytes': free_bytes(host, params.get('SpacePath')),
                                  'now': net.iso_now(), 'started_at': None, 'ended_at': None, 'error': None,
                                  'collected': False}
    job_id = params['JobId']
    if not re.fullmatch(r'[0-9a-f]{16}', job_id):
        raise HostScriptError.thrown(OPERATION, 'must be 16 lower-case hex digits',
                                     "JobId '%s' must be 16 lower-case hex digits" % job_id)
    jobs_dir = net.join_path(host, OPERATION, '$jobDir = Join-Path', params['JobRoot'], 'jobs')
    job_dir = jobs_dir + '\\' + job_id
    job = net.read_json_file(host, OPERATION, job_dir + '\\job.json')
    if job is None:
        return result
    launch = net.read_json_file(host, OPERATION, job_dir + '\\launch.json')
    state = net.read_json_file(host, OPERATION, job_dir + '\\state.json')
    runner_pid, runner_start = jobs.runner_identity(launch, state)
    recorded = jobs.get(state, 'state')
    if recorded in ('exited', 'cancelled'):
        result['state'] = recorded
    elif jobs.process_alive(host, runner_pid, runner_start):
        result['state'] = 'running'
    else:
        result['state'] = 'lost'
    result['started_at'] = jobs.get(launch, 'started_at') or jobs.get(state, 'started_at')
    result['ended_at'] = jobs.get(state, 'ended_at')
    result['error'] = jobs.get(state, 'error')

    definitions = list(jobs.get(job, 'steps') or [])
    records = list(jobs.get(state, 'steps') or [])
    last_ended = -1
    for index in range(len(definitions)):
        if index < len(records) and records[index] is not None and jobs.get(records[index], 'ended_at'):
            last_ended = index
    steps = []
    for index, definition in enumerate(definitions):
        record = records[index] if index < len(records) else None
        step_state = jobs.get(record, 'state') or 'pending'
        if result['state'] == 'lost' and step_state == 'running':
            step_state = 'lost'
        exit_code = jobs.get(record, 'exit_code')
        max_success = int(jobs.get(definition, 'max_success_code') or 0)
        failed = step_state in ('failed_to_start', 'lost') or (exit_code is not None and int(exit_code) > max_success)
        wanted = tail_all or step_state == 'running' or index == last_ended or failed
        log_file = net.string_path(jobs.get(definition, 'log'))
        out_file = '%s\\step%d.out' % (job_dir, index)
        err_file = '%s\\step%d.err' % (job_dir, index)
        source = log_file if log_file and net.file_exists(host, log_file, None) else out_file
        log_tail = err_tail = log_size = None
        if step_state not in ('pending', 'skipped'):
            if net.file_exists(host, source, None):
                log_size = host.fs.stat(source).size
            if wanted:
                log_tail = read_tail(host, source, tail_bytes)
                err_tail = read_tail(host, err_file, min(tail_bytes, 4096))
        steps.append({'name': net.string_path(jobs.get(definition, 'name')), 'state': step_state,
                      'pid': jobs.get(record, 'pid'), 'exit_code': exit_code, 'max_success_code': max_success,
                      'started_at': jobs.get(record, 'started_at'), 'ended_at': jobs.get(record, 'ended_at'),
                      'error': jobs.get(record, 'error'), 'log_size': log_size, 'log_tail': log_tail,
                      'stderr_tail': err_tail})
    result['steps'] = steps

    collected_path = job_dir + '\\collected'
    result['collected'] = net.file_exists(host, collected_path, None)
    if params.get('Collect', False) and result['state'] != 'running' and not result['collected']:
        host.fs.write_bytes(collected_path, net.iso_now().encode('utf-8'))
        result['collected'] = True
    return result
