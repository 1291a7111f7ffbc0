r"""What ``cmd.exe /c <line>`` does with a command line that reaches an emulated host.

WinRS runs a command through ``cmd.exe`` unless the shell was opened with
``WINRS_SKIP_CMD_SHELL``; then the line goes straight to CreateProcess. This module handles:

- ``%VAR%`` expansion (undefined names stay as written, as on a ``cmd /c`` line);
- ``&``, ``&&``, ``||`` and ``|`` between commands, ``^`` escapes and quotes;
- redirections ``>``, ``>>``, ``<``, ``2>``, ``2>&1`` (``nul`` included);
- the built-ins a person types at a remote prompt: ``echo``, ``type``, ``cd``, ``set``,
  ``ver``, ``exit [/b] [n]``, ``rem``, and ``cmd /c`` nesting; ``move [/y] file dest`` for
  one file (``MoveFileEx`` with replace; the overwrite prompt without ``/y`` is not emulated);
- everything else as a program found on ``PATH``: an emulated executable runs as a process
  bound to the shell; an unknown name gets cmd.exe's "is not recognized" error (exit code 1).

The 8,191-character limit of a cmd.exe line is applied by the WS-Management layer before the
line gets here (``lab.wsman.console``), so it is not checked twice.
"""
from __future__ import annotations

import re
import typing as t

from ..wsman.context import CommandResult
from .errors import ERROR_FILE_NOT_FOUND, WinError
from .paths import fold
from .processes import ConsoleSink, NotEmulated

if t.TYPE_CHECKING:  # pragma: no cover
    from .host import WindowsHost

NOT_RECOGNIZED = "'%s' is not recognized as an internal or external command,\noperable program or batch file.\n"
WINDOWS_VERSION = '10.0.17763.5458'
_LONE_LF = re.compile(r'(?<!\r)\n')


class _Output:
    """stdout or stderr of a line: text from console programs, bytes from ``type``."""

    def __init__(self) -> None:
        self.parts: t.List[t.Union[str, bytes]] = []

    def write(self, data: t.Union[str, bytes]) -> None:
        if data:
            self.parts.append(_LONE_LF.sub('\r\n', data) if isinstance(data, str) else data)

    def result(self, codepage: int) -> t.Union[str, bytes]:
        if all(isinstance(p, str) for p in self.parts):
            return ''.join(t.cast(t.List[str], self.parts))
        codec = 'utf-8' if codepage == 65001 else 'cp%d' % codepage
        return b''.join(p if isinstance(p, bytes) else p.encode(codec, errors='replace') for p in self.parts)


