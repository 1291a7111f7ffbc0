"""Receipts: what the import server holds after an import (docs/bundle.md).

The import side writes ``receipt.json`` (canonical bytes, like a manifest) and
``receipt.json.sig``; the export side reads the newest valid receipt for a destination and
sends only what the import server lacks. Parsing is bounded the same way as for manifests.

Pure: no I/O.
"""
from __future__ import annotations

from ansible_collections.airgap.wsus.plugins.plugin_utils import _delta, _manifest, _signing
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import ManifestError

SCHEMA = 'airgap.wsus.receipt/1'
SCHEMA_PREFIX = 'airgap.wsus.receipt/'
# A million digests take 27 MB of base64.
DEFAULT_MAX_BYTES = 128 * 1024 * 1024
MAX_DEPTH = 3
_KEYS = ('schema', 'receipt_id', 'created', 'destination', 'import_server', 'last_sequence', 'bundle_id', 'package_sha256',
         'settings', 'inventory', 'missing')


def build_receipt(*, receipt_id: str, created: str, destination: str, import_server, last_sequence: int, bundle_id: str,
                  package_sha256: str, settings, inventory, missing=()) -> dict:
    """Build and validate a receipt.

    ``inventory`` is what the import server holds: an encoded inventory (a ``sha1-sorted-file``
    one naming the digest file beside the receipt, as ``_delta.file_inventory`` makes it, or
    a ``{encoding, count, data}`` one), or an iterable of SHA-1 digests (20 bytes or 40 hex
    digits; ``_delta.digests_of_paths`` turns a content listing into them), encoded inline;
    ``missing`` lists content paths the import side expected but lacks (deleted or corrupt),
    relative to WsusContent with ``/``.
    """
    if not (isinstance(inventory, dict) and 'encoding' in inventory):
        inventory = _delta.encode_inventory(inventory)
    doc = {
        'schema': SCHEMA,
        'receipt_id': receipt_id,
        'created': created,
        'destination': destination,
        'import_server': dict(import_server),
        'last_sequence': last_sequence,
        'bundle_id': bundle_id,
        'package_sha256': package_sha256,
        'settings': dict(settings),
        'inventory': dict(inventory),
        'missing': sorted({path.replace('\\', '/') for path in missing}),
    }
    validate_receipt(doc)
    return doc


def receipt_bytes(receipt) -> bytes:
    """Return the canonical bytes of a receipt, the ones that are signed and written."""
    return _manifest.canonical_bytes(receipt)


def validate_receipt(doc, check_inventory: bool = True) -> dict:
    """Check a parsed receipt and return it; raises :class:`ManifestError` naming the wrong field.

    With ``check_inventory`` the inventory is decoded once to prove it is whole, sorted and
    matches its count.
    """
    if not isinstance(doc, dict):
        raise ManifestError(f'a receipt must be a JSON object, not {type(doc).__name__}')
    schema = doc.get('schema')
    if schema != SCHEMA:
        if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX):
            raise ManifestError(f'receipt schema {schema!r:.40} is not the one this collection reads ({SCHEMA}); '
                                'use the same airgap.wsus version on the export and the import side')
        raise ManifestError(f'not a receipt: schema is {schema!r:.40}, expected {SCHEMA!r}')
    _manifest.check_object(doc, 'receipt', _KEYS)
    _manifest.validate_identifier(doc['receipt_id'], 'receipt_id')
    _manifest.validate_timestamp(doc['created'])
    _manifest.validate_destination(doc['destination'])
    server = _manifest.check_object(doc['import_server'], 'import_server', ('server_id', 'name'))
    for key in ('server_id', 'name'):
        _manifest.check_text(server[key], f'import_server.{key}', allow_empty=True)
    _manifest.check_count(doc['last_sequence'], 'last_sequence', 1)
    _manifest.validate_identifier(doc['bundle_id'], 'bundle_id')
    if not _manifest.is_sha256(doc['package_sha256']):
        raise ManifestError('package_sha256 must be 64 lower-case hex digits')
    _manifest.validate_settings_field(doc['settings'])
    _delta.validate_inventory(doc['inventory'], decode=check_inventory)
    missing = doc['missing']
    if not isinstance(missing, list):
        raise ManifestError('missing must be a list of content paths')
    for position, path in enumerate(missing):
        _manifest.validate_content_relpath(path, f'missing[{position}]')
    return doc


