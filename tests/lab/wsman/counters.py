"""Per-host traffic counters, read by tests, benchmarks and the control endpoint."""
from __future__ import annotations

import collections
import threading

_FIELDS = (
    'requests',          # HTTP requests received, authentication legs included
    'auth_failures',     # requests answered 401 because credentials were wrong or rejected
    'shells_created',
    'shells_deleted',
    'shells_timed_out',  # closed by the idle timeout
    'commands',          # Command operations accepted
    'encrypted_requests',  # requests whose body was sealed with the NTLM session
    'faults',            # SOAP faults sent
    'dropped',           # connections closed on purpose without a response
    'bytes_in',          # HTTP body bytes received (as on the wire, encrypted or not)
    'bytes_out',         # HTTP body bytes sent
)


class Counters:
    """Thread-safe counters. ``snapshot()`` returns plain data."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = {}
        self._actions: collections.Counter = collections.Counter()
        self.reset()

    def add(self, field: str, amount: int = 1) -> None:
        """Add ``amount`` to ``field`` (one of the names listed in this module)."""
        if field not in _FIELDS:
            raise KeyError('unknown counter %r' % field)
        with self._lock:
            self._values[field] += amount

    def action(self, name: str) -> None:
        """Count one WS-Management operation by its short name (Create, Command, Receive...)."""
        with self._lock:
            self._actions[name] += 1

    def reset(self) -> None:
        with self._lock:
            self._values = dict.fromkeys(_FIELDS, 0)
            self._actions.clear()

    def snapshot(self) -> dict:
        with self._lock:
            data = dict(self._values)
            data['actions'] = dict(self._actions)
        return data

    def __getitem__(self, field: str) -> int:
        with self._lock:
            return self._values[field]
