"""Records the bundle and receipt modules keep on the hosts, under ``<work_dir>\\state``.

Export host (written by ``bundle`` ``state: built``, only after a bundle was sealed, so a
failed build never advances the baseline):

- ``exports\\<destination>.json``: the last bundle built for the destination
  (``{schema, destination, last_sequence, bundle_id, created, package_sha256, base, basis,
  files, bytes, path}``); ``_sequence.plan_next`` reads ``destination``, ``last_sequence`` and
  ``bundle_id``.
- ``exports\\<destination>.sent.json``: the cumulative record of the SHA-1 digests the
  destination holds once that bundle is imported (``_delta.record_after_bundle``): an
  inventory in the ``sha1-sorted-file`` encoding of receipts, whose digest file
  ``exports\\<destination>.sent.inventory`` the export host builds itself (``digest_write``:
  the basis's digest file plus the digests the bundle carries; earlier versions wrote the
  digests inline, ``sha1-sorted-base64``, which is still read). It names the bundle it
  belongs to, and a record that names another bundle than the history is ignored (a build
  interrupted between the two writes).
- ``exports\\<destination>.sealed.json``: what the last bundle's manifests said when it was
  sealed (the SHA-256 and size of each ``manifest.json`` and ``.sig``, and the result keys a
  no-op run returns), signed with the signing key. A run with nothing new hashes the
  manifests on the host and, when they are the bytes recorded, answers from this record
  instead of reading manifests that grow with the number of files (``bundle`` falls back to
  reading them when the record is absent, for another bundle, or signed by another key).

Import host:

- ``imports\\<destination>.json`` (written by ``receipt``): the last bundle this server
  imported for the destination (``{schema, destination, last_sequence, bundle_id,
  receipt_id, package_sha256, created}``); ``_sequence.check_import`` reads it.
- ``deployed\\<destination>.sealed.json`` (written by ``bundle`` ``state: deployed``): the
  bundle last deployed, as its verified manifests described it (same form as the export
  host's, unsigned: it is the import host's own record, like the import record). A run that
  finds that bundle imported already hashes its manifests and, when they are the bytes
  verified, reports the no-op without reading them.
- ``verified\\<package sha256>.json`` (written by ``bundle`` ``state: deployed``): the content
  of that package's bundle is in ``WsusContent`` and was verified there. The ``metadata``
  module's order guard looks for it.

Every record is written in the canonical form of manifests (sorted keys, ASCII, one line).
Records are read back defensively: a damaged one is reported with its path, never trusted.

Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.plugin_utils import _delta, _manifest, _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import ManifestError

EXPORT_SCHEMA = 'airgap.wsus.export-history/1'
SENT_SCHEMA = 'airgap.wsus.export-sent/1'
IMPORT_SCHEMA = 'airgap.wsus.import-record/1'
VERIFIED_SCHEMA = 'airgap.wsus.verified/1'
SEALED_SCHEMA = 'airgap.wsus.sealed/1'
STATE_FOLDER = 'state'
# A sent record holds 20 bytes per digest in base64: a million files take 27 MB.
MAX_RECORD_BYTES = 64 * 1024 * 1024
MAX_SMALL_RECORD_BYTES = 1024 * 1024


class RecordError(AirgapWsusError, ValueError):
    """A state record on the host that is damaged or belongs to something else; the message names its path and the fix."""


def _file_name(destination: str, suffix: str) -> str:
    _manifest.validate_destination(destination)
    name = f'{destination}{suffix}'
    try:
        _winpath.check_name(name, 'destination')
    except _winpath.WinPathError as exc:
        raise RecordError(f'destination {destination!r} cannot name a file on Windows ({exc}); choose another destination name') from None
    return name


def check_destination(destination: str) -> str:
    """Return ``destination`` when it is a valid destination name that can also name the records' files on Windows."""
    _file_name(destination, '.json')
    return destination


def export_history_path(work_dir: str, destination: str) -> str:
    """``<work_dir>\\state\\exports\\<destination>.json``."""
    return _winpath.join(work_dir, STATE_FOLDER, 'exports', _file_name(destination, '.json'))


def export_sent_path(work_dir: str, destination: str) -> str:
    """``<work_dir>\\state\\exports\\<destination>.sent.json``."""
    return _winpath.join(work_dir, STATE_FOLDER, 'exports', _file_name(destination, '.sent.json'))


def export_sent_inventory_name(destination: str) -> str:
    """``<destination>.sent.inventory``: the sent record's digest file, beside it."""
    return _file_name(destination, '.sent.inventory')


def export_sent_inventory_path(work_dir: str, destination: str) -> str:
    """``<work_dir>\\state\\exports\\<destination>.sent.inventory``."""
    return _winpath.join(work_dir, STATE_FOLDER, 'exports', export_sent_inventory_name(destination))


def export_sealed_path(work_dir: str, destination: str) -> str:
    """``<work_dir>\\state\\exports\\<destination>.sealed.json``."""
    return _winpath.join(work_dir, STATE_FOLDER, 'exports', _file_name(destination, '.sealed.json'))