def parse_receipt(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Parse and validate receipt bytes (bounded like manifests); the signature is checked separately."""
    return validate_receipt(_manifest.load_json(data, 'receipt', max_bytes=max_bytes, max_depth=MAX_DEPTH))


def inventory_path(receipt_path: str, receipt) -> str | None:
    """Where the digest file of a ``sha1-sorted-file`` receipt lies on the host: beside ``receipt_path``; ``None`` for an inline one."""
    inventory = receipt['inventory']
    if not _delta.is_file_inventory(inventory):
        return None
    folder = receipt_path.replace('/', '\\').rpartition('\\')[0]
    return f'{folder}\\{inventory["file"]}' if folder else inventory['file']


def receipt_basis(receipt, reason: str, receipt_path: str | None = None) -> dict:
    """Return the ``_delta.compute_delta`` basis a receipt gives: its digests, its missing paths, its id and ``reason``.

    For a ``sha1-sorted-file`` receipt read from ``receipt_path`` on the export host, the digests
    stay in the digest file beside it (``_delta.file_basis``).
    """
    if _delta.is_file_inventory(receipt['inventory']):
        return _delta.file_basis('receipt', receipt['inventory'], inventory_path(receipt_path or '', receipt), reason,
                                 missing=receipt['missing'], receipt_id=receipt['receipt_id'])
    return {'kind': 'receipt', 'digests': _delta.decode_inventory(receipt['inventory']), 'missing': list(receipt['missing']),
            'reason': reason, 'receipt_id': receipt['receipt_id']}


def _newness(receipt):
    return (receipt['last_sequence'], receipt['created'], receipt['receipt_id'])


def choose_newest(candidates, destination: str, keys=None, allow_unsigned: bool = False, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Pick the newest valid receipt for ``destination`` among ``candidates``.

    Each candidate is ``{'name', 'data', 'signature'}`` (file name, receipt bytes, ``.sig``
    bytes or ``None``). A candidate that does not parse, is for another destination, or whose
    signature fails (unless ``allow_unsigned``) is rejected with its reason. Newest means the
    highest ``last_sequence``, then the latest ``created``. Returns ``{'receipt', 'name',
    'signed', 'key_id', 'warnings', 'rejected': [{'name', 'reason'}]}``; ``receipt`` is
    ``None`` when no candidate qualifies.
    """
    accepted, rejected = [], []
    for candidate in candidates:
        name = candidate.get('name', '(unnamed)')
        data = candidate.get('data')
        if not isinstance(data, (bytes, bytearray)) or len(data) > max_bytes:
            reason = 'it could not be read' if not isinstance(data, (bytes, bytearray)) else f'it is over the limit of {max_bytes} bytes'
            rejected.append({'name': name, 'reason': reason})
            continue
        try:
            check = _signing.verify_document(data, candidate.get('signature'), keys, allow_unsigned=allow_unsigned, what=f'receipt {name}')
            receipt = parse_receipt(data, max_bytes=max_bytes)
        except (ManifestError, _signing.SignatureError) as exc:
            rejected.append({'name': name, 'reason': str(exc)})
            continue
        if receipt['destination'] != destination:
            rejected.append({'name': name, 'reason': f'it is from destination {receipt["destination"]}, not {destination}'})
            continue
        accepted.append((receipt, name, check))
    if not accepted:
        return {'receipt': None, 'name': None, 'signed': False, 'key_id': None, 'warnings': [], 'rejected': rejected}
    receipt, name, check = max(accepted, key=lambda item: _newness(item[0]))
    return {'receipt': receipt, 'name': name, 'signed': check['signed'], 'key_id': check['key_id'],
            'warnings': [check['warning']] if check['warning'] else [], 'rejected': rejected}
