r"""WsusUtil.exe of an emulated WSUS server: ``export``, ``import``, ``reset`` and its help.

It runs through the host's process machinery (``host.register_executable`` at
``<TargetDir>\Tools\WsusUtil.exe``; the host calls :func:`main` on the process's thread),
usually detached. What it does, as the real tool does:

- only a member of the local Administrators group may run it;
- ``export <package> <log>`` writes the whole catalog's metadata (never files, approvals or
  settings) as a gzip-compressed XML package; ``import <package> <log>`` merges one into the
  server's catalog, refused on a replica server; both stop the Update Service (WsusService)
  while they run and start it again afterwards;
- ``reset`` asks the server to re-verify every content file and returns before that work
  ends;
- bad arguments print ``Incomplete or invalid parameters specified.`` and the usage text;
- failures exit non-zero and write the error to the log; runtimes scale with the catalog
  (the server's ``runtime_scale``) so a poller sees the log grow.

Messages from .NET (package errors, file errors) are the real texts. WsusUtil's own texts
(usage, the administrator and replica refusals, progress lines) are plausible: no primary
source for them was found.

Named host faults (``host.faults.set(name, value)``):

- ``wsusutil_exit_code``: an int (every export and import fails with it), or a mapping
  ``{'export': code, 'import': code}``;
- ``wsusutil_empty_package``: export exits 0 but leaves a zero-size package;
- ``truncate_package``: export exits 0 but the package is cut short (``True`` keeps 60 %, a
  float keeps that fraction).
"""
from __future__ import annotations

import dataclasses
import datetime
import typing as t

from ..wsus import package as pkg
from ..wsus.constants import SERVICE_NAME

EXIT_OK = 0
EXIT_FAILED = 1

USAGE = """\
Windows Server Update Services Utility.

Usage: wsusutil.exe <command> [parameters]

Commands:
  checkhealth                 Checks the health of the WSUS server and logs it to the event log.
  configuressl                Configures the WSUS server to use SSL.
  export                      Exports update metadata to an export package file.
  healthmonitoring            Configures health monitoring.
  import                      Imports update metadata from an export package file.
  listinactiveapprovals       Lists approvals that are permanently inactive.
  removeinactiveapprovals     Removes approvals that are permanently inactive.
  movecontent                 Changes the location of the update files.
  reset                       Verifies that every update's files are on the server and re-downloads missing or corrupt ones.
  usecustomwebsite            Configures WSUS to use a custom web site.
  postinstall                 Completes the WSUS installation.

Type "wsusutil.exe help <command>" for help on a specific command.
"""

COMMAND_HELP = {
    'export': """\
Exports update metadata to an export package file. Update files, approvals and server
settings are not exported.

Usage: wsusutil.exe export <package> <logfile>

  package   The path and file name of the package (.xml.gz) to create.
  logfile   The path and file name of the log file to create.
""",
    'import': """\
Imports update metadata from an export package file (a CAB or a GZIP .xml.gz file) created
on another WSUS server. Copy the update files to this server's content folder first.

Usage: wsusutil.exe import <package> <logfile>

  package   The path and file name of the package to import.
  logfile   The path and file name of the log file to create.
""",
    'reset': """\
Checks that every update metadata row has its files in the content folder, and queues
missing or corrupt files for download again. The work continues after the command returns.

Usage: wsusutil.exe reset
""",
}

INVALID_PARAMETERS = 'Incomplete or invalid parameters specified.'
NOT_ADMIN = ('You do not have the permissions required to run WSUSUtil. '
             'You must be a member of the local Administrators group on the WSUS server.')
REPLICA_IMPORT = ('Import is not supported on a replica server: this server is centrally managed '
                  '(IsReplicaServer is true). Turn replica mode off, import, then turn it back on.')
LAB_UNSUPPORTED = "The lab's WsusUtil emulates export, import, reset and help only; '{command}' is a real command it does not emulate."


@dataclasses.dataclass
class WsusUtilEnv:
    """What the host gives one WsusUtil process.

    Paths are Windows paths; the host resolves them (relative ones against the process's
    working directory), enforces ACLs, locks and capacity, and raises
    ``windows.errors.WinError`` (or any ``OSError``) on failure. Console text uses ``\n``
    line ends (the host's output sinks write ``\r\n``).
    """

    server: t.Any
    is_admin: bool
    read_file: t.Callable[[str], bytes]
    write_file: t.Callable[[str, bytes], None]
    append_file: t.Callable[[str, str], None]
    stdout: t.Callable[[str], None]
    stop_service: t.Callable[[], None]
    start_service: t.Callable[[], None]
    fault: t.Callable[[str], t.Any]
    sleep: t.Callable[[float], None]
    """Sleeps; raises the host's ``ProcessKilled`` (a BaseException) when the process is terminated."""
    full_path: t.Callable[[str], str] = str


