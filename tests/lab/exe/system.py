"""Small programs of ``C:\\Windows\\System32``: cmd.exe, hostname, whoami, chcp and more."""
from __future__ import annotations

import typing as t


def hostname_main(proc: t.Any) -> int:
    if len(proc.argv) > 1:
        proc.error('sethostname: Use the Network Control Panel Applet to set hostname.\n'
                   'hostname -s is not supported.\n' if proc.argv[1].lower() == '-s' else
                   'sethostname: Use the Network Control Panel Applet to set hostname.\n')
        return 1
    proc.write(proc.host.name + '\n')
    return 0


def whoami_main(proc: t.Any) -> int:
    """``whoami`` prints ``computer\\user`` in lower case; ``/groups`` and ``/user`` are not emulated."""
    args = proc.argv[1:]
    if args:
        proc.error('ERROR: Invalid argument/option - \'%s\'.\nType "WHOAMI /?" for usage.\n' % args[0])
        return 1
    account = proc.host.accounts.get(proc.username)
    name = account.name if account else proc.username
    proc.write(('%s\\%s' % (proc.host.name, name)).lower() + '\n')
    return 0


def chcp_main(proc: t.Any) -> int:
    args = proc.argv[1:]
    if args and not args[0].isdigit():
        proc.error('Parameter format not correct - %s\n' % args[0])
        return 1
    page = int(args[0]) if args else proc.codepage
    proc.write('Active code page: %d\n' % page)
    return 0


def more_main(proc: t.Any) -> int:
    """``more`` with input redirected: it copies its input (files named, else stdin) to stdout."""
    names = [a for a in proc.argv[1:] if not a.startswith('/')]
    codec = 'utf-8' if proc.codepage == 65001 else 'cp%d' % proc.codepage
    if not names:
        proc.write(proc.stdin.decode(codec, errors='replace').replace('\r\n', '\n'))
        return 0
    for name in names:
        try:
            data = proc.fs.read_bytes(name, proc.cwd)
        except OSError:
            proc.error('Cannot access file %s\n' % name)
            return 1
        proc.write(data.decode(codec, errors='replace').replace('\r\n', '\n'))
    return 0


def cmd_main(proc: t.Any) -> int:
    """``cmd.exe /c <line>`` started as a program (by a job step, say)."""
    from ..windows import cmdshell  # pylint: disable=import-outside-toplevel  # cmdshell needs the host package

    line = proc.command_line
    program = proc.argv[0]
    rest = line[len(program) + 2:] if line.startswith('"') else line[len(program):]

    class _Ctx:
        username = proc.username
        codepage = proc.codepage
        shell_id = proc.process.shell_id
        working_directory = str(proc.cwd)
        environment = proc.env
        skip_cmd_shell = False

    session = cmdshell.Session(proc.host, _Ctx())
    session.env = dict(proc.env)
    session.cwd = proc.cwd
    result = session.run_line('cmd ' + rest.strip() if rest.strip() else 'cmd', proc.stdin)
    out, err = result.stdout, result.stderr
    codec = 'utf-8' if proc.codepage == 65001 else 'cp%d' % proc.codepage
    proc.write((out.decode(codec, errors='replace') if isinstance(out, bytes) else out).replace('\r\n', '\n'))
    proc.error((err.decode(codec, errors='replace') if isinstance(err, bytes) else err).replace('\r\n', '\n'))
    return result.exit_code
