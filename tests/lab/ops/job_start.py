r"""Twin of ``job_start.ps1``: start a detached job, or re-attach to it.

Validation, folder layout and re-attachment are the script's: ``JobId`` is 16 lower-case hex
digits; ``JobRoot`` a normalized local path; each step names an existing program by its full
path; a running job, or an ended one nobody collected, is returned with ``attached: true``; a
collected one is archived as ``<JobId>-<UTC stamp>`` (the newest three archives are kept) and
started anew. The runner is a detached ``powershell.exe`` (``Win32_Process.Create``) whose
current directory is the job folder; it outlives the WinRM shell and the connection.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import re
import threading
import typing as t
import unicodedata

from ..windows.errors import WinError
from ..windows.paths import fold
from ..windows.powershell import POWERSHELL_PATH
from ..windows.processes import NullSink
from . import HostScriptError, method_message, scripts
from . import _dotnet as net
from . import jobs

OPERATION = 'job_start'
INPUT = ('JobRoot', 'JobId', 'Steps', 'Runner', 'Files?')
OUTPUT = ('job_id', 'job_dir', 'state', 'attached', 'pid', 'started_at')

RESERVED_FILES = ('job.json', 'runner.ps1', 'state.json', 'launch.json', 'collected', 'runner.err')
KEEP_ARCHIVES = 3
_LOCKS: t.Dict[t.Tuple[int, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _throw(needle: str, message: str) -> HostScriptError:
    return HostScriptError.thrown(OPERATION, needle, message)


def _job_lock(host: t.Any, job_dir: str) -> threading.Lock:
    """The ``<JobId>.lock`` file of the script: one job_start per job at a time."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault((id(host), fold(job_dir)), threading.Lock())


def test_job_root(host: t.Any, path: str, cwd: t.Any) -> str:
    rest = path[3:] if re.match(r'^[A-Za-z]:\\', path) else None
    allowed = rest is not None and all(ch.isalpha() or unicodedata.category(ch) == 'Nd' or ch in ' _.()\\-' for ch in rest)
    if not allowed:
        raise _throw('must be a local path such as', "JobRoot '%s' must be a local path such as C:\\ProgramData\\airgap.wsus "
                     "made of letters, digits, spaces and . _ - ( )" % path)
    full = (net.full_path_text(host, path, cwd) or '').rstrip('\\')
    if full.lower() != path.rstrip('\\').lower():
        raise _throw('is not a normalized absolute path',
                     "JobRoot '%s' is not a normalized absolute path (it resolves to '%s')" % (path, full))
    return full


