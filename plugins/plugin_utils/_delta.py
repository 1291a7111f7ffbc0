"""Which content files a bundle must carry, and the compact inventory receipts use.

WsusContent files are named by their SHA-1 (``XX/<SHA-1>.<ext>``), so "what the import server
lacks" is exact: every export file whose digest the import side does not hold, plus every file
the import side reported missing (deleted or corrupt since). Files whose names are not a SHA-1
cannot be matched by content; they travel only in full bundles or when reported missing by
path, and are always reported, never an error.

An inventory is the set of SHA-1 digests a server holds, as raw 20-byte values sorted
ascending without repeats. It comes in two encodings:

- ``sha1-sorted-file`` (what this version writes): the digests are the bytes of a *digest file*
  beside the document (``file``, a plain name), which records their ``count``, the file's
  ``size`` and its ``sha256``. The hosts build, read and compare digest files themselves
  (``digest_write``, ``content_delta``), so an inventory of a million files never crosses
  WinRM; the signed document vouches for the file through its SHA-256, which the controller
  compares with the one the host reports for the bytes it used.
- ``sha1-sorted-base64`` (earlier versions): the digests base64-encoded in ``data``, a
  million files in 27 MB of text, written and read in chunks. Still read.

Pure: no I/O.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import (HASH_PATH_RE, ManifestError, bulk_allocation, check_count,
                                                                            check_object, content_sha1, is_sha256, validate_content_relpath)

INVENTORY_ENCODING = 'sha1-sorted-base64'
FILE_ENCODING = 'sha1-sorted-file'
INLINE_KEYS = ('encoding', 'count', 'data')
FILE_KEYS = ('encoding', 'count', 'file', 'size', 'sha256')
_FILE_NAME_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,127}')
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


def is_file_inventory(inventory) -> bool:
    """Whether ``inventory`` is the ``sha1-sorted-file`` encoding (its digests are in a digest file on a host)."""
    return isinstance(inventory, Mapping) and inventory.get('encoding') == FILE_ENCODING


def file_inventory(*, count: int, file: str, size: int, sha256: str) -> dict:
    """The ``sha1-sorted-file`` inventory for a digest file (as ``digest_write`` reports it), validated."""
    return validate_inventory({'encoding': FILE_ENCODING, 'count': count, 'file': file, 'size': size, 'sha256': str(sha256).lower()})


def validate_inventory(inventory, what: str = 'inventory', decode: bool = True) -> dict:
    """Check an inventory of either encoding and return it; raises :class:`ManifestError` naming the wrong field.

    A ``sha1-sorted-base64`` one is decoded once to prove it whole (unless ``decode`` is false);
    for a ``sha1-sorted-file`` one the fields are checked (the file itself is checked where it
    is read, against ``sha256``).
    """
    if is_file_inventory(inventory):
        check_object(inventory, what, FILE_KEYS)
        count = check_count(inventory['count'], f'{what}.count')
        name = inventory['file']
        if not isinstance(name, str) or not _FILE_NAME_RE.fullmatch(name) or name.strip('.') != name:
            raise ManifestError(f'{what}.file must be a plain file name (letters, digits, . _ -), not {name!r:.80}')
        if check_count(inventory['size'], f'{what}.size') != count * DIGEST_SIZE:
            raise ManifestError(f'{what}.size is {inventory["size"]}, but {count} digests take {count * DIGEST_SIZE} bytes')
        if not is_sha256(inventory['sha256']):
            raise ManifestError(f'{what}.sha256 must be 64 lower-case hex digits')
        return inventory
    check_object(inventory, what, INLINE_KEYS)
    if decode:
        for _digest in iter_inventory(inventory):
            pass
    return inventory


def source_problem(report, inventory: Mapping) -> str | None:
    """Why a host's report on the digest file it read (``content_delta``/``digest_write`` ``sources``) does not match
    ``inventory`` (a ``sha1-sorted-file`` one), or ``None`` when the host used exactly the vouched-for bytes."""
    if not isinstance(report, Mapping):
        return 'the host did not report on it'
    if report.get('error'):
        return str(report['error'])
    if str(report.get('sha256') or '').lower() != inventory['sha256']:
        return (f'its SHA-256 is {report.get("sha256")}, not the {inventory["sha256"]} the record vouches for: it was altered or '
                'replaced')
    if report.get('count') != inventory['count']:
        return f'it holds {report.get("count")} digests, not {inventory["count"]}'
    return None


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


def previous_bundle_basis(record, reason: str, path: str | None = None) -> dict:
    """Return the basis of a bundle built on the export side's record (no receipt came back).

    ``record`` is the cumulative set of digests from :func:`record_after_bundle`, or its
    stored form: an inline inventory (:func:`encode_inventory`), or a ``sha1-sorted-file`` one
    whose digest file is at ``path`` on the export host (see :func:`file_basis`).
    """
    if is_file_inventory(record):
        return file_basis('previous_bundle', record, path, reason)
    digests = decode_inventory(record) if isinstance(record, Mapping) else frozenset(record)
    return {'kind': 'previous_bundle', 'digests': digests, 'missing': [], 'reason': reason}


def file_basis(kind: str, inventory: Mapping, path: str, reason: str, missing=(), receipt_id: str | None = None) -> dict:
    """A basis whose digests stay in a digest file on the export host, at ``path``.

    The host leaves held files out (``content_delta``), so :func:`compute_delta` sees only the
    rest and is given what the host left out as ``held``; ``inventory`` is what vouches for
    the file (checked with :func:`source_problem`).
    """
    basis = {'kind': kind, 'digests': None, 'inventory': dict(inventory), 'path': path, 'missing': list(missing), 'reason': reason}
    if receipt_id:
        basis['receipt_id'] = receipt_id
    return basis


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


def compute_delta(export_inventory, basis, held=None) -> dict:
    """Choose the content files a bundle carries.

    ``export_inventory`` iterates ``(relpath, size, ...)`` over the export server's WsusContent
    (``content_delta``'s or ``content_inventory``'s ``files``; columns after the size are ignored).
    ``basis`` is ``None`` (full bundle) or ``{'kind', 'digests', 'missing', 'reason'}``
    (optionally ``receipt_id``): ``digests`` is the set of 20-byte SHA-1s the import side
    holds (a receipt's inventory, or the export side's cumulative record of what it sent to
    this destination), ``missing`` the receipt's missing paths. A basis of :func:`file_basis`
    has no ``digests``: the host already left the held files out of ``export_inventory``
    (keeping the missing ones), and ``held`` (``{'count', 'bytes'}``) says how many.

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
    filtered = not full and basis.get('digests') is None and basis.get('inventory') is not None
    held_elsewhere = dict(held or {}) if filtered else {}
    held = frozenset() if full or filtered else basis.get('digests')
    if held is None:
        raise ManifestError(f'a {kind} basis needs the set of digests the import side holds')
    if not isinstance(held, (set, frozenset)):
        held = frozenset(held)
    wanted = {_normalize(path).lower(): path for path in (basis.get('missing') or [])}
    files, unhashed, seen = [], [], set()
    held_count, held_bytes = int(held_elsewhere.get('count') or 0), int(held_elsewhere.get('bytes') or 0)
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