class _Run:
    """One invocation: keeps the log path and writes timestamped log lines."""

    def __init__(self, env: WsusUtilEnv, command: str, log_path: t.Optional[str]) -> None:
        self.env = env
        self.command = command
        self.log_path = log_path

    def log(self, level: str, message: str) -> None:
        if self.log_path is None:
            return
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]
        self.env.append_file(self.log_path, f'{stamp} UTC\t{level}\tWsusUtil.exe\t{message}\r\n')

    def say(self, message: str) -> None:
        self.env.stdout(message + '\n')

    def fail(self, message: str, code: int = EXIT_FAILED) -> int:
        self.say(message)
        try:
            self.log('Error', 'Fatal error: ' + message)
        except OSError:
            pass
        return code

    def work(self, total_seconds: float, steps: int, progress: t.Callable[[int], None]) -> None:
        """Spread ``total_seconds`` of emulated work over ``steps`` progress reports."""
        steps = max(1, steps)
        for step in range(1, steps + 1):
            self.env.sleep(total_seconds / steps)
            progress(step)


def _usage(env: WsusUtilEnv, command: t.Optional[str] = None) -> int:
    env.stdout(INVALID_PARAMETERS + '\n\n')
    env.stdout(COMMAND_HELP.get(command or '') or USAGE)
    return EXIT_FAILED


def _fault_exit(env: WsusUtilEnv, operation: str) -> t.Optional[int]:
    value = env.fault('wsusutil_exit_code')
    if isinstance(value, dict):
        value = value.get(operation)
    if value in (None, 0, False):
        return None
    return int(value)


def run(env: WsusUtilEnv, argv: t.Sequence[str]) -> int:
    """Run ``WsusUtil.exe`` with ``argv`` (the arguments after the program name)."""
    args = list(argv)
    if not args:
        env.stdout(USAGE)
        return EXIT_FAILED
    command = args[0].lower()
    if command in ('help', '/?', '-?', '/help'):
        topic = args[1].lower() if len(args) > 1 else ''
        env.stdout(COMMAND_HELP.get(topic) or USAGE)
        return EXIT_OK
    if command in ('export', 'import'):
        if len(args) != 3 or not args[1].strip() or not args[2].strip():
            return _usage(env, command)
    elif command == 'reset':
        if len(args) != 1:
            return _usage(env, command)
    elif command in ('checkhealth', 'configuressl', 'healthmonitoring', 'listinactiveapprovals', 'removeinactiveapprovals',
                     'movecontent', 'usecustomwebsite', 'postinstall', 'deleteunneededrevisions', 'listunreferencedpackagefolders'):
        env.stdout(LAB_UNSUPPORTED.format(command=command) + '\n')
        return EXIT_FAILED
    else:
        return _usage(env)
    if not env.is_admin:
        env.stdout(NOT_ADMIN + '\n')
        return EXIT_FAILED
    if command == 'reset':
        return _reset(env)
    run_ = _Run(env, command, args[2])
    try:
        # The log is created first: a log path WsusUtil cannot write stops it before any work.
        env.write_file(args[2], b'')
    except OSError as exc:
        return run_.fail(_os_message(exc, args[2]))
    env.stop_service()
    # A terminated process (ProcessKilled, a BaseException) never gets here: like the real
    # tool killed by TerminateProcess, it leaves WsusService stopped.
    try:
        if command == 'export':
            code = _export(run_, args[1])
        else:
            code = _import(run_, args[1])
    except OSError as exc:
        code = run_.fail(_os_message(exc, args[1]))
    env.start_service()
    return code


def _os_message(exc: OSError, path: str) -> str:
    message = getattr(exc, 'dotnet_message', None)
    if message:
        return message
    return f'{exc.strerror or exc}: {path}'


