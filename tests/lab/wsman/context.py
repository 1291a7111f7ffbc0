"""The contract between the WS-Management layer and an emulated Windows host.

The server calls, on the host backend (``lab.windows.host``)::

    host.name: str
    host.authenticate(username, password) -> bool
    host.run_command(ctx: ShellContext, command_line: str, stdin: bytes) -> CommandResult
    host.process_running(image_name) -> bool     # a detached process of that exe is running
    host.shell_closed(shell_id) -> None          # optional: the shell was deleted or timed out

Who does what:

- The WS-Management layer owns the protocol: shells, commands, stdin buffering, output
  chunking, quotas, timeouts, and what ``cmd.exe`` does before the command runs (the
  8,191-character line limit when ``WINRS_SKIP_CMD_SHELL`` is false). It hands the host the
  command line exactly as Windows would see it: the ``Command`` text, then each
  ``Arguments`` element, joined by single spaces.
- The host runs the command once its whole stdin is known (after a ``Send`` with
  ``End="true"``, or at the first ``Receive`` when no stdin was ever sent) and returns a
  ``CommandResult``. A host may block for as long as the emulated command takes: the command
  runs on its own thread, and ``Receive`` answers ``w:TimedOut`` meanwhile, as Windows does.
- Encoding: ``stdin`` reaches the host as the raw bytes the client sent (the client encoded
  them; ``ctx.codepage`` says how a console program would decode them). ``stdout`` and
  ``stderr`` may be ``str`` or ``bytes``. A ``str`` is what a console program wrote through
  the console: the WS-Management layer encodes it with the shell's code page
  (``WINRS_CODEPAGE``; unmappable characters become ``?`` as with ``WideCharToMultiByte``).
  ``bytes`` are what a program wrote to its handle itself, and pass through unchanged.
- Processes started inside a shell die with it: ``shell_closed(shell_id)`` tells the host
  when a shell is deleted, times out, or the lab stops.
"""
from __future__ import annotations

import dataclasses
import typing as t


@dataclasses.dataclass(frozen=True)
class ShellContext:
    """Where and as whom a command runs: one per command, built from its shell."""

    username: str
    """The authenticated account, without a domain prefix (``Administrator``)."""
    codepage: int
    """``WINRS_CODEPAGE`` of the shell: 437 unless the client asked for another (Ansible: 65001)."""
    shell_id: str
    working_directory: str
    """``rsp:WorkingDirectory`` of the shell, else the user's profile folder, as on Windows."""
    environment: t.Mapping[str, str]
    """The ``rsp:Environment`` variables the client set on the shell (not the whole environment)."""
    skip_cmd_shell: bool
    """``WINRS_SKIP_CMD_SHELL``: true when the command line was not passed through cmd.exe."""
    client_address: str
    command_id: str = ''
    noprofile: bool = False
    """``WINRS_NOPROFILE`` of the shell."""


@dataclasses.dataclass
class CommandResult:
    """What a command produced. See the module docstring for how ``str`` output is encoded."""

    stdout: t.Union[str, bytes] = ''
    stderr: t.Union[str, bytes] = ''
    exit_code: int = 0