class Session:
    """One ``cmd.exe /c`` run: its environment, current folder, code page and errorlevel."""

    def __init__(self, host: 'WindowsHost', ctx: t.Any) -> None:
        self.host = host
        self.ctx = ctx
        self.username = ctx.username
        self.env = host.environment(ctx.username)
        for key, value in (getattr(ctx, 'environment', None) or {}).items():
            self._set_env(key, value)
        self.cwd = host.default_cwd(ctx.username)
        wd = getattr(ctx, 'working_directory', None)
        if wd:
            try:
                self.cwd = host.fs.canonical(wd)
            except (WinError, ValueError):
                pass
        self.codepage = int(getattr(ctx, 'codepage', 437) or 437)
        self.errorlevel = 0
        self.stdout = _Output()
        self.stderr = _Output()
        self.exited = False

    # -- environment ---------------------------------------------------------------------------
    def _get_env(self, name: str) -> t.Optional[str]:
        for key, value in self.env.items():
            if fold(key) == fold(name):
                return value
        return None

    def _set_env(self, name: str, value: t.Optional[str]) -> None:
        for key in list(self.env):
            if fold(key) == fold(name):
                del self.env[key]
        if value is not None and value != '':
            self.env[name] = value

    def expand(self, text: str) -> str:
        def repl(match: 're.Match[str]') -> str:
            value = self._get_env(match.group(1))
            return match.group(0) if value is None else value
        return re.sub(r'%([^%\r\n]+)%', repl, text)

    # -- running -------------------------------------------------------------------------------
    def run_line(self, line: str, stdin: bytes) -> CommandResult:
        """Run a whole ``cmd /c`` line; the exit code is the last command's errorlevel."""
        self._run_sequence(self.expand(line), stdin)
        return CommandResult(self.stdout.result(self.codepage), self.stderr.result(self.codepage), self.errorlevel)

    def _run_sequence(self, line: str, stdin: bytes) -> None:
        pieces = split_operators(line)
        # pieces alternate: command, operator, command, ...
        i = 0
        pending_stdin = stdin
        while i < len(pieces) and not self.exited:
            command = pieces[i]
            op = pieces[i + 1] if i + 1 < len(pieces) else None
            if op == '|':
                captured = _Output()
                saved, self.stdout = self.stdout, captured
                try:
                    self._run_simple(command, pending_stdin)
                finally:
                    self.stdout = saved
                pending_stdin = _to_bytes(captured.result(self.codepage), self.codepage)
                i += 2
                continue
            self._run_simple(command, pending_stdin)
            pending_stdin = stdin
            if op is None:
                break
            nxt = i + 2
            if op == '&&' and self.errorlevel != 0:
                nxt = _skip_to(pieces, nxt, ('&', '||'))
            elif op == '||' and self.errorlevel == 0:
                nxt = _skip_to(pieces, nxt, ('&', '&&'))
            i = nxt

    def _run_simple(self, text: str, stdin: bytes) -> None:
        text = text.lstrip(' \t')     # trailing blanks stay: "echo a | more" prints "a "
        if not text.strip():
            return
        try:
            text, redirs = parse_redirections(text)
        except ValueError as exc:
            self.stderr.write('%s\n' % exc)
            self.errorlevel = 1
            return
        out, err = self.stdout, self.stderr
        sinks: t.List[t.Tuple[str, str, _Output]] = []
        for fd, mode, target in redirs:
            if fd == 0:
                try:
                    stdin = b'' if fold(target) == 'NUL' else self.host.fs.read_bytes(target, self.cwd)
                except WinError as exc:
                    self.stderr.write(exc.message + '\n')
                    self.errorlevel = 1
                    return
                continue
            if target == '&1':
                if fd == 2:
                    err = out
                continue
            if target == '&2':
                if fd == 1:
                    out = err
                continue
            buf = _Output()
            sinks.append((mode, target, buf))
            if fd == 1:
                out = buf
            else:
                err = buf
        saved = self.stdout, self.stderr
        self.stdout, self.stderr = out, err
        try:
            self._dispatch(unescape(text), stdin)
        finally:
            self.stdout, self.stderr = saved
        for mode, target, buf in sinks:
            if fold(target) == 'NUL':
                continue
            data = _to_bytes(buf.result(self.codepage), self.codepage)
            try:
                self.host.fs.write_bytes(target, data, self.cwd, append=(mode == '>>'))
            except WinError as exc:
                self.stderr.write(exc.message + '\n')
                self.errorlevel = 1

    def _dispatch(self, text: str, stdin: bytes) -> None:
        name, rest = split_command_name(text)
        key = fold(name)
        builtin = _BUILTINS.get(key)
        if builtin is not None:
            builtin(self, rest, stdin)
            return
        if key in ('CMD', 'CMD.EXE') or fold(name).endswith('\\CMD.EXE'):
            self._cmd(rest, stdin)
            return
        self.run_program(text, stdin)

    def run_program(self, command_line: str, stdin: bytes, direct: bool = False) -> None:
        """Start a program as a process bound to this shell and wait for it."""
        out = ConsoleSink()
        err = ConsoleSink()
        try:
            proc = self.host.processes.start(command_line, shell_id=self.ctx.shell_id, username=self.username,
                                             cwd=self.cwd, env=self.env, stdin=stdin, stdout=out, stderr=err,
                                             codepage=self.codepage)
        except WinError as exc:
            if exc.code != ERROR_FILE_NOT_FOUND:
                raise
            name = split_command_name(command_line)[0]
            self.stderr.write(exc.message + '\n' if direct else NOT_RECOGNIZED % name.strip('"'))
            self.errorlevel = 1
            return
        except NotEmulated as exc:
            self.stderr.write('%s\n' % exc)
            self.errorlevel = 1
            return
        proc.wait()
        self.stdout.write(out.value())
        self.stderr.write(err.value())
        self.errorlevel = t.cast(int, proc.exit_code)

    # -- built-ins -----------------------------------------------------------------------------
    def _echo(self, rest: str, stdin: bytes) -> None:
        del stdin
        if rest == '' or rest.strip() == '':
            if rest[:1] in ('', ' ', '\t'):
                self.stdout.write('ECHO is on.\n')
            else:
                self.stdout.write('\n')
            return
        if rest[0] in ' \t':
            rest = rest[1:]
            if fold(rest.strip()) in ('ON', 'OFF'):
                return
        else:
            rest = rest[1:]   # echo. echo/ echo: print what follows the delimiter
        self.stdout.write(rest + '\n')
        self.errorlevel = 0

    def _type(self, rest: str, stdin: bytes) -> None:
        del stdin
        names = [a.strip('"') for a in split_words(rest)]
        if not names:
            self.stderr.write('The syntax of the command is incorrect.\n')
            self.errorlevel = 1
            return
        code = 0
        for name in names:
            try:
                data = self.host.fs.read_bytes(name, self.cwd)
            except WinError as exc:
                self.stderr.write(exc.message + '\n')
                code = 1
                continue
            if len(names) > 1:
                self.stderr.write('\n%s\n\n\n' % name)
            if data.startswith(b'\xff\xfe'):
                self.stdout.write(data[2:].decode('utf-16-le', errors='replace'))
            else:
                self.stdout.write(data)
        self.errorlevel = code

    def _cd(self, rest: str, stdin: bytes) -> None:
        del stdin
        arg = rest.strip()
        if fold(arg[:2]) == '/D':
            arg = arg[2:].strip()
        arg = arg.strip('"')
        if not arg:
            self.stdout.write(str(self.cwd) + '\n')
            self.errorlevel = 0
            return
        try:
            target = self.host.fs.canonical(arg, self.cwd)
        except (WinError, ValueError):
            target = None
        if target is None or not self.host.fs.is_dir(target):
            self.stderr.write('The system cannot find the path specified.\n')
            self.errorlevel = 1
            return
        self.cwd = target
        self.errorlevel = 0

    def _set(self, rest: str, stdin: bytes) -> None:
        del stdin
        arg = rest.strip()
        if arg.startswith('"') and arg.endswith('"') and len(arg) > 1:
            arg = arg[1:-1]
        if '=' in arg:
            name, _sep, value = arg.partition('=')
            self._set_env(name, value)
            self.errorlevel = 0
            return
        matches = sorted(((k, v) for k, v in self.env.items() if fold(k).startswith(fold(arg))), key=lambda kv: fold(kv[0]))
        if not matches:
            self.stderr.write('Environment variable %s not defined\n' % arg)
            self.errorlevel = 1
            return
        for key, value in matches:
            self.stdout.write('%s=%s\n' % (key, value))
        self.errorlevel = 0

    def _ver(self, rest: str, stdin: bytes) -> None:
        del rest, stdin
        self.stdout.write('\nMicrosoft Windows [Version %s]\n' % WINDOWS_VERSION)
        self.errorlevel = 0

    def _exit(self, rest: str, stdin: bytes) -> None:
        del stdin
        words = split_words(rest)
        if words and fold(words[0]) == '/B':
            words = words[1:]
        if words:
            match = re.match(r'^[+-]?\d+', words[0])
            self.errorlevel = int(match.group(0)) if match else 0
        self.exited = True

    def _rem(self, rest: str, stdin: bytes) -> None:
        del rest, stdin

    def _move(self, rest: str, stdin: bytes) -> None:
        """``move [/y | /-y] <file> <destination>`` for a single file, as cmd.exe's built-in."""
        del stdin
        words = [w.strip('"') for w in split_words(rest)]
        switches = [fold(w) for w in words if w.startswith('/')]
        names = [w for w in words if not w.startswith('/')]
        if len(names) != 2 or any(sw not in ('/Y', '/-Y') for sw in switches) or any(ch in names[0] for ch in '*?,'):
            self.stderr.write('The syntax of the command is incorrect.\n')
            self.errorlevel = 1
            return
        fs = self.host.fs
        source, dest = names
        try:
            if not fs.is_file(source, self.cwd):
                raise WinError(ERROR_FILE_NOT_FOUND, source)
            if fs.is_dir(dest, self.cwd):
                dest = str(fs.parse(dest, self.cwd).joinpath(fs.parse(source, self.cwd).name))
            if fs.exists(dest, self.cwd) and '/Y' not in switches:
                self.stderr.write('The lab does not emulate move\'s overwrite prompt; pass /Y.\n')
                self.errorlevel = 1
                return
            fs.replace(source, dest, self.cwd)
        except WinError as exc:
            self.stderr.write(exc.message + '\n')
            self.stdout.write('        0 file(s) moved.\n')
            self.errorlevel = 1
            return
        self.stdout.write('        1 file(s) moved.\n')
        self.errorlevel = 0

    def _cmd(self, rest: str, stdin: bytes) -> None:
        """``cmd [/s] [/q] [/d] [/c | /k] line``: run ``line`` in a nested cmd.exe."""
        text = rest.lstrip()
        strip_quotes = False
        while text[:1] == '/':
            switch, _sep, remainder = text.partition(' ')
            sw = fold(switch)
            if sw in ('/C', '/K'):
                text = remainder.lstrip()
                break
            if sw.startswith('/C') or sw.startswith('/K'):
                text = text[2:].lstrip()
                break
            if sw == '/S':
                strip_quotes = True
            text = remainder.lstrip()
        else:
            if not text:
                self.stdout.write('Microsoft Windows [Version %s]\n(c) Microsoft Corporation. All rights reserved.\n'
                                  % WINDOWS_VERSION)
                self.errorlevel = 0
                return
        if text.startswith('"') and not self._keeps_quotes(text, strip_quotes):
            last = text.rfind('"')
            text = text[1:last] + text[last + 1:] if last > 0 else text[1:]
        nested = Session(self.host, self.ctx)
        nested.env = dict(self.env)
        nested.cwd = self.cwd
        nested.codepage = self.codepage
        result = nested.run_line(text, stdin)
        self.stdout.write(result.stdout)
        self.stderr.write(result.stderr)
        self.errorlevel = result.exit_code

    def _keeps_quotes(self, text: str, strip: bool) -> bool:
        """cmd /c keeps a line's quotes only when (cmd /?): no /S, exactly two quotes, no
        special character and some whitespace between them, and they enclose a program name."""
        if strip or text.count('"') != 2:
            return False
        inner = text[1:text.index('"', 1)]
        if any(ch in inner for ch in '&<>()@^|') or not any(ch.isspace() for ch in inner):
            return False
        return self.host.processes.find_program(inner, self.cwd, self.env) is not None


