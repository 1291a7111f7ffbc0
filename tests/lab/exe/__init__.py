r"""Emulated Windows programs, registered on every lab host by :func:`register_builtins`.

Each program is ``main(proc) -> exit code`` (``proc``: a
:class:`~lab.windows.processes.ProcessContext`), installed at its real path so it is found on
``PATH`` by name and shows up in directory listings:

- ``C:\Windows\System32\Robocopy.exe`` (:mod:`.robocopy`);
- ``powershell.exe``, which runs only the collection's bootstrap and job runner
  (:mod:`lab.windows.powershell`);
- ``cmd.exe``, ``hostname.exe``, ``whoami.exe``, ``chcp.com``, ``more.com`` (:mod:`.system`).

``WsusUtil.exe`` is installed with the WSUS role (``lab.wsus``), at ``<TargetDir>\Tools``.
"""
from __future__ import annotations

import typing as t

from ..windows.powershell import POWERSHELL_PATH
from ..windows.powershell import main as powershell_main
from . import robocopy, system

BUILTINS = {
    r'C:\Windows\System32\Robocopy.exe': robocopy.main,
    POWERSHELL_PATH: powershell_main,
    r'C:\Windows\System32\cmd.exe': system.cmd_main,
    r'C:\Windows\System32\HOSTNAME.EXE': system.hostname_main,
    r'C:\Windows\System32\whoami.exe': system.whoami_main,
    r'C:\Windows\System32\chcp.com': system.chcp_main,
    r'C:\Windows\System32\more.com': system.more_main,
}


def register_builtins(host: t.Any) -> None:
    """Install the programs every Windows Server has."""
    for path, main in BUILTINS.items():
        host.register_executable(path, main)
