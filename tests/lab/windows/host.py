r"""An emulated Windows Server host: drives, registry, accounts, services, processes.

The WS-Management layer calls (see ``lab/wsman/context.py``)::

    host.name
    host.authenticate(username, password) -> bool
    host.run_command(ctx, command_line, stdin) -> CommandResult
    host.process_running(image_name) -> bool
    host.shell_closed(shell_id) -> None

Other emulations build on:

- ``host.fs`` (:class:`~.filesystem.FileSystem`): Windows paths to sandbox files, with
  capacity, speed, locks and ACL faults;
- ``host.registry`` (:class:`~.registry.Registry`), ``host.accounts``
  (:class:`~.accounts.Accounts`), ``host.services`` (:class:`Services`);
- ``host.processes`` (:class:`~.processes.ProcessTable`), ``host.register_executable(path,
  main)`` and ``host.start_process(...)`` (what ``Win32_Process.Create`` does);
- ``host.faults`` (:class:`~.faults.HostFaults`);
- ``host.wsus``: set by the WSUS emulation when the role is installed.

Sandbox layout under the host's state folder: ``drives/<letter>`` for each local drive,
``registry.json``; removable media and shares live where ``shared`` says.
"""
from __future__ import annotations

import dataclasses
import pathlib
import threading
import typing as t

from ..wsman.context import CommandResult, ShellContext
from . import cmdshell
from .accounts import Account, Accounts
from .errors import ERROR_BAD_NET_NAME, WinError
from .faults import HostFaults
from .filesystem import FileSystem
from .paths import WinPath, fold, parse_path
from .processes import FileSink, Main, Process, ProcessTable, checkpoint
from .registry import Registry
from .volumes import Drive, parse_size, volume_for

__all__ = ['CommandResult', 'ShellContext', 'WindowsHost', 'Service', 'Services', 'build_host']

SYSTEM32 = r'C:\Windows\System32'
DEFAULT_PATH = r'C:\Windows\system32;C:\Windows;C:\Windows\System32\Wbem;C:\Windows\System32\WindowsPowerShell\v1.0\;' \
               r'C:\Windows\System32\OpenSSH\;C:\Program Files\Update Services\Tools'
DEFAULT_DRIVES: t.Dict[str, t.Dict[str, t.Any]] = {
    'C:': {'type': 'fixed', 'size': '127 GiB', 'free': '60 GiB', 'file_system': 'NTFS', 'label': 'System'},
    'D:': {'type': 'fixed', 'size': '500 GiB', 'free': '450 GiB', 'file_system': 'NTFS', 'label': 'Data'},
}


@dataclasses.dataclass
class Service:
    name: str
    display_name: str
    status: str = 'Running'         # Running | Stopped | StartPending | StopPending
    start_type: str = 'Automatic'   # Automatic | Manual | Disabled


