"""Fixtures for the modules' integration tests: an emulated export and import WSUS host, and ansible-playbook.

Each fixture yields a :class:`~playbook.WsusLab` (``tests/integration/playbook.py``): ``.lab``,
``.inventory``, ``.hosts``, ``.export`` / ``.import_`` (host handles), ``.wsus(name)``,
``.sandbox_path(name, windows_path)``, ``.credentials(account)`` and
``.run_playbook(playbook, extra_vars=None, check=False, diff=False, verbosity=0,
expect_failure=False, limit=None, env=None, timeout=300)``, which returns a
:class:`~playbook.PlaybookResult` (``rc``, ``stdout``, ``stderr``, ``everything``, ``records``,
``result(task, host=None)``, ``status(task, host=None)``).

- ``wsus_lab``: a fresh lab for one test (the default spec, :func:`playbook.default_spec`).
  Use it when the test changes anything, on the hosts or through a playbook.
- ``wsus_lab_shared``: one lab for a whole test module, for tests that only read. Do not
  inject faults into it or change its WSUS configuration.
- ``wsus_lab_factory(spec=None, export=None, import_=None)``: a fresh lab from another spec,
  or the default one with ``export``/``import_`` merged into those hosts' entries, e.g.
  ``wsus_lab_factory(import_={'wsus': {'replica': True, 'upstream': 'wsus-hq'}})``.

Host names are :data:`playbook.EXPORT` (``wsus-connected``) and :data:`playbook.IMPORT`
(``wsus-disconnected``); the inventory groups them as ``export``, ``import`` and ``wsus``.
"""
from __future__ import annotations

import itertools
import typing as t

import pytest

from ansible_collections.airgap.wsus.tests.integration import playbook as pb


@pytest.fixture
def wsus_lab_factory(tmp_path: t.Any) -> t.Iterator[t.Callable[..., pb.WsusLab]]:
    labs: list = []
    numbers = itertools.count()

    def start(spec: t.Optional[dict] = None, export: t.Optional[dict] = None, import_: t.Optional[dict] = None) -> pb.WsusLab:
        lab = pb.start_lab(pb.build_spec(spec, export=export, import_=import_), tmp_path / f'wsus-lab{next(numbers)}')
        labs.append(lab)
        return lab

    yield start
    for lab in reversed(labs):
        lab.stop()


@pytest.fixture
def wsus_lab(wsus_lab_factory: t.Callable[..., pb.WsusLab]) -> pb.WsusLab:
    return wsus_lab_factory()


@pytest.fixture(scope='module')
def wsus_lab_shared(tmp_path_factory: t.Any) -> t.Iterator[pb.WsusLab]:
    lab = pb.start_lab(pb.default_spec(), tmp_path_factory.mktemp('wsus-lab-shared'))
    try:
        yield lab
    finally:
        lab.stop()
