"""Pack a bundle's files into volumes that each fit one medium (docs/bundle.md).

Space a volume needs is estimated, on the safe side, as the sum of:

- every file (content files and the metadata package) rounded up to whole clusters
  (``cluster_size``, default 4096 bytes: NTFS, exFAT and FAT32 defaults for common sizes, and
  two 2048-byte UDF sectors on optical discs);
- ``per_file_overhead`` bytes per file (default 1024) for the file system's own record of it:
  an NTFS file record is 1 KiB, FAT32 and UDF directory entries are smaller;
- one cluster per folder: the volume folder, ``WsusContent``, ``metadata``, the 256 ``XX``
  folders (always reserved) and any other folder a file needs;
- ``manifest.json`` (a fixed 16 KiB for its header plus, per file, its path and 96 bytes for
  size, SHA-256 and punctuation), rounded up to clusters, and one cluster for its ``.sig``.

``volume_size`` is the space the medium offers to files: give the formatted capacity (a DVD-R
holds 4.7GB = 4,700,000,000 bytes, a BD-R 25GB) and the estimate keeps the rest safe.

Files are placed first-fit decreasing (largest first, each into the first volume with room),
which never needs more than 11/9 of the optimum plus one volume. FAT32 cannot hold a file of
4 GiB or more; when the medium is FAT32 such files are reported before anything is packed.

Pure: no I/O.
"""
from __future__ import annotations

import json
import operator

from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import bulk_allocation
from ansible_collections.airgap.wsus.plugins.plugin_utils._sizes import format_size

DEFAULT_CLUSTER_SIZE = 4096
DEFAULT_PER_FILE_OVERHEAD = 1024
MANIFEST_HEADER_BYTES = 16384
MANIFEST_ENTRY_BYTES = 96
FAT32_MAX_FILE_SIZE = 4 * 1024 ** 3 - 1
# volume-NN, WsusContent, metadata and the 256 XX folders.
RESERVED_FOLDERS = 3 + 256
PACKAGE_PATH = 'metadata/export.xml.gz'
_HASH_FOLDERS = frozenset(f'{n:02X}' for n in range(256))
_NO_FOLDERS = ()
_LISTED = 20


class VolumeError(AirgapWsusError, ValueError):
    """Files that cannot be packed onto the medium; the message names them and the fix."""


