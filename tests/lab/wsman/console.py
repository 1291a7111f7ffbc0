"""What happens between WinRS and the program: cmd.exe's line limit and console code pages."""
from __future__ import annotations

import codecs
import typing as t

from .context import CommandResult

CMD_MAX_COMMAND_LINE = 8191
"""cmd.exe's longest command line, in characters (Microsoft KB830473, "Command prompt
(Cmd.exe) command-line string limitation")."""

CMD_LINE_TOO_LONG = CommandResult(stdout='', stderr='The command line is too long.\r\n', exit_code=1)
"""What cmd.exe does with a longer line: it prints ``The command line is too long.`` on stderr
and exits with 1 without running anything (observed with ``cmd /c`` in ocaml/flexdll#68:
"The command line is too long. ... return code: 1"). The exact threshold on a real host also
depends on the prefix WinRS puts before the line when it starts cmd.exe, which is not
documented; the lab applies the documented 8,191 to the line the client sent."""


def command_line(command: str, arguments: t.Sequence[str]) -> str:
    """The line Windows sees: the ``rsp:Command`` text and each ``rsp:Arguments``, space-joined."""
    return ' '.join([command] + [a for a in arguments if a != ''])


def through_cmd_exe(line: str, skip_cmd_shell: bool) -> t.Optional[CommandResult]:
    """cmd.exe's verdict on a line it is asked to run, or None when the line reaches the program."""
    if not skip_cmd_shell and len(line) > CMD_MAX_COMMAND_LINE:
        return CMD_LINE_TOO_LONG
    return None


def codec_for(codepage: int) -> t.Optional[str]:
    """The Python codec of a Windows code page, or None when Python has none."""
    name = 'utf-8' if codepage == 65001 else 'cp%d' % codepage
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def encode_output(data: t.Union[str, bytes], codepage: int) -> bytes:
    """Console text in the shell's code page; unmappable characters become ``?`` (the default
    character of ``WideCharToMultiByte``). Bytes pass through: the program wrote them itself."""
    if isinstance(data, bytes):
        return data
    codec = codec_for(codepage) or 'cp437'
    return data.encode(codec, errors='replace')