_BUILTINS: t.Dict[str, t.Callable[[Session, str, bytes], None]] = {
    'ECHO': Session._echo,   # pylint: disable=protected-access
    'TYPE': Session._type,   # pylint: disable=protected-access
    'CD': Session._cd,   # pylint: disable=protected-access
    'CHDIR': Session._cd,   # pylint: disable=protected-access
    'SET': Session._set,   # pylint: disable=protected-access
    'VER': Session._ver,   # pylint: disable=protected-access
    'EXIT': Session._exit,   # pylint: disable=protected-access
    'REM': Session._rem,   # pylint: disable=protected-access
    'MOVE': Session._move,   # pylint: disable=protected-access
}


def run(host: 'WindowsHost', ctx: t.Any, command_line: str, stdin: bytes) -> CommandResult:
    """Run ``command_line`` on ``host`` as WinRS would: through cmd.exe, or directly when the
    shell skips it."""
    session = Session(host, ctx)
    if getattr(ctx, 'skip_cmd_shell', False):
        if len(command_line) > 32767:
            return CommandResult('', 'The filename or extension is too long.\r\n', 1)
        session.run_program(command_line, stdin, direct=True)
        return CommandResult(session.stdout.result(session.codepage), session.stderr.result(session.codepage),
                             session.errorlevel)
    return session.run_line(command_line, stdin)


