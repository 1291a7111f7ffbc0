"""Where the WinRM traffic of a run goes, and how many bytes land on a drive: measured in the lab's process.

The lab runs in the benchmark's own process, so its WS-Management service and its drives can be
watched directly:

- :class:`WinrmLedger` wraps ``ShellService.dispatch`` (the lab's Shell resource) and books each
  request to the host-script operation whose command it serves (the ``name`` of the bootstrap
  payload on the command's stdin): requests by WS-Management action, stdin bytes sent
  (base64, as on the wire inside the envelope) and response envelope bytes. Requests that
  belong to no command (Create, Delete, authentication legs) are booked to ``(shell)``. The
  totals per host come from the listener's own counters (``server.counters``), which count
  every HTTP request and its body as sent, NTLM-sealed.
- :class:`DriveMeter` wraps ``Volume.throttle``, which the lab's file layer calls with the size
  of every write, to count the bytes written to one volume (a medium, a content drive).

Both patch lab classes for the life of the process and are meant for a benchmark process only.
"""
from __future__ import annotations

import collections
import re
import threading
import typing as t

from ansible_collections.airgap.wsus.tests.lab.windows import volumes as lab_volumes
from ansible_collections.airgap.wsus.tests.lab.wsman import shell as lab_shell

_NAME_RE = re.compile(rb'\{"name":"([a-z_]+)"')
_COMMAND_ID_RE = re.compile(rb'<rsp:CommandId>([^<]+)</rsp:CommandId>')
SHELL = '(shell)'


class WinrmLedger:
    """Requests and bytes per host and host-script operation, from the moment :meth:`install` runs."""

    _installed: t.Optional['WinrmLedger'] = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_command: dict = {}
        self._commands: dict = {}

    @classmethod
    def install(cls) -> 'WinrmLedger':
        """Start booking every request of every lab host in this process (once; later calls return the same ledger)."""
        if cls._installed is not None:
            return cls._installed
        ledger = cls()
        original = lab_shell.ShellService.dispatch

        def dispatch(service: t.Any, req: t.Any, identity: t.Any) -> bytes:
            name = lab_shell.ACTION_NAMES.get(req.action)
            command_id, sent = _command_of(req, name)
            response = original(service, req, identity)
            if name == 'Command':
                match = _COMMAND_ID_RE.search(response)
                command_id = match.group(1).decode('ascii') if match else None
                if command_id:
                    ledger.remember(service, command_id)
            ledger.book(service.machine, command_id, name or '?', sent, len(response))
            return response

        lab_shell.ShellService.dispatch = dispatch
        cls._installed = ledger
        return ledger

    def remember(self, service: t.Any, command_id: str) -> None:
        """Keep the command object, whose stdin names the operation once it has arrived."""
        for shell in list(getattr(service, '_shells', {}).values()):
            command = shell.commands.get(command_id)
            if command is not None:
                with self._lock:
                    self._commands[command_id.upper()] = command
                return

    def book(self, machine: str, command_id: t.Optional[str], action: str, sent: int, received: int) -> None:
        key = (machine, command_id.upper() if command_id else None)
        with self._lock:
            entry = self._per_command.setdefault(key, collections.Counter())
            entry['requests'] += 1
            entry[action] += 1
            entry['stdin_bytes'] += sent
            entry['response_bytes'] += received

    def reset(self) -> None:
        with self._lock:
            self._per_command.clear()
            self._commands.clear()

    def operations(self, machine: t.Optional[str] = None) -> dict:
        """``{operation: Counter(calls, requests, Send, Receive, ..., stdin_bytes, response_bytes)}`` of one host (or all)."""
        with self._lock:
            items = list(self._per_command.items())
            commands = dict(self._commands)
        result: dict = collections.defaultdict(collections.Counter)
        for (host, command_id), counts in items:
            if machine is not None and host != machine:
                continue
            operation = SHELL
            if command_id:
                command = commands.get(command_id)
                match = _NAME_RE.match(bytes(command.stdin[:64])) if command is not None else None
                operation = match.group(1).decode('ascii') if match else '(other command)'
            result[operation].update(counts)
            if command_id:
                result[operation]['calls'] += 1
        return dict(result)


def _command_of(req: t.Any, action: t.Optional[str]) -> t.Tuple[t.Optional[str], int]:
    """The command a Send, Receive or Signal request is for, and the stdin characters a Send carries."""
    if action == 'Send':
        stream = req.find('rsp:Send/rsp:Stream')
        if stream is not None:
            return stream.get('CommandId'), len(stream.text or '')
    elif action == 'Receive':
        stream = req.find('rsp:Receive/rsp:DesiredStream')
        if stream is not None:
            return stream.get('CommandId'), 0
    elif action == 'Signal':
        signal = req.find('rsp:Signal')
        if signal is not None:
            return signal.get('CommandId'), 0
    return None, 0


class DriveMeter:
    """Bytes written to lab volumes, by the volume's folder (the same medium seen from two hosts is one volume)."""

    _installed: t.Optional['DriveMeter'] = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: collections.Counter = collections.Counter()

    @classmethod
    def install(cls) -> 'DriveMeter':
        if cls._installed is not None:
            return cls._installed
        meter = cls()
        original = lab_volumes.Volume.throttle

        def throttle(volume: t.Any, nbytes: int) -> None:
            with meter._lock:  # pylint: disable=protected-access
                meter._written[str(volume.root)] += max(0, int(nbytes))  # pylint: disable=protected-access
            original(volume, nbytes)

        lab_volumes.Volume.throttle = throttle
        cls._installed = meter
        return meter

    def written(self, root: t.Any) -> int:
        """Bytes written so far to the volume whose folder is ``root``."""
        with self._lock:
            return self._written[str(root)]