def import_sealed_path(work_dir: str, destination: str) -> str:
    """``<work_dir>\\state\\deployed\\<destination>.sealed.json`` (not under ``imports``: it is written before the metadata import)."""
    return _winpath.join(work_dir, STATE_FOLDER, 'deployed', _file_name(destination, '.sealed.json'))


def import_record_path(work_dir: str, destination: str) -> str:
    """``<work_dir>\\state\\imports\\<destination>.json``."""
    return _winpath.join(work_dir, STATE_FOLDER, 'imports', _file_name(destination, '.json'))


def verified_record_path(work_dir: str, package_sha256: str) -> str:
    """``<work_dir>\\state\\verified\\<package sha256>.json`` (lower-case hex)."""
    if not _manifest.is_sha256(package_sha256):
        raise RecordError(f'{package_sha256!r:.80} is not a SHA-256 (64 lower-case hex digits)')
    return _winpath.join(work_dir, STATE_FOLDER, 'verified', f'{package_sha256}.json')


def record_bytes(record: Mapping) -> bytes:
    """The bytes a record is written as (the canonical form of manifests)."""
    return _manifest.canonical_bytes(record)


def _load(data: bytes, path: str, schema: str, keys, max_bytes: int) -> dict:
    fix = f'delete {path} to start that record afresh (see docs/bundle.md), or restore it from a backup'
    try:
        doc = _manifest.load_json(data, f'the record {path}', max_bytes=max_bytes, max_depth=3)
    except ManifestError as exc:
        raise RecordError(f'{exc}; {fix}') from None
    if not isinstance(doc, dict) or doc.get('schema') != schema:
        found = doc.get('schema') if isinstance(doc, dict) else type(doc).__name__
        raise RecordError(f'{path} is not an {schema} record (schema {found!r:.60}); {fix}')
    try:
        _manifest.check_object(doc, f'the record {path}', keys)
    except ManifestError as exc:
        raise RecordError(f'{exc}; {fix}') from None
    return doc


def _check(path: str, fields) -> None:
    """Run validators, turning their errors into :class:`RecordError` that names ``path``."""
    try:
        for check in fields:
            check()
    except ManifestError as exc:
        raise RecordError(f'the record {path} is damaged: {exc}; delete it to start that record afresh, or restore it from a backup') from None


# --------------------------------------------------------------------------- export history

_EXPORT_KEYS = ('schema', 'destination', 'last_sequence', 'bundle_id', 'created', 'package_sha256', 'base', 'basis', 'files',
                'bytes', 'path')


def build_export_history(*, destination: str, sequence: int, bundle_id: str, created: str, package_sha256: str, base, basis: str,
                         files: int, size: int, path: str) -> dict:
    """The export history after bundle ``bundle_id`` (sequence ``sequence``) was sealed at ``path``."""
    return {'schema': EXPORT_SCHEMA, 'destination': destination, 'last_sequence': sequence, 'bundle_id': bundle_id, 'created': created,
            'package_sha256': package_sha256, 'base': base, 'basis': basis, 'files': files, 'bytes': size, 'path': path}


def parse_export_history(data: bytes, path: str, destination: str) -> dict:
    """Read an export history; raises :class:`RecordError` when it is damaged or for another destination."""
    doc = _load(data, path, EXPORT_SCHEMA, _EXPORT_KEYS, MAX_SMALL_RECORD_BYTES)
    _check(path, [lambda: _manifest.validate_destination(doc['destination']),
                  lambda: _manifest.check_count(doc['last_sequence'], 'last_sequence', 1),
                  lambda: _manifest.validate_identifier(doc['bundle_id'], 'bundle_id')])
    if doc['destination'] != destination:
        raise RecordError(f'{path} records bundles for destination {doc["destination"]}, not {destination}; '
                          'Windows file names ignore case, so give the destination exactly as before')
    return doc


# --------------------------------------------------------------------------- sealed record

_SEALED_KEYS = ('schema', 'destination', 'bundle_id', 'path', 'files', 'facts', 'signature')
# facts -> volumes -> [volume] -> keys, and the signature's own mapping: six levels are plenty.
_SEALED_DEPTH = 6


def sealed_signed_bytes(record: Mapping) -> bytes:
    """The bytes a sealed record's ``signature`` covers: the record without it, in canonical form."""
    return _manifest.canonical_bytes({key: value for key, value in record.items() if key != 'signature'})


def build_sealed_record(*, destination: str, bundle_id: str, path: str, files, facts: Mapping) -> dict:
    """What bundle ``bundle_id`` at ``path`` was when sealed, unsigned (``signature`` None; see :func:`sealed_signed_bytes`).

    ``files`` lists ``[path relative to the bundle folder, sha256, size]`` for each manifest and
    signature file; ``facts`` are the result keys a run that finds nothing new returns.
    """
    return {'schema': SEALED_SCHEMA, 'destination': destination, 'bundle_id': bundle_id, 'path': path,
            'files': [[str(rel), str(digest), int(size)] for rel, digest, size in files], 'facts': dict(facts), 'signature': None}


