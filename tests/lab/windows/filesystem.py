r"""The host's file layer: Windows paths in, sandbox files out, with Windows' errors and limits.

Every emulated program reads and writes through :class:`FileSystem` (``host.fs``), never
through the sandbox paths directly, so that:

- names resolve case-insensitively and keep the case they were created with;
- drive capacity, the FAT32 4 GiB file limit, a slow drive and a disk-full fault apply;
- faults (a locked file, a denied path) show up as the Win32 error Windows would give;
- a killed emulated process stops at its next file operation (``checkpoint``).

Paths may be given as text (``'D:\WSUS\WsusContent'``) or as :class:`~.paths.WinPath`.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import time
import typing as t

from .errors import (ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_BAD_NET_NAME, ERROR_BAD_NETPATH,
                     ERROR_DIR_NOT_EMPTY, ERROR_FILE_NOT_FOUND, ERROR_INVALID_NAME, ERROR_PATH_NOT_FOUND,
                     WinError, drive_not_found)
from .paths import WinPath, fold, parse_path
from .volumes import Drive

if t.TYPE_CHECKING:  # pragma: no cover
    from .faults import HostFaults

PathLike = t.Union[str, WinPath]
CHUNK = 1024 * 1024
_DEVICE_MESSAGE = ('FileStream will not open Win32 devices such as disk partitions and tape drives. '
                   'Avoid use of "\\\\.\\" in the path.')


@dataclasses.dataclass
class FileInfo:
    """One directory entry as Windows reports it."""

    path: WinPath
    is_dir: bool
    size: int
    mtime_ns: int
    real: pathlib.Path

    @property
    def name(self) -> str:
        return self.path.name


@dataclasses.dataclass
class VolumeInfo:
    root: str
    free_bytes: int
    total_bytes: int
    file_system: str
    drive_type: str
    label: str


class Writer:
    """A file open for writing. Allocation is charged to the volume as the file grows."""

    def __init__(self, fs: 'FileSystem', path: WinPath, real: pathlib.Path, drive: Drive, append: bool,
                 reserve: int) -> None:
        self.fs = fs
        self.path = path
        self.real = real
        self.volume = drive.volume
        existed = real.exists()
        old_size = real.stat().st_size if existed else 0
        target = max(old_size, reserve) if append else reserve
        if target > old_size:
            # charged before the file is touched: a refusal leaves the old file as it was
            self.volume.charge(target - old_size, str(path), target)
        elif target < old_size:
            self.volume.credit(old_size - target)
        self._charged = target   # bytes of this file the volume accounts for
        self._fh = open(real, 'ab' if append else 'wb')  # pylint: disable=consider-using-with
        self.size = old_size if append else 0
        self.append = append
        self.closed = False

    def write(self, data: bytes) -> int:
        self.fs.checkpoint()
        new_size = self.size + len(data)
        if new_size > self._charged:
            self.volume.charge(new_size - self._charged, str(self.path), new_size)
            self._charged = new_size
        self.volume.throttle(len(data))
        self.fs.checkpoint()
        self._fh.write(data)
        self.size = new_size
        return len(data)

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._fh.close()
        if self._charged > self.size:
            self.volume.credit(self._charged - self.size)
            self._charged = self.size
        if self.volume.time_granularity_ns >= 10 ** 9:
            st = self.real.stat()
            os.utime(self.real, ns=(st.st_atime_ns, self.volume.round_mtime_ns(st.st_mtime_ns)))

    def abort(self) -> None:
        """Close and delete what was written (a failed copy leaves no partial file); a file opened
        for appending keeps what it had."""
        if self.append:
            self.close()
            return
        if not self.closed:
            self.closed = True
            self._fh.close()
        try:
            self.real.unlink()
        except FileNotFoundError:
            pass
        self.volume.credit(self._charged)
        self._charged = 0

    def __enter__(self) -> 'Writer':
        return self

    def __exit__(self, exc_type: t.Any, exc: t.Any, tb: t.Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class FileSystem:
    """Drives and shares of one host, and the file operations programs use on them."""

    def __init__(self, host_name: str, faults: 'HostFaults') -> None:
        self.host_name = host_name
        self.faults = faults
        self._roots: t.Dict[str, Drive] = {}
        self.checkpoint: t.Callable[[], None] = _no_checkpoint
        # (server, share) -> Drive for shares other hosts export; set by the host
        self.remote_share: t.Optional[t.Callable[[str, str], t.Optional[Drive]]] = None

    # -- drives ----------------------------------------------------------------------------
    def add_drive(self, drive: Drive) -> None:
        self._roots[fold(drive.root)] = drive

    def drives(self) -> t.List[Drive]:
        return list(self._roots.values())

    def drive(self, spec: str) -> Drive:
        r"""The drive named ``'E'``, ``'E:'``, ``'E:\'`` or ``'\\server\share'``."""
        text = spec.rstrip('\\')
        if len(text) == 1:
            text += ':'
        found = self._roots.get(fold(text))
        if found is None:
            raise KeyError('host %s has no drive or share %r; it has %s'
                           % (self.host_name, spec, ', '.join(d.root for d in self.drives())))
        return found

    def drive_for(self, path: WinPath) -> Drive:
        """The drive or share holding ``path``; the Windows error when there is none."""
        found = self._roots.get(fold(path.root))
        if found is not None:
            return found
        if path.is_unc:
            server, share = path.root[2:].split('\\', 1)
            if fold(server) in (fold(self.host_name), 'LOCALHOST', '127.0.0.1', '.') and len(share) == 2 \
                    and share.endswith('$'):
                admin = self._roots.get(fold(share[0] + ':'))
                if admin is not None:
                    return admin
            remote = self.remote_share(server, share) if self.remote_share is not None else None
            if remote is not None:
                return remote
            if any(fold(root).startswith('\\\\%s\\' % fold(server)) for root in self._roots) \
                    or fold(server) in (fold(self.host_name), 'LOCALHOST', '127.0.0.1', '.'):
                raise WinError(ERROR_BAD_NET_NAME, str(path))
            raise WinError(ERROR_BAD_NETPATH, str(path))
        raise drive_not_found(path.root[0], str(path))

    def invalidate_usage(self) -> None:
        """Rescan every volume's usage on the next question (after writing to sandboxes directly)."""
        for drive in self.drives():
            drive.volume.invalidate()

    # -- paths -------------------------------------------------------------------------------
    def parse(self, path: PathLike, cwd: t.Optional[PathLike] = None, allow_wildcards: bool = False) -> WinPath:
        if isinstance(path, WinPath):
            return path
        base = self.parse(cwd) if cwd is not None else None
        return parse_path(path, base, allow_wildcards=allow_wildcards)

    def _locate(self, path: WinPath, drive: Drive) -> t.Tuple[pathlib.Path, int]:
        """The sandbox path for ``path`` and how many of its names exist (case-corrected)."""
        cur = str(drive.folder)
        parts = path.parts
        for i, name in enumerate(parts):
            cand = os.path.join(cur, name)
            if os.path.lexists(cand):
                if i < len(parts) - 1 and not os.path.isdir(cand):
                    return pathlib.Path(cur, *parts[i:]), i
                cur = cand
                continue
            actual = _find_folded(cur, name)
            if actual is None:
                return pathlib.Path(cur, *parts[i:]), i
            cur = os.path.join(cur, actual)
            if i < len(parts) - 1 and not os.path.isdir(cur):
                return pathlib.Path(cur, *parts[i + 1:]), i
        return pathlib.Path(cur), len(parts)

    def _resolve(self, path: PathLike, cwd: t.Optional[PathLike] = None,
                 check_access: bool = True) -> t.Tuple[WinPath, Drive, pathlib.Path, bool]:
        """(path as stored, drive, sandbox path, exists). ``check_access=False`` for attribute
        reads, which Windows grants through the parent folder even where the ACL denies access."""
        self.checkpoint()
        wp = self.parse(path, cwd)
        drive = self.drive_for(wp)
        if wp.device:
            raise WinError(ERROR_INVALID_NAME, str(wp), ps_message=_DEVICE_MESSAGE)
        if check_access:
            self.faults.check_access(wp)
        real, found = self._locate(wp, drive)
        return _actual_case(wp, real, found), drive, real, found == len(wp.parts)

    def real_path(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> pathlib.Path:
        """The sandbox path behind ``path`` (existing names in their stored case)."""
        return self._resolve(path, cwd)[2]

    def canonical(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> WinPath:
        """``path`` with the existing part of it spelled as stored (``d:\\wsus`` -> ``D:\\WSUS``)."""
        return self._resolve(path, cwd, check_access=False)[0]

    # -- queries -----------------------------------------------------------------------------
    def exists(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> bool:
        """Like ``Test-Path``: False for a missing, invalid, denied or unknown-drive path."""
        try:
            return self._resolve(path, cwd, check_access=False)[3]
        except (WinError, ValueError):
            return False

    def is_dir(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> bool:
        try:
            _path, _drive, real, found = self._resolve(path, cwd, check_access=False)
        except (WinError, ValueError):
            return False
        return found and real.is_dir()

    def is_file(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> bool:
        try:
            _path, _drive, real, found = self._resolve(path, cwd, check_access=False)
        except (WinError, ValueError):
            return False
        return found and real.is_file()

    def stat(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> FileInfo:
        """The entry at ``path``: ERROR_FILE_NOT_FOUND (parent exists) or ERROR_PATH_NOT_FOUND."""
        wp, _drive, real, found = self._resolve(path, cwd, check_access=False)
        if not found:
            raise self._missing(wp, real)
        st = real.stat()
        return FileInfo(wp, real.is_dir(), 0 if real.is_dir() else st.st_size, st.st_mtime_ns, real)

    def _missing(self, wp: WinPath, real: pathlib.Path) -> WinError:
        parent_found = real.parent.is_dir()
        return WinError(ERROR_FILE_NOT_FOUND if parent_found else ERROR_PATH_NOT_FOUND, str(wp))

    def listdir(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> t.List[FileInfo]:
        """Entries of a folder, sorted as NTFS returns them (by upper-cased name)."""
        wp, _drive, real, found = self._resolve(path, cwd)
        if not found:
            raise WinError(ERROR_PATH_NOT_FOUND, str(wp))
        if not real.is_dir():
            raise WinError(ERROR_PATH_NOT_FOUND, str(wp))
        entries = []
        with os.scandir(real) as it:
            for entry in it:
                is_dir = entry.is_dir(follow_symlinks=False)
                st = entry.stat(follow_symlinks=False)
                entries.append(FileInfo(WinPath(wp.root, wp.parts + (entry.name,)), is_dir,
                                        0 if is_dir else st.st_size, st.st_mtime_ns, pathlib.Path(entry.path)))
        entries.sort(key=lambda e: fold(e.name))
        return entries

    def walk_files(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> t.Iterator[t.Tuple[t.Tuple[str, ...], FileInfo]]:
        """Every file below a folder, depth first in NTFS order: ``(relative names, info)``."""
        top = self.parse(path, cwd)
        stack = [top]
        while stack:
            folder = stack.pop()
            entries = self.listdir(folder)
            subdirs = []
            for entry in entries:
                if entry.is_dir:
                    subdirs.append(entry.path)
                else:
                    yield entry.path.parts[len(top.parts):], entry
            stack.extend(reversed(subdirs))

    def volume_info(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> VolumeInfo:
        wp = self.parse(path, cwd)
        drive = self.drive_for(wp)
        vol = drive.volume
        return VolumeInfo(drive.root + ('\\' if not drive.root.startswith('\\\\') else ''),
                          vol.free_bytes(), vol.capacity, vol.file_system, drive.drive_type, vol.label)

    # -- reading -------------------------------------------------------------------------------
    def open_read(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> t.BinaryIO:
        wp, _drive, real, found = self._resolve(path, cwd)
        if not found:
            raise self._missing(wp, real)
        if real.is_dir():
            raise WinError(ERROR_ACCESS_DENIED, str(wp))
        self.faults.check_lock(wp)
        return open(real, 'rb')  # pylint: disable=consider-using-with

    def read_bytes(self, path: PathLike, cwd: t.Optional[PathLike] = None, max_bytes: t.Optional[int] = None) -> bytes:
        with self.open_read(path, cwd) as fh:
            return fh.read() if max_bytes is None else fh.read(max_bytes)

    def read_tail(self, path: PathLike, nbytes: int, cwd: t.Optional[PathLike] = None) -> bytes:
        """The last ``nbytes`` of a file (files open for writing by a process can be read, as with
        FILE_SHARE_WRITE; the lock fault still applies)."""
        with self.open_read(path, cwd) as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max(0, nbytes)))
            return fh.read()

    # -- writing -------------------------------------------------------------------------------
    def open_write(self, path: PathLike, cwd: t.Optional[PathLike] = None, append: bool = False,
                   reserve: int = 0) -> Writer:
        """Create or truncate (or append to) a file. ``reserve`` preallocates, as CopyFile does."""
        wp, drive, real, found = self._resolve(path, cwd)
        if not found:
            if not real.parent.is_dir():
                raise WinError(ERROR_PATH_NOT_FOUND, str(wp))
        elif real.is_dir():
            raise WinError(ERROR_ACCESS_DENIED, str(wp))
        else:
            self.faults.check_lock(wp)
        return Writer(self, wp, real, drive, append, reserve)

    def write_bytes(self, path: PathLike, data: bytes, cwd: t.Optional[PathLike] = None, append: bool = False,
                    make_parents: bool = False) -> WinPath:
        wp = self.parse(path, cwd)
        if make_parents:
            self.mkdir(wp.parent)
        with self.open_write(wp, append=append, reserve=0 if append else len(data)) as out:
            for start in range(0, len(data), CHUNK):
                out.write(data[start:start + CHUNK])
        return wp

    def copy_file(self, src: PathLike, dst: PathLike, cwd: t.Optional[PathLike] = None,
                  progress: t.Optional[t.Callable[[int], None]] = None) -> int:
        """Copy data and time stamp, as CopyFileEx: the destination is preallocated first, so a
        file that cannot fit fails before a byte is written. Returns the size copied."""
        with self.open_read(src, cwd) as fin:
            fin.seek(0, os.SEEK_END)
            size = fin.tell()
            fin.seek(0)
            src_real = pathlib.Path(fin.name)
            with self.open_write(dst, cwd, reserve=size) as fout:
                while True:
                    chunk = fin.read(CHUNK)
                    if not chunk:
                        break
                    fout.write(chunk)
                    if progress is not None:
                        progress(len(chunk))
                dst_real = fout.real
                vol = fout.volume
        mtime = src_real.stat().st_mtime_ns
        os.utime(dst_real, ns=(time.time_ns(), vol.round_mtime_ns(mtime)))
        return size

    def set_mtime(self, path: PathLike, mtime_ns: int, cwd: t.Optional[PathLike] = None) -> None:
        wp, drive, real, found = self._resolve(path, cwd)
        if not found:
            raise self._missing(wp, real)
        os.utime(real, ns=(time.time_ns(), drive.volume.round_mtime_ns(mtime_ns)))

    def mkdir(self, path: PathLike, cwd: t.Optional[PathLike] = None, parents: bool = True) -> WinPath:
        """Create a folder (and its parents); an existing folder is fine, an existing file is not."""
        wp, _drive, real, found = self._resolve(path, cwd)
        if found:
            if not real.is_dir():
                raise WinError(ERROR_ALREADY_EXISTS, str(wp))
            return wp
        if not parents and not real.parent.is_dir():
            raise WinError(ERROR_PATH_NOT_FOUND, str(wp))
        for i in range(1, len(wp.parts) + 1):
            sub = WinPath(wp.root, wp.parts[:i])
            self.faults.check_access(sub)
            sreal = self._resolve(sub)[2]
            if sreal.exists() and not sreal.is_dir():
                raise WinError(ERROR_PATH_NOT_FOUND if i < len(wp.parts) else ERROR_ALREADY_EXISTS, str(wp))
            sreal.mkdir(exist_ok=True)
        return self.canonical(wp)

    def delete_file(self, path: PathLike, cwd: t.Optional[PathLike] = None) -> int:
        """Delete a file; returns the bytes freed."""
        wp, drive, real, found = self._resolve(path, cwd)
        if not found:
            raise self._missing(wp, real)
        if real.is_dir():
            raise WinError(ERROR_ACCESS_DENIED, str(wp))
        self.faults.check_lock(wp)
        size = real.stat().st_size
        real.unlink()
        drive.volume.credit(size)
        return size

    def remove_dir(self, path: PathLike, cwd: t.Optional[PathLike] = None, recursive: bool = False) -> int:
        """Remove a folder (with ``recursive``, its content: locks and ACLs apply to each file)."""
        wp, _drive, real, found = self._resolve(path, cwd)
        if not found:
            raise self._missing(wp, real)
        if not real.is_dir():
            raise WinError(ERROR_PATH_NOT_FOUND, str(wp))
        freed = 0
        if recursive:
            for entry in self.listdir(wp):
                if entry.is_dir:
                    freed += self.remove_dir(entry.path, recursive=True)
                else:
                    freed += self.delete_file(entry.path)
        elif any(real.iterdir()):
            raise WinError(ERROR_DIR_NOT_EMPTY, str(wp))
        real.rmdir()
        return freed

    def replace(self, src: PathLike, dst: PathLike, cwd: t.Optional[PathLike] = None) -> WinPath:
        """Rename ``src`` over ``dst`` (MoveFileEx with MOVEFILE_REPLACE_EXISTING)."""
        swp, sdrive, sreal, sfound = self._resolve(src, cwd)
        if not sfound:
            raise self._missing(swp, sreal)
        self.faults.check_lock(swp)
        dwp, ddrive, dreal, dfound = self._resolve(dst, cwd)
        if not dfound and not dreal.parent.is_dir():
            raise WinError(ERROR_PATH_NOT_FOUND, str(dwp))
        if dfound:
            if dreal.is_dir():
                raise WinError(ERROR_ACCESS_DENIED, str(dwp))
            self.faults.check_lock(dwp)
        if sdrive.volume is ddrive.volume:
            freed = 0
            if dfound and dreal != sreal:
                freed = dreal.stat().st_size
                dreal.unlink()
            os.replace(sreal, dreal.parent / dwp.name)
            sdrive.volume.credit(freed)
        elif sreal.is_dir():
            shutil.copytree(sreal, dreal)
            self.remove_dir(swp, recursive=True)
            ddrive.volume.invalidate()
        else:
            self.copy_file(swp, dwp)
            self.delete_file(swp)
        return self.canonical(dwp)


def _no_checkpoint() -> None:
    return None


def _find_folded(folder: str, name: str) -> t.Optional[str]:
    want = fold(name)
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if fold(entry.name) == want:
                    return entry.name
    except (FileNotFoundError, NotADirectoryError):
        return None
    return None


def _actual_case(wp: WinPath, real: pathlib.Path, found: int) -> WinPath:
    """``wp`` with its first ``found`` names spelled as on disk."""
    if found == 0:
        return wp
    if found == len(wp.parts):
        stored = real.parts[-found:]
    else:
        stored = real.parts[-len(wp.parts):][:found]
    if tuple(stored) == wp.parts[:found]:
        return wp
    return WinPath(wp.root, tuple(stored) + wp.parts[found:], device=wp.device)
