r"""``powershell.exe`` of an emulated host: Windows PowerShell 5.1's command line, and the
only scripts the lab can run.

The lab cannot run PowerShell. It recognises exactly two programs and runs their Python
emulations:

- the collection's bootstrap (``plugins/plugin_utils/powershell/bootstrap.ps1``), sent as
  ``-EncodedCommand`` after Ansible's normalization: :mod:`lab.ops.bootstrap` reads the host
  script and its parameters from stdin and runs the script's twin;
- the job runner launcher that ``job_start.ps1`` starts through ``Win32_Process.Create``:
  :mod:`lab.ops.jobs` runs the emulation of ``runner.ps1`` (which must be the shipped
  ``job_runner.ps1``).

Anything else fails loudly: stderr shows the first lines of the script and says the lab does
not emulate it, and the exit code is 1.
"""
from __future__ import annotations

import base64
import binascii
import typing as t

POWERSHELL_PATH = r'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe'

_VALUE_PARAMETERS = {
    'encodedcommand': ('e', 'ec', 'enc', 'encodedcommand'),
    'executionpolicy': ('ep', 'ex', 'exec', 'executionpolicy'),
    'command': ('c', 'command'),
    'file': ('f', 'file'),
    'inputformat': ('if', 'inp', 'inputformat'),
    'outputformat': ('o', 'of', 'outputformat'),
    'windowstyle': ('w', 'windowstyle'),
    'version': ('v', 'version'),
    'configurationname': ('config', 'configurationname'),
    'psconsolefile': ('psconsolefile',),
    'encodedarguments': ('ea', 'encodedarguments'),
}
_SWITCHES = ('noprofile', 'noninteractive', 'nologo', 'noexit', 'sta', 'mta')


def parse_arguments(args: t.Sequence[str]) -> t.Dict[str, t.Any]:
    """powershell.exe's parameters: switches, ``-X value`` pairs, and ``-Command``/``-File`` tails."""
    opts: t.Dict[str, t.Any] = {'switches': set()}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg[:1] not in ('-', '/') or len(arg) < 2:
            opts['command'] = ' '.join(args[i:])
            break
        name = arg[1:].lower()
        key = next((k for k, aliases in _VALUE_PARAMETERS.items() if name in aliases), None)
        if key is None:
            candidates = [k for k in list(_VALUE_PARAMETERS) + list(_SWITCHES) if k.startswith(name)]
            key = candidates[0] if len(candidates) == 1 else None
        if key is None:
            opts['command'] = ' '.join(args[i:])
            break
        if key in _SWITCHES:
            opts['switches'].add(key)
            i += 1
            continue
        if key == 'command':
            opts['command'] = ' '.join(args[i + 1:])
            break
        if key == 'file':
            opts['file'] = args[i + 1] if i + 1 < len(args) else ''
            opts['file_args'] = list(args[i + 2:])
            break
        opts[key] = args[i + 1] if i + 1 < len(args) else None
        i += 2
    return opts


def main(proc: t.Any) -> int:
    """Entry point of the emulated powershell.exe."""
    from ..ops import bootstrap, jobs, scripts  # pylint: disable=import-outside-toplevel  # ops builds on windows
    opts = parse_arguments(proc.argv[1:])
    if 'encodedcommand' in opts:
        encoded = opts['encodedcommand'] or ''
        try:
            text = base64.b64decode(encoded, validate=True).decode('utf-16-le')
        except (binascii.Error, ValueError, UnicodeDecodeError):
            proc.error('Cannot process the command because the value specified with -EncodedCommand is not properly '
                       'encoded. The value must be Base64 encoded.\n')
            return 1
        if scripts.is_bootstrap(text):
            return bootstrap.run(proc)
        launcher = scripts.job_launcher()
        if launcher is not None and scripts.normalize_command(text) == scripts.normalize_command(launcher):
            return jobs.run_launcher(proc)
        return not_emulated(proc, text, 'the script passed with -EncodedCommand')
    if 'file' in opts:
        try:
            text = proc.fs.read_bytes(opts['file'], proc.cwd).decode('utf-8-sig', errors='replace')
        except OSError:
            proc.error("The argument '%s' to the -File parameter does not exist. Provide the path to an existing '.ps1' "
                       "file as an argument to the -File parameter.\n" % opts['file'])
            return -196608   # 0xFFFD0000, what powershell.exe exits with when -File names no file
        return not_emulated(proc, text, 'the script file %s' % opts['file'])
    if opts.get('command') is not None:
        command = opts['command']
        if command.strip() == '-':
            command = proc.stdin.decode('utf-8', errors='replace')
        return not_emulated(proc, command, 'the command passed with -Command')
    return not_emulated(proc, proc.stdin.decode('utf-8', errors='replace'), 'the commands sent on stdin')


def not_emulated(proc: t.Any, text: str, what: str) -> int:
    """Refuse a script the lab cannot run, showing its first lines."""
    lines = [line for line in text.splitlines() if line.strip()][:6]
    head = '\n'.join('    ' + line[:200] for line in lines) or '    (empty)'
    proc.error('The airgap.wsus lab host %s does not emulate this PowerShell script (%s). Its emulated PowerShell runs only '
               'the collection\'s bootstrap (plugins/plugin_utils/powershell/bootstrap.ps1, with a host script on stdin) '
               'and the detached job runner. The script begins:\n%s\n' % (proc.host.name, what, head))
    return 1