# -- parsing helpers -----------------------------------------------------------------------------
def split_operators(line: str) -> t.List[str]:
    """``a && b | c`` -> ``['a ', '&&', ' b ', '|', ' c']`` (quotes and ``^`` respected)."""
    out: t.List[str] = []
    buf: t.List[str] = []
    quoted = False
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch == '"':
            quoted = not quoted
        elif ch == '^' and not quoted and i + 1 < n:
            buf.append(line[i:i + 2])
            i += 2
            continue
        elif not quoted and ch in '&|':
            op = line[i:i + 2] if line[i:i + 2] in ('&&', '||') else ch
            out.extend([''.join(buf), op])
            buf = []
            i += len(op)
            continue
        buf.append(ch)
        i += 1
    out.append(''.join(buf))
    return out


def _skip_to(pieces: t.List[str], i: int, stops: t.Tuple[str, ...]) -> int:
    """Index of the command after the next operator in ``stops`` (past the end if none)."""
    while i < len(pieces):
        if i + 1 < len(pieces) and pieces[i + 1] in stops:
            return i + 2
        i += 2
    return len(pieces)


_REDIR = re.compile(r'(?P<fd>[012])?(?P<op>>>|>|<)\s*(?P<target>&[012]|"[^"]*"|[^\s<>&|]+)')


