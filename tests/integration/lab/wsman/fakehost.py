"""A minimal Windows stand-in for testing the WS-Management layer on its own.

It understands a handful of command forms, enough to exercise the protocol the way real
clients use it:

- cmd.exe: ``echo TEXT`` (``%VAR%`` expanded from the shell environment), ``cd`` (prints the
  working directory), ``whoami``, ``exit /b N``, ``findstr "^"`` (copies stdin to stdout),
  ``timeout /t SECONDS`` (sleeps; fractions allowed to keep tests fast);
- ``PowerShell ... -EncodedCommand BASE64`` (what Ansible's winrm plugin sends), whose script
  lines may be ``Write-Output 'TEXT'`` / ``echo TEXT``, ``$input`` or
  ``[Console]::In.ReadToEnd()`` (stdin decoded with the shell's code page), ``exit N``.

Anything else fails like cmd.exe does for an unknown program. The module imports nothing
from the lab so that it loads both in-process and through ``cli.py up --backend``.
"""
from __future__ import annotations

import base64
import dataclasses
import re
import shlex
import threading
import time
import typing as t


@dataclasses.dataclass
class Result:
    stdout: t.Union[str, bytes] = ''
    stderr: t.Union[str, bytes] = ''
    exit_code: int = 0


class FakeHost:
    def __init__(self, name: str, accounts: t.Mapping[str, str]) -> None:
        self.name = name
        self.accounts = dict(accounts)
        self.processes: set[str] = set()
        self.calls: list[tuple[t.Any, str, bytes]] = []
        self.closed_shells: list[str] = []
        self._lock = threading.Lock()

    def authenticate(self, username: str, password: str) -> bool:
        return self.accounts.get(username) == password

    def process_running(self, image_name: str) -> bool:
        return image_name.lower() in {p.lower() for p in self.processes}

    def shell_closed(self, shell_id: str) -> None:
        with self._lock:
            self.closed_shells.append(shell_id)

    def run_command(self, ctx: t.Any, command_line: str, stdin: bytes) -> Result:
        with self._lock:
            self.calls.append((ctx, command_line, stdin))
        words = command_line.split(None, 1)
        program = words[0].lower() if words else ''
        rest = words[1] if len(words) > 1 else ''
        if program in ('powershell', 'powershell.exe'):
            return self._powershell(ctx, rest, stdin)
        if program == 'cmd' and rest.lower().startswith('/c '):
            return self.run_command(ctx, rest[3:], stdin)
        if program == 'echo':
            return Result(re.sub(r'%(\w+)%', lambda m: ctx.environment.get(m.group(1), m.group(0)), rest) + '\r\n')
        if program == 'cd' and not rest:
            return Result(ctx.working_directory + '\r\n')
        if program == 'whoami':
            return Result('%s\\%s\r\n' % (self.name.lower(), ctx.username.lower()))
        if program == 'exit':
            return Result(exit_code=int(rest.split()[-1]))
        if program == 'findstr':
            return Result(stdin)
        if program == 'timeout':
            time.sleep(float(rest.split()[1]))
            return Result()
        return Result(stderr="'%s' is not recognized as an internal or external command,\r\n"
                             "operable program or batch file.\r\n" % words[0], exit_code=1)

    def _powershell(self, ctx: t.Any, arguments: str, stdin: bytes) -> Result:
        args = shlex.split(arguments)
        lowered = [a.lower() for a in args]
        if '-encodedcommand' not in lowered:
            return Result(stderr='this fake PowerShell only runs -EncodedCommand\r\n', exit_code=1)
        script = base64.b64decode(args[lowered.index('-encodedcommand') + 1]).decode('utf-16-le')
        out: list[str] = []
        codec = 'utf-8' if ctx.codepage == 65001 else 'cp%d' % ctx.codepage
        for line in (x.strip() for x in script.splitlines()):
            match = re.match(r"^(?:Write-Output|echo)\s+(?:'(.*)'|(.*))$", line, re.IGNORECASE)
            if match:
                out.append((match.group(1) if match.group(1) is not None else match.group(2)).replace("''", "'"))
            elif line.lower() in ('$input', '[console]::in.readtoend()'):
                out.append(stdin.decode(codec, errors='replace'))
            elif line.lower().startswith('exit '):
                return Result(''.join(x if x.endswith('\n') else x + '\r\n' for x in out), '', int(line.split()[1]))
            elif line:
                return Result(stderr="%s : The term '%s' is not recognized as the name of a cmdlet.\r\n"
                                     % (line.split()[0], line.split()[0]), exit_code=1)
        return Result(''.join(x if x.endswith('\n') else x + '\r\n' for x in out))


def build(entry: dict, state_dir: str, shared: dict) -> FakeHost:
    """Backend factory for ``Lab``/``cli.py up --backend``: a FakeHost with the spec's accounts."""
    del state_dir, shared
    return FakeHost(entry['name'], {name: acc['password'] for name, acc in entry['accounts'].items()})
