"""Protocol-level faults injected into one host's WS-Management server at run time.

Everything counts from the moment the fault is set. A *request* is one HTTP request,
authentication legs included. A dropped connection is closed without a response: the client
sees ``Connection aborted``/``RemoteDisconnected``, as when a network or the WinRM service
breaks. ``lose='request'`` drops before the request is processed (nothing happened on the
host); ``lose='response'`` processes it and then drops (the host acted, the client never
learns it), the harder case for a client that retries.
"""
from __future__ import annotations

import threading
import typing as t

LOSE_CHOICES = ('request', 'response')


class FaultPlan:
    """Thread-safe set of pending faults for one server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drop_at: list[tuple[int, str]] = []      # (requests still to pass, lose)
        self._drop_next = 0
        self._drop_next_lose = 'request'
        self._drop_while: t.Optional[tuple[str, str]] = None   # (image name, lose)
        self._reject_auth: t.Optional[int] = 0        # None: until cleared
        self._quota = 0

    # -- setting faults -------------------------------------------------------------------
    def drop_at_request(self, n: int, lose: str = 'request') -> None:
        """Drop the connection at the ``n``-th request from now (1 = the next one)."""
        _check_lose(lose)
        if int(n) < 1:
            raise ValueError('drop_at_request needs n >= 1, got %r' % (n,))
        with self._lock:
            self._drop_at.append((int(n), lose))

    def drop_next(self, n: int, lose: str = 'request') -> None:
        """Drop the connection of each of the next ``n`` requests."""
        _check_lose(lose)
        with self._lock:
            self._drop_next = max(0, int(n))
            self._drop_next_lose = lose

    def drop_while_process(self, image_name: t.Optional[str], lose: str = 'request') -> None:
        """Drop every request while a detached process of ``image_name`` runs on the host
        (``host.process_running(image_name)``); ``None`` turns it off."""
        _check_lose(lose)
        with self._lock:
            self._drop_while = (image_name, lose) if image_name else None

    def reject_password(self, attempts: t.Optional[int] = 1) -> None:
        """Answer 401 to the next ``attempts`` authentications (``None``: until cleared), as
        after a password change. Basic authenticates every request; NTLM authenticates each
        new connection, so an NTLM connection that is already open stays usable, as on Windows."""
        with self._lock:
            self._reject_auth = None if attempts is None else max(0, int(attempts))

    def exceed_quota(self, commands: int = 1) -> None:
        """Fault the next ``commands`` Command operations with ERROR_WSMAN_QUOTA_MAX_OPERATIONS."""
        with self._lock:
            self._quota = max(0, int(commands))

    def clear(self) -> None:
        with self._lock:
            self._drop_at = []
            self._drop_next = 0
            self._drop_while = None
            self._reject_auth = 0
            self._quota = 0

    def apply(self, settings: t.Mapping[str, t.Any]) -> None:
        """Set faults from a mapping, the form used by specs and the control endpoint::

            {drop_at_request: 3, drop_next: 2, drop_while_process: robocopy.exe,
             reject_password: 1, quota_exceeded: 1, lose: response, clear: true}
        """
        unknown = set(settings) - {'drop_at_request', 'drop_next', 'drop_while_process', 'reject_password',
                                   'quota_exceeded', 'lose', 'clear'}
        if unknown:
            raise ValueError('unknown WinRM fault setting(s) %s; known: drop_at_request, drop_next, drop_while_process, '
                             'reject_password, quota_exceeded, lose, clear' % ', '.join(sorted(unknown)))
        lose = settings.get('lose') or 'request'
        _check_lose(lose)
        if settings.get('clear'):
            self.clear()
        if settings.get('drop_at_request') is not None:
            self.drop_at_request(settings['drop_at_request'], lose)
        if settings.get('drop_next'):
            self.drop_next(settings['drop_next'], lose)
        if 'drop_while_process' in settings:
            self.drop_while_process(settings['drop_while_process'], lose)
        if 'reject_password' in settings:
            self.reject_password(settings['reject_password'])
        if settings.get('quota_exceeded'):
            self.exceed_quota(settings['quota_exceeded'])

    def snapshot(self) -> dict:
        with self._lock:
            return {
                'drop_at_request': [{'in_requests': n, 'lose': lose} for n, lose in self._drop_at],
                'drop_next': self._drop_next,
                'drop_while_process': self._drop_while[0] if self._drop_while else None,
                'reject_password': self._reject_auth,
                'quota_exceeded': self._quota,
            }

    # -- consulted by the server ----------------------------------------------------------
    def on_request(self, process_running: t.Callable[[str], bool]) -> t.Optional[str]:
        """Called once per HTTP request: ``'request'``/``'response'`` to drop it, else None."""
        with self._lock:
            verdict = None
            remaining = []
            for n, lose in self._drop_at:
                if n == 1:
                    verdict = verdict or lose
                else:
                    remaining.append((n - 1, lose))
            self._drop_at = remaining
            if verdict:
                return verdict
            if self._drop_next > 0:
                self._drop_next -= 1
                return self._drop_next_lose
            drop_while = self._drop_while
        if drop_while and process_running(drop_while[0]):
            return drop_while[1]
        return None

    def reject_authentication(self) -> bool:
        """Called once per authentication attempt: True to refuse it."""
        with self._lock:
            if self._reject_auth is None:
                return True
            if self._reject_auth > 0:
                self._reject_auth -= 1
                return True
            return False

    def take_quota_fault(self) -> bool:
        """Called once per Command: True to fault it with the operations quota."""
        with self._lock:
            if self._quota > 0:
                self._quota -= 1
                return True
            return False


def _check_lose(lose: str) -> None:
    if lose not in LOSE_CHOICES:
        raise ValueError('lose must be one of %s, got %r' % (', '.join(LOSE_CHOICES), lose))