class Services:
    """The service control manager's table (``Get-Service``), names case-insensitive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services: t.Dict[str, Service] = {}

    def add(self, name: str, display_name: str, status: str = 'Running', start_type: str = 'Automatic') -> Service:
        service = Service(name, display_name, status, start_type)
        with self._lock:
            self._services[fold(name)] = service
        return service

    def get(self, name: str) -> t.Optional[Service]:
        with self._lock:
            return self._services.get(fold(name))

    def status(self, name: str) -> t.Optional[str]:
        service = self.get(name)
        return service.status if service else None

    def start(self, name: str) -> None:
        self._require(name).status = 'Running'

    def stop(self, name: str) -> None:
        self._require(name).status = 'Stopped'

    def all(self) -> t.List[Service]:
        with self._lock:
            return list(self._services.values())

    def _require(self, name: str) -> Service:
        service = self.get(name)
        if service is None:
            raise KeyError("Cannot find any service with service name '%s'." % name)
        return service


class WindowsHost:
    """One emulated Windows host. Build it with :func:`build_host`."""

    def __init__(self, name: str, state_dir: pathlib.Path, accounts: t.Iterable[Account], role: str = '',
                 spec: t.Optional[t.Mapping[str, t.Any]] = None, shared: t.Optional[t.Mapping[str, t.Any]] = None) -> None:
        self.name = name
        self.role = role
        self.spec = dict(spec or {})
        self.shared = shared if shared is not None else {}
        self.state_dir = pathlib.Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.faults = HostFaults(self)
        self.fs = FileSystem(name, self.faults)
        self.fs.checkpoint = checkpoint
        self.fs.remote_share = self._remote_share
        self.registry = Registry(self.state_dir / 'registry.json')
        self.accounts = Accounts(name, accounts)
        self.services = Services()
        self.services.add('WinRM', 'Windows Remote Management (WS-Management)')
        self.processes = ProcessTable(self)
        self.wsus: t.Any = None
        self._exports: t.Dict[str, Drive] = {}
        self._closed = False

    # -- the WS-Management interface -------------------------------------------------------
    def authenticate(self, username: str, password: str) -> bool:
        return self.accounts.authenticate(username, password) is not None

    def run_command(self, ctx: t.Any, command_line: str, stdin: bytes) -> CommandResult:
        """Run a command line as WinRS would (through cmd.exe unless the shell skips it)."""
        return cmdshell.run(self, ctx, command_line, stdin or b'')

    def process_running(self, image_name: str) -> bool:
        """True while a detached process (outside any shell) of ``image_name`` runs."""
        return self.processes.running(image_name, detached_only=True)

    def shell_closed(self, shell_id: str) -> None:
        """The shell is gone: end the processes started inside it."""
        self.processes.shell_closed(shell_id)

    def close(self) -> None:
        """The lab stops: every process ends, as on shutdown."""
        self._closed = True
        for proc in self.processes.all():
            if proc.running:
                self.processes.kill(proc.pid, 1)

    # -- conveniences for other emulations ----------------------------------------------------
    def is_admin(self, username: str) -> bool:
        return self.accounts.is_admin(username)

    def register_executable(self, windows_path: str, main: Main) -> WinPath:
        """Install an emulated program at ``windows_path``: ``main(proc) -> exit code``."""
        return self.processes.register(windows_path, main)

    def start_process(self, command_line: str, username: str = 'SYSTEM', cwd: t.Optional[str] = None,
                      stdout_path: t.Optional[str] = None, detached: bool = True, shell_id: t.Optional[str] = None,
                      codepage: int = 437) -> Process:
        """Start a process as ``Win32_Process.Create`` does (detached), or bound to ``shell_id``.

        With ``stdout_path`` its stdout and stderr go to that file (created or truncated)."""
        sink = None
        if stdout_path is not None:
            sink = FileSink(self.fs.open_write(stdout_path, cwd), codepage)
        workdir = self.fs.canonical(cwd) if cwd else None
        try:
            proc = self.processes.start(command_line, detached=detached, shell_id=shell_id, username=username,
                                        cwd=workdir, stdout=sink, stderr=sink, codepage=codepage)
        except BaseException:
            if sink is not None:
                sink.close()
            raise
        if stdout_path is not None:
            proc.stdout_path = self.fs.parse(stdout_path, cwd)
        return proc

    def profile_dir(self, username: str) -> WinPath:
        account = self.accounts.get(username)
        return parse_path('C:\\Users\\%s' % (account.name if account else username.split('\\')[-1]))

    def default_cwd(self, username: str) -> WinPath:
        """Where a WinRM shell starts: the user's profile folder (``C:\\Windows\\System32`` for SYSTEM)."""
        if fold(username) in ('SYSTEM', 'NT AUTHORITY\\SYSTEM'):
            return parse_path(SYSTEM32)
        return self.profile_dir(username)

    def environment(self, username: str) -> t.Dict[str, str]:
        """The environment block a process of ``username`` starts with."""
        profile = str(self.default_cwd(username))
        account = self.accounts.get(username)
        user = account.name if account else username
        local = profile + r'\AppData\Local'
        return {
            'ALLUSERSPROFILE': r'C:\ProgramData', 'APPDATA': profile + r'\AppData\Roaming',
            'CommonProgramFiles': r'C:\Program Files\Common Files', 'COMPUTERNAME': self.name.upper(),
            'ComSpec': r'C:\Windows\system32\cmd.exe', 'HOMEDRIVE': 'C:', 'HOMEPATH': profile[2:],
            'LOCALAPPDATA': local, 'NUMBER_OF_PROCESSORS': '2', 'OS': 'Windows_NT', 'Path': DEFAULT_PATH,
            'PATHEXT': '.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC;.CPL',
            'PROCESSOR_ARCHITECTURE': 'AMD64', 'ProgramData': r'C:\ProgramData', 'ProgramFiles': r'C:\Program Files',
            'ProgramFiles(x86)': r'C:\Program Files (x86)', 'PROMPT': '$P$G',
            'PSModulePath': r'C:\Windows\system32\WindowsPowerShell\v1.0\Modules\\', 'PUBLIC': r'C:\Users\Public',
            'SystemDrive': 'C:', 'SystemRoot': r'C:\Windows', 'TEMP': local + r'\Temp', 'TMP': local + r'\Temp',
            'USERDOMAIN': self.name.upper(), 'USERNAME': user, 'USERPROFILE': profile, 'windir': r'C:\Windows',
        }

    # -- UNC shares of other lab hosts --------------------------------------------------------
    def _remote_share(self, server: str, share: str) -> t.Optional[Drive]:
        r"""A ``\\server\share`` exported by another host of the lab (``spec`` ``shares``);
        ERROR_BAD_NET_NAME when that host exists but exports no such share."""
        for other in (self.shared.get('hosts') or {}).values():
            if other is self or not isinstance(other, WindowsHost) or fold(other.name) != fold(server):
                continue
            found = other.exported_share(share)
            if found is None:
                raise WinError(ERROR_BAD_NET_NAME, '\\\\%s\\%s' % (server, share))
            return found
        return None

    def exported_share(self, share: str) -> t.Optional[Drive]:
        r"""The drive another host sees at ``\\<this host>\<share>``, if this host exports it."""
        cached = self._exports.get(fold(share))
        if cached is not None:
            return cached
        for item in self.spec.get('shares') or []:
            if fold(item['name']) == fold(share):
                path = self.fs.parse(item['path'])
                local = self.fs.drive_for(path)
                self.fs.mkdir(path)
                drive = Drive('\\\\%s\\%s' % (self.name, item['name']), local.volume, 'Network',
                              folder=self.fs.real_path(path))
                self._exports[fold(share)] = drive
                return drive
        return None


