"""Volumes (a sandbox folder with a capacity, a file system and a speed) and what maps them:
drive letters and UNC shares.

A volume's used space is the size of what lies in its folder plus a fixed ``base_used`` (the
operating system on ``C:``, for example). It is scanned once, lazily, then kept current by
the writes and deletes that go through the host's file layer, so free space stays cheap to
ask for. Whoever writes into a volume's folder directly (tests seeding content) calls
:meth:`Volume.invalidate` or :meth:`FileSystem.invalidate_usage` so the next question rescans.

A removable medium or a share can back drives on several hosts (the same USB stick carried
from one host to the other): :func:`volume_for` hands out one :class:`Volume` per folder in
this process, so its usage, capacity and faults are the medium's, whichever host writes.
"""
from __future__ import annotations

import os
import pathlib
import re
import threading
import time
import typing as t
import weakref

from .errors import ERROR_DISK_FULL, ERROR_FILE_TOO_LARGE, WinError

GIB = 1024 ** 3

FILE_SYSTEMS = {
    # name: (largest file in bytes or None, mtime granularity in ns)
    'NTFS': (None, 100),
    'REFS': (None, 100),
    'FAT32': (4 * GIB - 1, 2 * 10 ** 9),
    'EXFAT': (None, 10 * 10 ** 6),
}
FILE_SYSTEM_NAMES = {'NTFS': 'NTFS', 'REFS': 'ReFS', 'FAT32': 'FAT32', 'EXFAT': 'exFAT'}
DRIVE_TYPES = {'FIXED': 'Fixed', 'REMOVABLE': 'Removable', 'NETWORK': 'Network', 'CDROM': 'CDRom', 'RAM': 'Ram'}

_SIZE_RX = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(I?B)?\s*$', re.IGNORECASE)