def parse_redirections(text: str) -> t.Tuple[str, t.List[t.Tuple[int, str, str]]]:
    """Take ``>``, ``>>``, ``<``, ``2>&1`` out of a command: (command, [(fd, op, target)])."""
    redirs: t.List[t.Tuple[int, str, str]] = []
    out: t.List[str] = []
    quoted = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch == '^' and not quoted and i + 1 < n:
            out.append(text[i:i + 2])
            i += 2
            continue
        elif not quoted and ch in '<>' or (not quoted and ch in '012' and text[i + 1:i + 2] in ('<', '>')
                                           and (i == 0 or text[i - 1] in ' \t')):
            match = _REDIR.match(text, i)
            if not match:
                raise ValueError('The syntax of the command is incorrect.')
            op = match.group('op')
            fd = int(match.group('fd')) if match.group('fd') else (0 if op == '<' else 1)
            redirs.append((fd, op, match.group('target').strip('"')))
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return ''.join(out), redirs


def unescape(text: str) -> str:
    """Drop cmd.exe's ``^`` escapes outside quotes."""
    out: t.List[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch == '^' and not quoted and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return ''.join(out)


def split_command_name(text: str) -> t.Tuple[str, str]:
    """The command name and the rest, as cmd.exe splits them (``echo.`` -> ``echo``, ``.``)."""
    text = text.lstrip(' \t@')
    if text.startswith('"'):
        end = text.find('"', 1)
        end = len(text) if end < 0 else end + 1
        return text[:end], text[end:]
    match = re.match(r'[^\s./:(=,;+]+', text)
    if not match:
        return text, ''
    name = match.group(0)
    rest = text[len(name):]
    # a path such as C:\Tools\x.exe or robocopy.exe keeps its dots, backslashes and colon
    if rest[:1] in ('.', '\\', ':') and fold(name) not in _BUILTINS:
        more = re.match(r'[^\s]+', rest)
        name += more.group(0) if more else ''
        rest = rest[len(more.group(0)) if more else 0:]
    return name, rest


def split_words(text: str) -> t.List[str]:
    """Whitespace-separated words, quotes kept together (and kept)."""
    return re.findall(r'"[^"]*"|[^\s"]+', text)


def _to_bytes(data: t.Union[str, bytes], codepage: int) -> bytes:
    if isinstance(data, bytes):
        return data
    return data.encode('utf-8' if codepage == 65001 else 'cp%d' % codepage, errors='replace')
