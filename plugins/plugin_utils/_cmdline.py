"""Windows command lines: quoting for, and parsing like, ``CommandLineToArgvW``.

A Windows process receives one command-line string, not an argument vector. Programs built
with the Microsoft C runtime (robocopy.exe) and .NET programs (WsusUtil.exe) split it the way
``CommandLineToArgvW`` does. :func:`join_args` builds the string that splits back into exactly
the given arguments; :func:`split_args` is that split, written from the documented algorithm
(the same one Wine and ReactOS implement), so tests can check the round trip.

No shell is involved anywhere: the job runner starts programs with
``System.Diagnostics.Process`` / ``Start-Process``, never through ``cmd.exe``, so ``%``, ``^``,
``&`` and ``|`` need no escaping and get none.
"""
from __future__ import annotations

from collections.abc import Iterable

from ._errors import AirgapWsusError

# cmd.exe and CreateProcess cap a command line at 32,767 UTF-16 units; cmd.exe at 8,191.
# Programs here are started by CreateProcess, so the larger limit applies.
MAX_COMMAND_LINE = 32767

_NEEDS_QUOTES = frozenset(' \t\n\v"')


class CommandLineError(AirgapWsusError, ValueError):
    """An argument that no Windows command line can carry."""


def quote_arg(arg: str) -> str:
    """Return ``arg`` quoted so that ``CommandLineToArgvW`` yields it unchanged.

    Backslashes are literal except before a double quote, where ``2n`` backslashes stand for
    ``n`` and ``2n+1`` for ``n`` plus a literal quote. So backslashes are doubled only before an
    embedded quote and before the closing quote (the trailing-backslash case that breaks
    ``robocopy "C:\\src\\" ...`` when quoted naively).
    """
    if not isinstance(arg, str):
        raise CommandLineError(f'command-line arguments must be strings, not {type(arg).__name__}')
    if '\0' in arg:
        raise CommandLineError('a command-line argument cannot contain a NUL character: Windows ends the command line there')
    if arg and not any(ch in _NEEDS_QUOTES for ch in arg):
        return arg
    out = ['"']
    backslashes = 0
    for ch in arg:
        if ch == '\\':
            backslashes += 1
            continue
        if ch == '"':
            out.append('\\' * (2 * backslashes + 1))
            out.append('"')
        else:
            out.append('\\' * backslashes)
            out.append(ch)
        backslashes = 0
    out.append('\\' * (2 * backslashes))
    out.append('"')
    return ''.join(out)


def join_args(args: Iterable[str]) -> str:
    """Return the command-line tail (everything after the program) for ``args``."""
    line = ' '.join(quote_arg(arg) for arg in args)
    if len(line) > MAX_COMMAND_LINE:
        raise CommandLineError(f'the command line would be {len(line)} characters long; Windows allows {MAX_COMMAND_LINE}. '
                               'Pass long lists through a file (robocopy /JOB:, for example).')
    return line


def quote_program(path: str) -> str:
    """Return ``path`` quoted as the first token of a command line.

    The program name follows simpler rules than arguments: it runs to the next quote when it
    starts with one, so it can hold spaces but never a quote (no Windows path can).
    """
    if not path or '"' in path or '\0' in path:
        raise CommandLineError(f'{path!r} cannot be a program path: it is empty or contains a quote or NUL')
    return f'"{path}"'


def split_args(tail: str) -> list[str]:
    """Split a command-line tail (no program name) as ``CommandLineToArgvW`` splits arguments.

    A port of the documented algorithm (as Wine's ``shell32`` implements it): ``qcount``
    counts unescaped quotes, a run of three quotes yields one literal quote, and whitespace
    ends an argument only outside quotes.
    """
    args: list[str] = []
    out: list[str] = []
    have_arg = False
    qcount = 0
    bcount = 0
    i, n = 0, len(tail)
    while i < n:
        ch = tail[i]
        if ch in ' \t' and qcount == 0:
            if have_arg:
                args.append(''.join(out))
                out = []
                have_arg = False
            bcount = 0
            i += 1
            continue
        have_arg = True
        if ch == '\\':
            out.append(ch)
            bcount += 1
            i += 1
            continue
        if ch == '"':
            if bcount % 2 == 0:
                # 2n backslashes before a quote stand for n; the quote toggles quoting.
                if bcount:
                    del out[-(bcount // 2):]
                qcount += 1
            else:
                # 2n+1 backslashes: n of them, then a literal quote.
                del out[-(bcount // 2 + 1):]
                out.append('"')
            i += 1
            bcount = 0
            while i < n and tail[i] == '"':
                qcount += 1
                if qcount == 3:
                    out.append('"')
                    qcount = 0
                i += 1
            if qcount == 2:
                qcount = 0
            continue
        out.append(ch)
        bcount = 0
        i += 1
    if have_arg:
        args.append(''.join(out))
    return args


def split_command_line(line: str) -> list[str]:
    """Split a whole command line, program name first, as ``CommandLineToArgvW`` does."""
    i, n = 0, len(line)
    if i < n and line[i] == '"':
        end = line.find('"', 1)
        program = line[1:] if end < 0 else line[1:end]
        i = n if end < 0 else end + 1
    else:
        while i < n and line[i] not in ' \t':
            i += 1
        program = line[:i]
    return [program] + split_args(line[i:])
