"""Build emulated hosts from a spec and serve each over WinRM on its own loopback port.

In-process (pytest)::

    with Lab.from_spec({'hosts': [{'name': 'wsus1', 'role': 'export'}]}, tmp_path) as lab:
        lab.write_inventory(tmp_path / 'inventory.ini')
        handle = lab.hosts['wsus1']        # .port .scheme .endpoint .host .server ...

From a shell, ``cli.py up`` runs the same thing in a background process.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
import typing as t

from . import spec as spec_mod
from .wsman import WinRMConfig, WSManServer

log = logging.getLogger(__name__)

BackendFactory = t.Callable[[dict, str, dict], t.Any]
"""``factory(spec_entry, host_state_dir, shared) -> host backend`` (see ``wsman/context.py``)."""


class LabError(RuntimeError):
    """The lab cannot start or be reached; the message says why and what to do."""


def build_backend(entry: dict, state_dir: str, shared: dict) -> t.Any:
    """The real emulated host: Windows from ``lab.windows.host``, WSUS from ``lab.wsus.server``.

    ``entry`` is the host's normalized spec entry, ``state_dir`` a folder of its own
    (``<lab>/hosts/<name>``), ``shared`` the lab-wide dict described in ``Lab._shared``.
    """
    try:
        from .windows.host import build_host  # pylint: disable=import-outside-toplevel
    except ModuleNotFoundError as exc:
        if not (exc.name or '').endswith(('windows', 'windows.host')):
            raise
        raise LabError('the emulated Windows host (tests/lab/windows/host.py) is not available: %s. Pass another '
                       'backend factory, or install the lab completely.' % exc) from None
    host = build_host(entry, state_dir, shared)
    if entry['wsus']['installed']:
        from .wsus.server import attach_wsus  # pylint: disable=import-outside-toplevel

        attach_wsus(host, entry)
    return host


@dataclasses.dataclass
class HostHandle:
    """One running emulated host."""

    name: str
    role: str
    entry: dict
    host: t.Any
    server: WSManServer

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def scheme(self) -> str:
        return self.server.scheme

    @property
    def transport(self) -> str:
        return self.entry['transport']

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def username(self) -> str:
        return self.entry['connect_as']

    @property
    def password(self) -> str:
        return self.entry['accounts'][self.username]['password']

    def protocol(self, username: t.Optional[str] = None, password: t.Optional[str] = None, **kwargs: t.Any) -> t.Any:
        """A pywinrm ``Protocol`` for this host (as ``connect_as`` unless told otherwise)."""
        import winrm  # pylint: disable=import-outside-toplevel

        username = username or self.username
        if password is None:
            password = self.entry['accounts'][username]['password']
        kwargs.setdefault('server_cert_validation', 'ignore')
        return winrm.Protocol(self.endpoint, transport=self.transport, username=username, password=password, **kwargs)


class Lab:
    """A set of emulated hosts, each behind its own WinRM listener."""

    def __init__(self, spec: dict, state_dir: t.Union[str, os.PathLike],
                 backend_factory: t.Optional[BackendFactory] = None) -> None:
        self.spec = spec
        self.state_dir = os.path.abspath(os.fspath(state_dir))
        self.backend_factory = backend_factory or build_backend
        self.hosts: dict[str, HostHandle] = {}
        self.inventory_path: t.Optional[str] = None
        self._started = False
        self._stopped = False

    @classmethod
    def from_spec(cls, spec: t.Union[str, os.PathLike, t.Mapping[str, t.Any]], state_dir: t.Union[str, os.PathLike],
                  backend_factory: t.Optional[BackendFactory] = None) -> 'Lab':
        """``spec`` is a YAML path or a mapping; it is validated and completed (``spec.normalize``)."""
        return cls(spec_mod.load(spec), state_dir, backend_factory)

    # -- life cycle -----------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> 'Lab':
        """Build every host, start its listener, and return once each answers WinRM."""
        if self._started:
            return self
        if self._stopped:
            raise LabError('a stopped lab cannot start again; build a new one with Lab.from_spec()')
        os.makedirs(self.state_dir, exist_ok=True)
        shared = self._shared()
        try:
            for entry in self.spec['hosts']:
                host_dir = os.path.join(self.state_dir, 'hosts', entry['name'])
                os.makedirs(host_dir, exist_ok=True)
                backend = self.backend_factory(entry, host_dir, shared)
                shared['hosts'][entry['name']] = backend
                server = WSManServer(
                    backend, {name: acc['password'] for name, acc in entry['accounts'].items()},
                    WinRMConfig.from_spec(entry['winrm'], entry['transport']), scheme=entry['scheme'],
                    port=entry['port'], state_dir=os.path.join(self.state_dir, 'winrm', entry['name']))
                self.hosts[entry['name']] = HostHandle(entry['name'], entry['role'], entry, backend, server)
                server.start()
            self._started = True
            for handle in self.hosts.values():
                probe(handle.endpoint, handle.transport, handle.username, handle.password, timeout=timeout)
                # Counters start from zero for whoever uses the lab, not counting the probe.
                handle.server.counters.reset()
                handle.server.faults.apply(handle.entry['faults'].get('winrm') or {})
        except BaseException:
            self.stop()
            raise
        log.info('lab up: %s', ', '.join('%s=%s' % (h.name, h.endpoint) for h in self.hosts.values()))
        return self

    def stop(self) -> None:
        """Stop every listener (closing its shells) and release each host. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        for handle in list(self.hosts.values()):
            try:
                handle.server.stop()
            except Exception:  # pylint: disable=broad-except  # stop the others regardless
                log.exception('stopping the WinRM listener of %s failed', handle.name)
            close = getattr(handle.host, 'close', None)
            if close is not None:
                try:
                    close()
                except Exception:  # pylint: disable=broad-except
                    log.exception('closing the emulated host %s failed', handle.name)
        self._started = False

    def __enter__(self) -> 'Lab':
        return self.start()

    def __exit__(self, *exc_info: t.Any) -> None:
        self.stop()

    def _shared(self) -> dict:
        """What hosts share: ``state_dir``; ``media`` (name -> settings plus ``path``, the folder
        holding the medium's files, the same for every host that mounts it); ``hosts`` (name ->
        backend, filled as hosts are built, so a host can resolve another's UNC shares)."""
        media = {}
        for name, settings in self.spec['media'].items():
            path = os.path.join(self.state_dir, 'media', name)
            os.makedirs(path, exist_ok=True)
            media[name] = dict(settings, path=path)
        return {'state_dir': self.state_dir, 'media': media, 'hosts': {}}

    # -- inventory ------------------------------------------------------------------------
    def write_inventory(self, path: t.Union[str, os.PathLike]) -> str:
        """Write an INI inventory (mode 0600: it holds passwords) with groups by role."""
        if not self.hosts:
            raise LabError('start the lab before writing its inventory: the ports are chosen at start')
        lines = ['# airgap.wsus lab inventory: written by tests/lab, valid while the lab runs.', '']
        for role in spec_mod.ROLES:
            lines.append('[%s]' % role)
            for handle in self.hosts.values():
                if handle.role == role:
                    lines.append(inventory_line(handle))
            lines.append('')
        lines += ['[wsus:children]'] + list(spec_mod.ROLES) + ['']
        path = os.path.abspath(os.fspath(path))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w', encoding='utf-8') as handle_file:
            handle_file.write('\n'.join(lines))
        self.inventory_path = path
        return path

    def describe(self) -> dict:
        """Ports, schemes and transports of the hosts (no secrets), as recorded in the state dir."""
        return {name: {'role': h.role, 'port': h.port, 'scheme': h.scheme, 'transport': h.transport,
                       'endpoint': h.endpoint, 'user': h.username} for name, h in self.hosts.items()}


