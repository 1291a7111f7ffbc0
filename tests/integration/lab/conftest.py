"""Fixtures to run emulated WSUS labs in-process.

``lab_factory(spec, backend=None) -> Lab`` starts a lab from a spec (mapping or YAML path)
in a fresh state dir under ``tmp_path``, writes its inventory (``lab.inventory_path``), and
stops it when the test ends. ``backend=None`` uses the real emulated host; ``fake_backend``
is a minimal stand-in that runs only a few echo-like commands (for protocol tests).

    def test_something(lab_factory):
        lab = lab_factory({'hosts': [{'name': 'wsus1', 'role': 'export'}]})
        handle = lab.hosts['wsus1']          # .endpoint .port .host .server .protocol()
        subprocess.run(['ansible-playbook', '-i', lab.inventory_path, ...])
"""
from __future__ import annotations

import importlib.util
import os
import sys
import typing as t

import pytest

from ansible_collections.airgap.wsus.tests.lab.lab import Lab

FAKEHOST_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'wsman', 'fakehost.py')


def _load_fakehost() -> t.Any:
    module_spec = importlib.util.spec_from_file_location('lab_fakehost', FAKEHOST_PATH)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module      # dataclasses look their module up while it loads
    module_spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def fakehost() -> t.Any:
    """The ``fakehost`` module (``FakeHost``, ``build``)."""
    return _load_fakehost()


@pytest.fixture
def fake_backend(fakehost: t.Any) -> t.Callable[..., t.Any]:
    """A backend factory for ``lab_factory`` that builds ``FakeHost``s."""
    return fakehost.build


@pytest.fixture
def lab_factory(tmp_path: t.Any) -> t.Iterator[t.Callable[..., Lab]]:
    labs: list[Lab] = []

    def start(spec: t.Any, backend: t.Optional[t.Callable[..., t.Any]] = None) -> Lab:
        state_dir = tmp_path / ('lab%d' % len(labs))
        lab = Lab.from_spec(spec, state_dir, backend_factory=backend)
        labs.append(lab)
        lab.start()
        lab.write_inventory(state_dir / 'inventory.ini')
        return lab

    yield start
    for lab in reversed(labs):
        lab.stop()