def parse_sealed_record(data: bytes, path: str, history: Mapping) -> dict | None:
    """Read a sealed record; ``None`` when it is damaged or describes another bundle than ``history`` (then manifests are read).

    ``history`` is the mapping the record must agree with: ``destination``, ``bundle_id`` and ``path``.
    """
    try:
        doc = _manifest.load_json(data, f'the record {path}', max_bytes=MAX_SMALL_RECORD_BYTES, max_depth=_SEALED_DEPTH)
        if not isinstance(doc, dict) or doc.get('schema') != SEALED_SCHEMA:
            return None
        _manifest.check_object(doc, f'the record {path}', _SEALED_KEYS)
    except ManifestError:
        return None
    if doc['destination'] != history['destination'] or doc['bundle_id'] != history['bundle_id'] or doc['path'] != history['path']:
        return None
    files = doc['files']
    if not isinstance(doc['facts'], dict) or not isinstance(files, list) or not files or not all(
            isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str) and _manifest.is_sha256(entry[1])
            and isinstance(entry[2], int) and not isinstance(entry[2], bool) for entry in files):
        return None
    return doc


# --------------------------------------------------------------------------- sent record

_SENT_KEYS = ('schema', 'destination', 'sequence', 'bundle_id', 'inventory')


def build_sent_record(*, destination: str, sequence: int, bundle_id: str, digests=None, inventory=None) -> dict:
    """The cumulative digests ``destination`` holds once bundle ``bundle_id`` is imported.

    ``inventory`` is the ``sha1-sorted-file`` inventory of the digest file the export host wrote
    (``_delta.file_inventory``); ``digests`` (an iterable of digests) writes them inline instead.
    """
    if inventory is None:
        inventory = _delta.encode_inventory(digests or ())
    return {'schema': SENT_SCHEMA, 'destination': destination, 'sequence': sequence, 'bundle_id': bundle_id,
            'inventory': _delta.validate_inventory(dict(inventory), decode=False)}


def parse_sent_record(data: bytes, path: str, history: Mapping) -> dict | None:
    """Return the sent record's inventory when it belongs to ``history``'s bundle, else ``None``.

    Raises :class:`RecordError` when it is damaged (an inline inventory is decoded once to prove it
    whole; a ``sha1-sorted-file`` one is checked against its digest file where that is read).
    """
    doc = _load(data, path, SENT_SCHEMA, _SENT_KEYS, MAX_RECORD_BYTES)
    _check(path, [lambda: _delta.validate_inventory(doc['inventory'])])
    if doc['bundle_id'] != history['bundle_id'] or doc['sequence'] != history['last_sequence'] \
            or doc['destination'] != history['destination']:
        return None
    return doc['inventory']


# --------------------------------------------------------------------------- import record

_IMPORT_KEYS = ('schema', 'destination', 'last_sequence', 'bundle_id', 'receipt_id', 'package_sha256', 'created')


def build_import_record(*, destination: str, last_sequence: int, bundle_id: str, receipt_id: str, package_sha256: str,
                        created: str) -> dict:
    """The import host's record of the last bundle it imported for ``destination``."""
    return {'schema': IMPORT_SCHEMA, 'destination': destination, 'last_sequence': last_sequence, 'bundle_id': bundle_id,
            'receipt_id': receipt_id, 'package_sha256': package_sha256, 'created': created}


def parse_import_record(data: bytes, path: str) -> dict:
    """Read an import record; raises :class:`RecordError` when it is damaged."""
    doc = _load(data, path, IMPORT_SCHEMA, _IMPORT_KEYS, MAX_SMALL_RECORD_BYTES)
    _check(path, [lambda: _manifest.validate_destination(doc['destination']),
                  lambda: _manifest.check_count(doc['last_sequence'], 'last_sequence', 1),
                  lambda: _manifest.validate_identifier(doc['bundle_id'], 'bundle_id')])
    return doc


# --------------------------------------------------------------------------- verified record

_VERIFIED_KEYS = ('schema', 'package_sha256', 'package_size', 'bundle_id', 'destination', 'sequence', 'content_dir', 'files', 'bytes',
                  'hashes_checked', 'verified_at')


def build_verified_record(*, package_sha256: str, package_size: int, bundle_id: str, destination: str, sequence: int,
                          content_dir: str, files: int, size: int, hashes_checked: bool, verified_at: str) -> dict:
    """The record that the content of package ``package_sha256`` is in ``content_dir`` and was verified there."""
    return {'schema': VERIFIED_SCHEMA, 'package_sha256': package_sha256, 'package_size': package_size, 'bundle_id': bundle_id,
            'destination': destination, 'sequence': sequence, 'content_dir': content_dir, 'files': files, 'bytes': size,
            'hashes_checked': hashes_checked, 'verified_at': verified_at}


def parse_verified_record(data: bytes, path: str) -> dict:
    """Read a verified-content record; raises :class:`RecordError` when it is damaged."""
    doc = _load(data, path, VERIFIED_SCHEMA, _VERIFIED_KEYS, MAX_SMALL_RECORD_BYTES)
    if not _manifest.is_sha256(doc['package_sha256']):
        raise RecordError(f'the record {path} is damaged: package_sha256 is not a SHA-256; delete it and deploy the bundle again')
    return doc