def _export(run_: _Run, package_path: str) -> int:
    env, server = run_.env, run_.env.server
    full = env.full_path(package_path)
    run_.say(f'Exporting update metadata to {full}...')
    run_.log('Info', f'Export started on server {server.name} (WSUS {server.version}). Package: {full}')
    updates = server.export_updates()
    count = len(updates)
    run_.log('Info', f'Reading metadata of {count} update revisions from the database.')
    code = _fault_exit(env, 'export')

    def progress(step: int) -> None:
        run_.log('Info', f'Exported {min(count, step * count // 10)} of {count} update revisions.')
        if code is not None and step == 5:
            raise _Injected(code)

    try:
        run_.work(server.work_seconds(count), 10, progress)
    except _Injected as exc:
        return run_.fail('Export failed: an unexpected error occurred while reading update metadata from the database. '
                         'System.Data.SqlClient.SqlException: Timeout expired.', exc.code)
    data = pkg.build(server.package_header(count), updates)
    if env.fault('wsusutil_empty_package'):
        data = b''
    else:
        keep = env.fault('truncate_package')
        if keep:
            fraction = 0.6 if keep is True else float(keep)
            data = data[:max(1, int(len(data) * fraction))]
    env.write_file(package_path, data)
    run_.log('Info', f'Package written: {len(data)} bytes.')
    run_.log('Info', f'Successfully exported {count} update revisions.')
    run_.say(f'Successfully exported the update metadata to {full}.')
    return EXIT_OK


class _Injected(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _import(run_: _Run, package_path: str) -> int:
    env, server = run_.env, run_.env.server
    full = env.full_path(package_path)
    run_.say(f'Importing update metadata from {full}...')
    run_.log('Info', f'Import started on server {server.name} (WSUS {server.version}). Package: {full}')
    if server.get_configuration().is_replica_server:
        return run_.fail(REPLICA_IMPORT)
    data = env.read_file(package_path)
    failure: t.Optional[pkg.PackageError] = None
    try:
        header, updates = pkg.read(data)
        run_.log('Info', f'Package from server {header.server_id} (WSUS {header.version}), created {header.creation_date}: '
                         f'{len(updates)} update revisions.')
    except pkg.PackageError as exc:
        failure, updates = exc, exc.partial
    code = _fault_exit(env, 'import')
    count = len(updates)
    chunks = [updates[i:i + max(1, count // 10)] for i in range(0, count, max(1, count // 10))] or [[]]
    done = 0
    for number, chunk in enumerate(chunks, start=1):
        env.sleep(server.work_seconds(count) / len(chunks))
        if chunk:
            server.import_updates(chunk)
        done += len(chunk)
        run_.log('Info', f'Imported {done} of {count} update revisions.')
        if code is not None and number * 2 >= len(chunks):
            return run_.fail('Import failed: an unexpected error occurred while writing update metadata to the database. '
                             'System.Data.SqlClient.SqlException: Transaction (Process ID 61) was deadlocked on lock resources '
                             'with another process and has been chosen as the deadlock victim. Rerun the transaction.', code)
    if failure is not None:
        return run_.fail(str(failure))
    status = server.get_status()
    run_.log('Info', f'{status["UpdatesWithServerErrorsCount"]} updates are missing files in the content folder; '
                     'the console shows them as failed downloads until their files are copied in and the content is reset.'
             if status['UpdatesWithServerErrorsCount'] else 'All files the imported updates need are in the content folder.')
    run_.log('Info', f'Successfully imported {count} update revisions.')
    run_.say(f'Successfully imported the update metadata from {full}.')
    return EXIT_OK


def _reset(env: WsusUtilEnv) -> int:
    env.server.start_reset()
    env.stdout('Content reset started: the Update Service verifies every update file and queues missing or corrupt ones for download.\n')
    return EXIT_OK


def env_for(proc: t.Any) -> WsusUtilEnv:
    """The environment of a WsusUtil process started by the host (``proc``: its ProcessContext)."""
    host = proc.host
    server = getattr(host, 'wsus', None)
    services = host.services

    def append(path: str, text: str) -> None:
        proc.fs.write_bytes(path, text.encode('utf-8'), proc.cwd, append=True)

    return WsusUtilEnv(
        server=server, is_admin=proc.is_admin,
        read_file=lambda path: proc.fs.read_bytes(path, proc.cwd),
        write_file=lambda path, data: proc.fs.write_bytes(path, data, proc.cwd),
        append_file=append, stdout=proc.write,
        stop_service=lambda: services.stop(SERVICE_NAME), start_service=lambda: services.start(SERVICE_NAME),
        fault=host.faults.get, sleep=proc.sleep, full_path=lambda path: str(proc.fs.parse(path, proc.cwd)))


def main(proc: t.Any) -> int:
    """Entry point the host calls: ``proc.argv[0]`` is the program, the rest its arguments."""
    env = env_for(proc)
    if env.server is None:
        proc.write('The WSUS server is not configured on this computer (postinstall has not run).\n')
        return EXIT_FAILED
    return run(env, proc.argv[1:])
