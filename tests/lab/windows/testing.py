"""pytest fixtures for tests of emulated Windows hosts (the lab's own tests use them; so can
anyone testing against a single host without WinRM).

Import them into a ``conftest.py``::

    from ansible_collections.airgap.wsus.tests.lab.windows.testing import host_fixture, make_host_fixture, run_fixture

- ``make_host(name='wsus1', **spec_entry)``: a host built in ``tmp_path`` (drives C:, D: and
  the shared removable medium ``transfer`` as E:, to which ``drives`` adds or overrides),
  closed after the test;
- ``host``: one such host; ``run(command_line, stdin=b'', **shell)``: run a command on it as a
  WinRM client would (``shell_context`` keywords: ``username``, ``codepage``,
  ``skip_cmd_shell``, ``shell_id``, ``working_directory``).
"""
from __future__ import annotations

import itertools
import typing as t

import pytest

from ..wsman.context import ShellContext
from .host import WindowsHost, build_host

_SHELLS = itertools.count(1)


def shell_context(username: str = 'Administrator', codepage: int = 65001, skip_cmd_shell: bool = False,
                  shell_id: t.Optional[str] = None, working_directory: str = '') -> ShellContext:
    return ShellContext(username=username, codepage=codepage, shell_id=shell_id or 'shell-%d' % next(_SHELLS),
                        working_directory=working_directory, environment={}, skip_cmd_shell=skip_cmd_shell,
                        client_address='127.0.0.1')


@pytest.fixture(name='make_host')
def make_host_fixture(tmp_path: t.Any) -> t.Iterator[t.Callable[..., WindowsHost]]:
    """``make_host(name='wsus1', **spec)``: a host from a (partial) spec entry, closed after the test."""
    hosts: t.List[WindowsHost] = []
    shared: t.Dict[str, t.Any] = {'media': {'transfer': {'path': str(tmp_path / 'media' / 'transfer'), 'size': '64 GiB',
                                                         'free': '64 GiB', 'file_system': 'exFAT', 'label': 'TRANSFER',
                                                         'type': 'removable'}},
                                  'hosts': {}}

    def make(name: str = 'wsus1', **entry: t.Any) -> WindowsHost:
        spec = {'name': name, 'role': 'export', 'accounts': {'Administrator': {'password': 'Adm-Pass-1', 'admin': True},
                                                             'operator': {'password': 'Op-Pass-1', 'admin': False}},
                'drives': {'C:': {'type': 'fixed', 'size': '127 GiB', 'free': '60 GiB', 'file_system': 'NTFS'},
                           'D:': {'type': 'fixed', 'size': '500 GiB', 'free': '450 GiB', 'file_system': 'NTFS'},
                           'E:': {'medium': 'transfer'}}}
        drives = dict(spec['drives'], **{k.upper(): v for k, v in (entry.pop('drives', None) or {}).items()})
        spec.update(entry, drives=drives)
        host = build_host(spec, tmp_path / 'hosts' / name, shared)
        shared['hosts'][name] = host
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.close()


@pytest.fixture(name='host')
def host_fixture(make_host: t.Callable[..., WindowsHost]) -> WindowsHost:
    return make_host()


@pytest.fixture(name='run')
def run_fixture(host: WindowsHost) -> t.Callable[..., t.Any]:
    """``run(command_line, stdin=b'', **ctx)``: run a command on ``host`` as a WinRM client would."""
    def runner(command_line: str, stdin: bytes = b'', **ctx: t.Any) -> t.Any:
        return host.run_command(shell_context(**ctx), command_line, stdin)
    return runner
