"""Does WsusContent hold every file the approved updates need, whole? Pure: no I/O.

The files come from SUSDB (``_susdb.read_approved_files``: the latest revision of every update
approved for install, license files included, with the server's ``tbFileOnServer`` view); the
disk from one ``content_inventory`` of WsusContent (relative path, size, and with hashing the
SHA-1). A file WSUS does not want (``DesiredState`` 0: an express file with express
installation files off, a language that is not enabled) is not needed; one WSUS does not track
at all is, as the rest of the collection counts it.

Both sides are indexed once, by the upper-cased relative path, so 300,000 files compare in a
fraction of a second (``compare``); nothing here costs a round trip per file.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DESIRED_STATE_NOT_NEEDED = 0


def is_needed(record: dict) -> bool:
    """Whether WSUS needs this file of an approved update on disk."""
    return not record['tracked'] or record['desired_state'] != DESIRED_STATE_NOT_NEEDED


def content_path(relpath: str) -> str:
    """A path relative to WsusContent as results, content_sync's ``files`` and receipts write it: ``/`` separators."""
    return relpath.replace('\\', '/')


@dataclass
class Verification:
    """What the comparison found. Lists are sorted by path."""

    needed: int = 0
    needed_bytes: int = 0
    present: int = 0
    missing: list = field(default_factory=list)
    corrupt: list = field(default_factory=list)
    on_disk: int = 0
    not_needed_on_disk: int = 0
    unverified_by_wsus: int = 0
    stale_in_wsus: int = 0
    hashed: bool = False

    @property
    def ok(self) -> bool:
        """Every needed file is present and intact."""
        return not self.missing and not self.corrupt

    @property
    def files(self) -> list:
        """Relative paths to fetch again (missing and corrupt), sorted: what content_sync's ``files`` takes."""
        return sorted([item['path'] for item in self.missing] + [item['path'] for item in self.corrupt])

    @property
    def bad_digests(self) -> set:
        """SHA-1 digests (upper-case hex) of the missing and corrupt files."""
        return {item['sha1'] for item in self.missing} | {item['sha1'] for item in self.corrupt}

    @property
    def missing_bytes(self) -> int:
        """Bytes to carry next trip (the sizes SUSDB records)."""
        return sum(item['size'] or 0 for item in self.missing) + sum(item['size'] or 0 for item in self.corrupt)


def compare(records: list, inventory: list, hashed: bool = False) -> Verification:
    """Compare SUSDB file records with a ``content_inventory`` listing.

    ``records``: ``_susdb.files_from`` dicts (``digest``, ``relpath``, ``size``, ``tracked``,
    ``desired_state``, ``present``). ``inventory``: ``[relative path, size]`` rows, or
    ``[relative path, size, sha1]`` when ``hashed`` (the SHA-1 is ``None`` for a file that could
    not be read). A file is missing when no file has its path; corrupt when its size differs from
    SUSDB's, or, with ``hashed``, its SHA-1 is not the one its name says or it could not be read.
    """
    result = Verification(hashed=hashed, on_disk=len(inventory))
    disk = {}
    for row in inventory:
        disk[row[0].upper()] = row
    missing, corrupt = result.missing, result.corrupt
    used = 0
    for record in records:
        if not is_needed(record):
            continue
        size = record['size']
        result.needed += 1
        result.needed_bytes += size or 0
        row = disk.get(record['relpath'].upper())
        if row is None:
            missing.append({'path': content_path(record['relpath']), 'size': size, 'sha1': record['digest']})
            if record['present']:
                result.stale_in_wsus += 1
            continue
        used += 1
        reason = None
        if size is not None and row[1] != size:
            reason = 'size'
        elif hashed:
            digest = row[2] if len(row) > 2 else None
            if digest is None:
                reason = 'unreadable'
            elif digest.upper() != record['digest']:
                reason = 'sha1'
        if reason is not None:
            corrupt.append({'path': content_path(record['relpath']), 'size': size, 'actual_size': row[1], 'reason': reason,
                            'sha1': record['digest']})
            if record['present']:
                result.stale_in_wsus += 1
            continue
        result.present += 1
        if not record['present']:
            result.unverified_by_wsus += 1
    result.not_needed_on_disk = len(disk) - used
    missing.sort(key=lambda item: item['path'])
    corrupt.sort(key=lambda item: item['path'])
    return result


CORRUPT_REASONS = {
    'size': 'its size differs from the size SUSDB records',
    'sha1': 'its SHA-1 is not the one its name says',
    'unreadable': 'it could not be read to hash it',
}


def summary(result: Verification, content_dir: str) -> str:
    """One sentence for the task's ``msg``."""
    checked = 'present, the right size and hashing to their names' if result.hashed else 'present and the right size'
    if result.ok:
        return f'all {result.needed} file(s) the approved updates need are in {content_dir}, {checked}'
    parts = []
    if result.missing:
        parts.append(f'{len(result.missing)} missing')
    if result.corrupt:
        reasons = sorted({CORRUPT_REASONS[item['reason']] for item in result.corrupt})
        parts.append(f'{len(result.corrupt)} damaged ({"; ".join(reasons)})')
    shown = ', '.join(result.files[:5]) + (f' and {len(result.files) - 5} more' if len(result.files) > 5 else '')
    return (f'{" and ".join(parts)} of the {result.needed} file(s) the approved updates need in {content_dir}: {shown}. '
            f'Fetch them next trip ({result.missing_bytes} bytes): pass the files result to airgap.wsus.content_sync (files) on '
            'the export side, or to the receipt (missing); then run this task again with reset: true')


def reset_settled(pending: list, bad: set) -> bool:
    """Whether WSUS's view after a reset agrees with the disk: it reports as not ready exactly the missing and damaged files.

    ``pending``: ``approved_files_not_ready`` records. Until WSUS has checked the disk, it may
    still count files as present that are not there, or not count files copied in since.
    """
    return {record['digest'] for record in pending} == bad