def _drive_settings(letter: str, settings: t.Mapping[str, t.Any], shared: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """One drive's settings with a medium's folder and settings resolved."""
    out = dict(settings)
    medium = out.get('medium')
    if medium:
        media = shared.get('media') or {}
        if medium not in media:
            raise ValueError('drive %s mounts medium %r, but the lab has no such medium (media: %s)'
                             % (letter, medium, ', '.join(media) or 'none'))
        found = media[medium]
        found = {'path': found} if isinstance(found, (str, pathlib.Path)) else dict(found)
        for key in ('size', 'free', 'file_system', 'label', 'type'):
            out.setdefault(key, found.get(key))
            if out[key] is None:
                out[key] = found.get(key)
        out['path'] = found['path']
        out.setdefault('type', 'removable')
    return out


def build_host(spec_entry: t.Mapping[str, t.Any], state_dir: t.Union[str, pathlib.Path],
               shared: t.Optional[t.Mapping[str, t.Any]] = None) -> WindowsHost:
    """Build the Windows side of one lab host from its (normalized) spec entry.

    ``state_dir`` is the host's own folder; ``shared`` holds what hosts share (``media``: name
    -> settings with ``path``; ``hosts``: name -> host, for UNC shares between hosts). Missing
    keys get the defaults of ``lab/spec.py``, so a bare ``{'name': ..., 'role': ...}`` works.
    """
    shared = shared if shared is not None else {}
    name = spec_entry['name']
    accounts_spec = spec_entry.get('accounts') or {'Administrator': {'password': 'Lab-Admin-1', 'admin': True},
                                                   'operator': {'password': 'Lab-Operator-1', 'admin': False}}
    if isinstance(accounts_spec, t.Mapping):
        accounts = [Account(n, (a or {}).get('password') or '', bool((a or {}).get('admin', fold(n) == 'ADMINISTRATOR')))
                    for n, a in accounts_spec.items()]
    else:
        accounts = [Account(a['name'], a.get('password') or '', bool(a.get('admin'))) for a in accounts_spec]
    host = WindowsHost(name, pathlib.Path(state_dir), accounts, role=spec_entry.get('role', ''), spec=spec_entry,
                       shared=shared)

    drives = dict(DEFAULT_DRIVES) if 'drives' not in spec_entry else {}
    for letter, settings in (spec_entry.get('drives') or {}).items():
        key = str(letter).upper().rstrip('\\')
        key = key if key.endswith(':') else key + ':'
        drives[key] = settings
    for letter, settings in drives.items():
        if settings is None:
            continue
        conf = _drive_settings(letter, settings, shared)
        capacity = parse_size(conf.get('size') or conf.get('capacity') or '100 GiB', 'drive %s size' % letter)
        free = parse_size(conf.get('free'), 'drive %s free' % letter)
        folder = pathlib.Path(conf['path']) if conf.get('path') else host.state_dir / 'drives' / letter[0]
        volume = volume_for(folder, capacity=capacity, file_system=conf.get('file_system') or 'NTFS',
                            label=conf.get('label') or '',
                            base_used=0 if free is None else max(0, capacity - free))
        host.fs.add_drive(Drive(letter, volume, conf.get('type') or 'fixed'))

    _lay_out_system(host)
    from ..exe import register_builtins  # pylint: disable=import-outside-toplevel  # exe imports windows
    register_builtins(host)
    faults = {k: v for k, v in (spec_entry.get('faults') or {}).items() if k != 'winrm'}
    host.faults.apply_spec(faults)
    return host


def _lay_out_system(host: WindowsHost) -> None:
    """The folders every Windows Server has, and each account's profile."""
    fs = host.fs
    for folder in (SYSTEM32, r'C:\Windows\Temp', r'C:\ProgramData', r'C:\Program Files', r'C:\Users\Public'):
        if not fs.exists(folder):
            fs.mkdir(folder)
    for account in host.accounts:
        profile = host.profile_dir(account.name)
        for sub in ('', r'\AppData\Local\Temp', r'\AppData\Roaming', r'\Desktop', r'\Documents'):
            path = str(profile) + sub
            if not fs.exists(path):
                fs.mkdir(path)
