"""Which content files a bundle must carry, and the compact inventory receipts use.

WsusContent files are named by their SHA-1 (``XX/<SHA-1>.<ext>``), so "what the import server
lacks" is exact: every export file whose digest the import side does not hold, plus every file
the import side reported missing (deleted or corrupt since). Files whose names are not a SHA-1
cannot be matched by content; they travel only in full bundles or when reported missing by
path, and are always reported, never an error.

The receipt's inventory encoding ``sha1-sorted-base64`` is the import server's SHA-1 digests
as raw 20-byte values, sorted ascending without repeats, concatenated and base64-encoded: a
million files take 27 MB of text. It can be written and read in chunks.

Pure: no I/O.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import (HASH_PATH_RE, ManifestError, bulk_allocation, content_sha1,
                                                                            validate_content_relpath)

INVENTORY_ENCODING = 'sha1-sorted-base64'
DIGEST_SIZE = 20
# 3 digests = 60 bytes = 80 base64 characters: chunks on this grid encode and decode on their own.
_CHUNK_DIGESTS = 3 * 4096
_CHUNK_CHARS = _CHUNK_DIGESTS * DIGEST_SIZE * 4 // 3
BASIS_KINDS = ('receipt', 'previous_bundle', 'full')


def digest_bytes(value) -> bytes:
    """Return a SHA-1 digest as 20 raw bytes, from raw bytes or 40 hex digits (any case)."""
    if isinstance(value, (bytes, bytearray)) and len(value) == DIGEST_SIZE:
        return bytes(value)
    if isinstance(value, str) and len(value) == 2 * DIGEST_SIZE:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b''
        if len(raw) == DIGEST_SIZE:  # fromhex skips spaces, so 40 characters may hold fewer digits
            return raw
    raise ManifestError(f'{value!r:.60} is not a SHA-1 digest (20 bytes or 40 hex digits)')


def iter_encoded(digests):
    """Yield the base64 text of ``digests`` (already sorted, unique, 20 bytes each) in chunks.

    Concatenating the chunks gives the ``data`` of an inventory; each chunk is a whole number
    of 60-byte groups, so no padding appears before the last one.
    """
    batch = []
    for digest in digests:
        batch.append(digest)
        if len(batch) == _CHUNK_DIGESTS:
            yield base64.b64encode(b''.join(batch)).decode('ascii')
            batch = []
    if batch:
        yield base64.b64encode(b''.join(batch)).decode('ascii')


def encode_inventory(digests) -> dict:
    """Return the receipt inventory ``{encoding, count, data}`` for an iterable of SHA-1 digests (bytes or hex)."""
    unique = sorted({digest_bytes(digest) for digest in digests})
    return {'encoding': INVENTORY_ENCODING, 'count': len(unique), 'data': ''.join(iter_encoded(unique))}


def iter_inventory(inventory: Mapping):
    """Yield the 20-byte digests of a receipt inventory in order, decoding chunk by chunk.

    Raises :class:`ManifestError` for a wrong encoding, bad base64, a length that is not a
    whole number of digests, digests out of order or repeated, or a count that disagrees.
    """
    if not isinstance(inventory, Mapping) or inventory.get('encoding') != INVENTORY_ENCODING:
        found = inventory.get('encoding') if isinstance(inventory, Mapping) else inventory
        raise ManifestError(f'inventory encoding {found!r:.40} is not {INVENTORY_ENCODING!r}; use the same airgap.wsus version on both sides')
    data, count = inventory.get('data'), inventory.get('count')
    if not isinstance(data, str) or type(count) is not int or count < 0:  # pylint: disable=unidiomatic-typecheck
        raise ManifestError('inventory needs a string "data" and a non-negative integer "count"')
    if len(data) != 4 * ((count * DIGEST_SIZE + 2) // 3):
        raise ManifestError(f'inventory data is {len(data)} characters, but {count} digests take {4 * ((count * DIGEST_SIZE + 2) // 3)}; '
                            'the receipt is damaged or altered')
    previous = b''
    for start in range(0, len(data), _CHUNK_CHARS):
        try:
            raw = base64.b64decode(data[start:start + _CHUNK_CHARS], validate=True)
        except (binascii.Error, ValueError):
            raise ManifestError('inventory data is not valid base64; the receipt is damaged or altered') from None
        if len(raw) % DIGEST_SIZE:
            raise ManifestError('inventory data is not a whole number of 20-byte digests; the receipt is damaged or altered')
        for offset in range(0, len(raw), DIGEST_SIZE):
            digest = raw[offset:offset + DIGEST_SIZE]
            if digest <= previous:
                raise ManifestError('inventory digests are not sorted and unique; the receipt is damaged or altered')
            previous = digest
            yield digest


def decode_inventory(inventory: Mapping) -> frozenset:
    """Return the set of 20-byte digests a receipt inventory holds (see :func:`iter_inventory`)."""
    return frozenset(iter_inventory(inventory))


def digests_of_paths(relpaths) -> set:
    """Return the SHA-1 digests named by content paths (``XX/<SHA-1>.<ext>``); other names are skipped."""
    result = set()
    for relpath in relpaths:
        sha1 = content_sha1(relpath.replace('\\', '/'))
        if sha1:
            result.add(bytes.fromhex(sha1))
    return result


def full_basis(reason: str) -> dict:
    """Return the basis of a full bundle: every export file travels."""
    return {'kind': 'full', 'digests': None, 'missing': [], 'reason': reason}


def previous_bundle_basis(record, reason: str) -> dict:
    """Return the basis of a bundle built on the export side's record (no receipt came back).

    ``record`` is the cumulative set of digests from :func:`record_after_bundle`, or its
    stored form (an inventory dict as :func:`encode_inventory` makes).
    """
    digests = decode_inventory(record) if isinstance(record, Mapping) else frozenset(record)
    return {'kind': 'previous_bundle', 'digests': digests, 'missing': [], 'reason': reason}


def _normalize(relpath):
    return relpath.replace('\\', '/')


def _unhashed_entry(relpath, size, full, reported_missing):
    """Decide on a file whose name is not a SHA-1, and say why."""
    try:
        validate_content_relpath(relpath)
    except ManifestError as exc:
        return {'path': relpath, 'size': size, 'included': False, 'reason': f'unsafe name, never sent: {exc}'}
    if full:
        return {'path': relpath, 'size': size, 'included': True, 'reason': 'full bundle'}
    if reported_missing:
        return {'path': relpath, 'size': size, 'included': True, 'reason': 'reported missing by the import side'}
    return {'path': relpath, 'size': size, 'included': False,
            'reason': 'the name is not a SHA-1, so the import side\'s inventory cannot vouch for it; sent only in full bundles or when reported missing'}


def compute_delta(export_inventory, basis) -> dict:
    """Choose the content files a bundle carries.

    ``export_inventory`` iterates ``(relpath, size, ...)`` over the export server's WsusContent
    (``content_inventory``'s ``files``; columns after the size are ignored).
    ``basis`` is ``None`` (full bundle) or ``{'kind', 'digests', 'missing', 'reason'}``
    (optionally ``receipt_id``): ``digests`` is the set of 20-byte SHA-1s the import side
    holds (a receipt's inventory, or the export side's cumulative record of what it sent to
    this destination), ``missing`` the receipt's missing paths.

    Returns ``{'files': [(relpath, size)], 'count', 'bytes', 'held': {'count', 'bytes'},
    'basis': {'kind', 'reason'[, 'receipt_id']}, 'unhashed': [{'path', 'size', 'included',
    'reason'}], 'missing_unavailable': [relpath]}``. ``files`` is sorted by path.
    """
    if basis is None:
        basis = full_basis('no basis given: every file travels')
    kind = basis.get('kind')
    if kind not in BASIS_KINDS:
        raise ManifestError(f'basis kind {kind!r:.40} must be one of {", ".join(BASIS_KINDS)}')
    full = kind == 'full'
    held = frozenset() if full else basis.get('digests')
    if held is None:
        raise ManifestError(f'a {kind} basis needs the set of digests the import side holds')
    if not isinstance(held, (set, frozenset)):
        held = frozenset(held)
    wanted = {_normalize(path).lower(): path for path in (basis.get('missing') or [])}
    files, unhashed, seen = [], [], set()
    held_count = held_bytes = 0
    hash_path = HASH_PATH_RE.fullmatch
    with bulk_allocation():
        for entry in export_inventory:
            relpath, size = entry[0], entry[1]
            if '\\' in relpath:
                relpath = _normalize(relpath)
            key = relpath.lower()
            if key in seen:
                continue
            seen.add(key)
            reported_missing = bool(wanted) and wanted.pop(key, None) is not None
            match = hash_path(relpath)
            if match is None:
                entry = _unhashed_entry(relpath, size, full, reported_missing)
                unhashed.append(entry)
                if entry['included']:
                    files.append((relpath, size))
            elif full or reported_missing or bytes.fromhex(match.group('sha1')) not in held:
                files.append((relpath, size))
            else:
                held_count += 1
                held_bytes += size
    files.sort()
    summary = {'kind': kind, 'reason': basis.get('reason') or ''}
    if basis.get('receipt_id'):
        summary['receipt_id'] = basis['receipt_id']
    return {
        'files': files,
        'count': len(files),
        'bytes': sum(size for _path, size in files),
        'held': {'count': held_count, 'bytes': held_bytes},
        'basis': summary,
        'unhashed': unhashed,
        'missing_unavailable': sorted(wanted.values()),
    }


def record_after_bundle(previous_digests, sent_files) -> set:
    """Return the export side's cumulative record for a destination after it built a bundle.

    ``previous_digests`` is what the bundle's basis said the import side holds (``None`` for a
    full bundle); ``sent_files`` the bundle's ``(relpath, size, ...)`` entries. The result is
    what the import side will hold once it has imported the bundle: the basis for the next
    bundle when no receipt comes back.
    """
    record = set(previous_digests or ())
    record.update(digests_of_paths(entry[0] for entry in sent_files))
    return record
