"""Fixtures for the emulated Windows host: ``make_host``, ``host``, ``run``."""
from __future__ import annotations

from ansible_collections.airgap.wsus.tests.lab.windows.testing import host_fixture, make_host_fixture, run_fixture

__all__ = ['host_fixture', 'make_host_fixture', 'run_fixture']