def inventory_line(handle: HostHandle) -> str:
    variables = [
        ('ansible_connection', 'winrm'),
        ('ansible_host', '127.0.0.1'),
        ('ansible_port', str(handle.port)),
        ('ansible_winrm_scheme', handle.scheme),
        ('ansible_winrm_transport', handle.transport),
        ('ansible_user', handle.username),
        ('ansible_password', handle.password),
    ]
    if handle.scheme == 'https':
        variables.append(('ansible_winrm_server_cert_validation', 'ignore'))
    return ' '.join([handle.name] + ['%s=%s' % (k, _ini_value(v)) for k, v in variables])


def _ini_value(value: str) -> str:
    # Ansible splits host lines with shlex: quote anything shlex would split or strip.
    if value and all(c.isalnum() or c in '-_.:/@+' for c in value):
        return value
    return "'%s'" % value.replace("'", "'\"'\"'")


def probe(endpoint: str, transport: str, username: str, password: str, timeout: float = 30.0) -> None:
    """Wait until ``endpoint`` answers WinRM: a real pywinrm client opens and deletes a shell."""
    import winrm  # pylint: disable=import-outside-toplevel

    deadline = time.monotonic() + timeout
    last_error: t.Optional[BaseException] = None
    while time.monotonic() < deadline:
        protocol = winrm.Protocol(endpoint, transport=transport, username=username, password=password,
                                  server_cert_validation='ignore', read_timeout_sec=10, operation_timeout_sec=5)
        try:
            shell_id = protocol.open_shell()
            protocol.close_shell(shell_id)
            return
        except Exception as exc:  # pylint: disable=broad-except  # keep trying until the deadline
            last_error = exc
            time.sleep(0.1)
    raise LabError('%s did not answer WinRM within %.0f s: %s' % (endpoint, timeout, last_error))
