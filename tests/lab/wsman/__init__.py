"""A WS-Management (WinRM) server for emulated Windows hosts.

``WSManServer(host, accounts, config, scheme)`` serves the Windows Remote Shell resource for
one host backend; ``context.ShellContext`` and ``context.CommandResult`` are the contract with
that backend (see ``context.py``).
"""
from __future__ import annotations

from .config import WinRMConfig
from .context import CommandResult, ShellContext
from .faultplan import FaultPlan
from .server import WSManServer

__all__ = ['CommandResult', 'FaultPlan', 'ShellContext', 'WSManServer', 'WinRMConfig']
