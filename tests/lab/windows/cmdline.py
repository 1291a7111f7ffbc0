r"""Windows command lines as ``CommandLineToArgvW`` splits them, written independently of the
collection's own quoting so the lab can check it.

The rules (shell32, as documented in "Parsing C++ command-line arguments" and implemented the
same way by Wine and ReactOS):

- The program name (``argv[0]``) ends at the next ``"`` when it starts with one, else at the
  first whitespace. Backslashes are not special in it.
- Arguments are separated by spaces and tabs outside quotes.
- ``2n`` backslashes before a ``"`` give ``n`` backslashes and the quote opens or closes
  quoting; ``2n+1`` backslashes before a ``"`` give ``n`` backslashes and a literal ``"``.
  Backslashes not before a quote are literal.
- Inside quotes, ``""`` gives a literal ``"``: in a run of quotes, every third one is literal
  (the ``qcount`` rule).
"""
from __future__ import annotations

import typing as t


def command_line_to_argv(line: str) -> t.List[str]:
    """Split a whole command line, program name first."""
    i, n = 0, len(line)
    if n and line[0] == '"':
        end = line.find('"', 1)
        if end < 0:
            return [line[1:]]
        program = line[1:end]
        i = end + 1
    else:
        while i < n and not line[i].isspace():
            i += 1
        program = line[:i]
        if i < n:
            i += 1
    return [program] + split_arguments(line[i:])


def split_arguments(tail: str) -> t.List[str]:
    """Split the arguments after the program name."""
    args: t.List[str] = []
    out: t.List[str] = []
    started = False
    qcount = 0
    bcount = 0
    i, n = 0, len(tail)
    while i < n:
        ch = tail[i]
        if ch in ' \t' and qcount == 0:
            if started:
                args.append(''.join(out))
                out = []
                started = False
            bcount = 0
            i += 1
            continue
        started = True
        if ch == '\\':
            out.append(ch)
            bcount += 1
            i += 1
            continue
        if ch == '"':
            if bcount % 2 == 0:
                if bcount:
                    del out[len(out) - bcount // 2:]
                qcount += 1
            else:
                del out[len(out) - (bcount // 2 + 1):]
                out.append('"')
            bcount = 0
            i += 1
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
    if started:
        args.append(''.join(out))
    return args


def quote_argument(arg: str) -> str:
    """Quote one argument so :func:`split_arguments` gives it back unchanged."""
    if arg and not any(ch in ' \t\n\v"' for ch in arg):
        return arg
    out = ['"']
    backslashes = 0
    for ch in arg:
        if ch == '\\':
            backslashes += 1
            continue
        if ch == '"':
            out.append('\\' * (2 * backslashes + 1) + '"')
        else:
            out.append('\\' * backslashes + ch)
        backslashes = 0
    out.append('\\' * (2 * backslashes) + '"')
    return ''.join(out)


def build_command_line(program: str, args: t.Iterable[str]) -> str:
    """A command line for ``program`` (quoted when it holds spaces) and ``args``."""
    head = '"%s"' % program if (' ' in program or '\t' in program) else program
    return ' '.join([head] + [quote_argument(a) for a in args])
