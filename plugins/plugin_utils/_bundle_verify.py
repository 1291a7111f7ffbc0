"""Verification of a bundle's files against its manifests (docs/bundle.md, "Verification on the import side").

The host lists and hashes; this module decides. The expected files of each volume (content
files and the package) are compared with what the host observed, in the same order, so no
path has to be mapped back: presence and size first (from a listing), then SHA-256 and the
SHA-1 the name claims (from ``file_hash``). Every problem names the path as the manifest
writes it, the volume and what is wrong.

Volumes may also be checked one at a time (a DVD set verified disc by disc):
:func:`check_volumes` accepts a subset when asked to, after checking that the volumes given
belong to one bundle.

Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest, _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import ManifestError

CONTENT_FOLDER = 'WsusContent'
MAX_LISTED = 10
# What every volume of one bundle must agree on (docs/bundle.md, verification step 1).
_SHARED = ('bundle_id', 'created', 'source', 'settings', 'destination', 'sequence', 'base', 'basis', 'package', 'approvals')


@dataclass(frozen=True)
class Expected:
    """A file a volume must hold: ``path`` as the manifest writes it (``/``), its size, SHA-256 and claimed SHA-1."""

    path: str
    size: int
    sha256: str
    sha1: str | None
    volume: str
    package: bool = False

    def relpath(self) -> str:
        """The file's path relative to the volume folder, with ``\\`` (content under ``WsusContent``)."""
        relative = self.path.replace('/', '\\')
        return relative if self.package else f'{CONTENT_FOLDER}\\{relative}'

    def content_relpath(self) -> str:
        """The file's path relative to a ``WsusContent`` folder, with ``\\``."""
        return self.path.replace('/', '\\')


def expected_files(manifest: Mapping, include_package: bool = True) -> list:
    """The files volume ``manifest`` must hold: its content files, then the package when it is on this volume."""
    label = manifest['volume']['label']
    expected = [Expected(path, size, digest, _manifest.content_sha1(path), label) for path, size, digest in manifest['files']]
    package = manifest['package']
    if include_package and package['volume'] == manifest['volume']['index']:
        expected.append(Expected(package['path'], package['size'], package['sha256'], None, label, package=True))
    return expected


def observed_from_listing(expected, listing, content_root: bool = False) -> list:
    """Align a ``content_inventory`` listing with ``expected``: ``{'exists', 'size'}`` per expected file.

    ``listing`` is the inventory's ``files`` (``[relative_path, size, ...]`` relative to the
    volume folder, or to ``WsusContent`` with ``content_root``). Names compare case-insensitively.
    """
    sizes = {}
    for entry in listing:
        sizes[_winpath.fold(str(entry[0]).replace('/', '\\'))] = entry[1]
    observed = []
    for item in expected:
        key = _winpath.fold(item.content_relpath() if content_root else item.relpath())
        size = sizes.get(key)
        observed.append({'exists': size is not None, 'size': size})
    return observed


def problem(item: Expected, text: str, folder: str | None = None) -> dict:
    """One problem as the modules return it."""
    entry = {'path': item.path, 'volume': item.volume, 'problem': text}
    if folder:
        entry['folder'] = folder
    return entry


def compare(expected, observed, check_hashes: bool, folder: str | None = None) -> list:
    """Compare ``expected`` files with ``observed`` facts (same order) and return the problems.

    ``observed`` entries hold ``exists`` and ``size``, and with ``check_hashes`` also
    ``sha256`` and ``sha1`` (hex, any case) and ``error`` when the file could not be read.
    Without ``check_hashes`` only presence and size are checked.
    """
    problems = []
    for item, seen in zip(expected, observed):
        if not seen or not seen.get('exists'):
            problems.append(problem(item, 'missing', folder))
            continue
        if seen.get('error'):
            problems.append(problem(item, f'could not be read: {seen["error"]}', folder))
            continue
        if seen.get('size') != item.size:
            problems.append(problem(item, f'size is {seen.get("size")} bytes, the manifest says {item.size}', folder))
            continue
        if not check_hashes:
            continue
        sha256 = str(seen.get('sha256') or '').lower()
        if not sha256:
            problems.append(problem(item, 'could not be hashed', folder))
        elif sha256 != item.sha256:
            problems.append(problem(item, 'sha256 differs', folder))
        elif item.sha1 is not None and str(seen.get('sha1') or '').upper() != item.sha1:
            problems.append(problem(item, 'sha1 differs from its name', folder))
    if len(observed) < len(expected):
        problems.extend(problem(item, 'missing', folder) for item in expected[len(observed):])
    return problems


def describe(problems, limit: int = MAX_LISTED) -> str:
    """A sentence listing the first problems: ``0A/x.cab (volume 1 of 2): sha256 differs; ... and 3 more``."""
    shown = '; '.join(f'{p["path"]} ({p["volume"]}): {p["problem"]}' for p in problems[:limit])
    more = len(problems) - limit
    return shown + (f'; and {more} more' if more > 0 else '')


def check_volumes(manifests, names, require_all: bool = True) -> dict:
    """Check that validated volume manifests belong to one bundle; return its summary plus ``missing``.

    With ``require_all`` this is ``_manifest.check_volume_set`` (every volume present).
    Without it, a subset is accepted: the volumes given must agree with each other, appear
    once each, and share no file; ``missing`` lists the labels of the volumes not given.
    """
    manifests, names = list(manifests), list(names)
    if not manifests:
        raise ManifestError('no volume found: point path at the bundle folder (holding volume-01, ...) or list the volume folders')
    count = manifests[0]['volume']['count']
    indices = {doc['volume']['index'] for doc in manifests}
    if require_all or len(indices) == count and len(manifests) == count:
        summary = _manifest.check_volume_set(manifests, names)
        summary['missing'] = []
        return summary
    first, first_name = manifests[0], names[0]
    where: dict = {}
    owner: dict = {}
    for doc, name in zip(manifests, names):
        for key in _SHARED:
            if doc[key] != first[key]:
                raise ManifestError(f'{name} and {first_name} disagree on {key}: they belong to different bundles; '
                                    'bring the volumes of one bundle only')
        if doc['volume']['count'] != count or doc['totals']['files'] != first['totals']['files'] \
                or doc['totals']['bytes'] != first['totals']['bytes']:
            raise ManifestError(f'{name} and {first_name} disagree on the volume count or the bundle totals; the bundle is mixed or altered')
        index = doc['volume']['index']
        if index in where:
            raise ManifestError(f'{name} and {where[index]} are both volume {index} of {count}; bring each volume once')
        where[index] = name
        for entry in doc['files']:
            key = entry[0].lower()
            if owner.setdefault(key, name) != name:
                raise ManifestError(f'{entry[0]} is listed on both {owner[key]} and {name}; every file belongs to exactly one volume')
    return {
        'bundle_id': first['bundle_id'], 'sequence': first['sequence'], 'base': first['base'], 'destination': first['destination'],
        'count': count, 'files': first['totals']['files'], 'bytes': first['totals']['bytes'], 'package': dict(first['package']),
        'settings': dict(first['settings']), 'basis': dict(first['basis']), 'source': dict(first['source']), 'created': first['created'],
        'missing': [_manifest.volume_label(i, count) for i in range(1, count + 1) if i not in where],
    }