def step_record(host: t.Any, step: t.Any, index: int) -> t.Dict[str, t.Any]:
    """``ConvertTo-StepRecord``."""
    name = net.string_path(jobs.get(step, 'name'))
    program = net.string_path(jobs.get(step, 'file'))
    arguments = jobs.get(step, 'arguments')
    max_success = jobs.get(step, 'max_success_code')
    log = jobs.get(step, 'log')
    if not name:
        raise _throw('has no name', 'step %d has no name' % index)
    if not re.match(r'^[A-Za-z]:\\', program) or not net.file_exists(host, program, None):
        raise _throw('is not an existing file given by its full path',
                     "step %d (%s): program '%s' is not an existing file given by its full path" % (index, name, program))
    return {'name': name, 'file': program, 'arguments': '' if arguments is None else net.string_path(arguments),
            'max_success_code': int(max_success or 0), 'log': net.string_path(log) if log else None}


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    job_id, runner = params['JobId'], params['Runner']
    files = params.get('Files') or []
    cwd = getattr(ctx, 'cwd', None)
    if not re.fullmatch(r'[0-9a-f]{16}', job_id):
        raise _throw('must be 16 lower-case hex digits', "JobId '%s' must be 16 lower-case hex digits" % job_id)
    if not re.match(r'(?i)^# airgap\.wsus host script\r?\n# operation: job_runner\r?\n', runner):
        raise _throw('Runner is not the airgap.wsus job_runner script', 'Runner is not the airgap.wsus job_runner script')
    shipped = scripts.get('job_runner')
    if shipped is None or runner not in (shipped.text, shipped.data.decode('utf-8')):
        raise HostScriptError('the airgap.wsus lab can only run the shipped job_runner.ps1 as a job runner; the Runner '
                              'sent differs from plugins/plugin_utils/powershell/job_runner.ps1',
                              'AirgapWsusLab.ScriptNotEmulated', 'NotImplemented')
    root = test_job_root(host, params['JobRoot'], cwd)
    records = [step_record(host, step, index) for index, step in enumerate(params['Steps'])]
    if not records:
        raise _throw('a job needs at least one step', 'a job needs at least one step')
    for extra in files:
        name = net.string_path(jobs.get(extra, 'path'))
        if (not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9._-]{0,127}', name) or name.lower() in RESERVED_FILES
                or re.match(r'(?i)^step\d+\.(out|err)$', name)):
            raise _throw('must be a plain file name', "job file name '%s' must be a plain file name that does not clash "
                         "with the runner's own files" % name)

    fs = host.fs
    jobs_dir = net.join_path(host, OPERATION, "$jobsDir = Join-Path", root, 'jobs')
    job_dir = jobs_dir + '\\' + job_id
    _io(fs.mkdir, 'CreateDirectory($jobsDir)', 'CreateDirectory', 1, jobs_dir)
    with _job_lock(host, job_dir):
        if net.dir_exists(host, job_dir, None):
            status = jobs.job_status(host, OPERATION, job_dir)
            if status['state'] == 'running' or (status['state'] != 'missing' and not status['collected']):
                return {'job_id': job_id, 'job_dir': job_dir, 'state': status['state'], 'attached': True,
                        'pid': status['pid'], 'started_at': status['started_at']}
            _archive(host, jobs_dir, job_dir, job_id)
        _io(fs.mkdir, 'CreateDirectory($jobDir)', 'CreateDirectory', 1, job_dir)
        for extra in files:
            try:
                data = base64.b64decode(net.string_path(jobs.get(extra, 'content_b64')), validate=True)
            except (binascii.Error, ValueError):
                raise HostScriptError.method(OPERATION, 'FromBase64String', 'FromBase64String', 1,
                                             'The input is not a valid Base-64 string as it contains a non-base 64 '
                                             'character, more than two padding characters, or an illegal character '
                                             'among the padding characters. ') from None
            _io(fs.write_bytes, 'WriteAllBytes', 'WriteAllBytes', 2, job_dir + '\\' + net.string_path(jobs.get(extra, 'path')), data)
        net.write_text_atomic(host, job_dir + '\\runner.ps1', b'\xef\xbb\xbf' + runner.encode('utf-8'))
        job = {'job_id': job_id, 'created_at': net.iso_now(), 'steps': records}
        net.write_text_atomic(host, job_dir + '\\job.json', net.ps_json(job))

        launcher = scripts.job_launcher() or ''
        encoded = base64.b64encode(launcher.encode('utf-16-le')).decode('ascii')
        command_line = '"%s" -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand %s' % (POWERSHELL_PATH, encoded)
        started_at = net.iso_now()
        process = host.processes.start(command_line, detached=True, username=getattr(ctx, 'username', 'SYSTEM'),
                                       cwd=fs.parse(job_dir), stdout=NullSink(), stderr=NullSink(), codepage=437)
        launch = {'pid': process.pid, 'process_start': jobs.process_start(process), 'started_at': started_at}
        net.write_text_atomic(host, job_dir + '\\launch.json', net.ps_json(launch))
        return {'job_id': job_id, 'job_dir': job_dir, 'state': 'running', 'attached': False, 'pid': process.pid,
                'started_at': started_at}


def _archive(host: t.Any, jobs_dir: str, job_dir: str, job_id: str) -> None:
    """Move a collected job aside as ``<JobId>-<stamp>`` and keep the newest archives only."""
    stamp = datetime.datetime.now(datetime.timezone.utc)
    name = '%s-%s%03dZ' % (job_id, stamp.strftime('%Y%m%dT%H%M%S'), stamp.microsecond // 1000)
    _io(host.fs.replace, 'Directory]::Move($jobDir', 'Move', 2, job_dir, jobs_dir + '\\' + name)
    archives = sorted((e for e in host.fs.listdir(jobs_dir) if e.is_dir and fold(e.name).startswith(fold(job_id + '-'))),
                      key=lambda e: e.name, reverse=True)
    for old in archives[KEEP_ARCHIVES:]:
        host.fs.remove_dir(old.path, recursive=True)


def _io(func: t.Callable[..., t.Any], needle: str, method: str, nargs: int, *args: t.Any) -> t.Any:
    """Call a file operation; a Win32 error becomes the MethodInvocationException PowerShell shows."""
    try:
        return func(*args)
    except WinError as exc:
        raise HostScriptError(method_message(method, nargs, exc.dotnet_message),
                              'System.Management.Automation.MethodInvocationException', 'NotSpecified',
                              scripts.line_of(OPERATION, needle)) from None