def _round_up(size, cluster):
    return -(-size // cluster) * cluster


def _content_folders(relpath):
    """Folders a content file needs beyond the reserved ones (``WsusContent/XX`` is reserved)."""
    head, _sep, rest = relpath.partition('/')
    if not rest:
        return []
    if '/' not in rest and head.upper() in _HASH_FOLDERS:
        return []
    parts = relpath.split('/')[:-1]
    return ['/'.join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def fixed_overhead(cluster_size: int = DEFAULT_CLUSTER_SIZE, header_bytes: int = MANIFEST_HEADER_BYTES) -> int:
    """Return the space every volume needs before any file: reserved folders, the manifest's header, its rounding and the ``.sig``."""
    return RESERVED_FOLDERS * cluster_size + _round_up(header_bytes, cluster_size) + 2 * cluster_size


def _json_length(relpath):
    """Characters a path takes in the ASCII manifest: non-ASCII characters become \\uXXXX escapes."""
    return len(relpath) if relpath.isascii() else len(json.dumps(relpath)) - 2


def file_cost(relpath: str, size: int, cluster_size: int = DEFAULT_CLUSTER_SIZE, per_file_overhead: int = DEFAULT_PER_FILE_OVERHEAD) -> int:
    """Return the space one content file takes on a volume, not counting new folders."""
    return _round_up(size, cluster_size) + per_file_overhead + _json_length(relpath) + MANIFEST_ENTRY_BYTES


def volume_usage(files, package_size=None, cluster_size: int = DEFAULT_CLUSTER_SIZE, per_file_overhead: int = DEFAULT_PER_FILE_OVERHEAD,
                 header_bytes: int = MANIFEST_HEADER_BYTES) -> int:
    """Return the estimated space a volume holding ``files`` (``(relpath, size)``) and optionally the package takes."""
    used = fixed_overhead(cluster_size, header_bytes)
    folders = set()
    for relpath, size in files:
        used += file_cost(relpath, size, cluster_size, per_file_overhead)
        folders.update(_content_folders(relpath))
    used += len(folders) * cluster_size
    if package_size is not None:
        used += _round_up(package_size, cluster_size) + per_file_overhead
    return used


class _FirstFit:
    """Leftmost bin with enough room in O(log n): a max segment tree over the bins' free space."""

    def __init__(self):
        self.leaves = 1
        self.tree = [-1, -1]
        self.count = 0

    def add(self, free):
        """Open a bin with ``free`` room and return its index."""
        if self.count == self.leaves:
            old = self.tree[self.leaves:]
            self.leaves *= 2
            self.tree = [-1] * (2 * self.leaves)
            self.tree[self.leaves:self.leaves + len(old)] = old
            for pos in range(self.leaves - 1, 0, -1):
                self.tree[pos] = max(self.tree[2 * pos], self.tree[2 * pos + 1])
        self.count += 1
        self.tree[self.leaves + self.count - 1] = free
        self.take(self.count - 1, 0)  # propagates the new bin's room up the tree
        return self.count - 1

    def find(self, need):
        """Return the leftmost bin with at least ``need`` room, or -1."""
        tree = self.tree
        if tree[1] < need:
            return -1
        pos, leaves = 1, self.leaves
        while pos < leaves:
            pos = 2 * pos if tree[2 * pos] >= need else 2 * pos + 1
        return pos - leaves

    def take(self, index, amount):
        """Use ``amount`` of bin ``index``'s room."""
        tree = self.tree
        pos = index + self.leaves
        tree[pos] -= amount
        pos //= 2
        while pos:
            left, right = tree[2 * pos], tree[2 * pos + 1]
            best = left if left >= right else right
            if tree[pos] == best:
                break  # an unchanged node leaves every ancestor unchanged
            tree[pos] = best
            pos //= 2

    def free(self, index):
        """Return the room left in bin ``index``."""
        return self.tree[self.leaves + index]


def _listed(items):
    shown = ', '.join(f'{path} ({format_size(size)})' for path, size in items[:_LISTED])
    return shown + (f' and {len(items) - _LISTED} more' if len(items) > _LISTED else '')


def check_file_system(files, file_system, package_size=None) -> None:
    """Raise :class:`VolumeError` when the medium's ``file_system`` cannot store some file (FAT32: 4 GiB - 1 bytes at most)."""
    if not file_system or file_system.upper() not in ('FAT32', 'FAT'):
        return
    items = list(files) + ([(PACKAGE_PATH, package_size)] if package_size is not None else [])
    too_big = sorted((item for item in items if item[1] > FAT32_MAX_FILE_SIZE), key=lambda item: (-item[1], item[0]))
    if too_big:
        raise VolumeError(f'the medium is formatted {file_system.upper()}, which cannot store a file of 4 GiB or more, and '
                          f'{len(too_big)} file(s) are that large: {_listed(too_big)}. Format the medium as exFAT, NTFS or UDF')


def pack(files, volume_size=None, package_size=None, cluster_size: int = DEFAULT_CLUSTER_SIZE,
         per_file_overhead: int = DEFAULT_PER_FILE_OVERHEAD, file_system=None, header_bytes: int = MANIFEST_HEADER_BYTES) -> dict:
    """Pack ``files`` (``(relpath, size)``) and the package (``package_size`` bytes) into volumes.

    Without ``volume_size`` everything goes into one volume. Returns ``{'count', 'volume_size',
    'cluster_size', 'bytes', 'allocated', 'package_volume', 'volumes': [{'index', 'files',
    'file_count', 'bytes', 'allocated', 'package'}]}`` where ``allocated`` is the estimated
    space used and each volume's ``files`` is sorted by path. ``header_bytes`` is the room
    kept for a manifest's fields other than ``files``: pass the real size when it may exceed
    the default (large ``approvals``). Raises :class:`VolumeError` for a file larger than a
    volume (naming it) or a medium whose file system cannot hold it.
    """
    if cluster_size < 512 or cluster_size & (cluster_size - 1):
        raise VolumeError(f'cluster_size {cluster_size} must be a power of two of at least 512')
    files = list(map(tuple, files))
    check_file_system(files, file_system, package_size)
    if volume_size is None:
        volumes = [{'files': files, 'package': package_size is not None, 'allocated': None}]
    else:
        fixed = per_file_overhead + MANIFEST_ENTRY_BYTES
        with bulk_allocation():
            # file_cost() and _content_folders() inlined: this runs once per file, a million times for a big server.
            items = [((size // -cluster_size) * cluster_size - fixed - (len(relpath) if relpath.isascii() else _json_length(relpath)),
                      relpath, 0, size,
                      _NO_FOLDERS if relpath[2:3] == '/' and relpath.count('/') == 1 and relpath[:2].upper() in _HASH_FOLDERS
                      else _content_folders(relpath))
                     for relpath, size in files]
        if package_size is not None:
            items.append((-(_round_up(package_size, cluster_size) + per_file_overhead), PACKAGE_PATH, 1, package_size, None))
        base = fixed_overhead(cluster_size, header_bytes)
        volumes = _first_fit(items, volume_size, base, cluster_size) or [{'files': [], 'package': False, 'allocated': base}]
    result = []
    for index, volume in enumerate(volumes, start=1):
        volume_files = sorted(volume['files'], key=operator.itemgetter(0))
        allocated = volume['allocated']
        if allocated is None:
            allocated = volume_usage(volume_files, package_size if volume['package'] else None, cluster_size, per_file_overhead, header_bytes)
        result.append({'index': index, 'files': volume_files, 'file_count': len(volume_files),
                       'bytes': sum(size for _path, size in volume_files), 'allocated': allocated, 'package': volume['package']})
    return {
        'count': len(result), 'volume_size': volume_size, 'cluster_size': cluster_size,
        'bytes': sum(volume['bytes'] for volume in result), 'allocated': sum(volume['allocated'] for volume in result),
        'package_volume': next((volume['index'] for volume in result if volume['package']), None),
        'volumes': result,
    }


def _first_fit(items, volume_size, base, cluster_size):
    room = volume_size - base
    if room <= 0:
        raise VolumeError(f'volume_size {volume_size} bytes ({format_size(volume_size)}) leaves no room once each volume\'s folders and '
                          f'manifest take their {base} bytes; give a medium of at least a few MB')
    too_big = [(relpath, size) for neg_cost, relpath, _package, size, folders in items if -neg_cost + len(folders or ()) * cluster_size > room]
    if too_big:
        raise VolumeError(f'{len(too_big)} file(s) do not fit on one volume of {format_size(volume_size)} ({volume_size} bytes; '
                          f'{room} left for files after overhead): {_listed(sorted(too_big, key=lambda item: -item[1]))}. '
                          'Choose a larger volume_size (a BD-R holds 25GB) or no volume_size')
    with bulk_allocation():
        # Largest first, ties by path (then the package last), so the result does not depend on the input order.
        # Two stable sorts on single keys are several times faster than one sort on tuples.
        items.sort(key=operator.itemgetter(1))
        items.sort(key=operator.itemgetter(0))
    fit = _FirstFit()
    find, take = fit.find, fit.take
    volumes = []
    for neg_cost, relpath, _package, size, folders in items:
        cost = -neg_cost
        if folders:
            # Worst case (every folder new) for the search, the true cost for the bookkeeping.
            index = find(cost + len(folders) * cluster_size)
        else:
            index = find(cost)
        if index < 0:
            index = fit.add(room)
            volumes.append({'files': [], 'folders': set(), 'package': False})
        volume = volumes[index]
        if folders:
            new_folders = [folder for folder in folders if folder not in volume['folders']]
            volume['folders'].update(new_folders)
            cost += len(new_folders) * cluster_size
        take(index, cost)
        if folders is None:
            volume['package'] = True
        else:
            volume['files'].append((relpath, size))
    for index, volume in enumerate(volumes):
        volume['allocated'] = base + room - fit.free(index)
        del volume['folders']
    return volumes