def parse_size(value: t.Union[int, float, str, None], what: str = 'size') -> t.Optional[int]:
    """``123``, ``'64GB'`` (10^9), ``'1.5 TiB'`` (2^40) -> bytes; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('%s must be a number of bytes or a size like "64GB", not %r' % (what, value))
    if isinstance(value, (int, float)):
        return int(value)
    match = _SIZE_RX.match(str(value))
    if not match:
        raise ValueError('%s must be a number of bytes or a size like "64GB", not %r' % (what, value))
    number, unit, suffix = float(match.group(1)), match.group(2).upper(), (match.group(3) or '').upper()
    # as lab/spec.py reads sizes: GB is 10^9, GiB (or a bare G) 2^30
    base = 1000 if suffix == 'B' else 1024
    return int(number * base ** ' KMGTP'.index(unit or ' '))


def file_system_name(value: t.Optional[str]) -> str:
    """Canonical spelling of a file system name (``ntfs`` -> ``NTFS``, ``exfat`` -> ``exFAT``)."""
    key = (value or 'NTFS').replace('-', '').upper()
    if key not in FILE_SYSTEMS:
        raise ValueError('unknown file system %r: use one of NTFS, ReFS, FAT32, exFAT' % (value,))
    return FILE_SYSTEM_NAMES[key]


def drive_type_name(value: t.Optional[str]) -> str:
    key = (value or 'Fixed').upper()
    if key not in DRIVE_TYPES:
        raise ValueError('unknown drive type %r: use one of %s' % (value, ', '.join(DRIVE_TYPES.values())))
    return DRIVE_TYPES[key]


class Volume:
    """Storage behind one or more drives: a folder, a capacity, a file system, faults."""

    def __init__(self, root: pathlib.Path, capacity: int, file_system: str = 'NTFS', label: str = '',
                 base_used: int = 0, serial: t.Optional[int] = None) -> None:
        self.root = pathlib.Path(root)
        self.capacity = int(capacity)
        self.file_system = file_system_name(file_system)
        self.label = label
        self.base_used = int(base_used)
        self.serial = serial if serial is not None else (hash(str(self.root)) & 0xFFFFFFFF)
        self._lock = threading.Lock()
        self._used: t.Optional[int] = None
        # faults: bytes per second (None = unthrottled), and bytes still writable (None = no fault)
        self.bytes_per_second: t.Optional[int] = None
        self._full_after: t.Optional[int] = None
        self.root.mkdir(parents=True, exist_ok=True)

    # -- facts ---------------------------------------------------------------------------
    @property
    def max_file_size(self) -> t.Optional[int]:
        return FILE_SYSTEMS[self.file_system.upper()][0]

    @property
    def time_granularity_ns(self) -> int:
        return FILE_SYSTEMS[self.file_system.upper()][1]

    def used_bytes(self) -> int:
        with self._lock:
            if self._used is None:
                self._used = _tree_size(self.root)
            return self.base_used + self._used

    def free_bytes(self) -> int:
        return max(0, self.capacity - self.used_bytes())

    def invalidate(self) -> None:
        """Forget the tracked usage; the next question rescans the folder."""
        with self._lock:
            self._used = None

    def round_mtime_ns(self, mtime_ns: int) -> int:
        """The time stamp this file system would store for ``mtime_ns`` (FAT rounds up to 2 s)."""
        step = self.time_granularity_ns
        if step >= 10 ** 9:
            return -(-mtime_ns // step) * step
        return mtime_ns - mtime_ns % step

    # -- faults --------------------------------------------------------------------------
    def set_disk_full_after(self, nbytes: t.Optional[int]) -> None:
        """Fail writes with ERROR_DISK_FULL once ``nbytes`` more bytes were written (None clears)."""
        with self._lock:
            self._full_after = None if nbytes is None else int(nbytes)

    def set_speed(self, bytes_per_second: t.Optional[int]) -> None:
        """Throttle writes to ``bytes_per_second`` (None: full speed)."""
        self.bytes_per_second = None if not bytes_per_second else int(bytes_per_second)

    # -- accounting, called by the file layer ------------------------------------------------
    def charge(self, nbytes: int, path: str, new_size: int) -> None:
        """Account for ``nbytes`` about to be allocated for ``path`` (then ``new_size`` long).

        Raises ERROR_DISK_FULL or ERROR_FILE_TOO_LARGE instead, allocating nothing.
        """
        limit = self.max_file_size
        if limit is not None and new_size > limit:
            raise WinError(ERROR_FILE_TOO_LARGE, path)
        if nbytes <= 0:
            return
        self.used_bytes()
        with self._lock:
            if self._full_after is not None and nbytes > self._full_after:
                self._full_after = 0
                raise WinError(ERROR_DISK_FULL, path)
            if self.base_used + (self._used or 0) + nbytes > self.capacity:
                raise WinError(ERROR_DISK_FULL, path)
            if self._full_after is not None:
                self._full_after -= nbytes
            self._used = (self._used or 0) + nbytes

    def throttle(self, nbytes: int) -> None:
        """Take as long as writing ``nbytes`` takes on this volume (nothing at full speed)."""
        speed = self.bytes_per_second
        if speed and nbytes > 0:
            time.sleep(nbytes / speed)

    def credit(self, nbytes: int) -> None:
        """Account for ``nbytes`` freed (a delete, a truncation, an aborted write)."""
        if nbytes <= 0:
            return
        with self._lock:
            if self._used is not None:
                self._used = max(0, self._used - nbytes)


def _tree_size(root: pathlib.Path) -> int:
    total = 0
    stack = [str(root)]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        try:
                            total += entry.stat(follow_symlinks=False).st_size
                        except OSError:
                            pass
        except OSError:
            continue
    return total


_VOLUMES: 'weakref.WeakValueDictionary[str, Volume]' = weakref.WeakValueDictionary()
_VOLUMES_LOCK = threading.Lock()


def volume_for(root: pathlib.Path, **settings: t.Any) -> Volume:
    """The one :class:`Volume` for ``root`` in this process (created with ``settings`` if new)."""
    key = os.path.realpath(str(root))
    with _VOLUMES_LOCK:
        vol = _VOLUMES.get(key)
        if vol is None:
            vol = Volume(pathlib.Path(root), **settings)
            _VOLUMES[key] = vol
        return vol


class Drive:
    r"""What a root (``C:`` or ``\\server\share``) maps to on one host."""

    def __init__(self, root: str, volume: Volume, drive_type: str = 'Fixed',
                 folder: t.Optional[pathlib.Path] = None) -> None:
        self.root = root
        self.volume = volume
        self.drive_type = drive_type_name(drive_type)
        # where the root's files are: the volume's folder for a drive, a folder in it for a share
        self.folder = pathlib.Path(folder) if folder is not None else volume.root

    @property
    def letter(self) -> t.Optional[str]:
        return None if self.root.startswith('\\\\') else self.root[0]

    def __repr__(self) -> str:
        return 'Drive(%r, %s, %s, %s)' % (self.root, self.drive_type, self.volume.file_system, self.folder)
