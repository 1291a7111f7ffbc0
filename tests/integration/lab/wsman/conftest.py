"""Fixtures for the WS-Management tests: one emulated host backed by the fake Windows stand-in."""
from __future__ import annotations

import typing as t

import pytest


@pytest.fixture
def fake_host(lab_factory: t.Callable[..., t.Any], fake_backend: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """``fake_host(**host_settings) -> HostHandle``: a one-host lab whose host is a FakeHost.

    ``host_settings`` are spec keys of the host (``transport``, ``scheme``, ``winrm``, ...)."""

    def start(**settings: t.Any) -> t.Any:
        lab = lab_factory({'hosts': [dict({'name': 'wsus1', 'role': 'export'}, **settings)]}, backend=fake_backend)
        return lab.hosts['wsus1']

    return start
