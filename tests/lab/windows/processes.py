r"""Processes of an emulated host: emulated executables run as Python callables on threads.

An executable is registered by its Windows path (``C:\Windows\System32\Robocopy.exe``) as a
callable ``main(proc: ProcessContext) -> int``; it is found by name on ``PATH`` with
``PATHEXT`` like any program. A process is either bound to a WinRM shell (it dies when the
shell closes, as processes in the shell's job object do) or detached (started the way
``Win32_Process.Create`` starts it: outside any shell, so it outlives the shell and the
connection). Children inherit their parent's binding.

Killing a process (``TerminateProcess``) ends it at once as far as anyone can observe: it is
marked exited with the given code. Its thread stops at the next file operation or
:meth:`ProcessContext.sleep`, where :class:`ProcessKilled` is raised; emulated executables
must do their waiting through ``proc.sleep`` and their I/O through ``proc.fs``.

Output: ``proc.write``/``proc.error`` take text with ``\n`` line ends; sinks turn them into
``\r\n`` as the C runtime's text mode does. A console sink keeps text (the WS-Management layer
encodes it with the shell's code page); a file sink encodes with the process's code page (OEM
437 for a detached process, as a console program writing to a redirected handle does).
"""
from __future__ import annotations

import datetime
import itertools
import logging
import threading
import traceback
import typing as t

from .cmdline import command_line_to_argv
from .errors import ERROR_FILE_NOT_FOUND, WinError
from .paths import WinPath, fold, parse_path

if t.TYPE_CHECKING:  # pragma: no cover
    from .filesystem import FileSystem, Writer
    from .host import WindowsHost

LOG = logging.getLogger(__name__)

Main = t.Callable[['ProcessContext'], int]

CLR_UNHANDLED_EXCEPTION = -532462766   # 0xE0434352: what a crashed .NET program exits with
KEEP_PROCESSES = 2000
DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC'


class ProcessKilled(BaseException):
    """Raised inside a killed process's thread. A BaseException, so ``except Exception`` in an
    emulated program cannot swallow its own termination."""


