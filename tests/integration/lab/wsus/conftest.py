"""Fixtures for the emulated WSUS server: servers on their own, and WSUS hosts.

``wsus_server(**kwargs)`` builds a :class:`WsusServer` with its SUSDB and content in
``tmp_path`` (no Windows host); keyword arguments go to the constructor, with ``catalog`` and
``settings`` accepted as spec-style mappings. ``wsus_host(spec_entry)`` builds an emulated
Windows host with the WSUS role from a lab spec entry.
"""
from __future__ import annotations

import copy
import itertools
import os
import typing as t

import pytest

from ansible_collections.airgap.wsus.tests.lab import spec as spec_mod
from ansible_collections.airgap.wsus.tests.lab.wsus import catalog as cat
from ansible_collections.airgap.wsus.tests.lab.wsus import server as srv

WSUSUTIL = r'C:\Program Files\Update Services\Tools\WsusUtil.exe'


@pytest.fixture
def wsus_server(tmp_path: t.Any) -> t.Iterator[t.Callable[..., srv.WsusServer]]:
    made: list[srv.WsusServer] = []
    counter = itertools.count()

    def make(catalog: t.Optional[t.Mapping[str, t.Any]] = None, settings: t.Optional[t.Mapping[str, t.Any]] = None,
             role: str = 'export', **kwargs: t.Any) -> srv.WsusServer:
        n = next(counter)
        default_updates = 24 if role == 'export' else 0
        server = srv.WsusServer(
            state_dir=str(tmp_path / f'server{n}'), content_root=str(tmp_path / f'content{n}' / 'WsusContent'),
            name=kwargs.pop('name', f'WSUS{n}'), role=role,
            catalog=cat.CatalogOptions.from_spec(catalog, default_updates=default_updates),
            settings=srv.ServerSettings.from_spec(settings), **kwargs)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


class WsusHosts:
    """Emulated Windows hosts with the WSUS role, sharing a lab's media (``E:`` is ``transfer``)."""

    def __init__(self, root: t.Any) -> None:
        self.root = root
        self.hosts: dict[str, t.Any] = {}
        self.shared: dict[str, t.Any] = {'state_dir': str(root), 'hosts': self.hosts, 'media': {}}
        self._runs = itertools.count()

    def add(self, name: str, role: str = 'export', wsus: t.Optional[dict] = None, catalog: t.Optional[dict] = None,
            faults: t.Optional[dict] = None) -> t.Any:
        """Build host ``name`` from a spec entry, the way the lab does (``lab.build_backend``)."""
        from ansible_collections.airgap.wsus.tests.lab.lab import build_backend  # pylint: disable=import-outside-toplevel
        raw = {'name': name, 'role': role, 'wsus': dict(wsus or {}), 'catalog': dict(catalog or {}), 'faults': faults or {}}
        normalized = spec_mod.normalize({'hosts': [raw]})
        entry = copy.deepcopy(normalized['hosts'][0])
        for medium, settings in normalized['media'].items():
            if medium not in self.shared['media']:
                path = os.path.join(str(self.root), 'media', medium)
                os.makedirs(path, exist_ok=True)
                self.shared['media'][medium] = dict(settings, path=path)
        host = build_backend(entry, os.path.join(str(self.root), 'hosts', name), self.shared)
        self.hosts[name] = host
        return host

    def wsusutil(self, host: t.Any, arguments: str, user: str = 'Administrator', wait: float = 60) -> t.Tuple[t.Optional[int], str, t.Any]:
        """Run WsusUtil.exe detached (as Win32_Process.Create would); return (exit code, output, process)."""
        out = r'C:\Windows\Temp\wsusutil-%d.out' % next(self._runs)
        proc = host.start_process('"%s" %s' % (WSUSUTIL, arguments), username=user, stdout_path=out, detached=True)
        if wait:
            assert proc.wait(wait), 'WsusUtil did not finish in %s s' % wait
        return proc.exit_code, host.fs.read_bytes(out).decode('cp437') if not proc.running else '', proc

    def output(self, host: t.Any, proc: t.Any) -> str:
        return host.fs.read_bytes(proc.stdout_path).decode('cp437')

    def copy_content(self, source: t.Any, target: t.Any) -> int:
        """Copy WsusContent from one host to the other, folders kept (what robocopy does)."""
        src = source.wsus.get_configuration().local_content_cache_path
        dst = target.wsus.get_configuration().local_content_cache_path
        count = 0
        for names, info in source.fs.walk_files(src):
            target.fs.write_bytes(dst + '\\' + '\\'.join(names), source.fs.read_bytes(info.path), make_parents=True)
            count += 1
        return count

    def close(self) -> None:
        for host in self.hosts.values():
            host.close()
            if host.wsus is not None:
                host.wsus.close()


@pytest.fixture
def wsus_hosts(tmp_path: t.Any) -> t.Iterator[WsusHosts]:
    hosts = WsusHosts(tmp_path)
    yield hosts
    hosts.close()


@pytest.fixture(scope='module')
def module_wsus_hosts(tmp_path_factory: t.Any) -> t.Iterator[WsusHosts]:
    """:class:`WsusHosts` shared by the tests of one module (read-only tests on one catalog)."""
    hosts = WsusHosts(tmp_path_factory.mktemp('hosts'))
    yield hosts
    hosts.close()
