"""Faults a test injects into one emulated Windows host while it runs (``host.faults``).

File-level faults act in the host's file layer, so every program sees them the way Windows
would show them: robocopy, the host-script twins and WsusUtil alike.

- :meth:`HostFaults.lock_file`: another process holds the file open without sharing; opening,
  replacing or deleting it fails with ERROR_SHARING_VIOLATION (32), for ``attempts`` tries or
  until :meth:`HostFaults.unlock_file`.
- :meth:`HostFaults.deny_access`: the ACL of a file or folder (and all below it) refuses the
  lab's accounts: ERROR_ACCESS_DENIED (5).
- :meth:`HostFaults.disk_full_after` and :meth:`HostFaults.slow_drive`: per drive, applied to
  the volume behind it (a shared medium is full or slow for every host that has it).
- ``wait_scale``: multiplies the waits of emulated programs (robocopy's ``/W``), so a test can
  keep real retry counts without real minutes.
- :meth:`HostFaults.set` / :meth:`HostFaults.get`: named faults for other emulations to read
  (``wsusutil_exit_code``, ``truncate_package``, ...): they own the meaning, this holds the value.
"""
from __future__ import annotations

import threading
import typing as t

from .errors import ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, WinError
from .paths import WILDCARDS, WinPath, parse_path, wildcard_match
from .volumes import parse_size

if t.TYPE_CHECKING:  # pragma: no cover
    from .host import WindowsHost


class _Rule:
    """A path or wildcard pattern (``D:\\WSUS\\WsusContent\\*\\*.cab``) a fault applies to."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.wild = any(ch in WILDCARDS for ch in pattern)
        self.path = parse_path(pattern, allow_wildcards=True)

    def matches(self, path: WinPath, subtree: bool) -> bool:
        if not self.wild:
            return path.is_relative_to(self.path) if subtree else path == self.path
        key = self.path.key
        target = path.key
        if len(target) < len(key) or (not subtree and len(target) != len(key)):
            return False
        return all(wildcard_match(p, n) for p, n in zip(key, target[:len(key)]))


class HostFaults:
    """The faults currently set on one host. Thread-safe; every setter can be undone."""

    def __init__(self, host: 'WindowsHost') -> None:
        self._host = host
        self._lock = threading.Lock()
        self._locked: t.List[t.List[t.Any]] = []      # [rule, attempts left or None]
        self._denied: t.List[_Rule] = []
        self._named: t.Dict[str, t.Any] = {}
        self.wait_scale = 1.0

    # -- file locks ------------------------------------------------------------------------
    def lock_file(self, path: str, attempts: t.Optional[int] = None) -> None:
        """Hold ``path`` (a path or wildcard) open: the next ``attempts`` opens fail (None: all)."""
        with self._lock:
            self._locked.append([_Rule(path), None if attempts is None else int(attempts)])

    def unlock_file(self, path: t.Optional[str] = None) -> None:
        """Release the lock set on ``path`` (or every lock)."""
        with self._lock:
            if path is None:
                self._locked.clear()
            else:
                key = parse_path(path, allow_wildcards=True).key
                self._locked = [entry for entry in self._locked if entry[0].path.key != key]

    def check_lock(self, path: WinPath) -> None:
        """Raise ERROR_SHARING_VIOLATION when ``path`` is held open by the emulated other process."""
        with self._lock:
            for entry in self._locked:
                rule, left = entry
                if rule.matches(path, subtree=False):
                    if left is not None:
                        if left <= 0:
                            continue
                        entry[1] = left - 1
                    raise WinError(ERROR_SHARING_VIOLATION, str(path))

    # -- ACLs ------------------------------------------------------------------------------
    def deny_access(self, path: str) -> None:
        """Refuse every access to ``path`` and everything below it (ERROR_ACCESS_DENIED)."""
        with self._lock:
            self._denied.append(_Rule(path))

    def allow_access(self, path: t.Optional[str] = None) -> None:
        """Undo :meth:`deny_access` for ``path`` (or for every path)."""
        with self._lock:
            if path is None:
                self._denied.clear()
            else:
                key = parse_path(path, allow_wildcards=True).key
                self._denied = [rule for rule in self._denied if rule.path.key != key]

    def check_access(self, path: WinPath) -> None:
        with self._lock:
            rules = list(self._denied)
        for rule in rules:
            if rule.matches(path, subtree=True):
                raise WinError(ERROR_ACCESS_DENIED, str(path))

    # -- volumes -----------------------------------------------------------------------------
    def disk_full_after(self, drive: str, nbytes: t.Optional[int]) -> None:
        """Writes to ``drive`` (``'E'``, ``'E:'`` or a share root) fail once ``nbytes`` more were written."""
        self._host.fs.drive(drive).volume.set_disk_full_after(nbytes)

    def slow_drive(self, drive: str, bytes_per_second: t.Optional[int]) -> None:
        """Writes to ``drive`` proceed at ``bytes_per_second`` (None: full speed)."""
        self._host.fs.drive(drive).volume.set_speed(bytes_per_second)

    # -- named faults for other emulations --------------------------------------------------
    def set(self, name: str, value: t.Any) -> None:
        with self._lock:
            self._named[name] = value

    def get(self, name: str, default: t.Any = None) -> t.Any:
        with self._lock:
            return self._named.get(name, default)

    def pop(self, name: str, default: t.Any = None) -> t.Any:
        """Read a one-shot fault and clear it."""
        with self._lock:
            return self._named.pop(name, default)

    def clear(self) -> None:
        """Remove every fault (volume faults on this host's drives included)."""
        with self._lock:
            self._locked.clear()
            self._denied.clear()
            self._named.clear()
            self.wait_scale = 1.0
        for drive in self._host.fs.drives():
            drive.volume.set_disk_full_after(None)
            drive.volume.set_speed(None)

    def apply_spec(self, spec: t.Mapping[str, t.Any]) -> None:
        """Set faults from a lab spec's ``faults:`` mapping; unknown keys become named faults."""
        for key, value in (spec or {}).items():
            if key == 'locked_files':
                for item in _as_list(value):
                    if isinstance(item, dict):
                        self.lock_file(item['path'], item.get('attempts'))
                    else:
                        self.lock_file(item)
            elif key == 'access_denied':
                for item in _as_list(value):
                    self.deny_access(item)
            elif key == 'disk_full_after':
                for drive, nbytes in dict(value).items():
                    self.disk_full_after(drive, parse_size(nbytes, 'disk_full_after'))
            elif key == 'slow_drive':
                for drive, speed in dict(value).items():
                    self.slow_drive(drive, parse_size(speed, 'slow_drive'))
            elif key == 'wait_scale':
                self.wait_scale = float(value)
            else:
                self.set(key, value)


def _as_list(value: t.Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