class NotEmulated(Exception):
    """A program exists on the host but the lab has no emulation for it."""


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# -- output sinks -------------------------------------------------------------------------------
class Sink:
    """Where a process's stdout or stderr goes."""

    def write(self, text: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None


class ConsoleSink(Sink):
    """Console output kept as text, for a command run inside a WinRM shell."""

    def __init__(self) -> None:
        self._parts: t.List[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self._parts.append(text.replace('\n', '\r\n'))

    def value(self) -> str:
        with self._lock:
            return ''.join(self._parts)


class NullSink(Sink):
    """Output nobody reads: a process created with no console to write to."""

    def write(self, text: str) -> None:
        del text


class FileSink(Sink):
    """Output written to a file on the host, flushed as it comes (others can tail it)."""

    def __init__(self, writer: 'Writer', codepage: int) -> None:
        self._writer = writer
        self._codec = 'utf-8' if codepage == 65001 else 'cp%d' % codepage
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        data = text.replace('\n', '\r\n').encode(self._codec, errors='replace')
        with self._lock:
            if self._writer.closed:
                return
            try:
                self._writer.write(data)
                self._writer.flush()
            except WinError:
                pass   # a full disk swallows console output; the program goes on

    def close(self) -> None:
        with self._lock:
            self._writer.close()


# -- processes ----------------------------------------------------------------------------------
class Process:
    """One process in the host's table."""

    def __init__(self, pid: int, ppid: int, image: WinPath, command_line: str, username: str,
                 shell_id: t.Optional[str]) -> None:
        self.pid = pid
        self.ppid = ppid
        self.image = image
        self.command_line = command_line
        self.username = username
        self.shell_id = shell_id
        self.started_at = utc_now()
        self.ended_at: t.Optional[datetime.datetime] = None
        self.exit_code: t.Optional[int] = None
        self.killed = False
        self.stdout_path: t.Optional[WinPath] = None    # set when stdout goes to a file on the host
        self.console: t.Optional[ConsoleSink] = None     # set when stdout is kept as console text
        self._done = threading.Event()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.image.name

    @property
    def detached(self) -> bool:
        return self.shell_id is None

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    @property
    def state(self) -> str:
        return 'running' if self.running else 'exited'

    def wait(self, timeout: t.Optional[float] = None) -> bool:
        """Wait for the process to end; True when it has."""
        return self._done.wait(timeout)

    def _finish(self, exit_code: int, killed: bool = False) -> bool:
        with self._lock:
            if self._done.is_set():
                return False
            self.exit_code = exit_code
            self.killed = killed
            self.ended_at = utc_now()
            self._done.set()
            return True

    def __repr__(self) -> str:
        return '<Process %d %s %s exit=%r>' % (self.pid, self.name, self.state, self.exit_code)


class ProcessContext:
    """What an emulated executable sees of itself and its host."""

    def __init__(self, host: 'WindowsHost', process: Process, argv: t.List[str], cwd: WinPath,
                 env: t.Dict[str, str], stdin: bytes, stdout: Sink, stderr: Sink, codepage: int) -> None:
        self.host = host
        self.process = process
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.codepage = codepage

    @property
    def fs(self) -> 'FileSystem':
        return self.host.fs

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def command_line(self) -> str:
        return self.process.command_line

    @property
    def username(self) -> str:
        return self.process.username

    @property
    def is_admin(self) -> bool:
        return self.host.accounts.is_admin(self.process.username)

    def write(self, text: str) -> None:
        self.check_killed()
        self.stdout.write(text)

    def error(self, text: str) -> None:
        self.check_killed()
        self.stderr.write(text)

    def check_killed(self) -> None:
        if self.process.killed:
            raise ProcessKilled()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``; a kill ends the wait (and the process) at once."""
        self.check_killed()
        if seconds > 0 and self.process.wait(seconds) and self.process.killed:
            raise ProcessKilled()
        self.check_killed()

    def start_child(self, command_line: str, stdout: t.Optional[Sink] = None, stderr: t.Optional[Sink] = None,
                    program: t.Optional[str] = None) -> Process:
        """Start a child process (it inherits this process's shell binding, user and directory)."""
        return self.host.processes.start(command_line, program=program, parent=self.process,
                                         username=self.username, cwd=self.cwd, env=self.env,
                                         stdout=stdout, stderr=stderr, codepage=self.codepage)

    def wait_child(self, child: Process, poll: float = 0.05) -> int:
        """Wait for ``child`` to end; ends this process too when it is killed meanwhile."""
        while not child.wait(poll):
            self.check_killed()
        self.check_killed()
        return t.cast(int, child.exit_code)


_CURRENT = threading.local()


def current() -> t.Optional[ProcessContext]:
    """The emulated process running on this thread, if any."""
    return getattr(_CURRENT, 'ctx', None)


def checkpoint() -> None:
    """Stop here if the emulated process running on this thread was killed."""
    ctx = getattr(_CURRENT, 'ctx', None)
    if ctx is not None and ctx.process.killed:
        raise ProcessKilled()


class ProcessTable:
    """Executables and processes of one host."""

    def __init__(self, host: 'WindowsHost') -> None:
        self.host = host
        self._lock = threading.Lock()
        self._executables: t.Dict[tuple, t.Tuple[WinPath, Main]] = {}
        self._processes: t.Dict[int, Process] = {}
        self._pids = itertools.count(2404, 4)

    # -- executables ---------------------------------------------------------------------------
    def register(self, windows_path: str, main: Main) -> WinPath:
        """Make ``main`` the program at ``windows_path`` (a stub file is put there, so the program
        exists for ``Test-Path`` and directory listings too)."""
        path = parse_path(windows_path)
        with self._lock:
            self._executables[path.key] = (path, main)
        fs = self.host.fs
        if not fs.exists(path):
            fs.write_bytes(path, b'MZ\x90\x00 lab-emulated program: ' + path.name.encode('ascii', 'replace') + b'\r\n',
                           make_parents=True)
        return path

    def executable(self, path: WinPath) -> t.Optional[Main]:
        with self._lock:
            found = self._executables.get(path.key)
        return found[1] if found else None

    def find_program(self, name: str, cwd: WinPath, env: t.Mapping[str, str]) -> t.Optional[WinPath]:
        """Where ``name`` is, searched as CreateProcess/cmd.exe do: a path as given (with
        ``PATHEXT`` extensions tried when it has none), else the current folder and ``PATH``."""
        fs = self.host.fs
        env_f = {fold(k): v for k, v in env.items()}
        exts = [e for e in env_f.get('PATHEXT', DEFAULT_PATHEXT).split(';') if e]
        has_ext = '.' in name.rsplit('\\', 1)[-1].rsplit('/', 1)[-1]
        candidates_names = [name] + ([] if has_ext else [name + e for e in exts])
        folders: t.List[t.Optional[str]]
        if any(sep in name for sep in '\\/:'):
            folders = [None]
        else:
            folders = [str(cwd)] + [p for p in env_f.get('PATH', '').split(';') if p.strip()]
        for folder in folders:
            for cand in candidates_names:
                try:
                    path = parse_path(cand, cwd) if folder is None else \
                        parse_path(folder.strip().strip('"'), cwd).joinpath(cand)
                except (WinError, ValueError):
                    continue
                if self.executable(path) is not None or fs.is_file(path):
                    return fs.canonical(path)
        return None

    # -- processes -----------------------------------------------------------------------------
    def start(self, command_line: str, program: t.Optional[str] = None, parent: t.Optional[Process] = None,
              detached: bool = False, shell_id: t.Optional[str] = None, username: str = 'SYSTEM',
              cwd: t.Optional[WinPath] = None, env: t.Optional[t.Mapping[str, str]] = None, stdin: bytes = b'',
              stdout: t.Optional[Sink] = None, stderr: t.Optional[Sink] = None, codepage: int = 437) -> Process:
        """Start ``command_line`` (its program found from ``argv[0]`` unless ``program`` names it).

        A process started with ``detached`` belongs to no shell; otherwise it inherits
        ``parent``'s shell, or is bound to ``shell_id``. Raises :class:`WinError`
        (ERROR_FILE_NOT_FOUND) for a missing program and :class:`NotEmulated` for a program the
        lab cannot run.
        """
        argv = command_line_to_argv(command_line)
        cwd = cwd or self.host.default_cwd(username)
        env = dict(env) if env is not None else self.host.environment(username)
        image = self.find_program(program or argv[0], cwd, env)
        if image is None:
            raise WinError(ERROR_FILE_NOT_FOUND, program or argv[0])
        main = self.executable(image)
        if main is None:
            raise NotEmulated('%s exists on lab host %s, but the lab has no emulation of it; the lab runs only '
                              'programs registered with host.register_executable()' % (image, self.host.name))
        if parent is not None and not detached:
            shell_id = parent.shell_id
        proc = Process(next(self._pids), parent.pid if parent else 4, image, command_line, username,
                       None if detached else shell_id)
        out = stdout or ConsoleSink()
        err = stderr or out
        if isinstance(out, ConsoleSink):
            proc.console = out
        ctx = ProcessContext(self.host, proc, argv, cwd, env, stdin, out, err, codepage)
        with self._lock:
            self._processes[proc.pid] = proc
            if len(self._processes) > KEEP_PROCESSES:
                # Windows forgets ended processes; keep a window of them for whoever still asks
                ended = [p.pid for p in self._processes.values() if not p.running]
                for pid in ended[:len(self._processes) - KEEP_PROCESSES]:
                    del self._processes[pid]
        thread = threading.Thread(target=self._run, args=(ctx, main), daemon=True,
                                  name='%s:%s:%d' % (self.host.name, proc.name, proc.pid))
        thread.start()
        return proc

    def _run(self, ctx: ProcessContext, main: Main) -> None:
        _CURRENT.ctx = ctx
        proc = ctx.process
        code = CLR_UNHANDLED_EXCEPTION
        try:
            code = int(main(ctx) or 0)
        except ProcessKilled:
            pass
        except Exception:  # pylint: disable=broad-except
            # An emulation bug: make it impossible to miss, in the program's output and the log.
            text = traceback.format_exc()
            LOG.error('lab emulation of %s crashed on host %s:\n%s', proc.name, self.host.name, text)
            try:
                ctx.stderr.write('lab emulation of %s crashed (a bug in the lab, not in the caller):\n%s'
                                 % (proc.name, text))
            except BaseException:  # pylint: disable=broad-except
                pass
        finally:
            _CURRENT.ctx = None
            for sink in {id(ctx.stdout): ctx.stdout, id(ctx.stderr): ctx.stderr}.values():
                try:
                    sink.close()
                except Exception:  # pylint: disable=broad-except
                    LOG.exception('closing the output of %s', proc)
            proc._finish(code)  # pylint: disable=protected-access

    def get(self, pid: int) -> t.Optional[Process]:
        with self._lock:
            return self._processes.get(int(pid))

    def all(self) -> t.List[Process]:
        with self._lock:
            return list(self._processes.values())

    def output_tail(self, pid: int, nbytes: int = 4096) -> t.Optional[str]:
        """The last ``nbytes`` of a process's output (its stdout file, or its console text)."""
        proc = self.get(pid)
        if proc is None:
            return None
        if proc.stdout_path is not None:
            return self.host.fs.read_tail(proc.stdout_path, nbytes).decode('cp437', errors='replace')
        if proc.console is not None:
            return proc.console.value()[-nbytes:]
        return None

    def children(self, pid: int) -> t.List[Process]:
        return [p for p in self.all() if p.ppid == pid and p.pid != pid]

    def running(self, image_name: str, detached_only: bool = True) -> bool:
        """True when a process of ``image_name`` (``WsusUtil.exe`` or ``WsusUtil``) runs."""
        want = fold(image_name)
        for proc in self.all():
            name = fold(proc.name)
            if proc.running and (name == want or name == want + '.EXE') and (proc.detached or not detached_only):
                return True
        return False

    def kill(self, pid: int, exit_code: int = 1, tree: bool = False) -> t.List[int]:
        """TerminateProcess ``pid`` (and with ``tree`` its descendants, as ``taskkill /T``).
        Returns the pids that were running and are now ended."""
        killed = []
        proc = self.get(pid)
        if proc is None:
            return killed
        if tree:
            for child in self.children(pid):
                killed.extend(self.kill(child.pid, exit_code, tree=True))
        if proc._finish(exit_code, killed=True):  # pylint: disable=protected-access
            killed.append(proc.pid)
        return killed

    def shell_closed(self, shell_id: str) -> t.List[int]:
        """End every process bound to ``shell_id``: they ran in the shell's job object."""
        killed = []
        for proc in self.all():
            if proc.shell_id == shell_id and proc.running:
                killed.extend(self.kill(proc.pid, 1, tree=False))
        return killed
