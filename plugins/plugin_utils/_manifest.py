"""Bundle manifests: build, canonical bytes, parse and validate (docs/bundle.md).

A manifest is untrusted input on the import side until its signature is checked, and may be
read before that to report what it claims. So parsing is bounded: the byte size is checked
before anything is parsed, nesting deeper than the schema needs is refused before ``json``
sees it, and every field's type, range and path is checked. A million file entries build,
serialize, parse and validate in a few seconds (see ``bench_manifest.py``).

Pure: no I/O.
"""
from __future__ import annotations

import contextlib
import datetime
import gc
import itertools
import json
import operator
import re
from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.plugin_utils import _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError
from ansible_collections.airgap.wsus.plugins.plugin_utils._parity import ParityError, validate_settings

SCHEMA = 'airgap.wsus.bundle/1'
SCHEMA_PREFIX = 'airgap.wsus.bundle/'
# 1,000,000 entries take about 130 MB; the default leaves room for about two million.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
# The manifest is 3 levels deep (object > files > entry, object > approvals > counts). The limit is the 6
# levels documented since the first version, when the approvals section was still free-form.
MAX_DEPTH = 6
MAX_TEXT = 256
MAX_PATH_LENGTH = 1024
BASIS_KINDS = ('receipt', 'previous_bundle', 'full')
# The approvals document (airgap.wsus.approvals) a bundle may carry: in volume 1, under this folder.
APPROVALS_FOLDER = 'approvals'
APPROVALS_KEYS = ('path', 'size', 'sha256', 'counts')
APPROVALS_COUNTS = ('groups', 'updates', 'approvals', 'declines')

_KEYS = ('schema', 'bundle_id', 'created', 'source', 'settings', 'destination', 'sequence', 'base', 'basis',
         'volume', 'package', 'files', 'totals', 'approvals')
_SHA256_RE = re.compile(r'[0-9a-f]{64}')
# <XX>/<SHA-1>.<ext>: 40 upper-case hex digits whose last two name the folder (docs/bundle.md).
HASH_PATH_RE = re.compile(r'(?P<folder>[0-9A-F]{2})/(?P<sha1>[0-9A-F]{38}(?P=folder))\.[A-Za-z0-9]{1,16}')
_ID_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,127}')
_DESTINATION_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,63}')
_TIME_RE = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z')
_KEEP_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_INNERMOST_PAIR_RE = re.compile(rb'\[\]|\{\}')


class ManifestError(AirgapWsusError, ValueError):
    """A manifest (or receipt) that is malformed, inconsistent or unsafe; the message names the field and the fix."""


def canonical_bytes(document: Mapping) -> bytes:
    """Return the canonical serialization that is signed and written: sorted keys, no spaces, ASCII, one trailing newline."""
    return (json.dumps(document, sort_keys=True, separators=(',', ':'), ensure_ascii=True, allow_nan=False) + '\n').encode('ascii')


@contextlib.contextmanager
def bulk_allocation():
    """Pause Python's cyclic garbage collector while millions of acyclic objects are made.

    Parsing or building a million-entry manifest otherwise triggers collections that walk all
    of them again and again (a third of the time). The objects hold no cycles, so pausing
    loses nothing; the previous state is restored on exit.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _reject_constant(name):
    raise ValueError(f'{name} is not allowed')


def _unique_pairs(pairs):
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        duplicate = next(key for key, _value in pairs if key in seen or seen.add(key))
        raise ValueError(f'duplicate key {duplicate!r:.80}')
    return result


def _outside_strings(skeleton: bytes, chunk: int = 1 << 20) -> bytes:
    """``skeleton`` (structure characters and quotes only) without what lies between quotes.

    Split a chunk at a time: splitting the whole document at every quote makes a list entry per
    quote, and a hostile document of ``{"a":{"a":...`` within the size limit has tens of millions
    of quotes (8 bytes each, several times the document). Whether a chunk starts inside a string
    follows from the count of quotes before it.
    """
    kept = bytearray()
    inside = False
    for start in range(0, len(skeleton), chunk):
        pieces = skeleton[start:start + chunk].split(b'"')
        kept += b''.join(pieces[1::2] if inside else pieces[0::2])
        if len(pieces) % 2 == 0:
            inside = not inside
    return bytes(kept)


def check_depth(data: bytes, max_depth: int, what: str = 'manifest') -> None:
    """Raise :class:`ManifestError` when JSON ``data`` nests arrays or objects deeper than ``max_depth``.

    Runs at C speed over the bytes (no parsing): escapes are dropped, strings removed, then
    innermost ``[]``/``{}`` pairs are peeled once per level.
    """
    if b'\\\\' in data or b'\\"' in data:
        # An escaped quote or backslash could make a quote look like a string's end. (Checked first: \\uXXXX escapes
        # of non-ASCII names are common and harmless, and each replace copies the whole document.)
        data = data.replace(b'\\\\', b'').replace(b'\\"', b'')
    skeleton = data.translate(None, _KEEP_STRUCTURE)
    if b'"' in skeleton:
        skeleton = _outside_strings(skeleton)
    for _level in range(max_depth):
        if not skeleton:
            return
        peeled = _INNERMOST_PAIR_RE.sub(b'', skeleton)
        if len(peeled) == len(skeleton):
            raise ManifestError(f'{what} is not valid JSON: its brackets do not match. It is damaged or truncated, copy it again')
        skeleton = peeled
    if skeleton:
        raise ManifestError(f'{what} nests arrays or objects deeper than {max_depth} levels; the schema needs no more, '
                            'so this is not a file this collection wrote')


def load_json(data: bytes, what: str = 'manifest', max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = MAX_DEPTH):
    """Parse untrusted JSON ``data`` with bounded size and nesting, refusing NaN, Infinity and duplicate keys."""
    if not isinstance(data, (bytes, bytearray)):
        raise ManifestError(f'{what} must be bytes, not {type(data).__name__}')
    if len(data) > max_bytes:
        raise ManifestError(f'{what} is {len(data)} bytes, over the limit of {max_bytes} bytes; if the bundle really is that large, '
                            'raise the limit (max_manifest_bytes), otherwise the file is not a manifest this collection wrote')
    data = bytes(data)
    if not data or data.isspace():
        raise ManifestError(f'{what} is empty; the file was truncated or never written, copy it again from the export side')
    check_depth(data, max_depth, what)
    try:
        text = data.decode('utf-8')
        with bulk_allocation():
            return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise ManifestError(f'{what} is not UTF-8 text (byte {exc.start}); it is damaged or not a manifest') from None
    except RecursionError:
        raise ManifestError(f'{what} nests too deeply to be a manifest') from None
    except ValueError as exc:
        # JSONDecodeError's text holds a position, never the document.
        raise ManifestError(f'{what} is not valid JSON ({exc}); it is damaged or truncated, copy it again') from None


def validate_content_relpath(relpath, what: str = 'path') -> str:
    """Return ``relpath`` when it is a safe path relative to ``WsusContent`` with ``/`` separators.

    Backslashes are refused (manifests use ``/``; a backslash is how UNC and ``\\\\?\\``
    prefixes start), as is a path over :data:`MAX_PATH_LENGTH`; the rest is
    ``_winpath.validate_content_relpath``: no absolute path, drive letter, ``.`` or ``..``,
    empty segment, alternate data stream, forbidden character, reserved device name, or name
    ending in a dot or space.
    """
    if not isinstance(relpath, str) or not relpath:
        raise ManifestError(f'{what} must be a non-empty string, not {relpath!r:.80}')
    if len(relpath) > MAX_PATH_LENGTH:
        raise ManifestError(f'{what} is {len(relpath)} characters long, over {MAX_PATH_LENGTH}; refused as tampering')
    if '\\' in relpath:
        raise ManifestError(f'{what} {relpath!r:.300} contains a backslash (a UNC or \\\\?\\ prefix, or a Windows separator; '
                            'manifests use /); refused as tampering')
    try:
        _winpath.validate_content_relpath(relpath, what)
    except _winpath.WinPathError as exc:
        raise ManifestError(f'{exc}; refused as tampering') from None
    return relpath


def content_sha1(relpath: str) -> str | None:
    """Return the SHA-1 (upper-case hex) a content path's name claims, or None for a name that is not ``XX/<SHA-1>.<ext>``."""
    match = HASH_PATH_RE.fullmatch(relpath) if isinstance(relpath, str) else None
    return match.group('sha1') if match else None


def check_text(value, what: str, limit: int = MAX_TEXT, allow_empty: bool = False) -> str:
    """Return ``value`` when it is a string of at most ``limit`` characters (non-empty unless ``allow_empty``)."""
    if not isinstance(value, str) or (not value and not allow_empty) or len(value) > limit:
        raise ManifestError(f'{what} must be a string of {0 if allow_empty else 1} to {limit} characters, not {value!r:.80}')
    return value


def check_count(value, what: str, minimum: int = 0) -> int:
    """Return ``value`` when it is an integer (not a boolean) of at least ``minimum``."""
    if type(value) is not int or value < minimum:  # pylint: disable=unidiomatic-typecheck  # bool is an int subclass
        raise ManifestError(f'{what} must be an integer of at least {minimum}, not {value!r:.80}')
    return value


def check_object(value, what: str, keys, optional=()) -> dict:
    """Return ``value`` when it is an object with all of ``keys``, and nothing but ``keys`` and ``optional``."""
    if not isinstance(value, dict):
        raise ManifestError(f'{what} must be an object, not {type(value).__name__}')
    missing = [key for key in keys if key not in value]
    unknown = sorted(str(key) for key in value if key not in keys and key not in optional)
    if missing or unknown:
        raise ManifestError(f'{what} ' + '; '.join(
            ([f'lacks {", ".join(missing)}'] if missing else []) + ([f'has unknown keys {", ".join(unknown)}'] if unknown else [])))
    return value


def is_sha256(value) -> bool:
    """True when ``value`` is a SHA-256 as manifests write it: 64 lower-case hex digits."""
    return isinstance(value, str) and _SHA256_RE.fullmatch(value) is not None


def validate_destination(name) -> str:
    """Return ``name`` when it is a valid destination name (letters, digits, ``.``, ``_``, ``-``; up to 64)."""
    if not isinstance(name, str) or not _DESTINATION_RE.fullmatch(name):
        raise ManifestError(f'destination {name!r:.80} must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit')
    return name


def validate_identifier(value, what: str) -> str:
    """Return ``value`` when it is an id such as a bundle or receipt id (a UUID, or letters, digits, ``.``, ``_``, ``-``)."""
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise ManifestError(f'{what} {value!r:.80} must be 1 to 128 letters, digits, ".", "_" or "-"')
    return value


def validate_timestamp(value, what: str = 'created') -> str:
    """Return ``value`` when it is an ISO 8601 UTC time such as ``2026-11-25T12:00:00Z``."""
    if not isinstance(value, str) or not _TIME_RE.fullmatch(value):
        raise ManifestError(f'{what} {value!r:.80} must be an ISO 8601 UTC time such as 2026-11-25T12:00:00Z')
    return value


def timestamp(moment: datetime.datetime) -> str:
    """Return a timezone-aware ``moment`` as the UTC text manifests and receipts use (``2026-11-25T12:00:00Z``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ManifestError('timestamp needs a timezone-aware datetime, such as datetime.now(timezone.utc)')
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def validate_settings_field(value, what: str = 'settings') -> dict:
    """Validate a ``settings`` fingerprint, turning parity errors into :class:`ManifestError`."""
    try:
        return validate_settings(value)
    except ParityError as exc:
        raise ManifestError(f'{what}: {exc}') from None


def _validate_header(doc):
    schema = doc.get('schema') if isinstance(doc, dict) else None
    if not isinstance(doc, dict):
        raise ManifestError(f'a manifest must be a JSON object, not {type(doc).__name__}')
    if schema != SCHEMA:
        if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX):
            raise ManifestError(f'manifest schema {schema!r:.40} is not the one this collection reads ({SCHEMA}); '
                                'use the same airgap.wsus version on the export and the import side')
        raise ManifestError(f'not a bundle manifest: schema is {schema!r:.40}, expected {SCHEMA!r}')
    check_object(doc, 'manifest', _KEYS)
    validate_identifier(doc['bundle_id'], 'bundle_id')
    validate_timestamp(doc['created'])
    source = check_object(doc['source'], 'source', ('server_id', 'name', 'wsus_version'))
    for key in ('server_id', 'name', 'wsus_version'):
        check_text(source[key], f'source.{key}', allow_empty=True)
    validate_settings_field(doc['settings'])
    validate_destination(doc['destination'])
    sequence = check_count(doc['sequence'], 'sequence', 1)
    base = doc['base']
    if base != 'full':
        check_count(base, 'base', 1)
        if base >= sequence:
            raise ManifestError(f'base {base} must be lower than the sequence {sequence}, or "full"')
    basis = check_object(doc['basis'], 'basis', ('kind', 'reason'), optional=('receipt_id',))
    if basis['kind'] not in BASIS_KINDS:
        raise ManifestError(f'basis.kind {basis["kind"]!r:.40} must be one of {", ".join(BASIS_KINDS)}')
    check_text(basis['reason'], 'basis.reason', limit=4096)
    if 'receipt_id' in basis:
        validate_identifier(basis['receipt_id'], 'basis.receipt_id')
    if (basis['kind'] == 'full') != (base == 'full'):
        raise ManifestError(f'basis.kind {basis["kind"]!r} and base {base!r} disagree: a full bundle has base "full" and only it does')
    volume = check_object(doc['volume'], 'volume', ('index', 'count', 'label'))
    count = check_count(volume['count'], 'volume.count', 1)
    index = check_count(volume['index'], 'volume.index', 1)
    if index > count:
        raise ManifestError(f'volume.index {index} is larger than volume.count {count}')
    if volume['label'] != volume_label(index, count):
        raise ManifestError(f'volume.label {volume["label"]!r:.80} must be {volume_label(index, count)!r}')
    package = check_object(doc['package'], 'package', ('path', 'size', 'sha256', 'volume'))
    path = validate_content_relpath(package['path'], 'package.path')
    if path.split('/', 1)[0].lower() != 'metadata':
        raise ManifestError(f'package.path {path!r} must lie in the volume\'s metadata folder (metadata/export.xml.gz)')
    check_count(package['size'], 'package.size', 1)
    if not is_sha256(package['sha256']):
        raise ManifestError('package.sha256 must be 64 lower-case hex digits')
    if check_count(package['volume'], 'package.volume', 1) > count:
        raise ManifestError(f'package.volume {package["volume"]} is larger than volume.count {count}')
    totals = check_object(doc['totals'], 'totals', ('volume_files', 'volume_bytes', 'files', 'bytes'))
    for key in ('volume_files', 'volume_bytes', 'files', 'bytes'):
        check_count(totals[key], f'totals.{key}')
    validate_approvals(doc['approvals'])


def validate_approvals(section):
    """Return the manifest's ``approvals`` section when it is ``null`` (no approvals travel) or describes the document.

    The document is ``{path, size, sha256, counts}``: a safe path in volume 1's ``approvals``
    folder, its size (at least 1) and SHA-256, and the number of ``groups``, ``updates``,
    ``approvals`` and ``declines`` it holds, so the signed manifest vouches for its bytes.
    """
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ManifestError(f'approvals must be null or an object {{path, size, sha256, counts}}, not {type(section).__name__}')
    check_object(section, 'approvals', APPROVALS_KEYS)
    path = validate_content_relpath(section['path'], 'approvals.path')
    if path.split('/', 1)[0].lower() != APPROVALS_FOLDER or '/' not in path:
        raise ManifestError(f'approvals.path {path!r:.300} must lie in the volume\'s {APPROVALS_FOLDER} folder ({APPROVALS_FOLDER}/approvals.json)')
    check_count(section['size'], 'approvals.size', 1)
    if not is_sha256(section['sha256']):
        raise ManifestError('approvals.sha256 must be 64 lower-case hex digits')
    counts = check_object(section['counts'], 'approvals.counts', APPROVALS_COUNTS)
    for key in APPROVALS_COUNTS:
        check_count(counts[key], f'approvals.counts.{key}')
    return section


def _scan_files_fast(files):
    """Check ``files`` with whole-list operations that run at C speed.

    Returns ``(unverifiable, total_bytes)``, or ``None`` when some entry is wrong: then
    :func:`_scan_files_exact` finds and names it.
    """
    if not files:
        return [], 0
    if set(map(type, files)) != {list} or set(map(len, files)) != {3}:
        return None
    paths, sizes, digests = (list(map(operator.itemgetter(column), files)) for column in range(3))
    if set(map(type, paths)) != {str} or set(map(type, sizes)) != {int} or set(map(type, digests)) != {str}:
        return None
    if min(sizes) < 0 or set(map(len, digests)) != {64}:
        return None
    try:
        if ''.join(digests).encode('ascii').translate(None, b'0123456789abcdef'):
            return None
    except UnicodeEncodeError:
        return None
    if len(set(map(str.lower, paths))) != len(paths):
        return None
    unverifiable = list(itertools.compress(paths, map(operator.not_, map(HASH_PATH_RE.fullmatch, paths))))
    try:
        for path in unverifiable:
            validate_content_relpath(path)
    except ManifestError:
        return None
    return unverifiable, sum(sizes)


def _scan_files_exact(files):
    """Check ``files`` entry by entry and raise :class:`ManifestError` at the first wrong one."""
    hash_path = HASH_PATH_RE.fullmatch
    unverifiable = []
    seen = set()
    total = 0
    for position, entry in enumerate(files):
        if type(entry) is not list or len(entry) != 3:  # pylint: disable=unidiomatic-typecheck
            raise ManifestError(f'files[{position}] must be [path, size, sha256], not {entry!r:.120}')
        path, size, digest = entry
        if type(path) is not str or not hash_path(path):  # pylint: disable=unidiomatic-typecheck
            validate_content_relpath(path, f'files[{position}] path')
            unverifiable.append(path)
        if type(size) is not int or size < 0:  # pylint: disable=unidiomatic-typecheck
            raise ManifestError(f'files[{position}] ({path}) size must be an integer of at least 0, not {size!r:.40}')
        if not is_sha256(digest):
            raise ManifestError(f'files[{position}] ({path}) sha256 must be 64 lower-case hex digits')
        total += size
        seen.add(path.lower())
        if len(seen) <= position:
            raise ManifestError(f'files[{position}] ({path}) is listed twice (paths compare case-insensitively on Windows)')
    return unverifiable, total


def validate_manifest(doc) -> list:
    """Validate a parsed manifest and return the content paths whose names cannot be checked against their SHA-1.

    Raises :class:`ManifestError` for the first problem: schema, a missing, unknown or mistyped
    key, an unsafe path, a duplicate path (Windows paths are case-insensitive), a negative
    size, a bad SHA-256, or totals that do not add up.
    """
    _validate_header(doc)
    files = doc['files']
    if not isinstance(files, list):
        raise ManifestError('files must be a list of [path, size, sha256] entries')
    unverifiable, total = _scan_files_fast(files) or _scan_files_exact(files)
    totals = doc['totals']
    if totals['volume_files'] != len(files) or totals['volume_bytes'] != total:
        raise ManifestError(f'totals say {totals["volume_files"]} files and {totals["volume_bytes"]} bytes on this volume, '
                            f'but files lists {len(files)} files and {total} bytes; the manifest was altered')
    if totals['files'] < len(files) or totals['bytes'] < total:
        raise ManifestError('totals.files and totals.bytes (the whole bundle) are smaller than this volume alone; the manifest was altered')
    return unverifiable


def parse_manifest(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES):
    """Parse and validate manifest bytes; return ``(manifest, unverifiable_paths)``.

    Raises :class:`ManifestError` for anything but a well-formed manifest of this schema.
    The signature must be checked separately, on the same bytes (see ``_signing``).
    """
    doc = load_json(data, 'manifest', max_bytes=max_bytes)
    return doc, validate_manifest(doc)


def volume_label(index: int, count: int) -> str:
    """Return the human label of a volume, ``volume 1 of 3``."""
    return f'volume {index} of {count}'


def volume_folder(index: int) -> str:
    """Return a volume's folder name inside the bundle, ``volume-01`` (at least two digits)."""
    return f'volume-{index:02d}'


def build_manifests(*, bundle_id: str, created: str, source: Mapping, settings: Mapping, destination: str, sequence: int,
                    base, basis: Mapping, package: Mapping, volumes, approvals=None, validate: bool = True) -> list:
    """Build one manifest per volume and return them in volume order.

    ``volumes`` holds, per volume, its content files as ``(relpath, size, sha256)``;
    ``package`` is ``{path, size, sha256, volume}``; ``base`` is the confirmed sequence the
    delta assumes, or ``"full"``. Volume labels and totals are filled in. With ``validate``
    (the default) each manifest is checked exactly as the import side will check it, so the
    export side never writes what the import side refuses.
    """
    with bulk_allocation():
        volumes = [[[path, size, digest] for path, size, digest in files] for files in volumes]
    if not volumes:
        raise ManifestError('a bundle has at least one volume; pass [[]] for a bundle that carries only the package')
    count = len(volumes)
    all_files = sum(len(files) for files in volumes)
    all_bytes = sum(entry[1] for files in volumes for entry in files)
    manifests = []
    for index, files in enumerate(volumes, start=1):
        doc = {
            'schema': SCHEMA,
            'bundle_id': bundle_id,
            'created': created,
            'source': dict(source),
            'settings': dict(settings),
            'destination': destination,
            'sequence': sequence,
            'base': base,
            'basis': dict(basis),
            'volume': {'index': index, 'count': count, 'label': volume_label(index, count)},
            'package': dict(package),
            'files': files,
            'totals': {'volume_files': len(files), 'volume_bytes': sum(entry[1] for entry in files), 'files': all_files, 'bytes': all_bytes},
            'approvals': approvals,
        }
        if validate:
            validate_manifest(doc)
        manifests.append(doc)
    if validate:
        check_volume_set(manifests)
    return manifests


_SHARED = ('bundle_id', 'created', 'source', 'settings', 'destination', 'sequence', 'base', 'basis', 'package', 'approvals')


def check_volume_set(manifests, names=None) -> dict:
    """Check that validated volume manifests form one complete bundle; return its summary.

    All volumes must agree on the bundle (id, sequence, base, destination, settings, package,
    volume count and totals), indices must run 1..count without repeats, no content path may
    appear on two volumes, and the package's volume must be present. ``names`` (the volume
    folders, same order) make errors say where each volume came from. The summary is
    ``{bundle_id, sequence, base, destination, count, files, bytes, package, settings, basis, source, created}``.
    """
    manifests = list(manifests)
    names = list(names) if names is not None else [volume_folder(doc['volume']['index']) for doc in manifests]
    if not manifests:
        raise ManifestError('no volume found: point path at the bundle folder (holding volume-01, ...) or list the volume folders')
    first, first_name = manifests[0], names[0]
    for doc, name in zip(manifests[1:], names[1:]):
        for key in _SHARED:
            if doc[key] != first[key]:
                raise ManifestError(f'{name} and {first_name} disagree on {key}: they belong to different bundles; '
                                    'bring the volumes of one bundle only')
        if doc['volume']['count'] != first['volume']['count'] or doc['totals']['files'] != first['totals']['files'] \
                or doc['totals']['bytes'] != first['totals']['bytes']:
            raise ManifestError(f'{name} and {first_name} disagree on the volume count or the bundle totals; the bundle is mixed or altered')
    count = first['volume']['count']
    where = {}
    for doc, name in zip(manifests, names):
        index = doc['volume']['index']
        if index in where:
            raise ManifestError(f'{name} and {where[index]} are both volume {index} of {count}; bring each volume once')
        where[index] = name
    missing = [index for index in range(1, count + 1) if index not in where]
    if missing:
        raise ManifestError(f'bundle {first["bundle_id"]} (sequence {first["sequence"]}) has {count} volume(s), but '
                            + ', '.join(f'{volume_label(i, count)} ({volume_folder(i)})' for i in missing)
                            + ' is missing; bring every volume (a list of folders works when they sit on different drives)')
    files = sum(doc['totals']['volume_files'] for doc in manifests)
    size = sum(doc['totals']['volume_bytes'] for doc in manifests)
    if files != first['totals']['files'] or size != first['totals']['bytes']:
        raise ManifestError(f'the volumes hold {files} files and {size} bytes but the manifests promise {first["totals"]["files"]} files '
                            f'and {first["totals"]["bytes"]} bytes; the bundle was altered')
    if count > 1:
        owner = {}
        for doc, name in zip(manifests, names):
            for entry in doc['files']:
                key = entry[0].lower()
                if owner.setdefault(key, name) != name:
                    raise ManifestError(f'{entry[0]} is listed on both {owner[key]} and {name}; every file belongs to exactly one volume')
    return {
        'bundle_id': first['bundle_id'], 'sequence': first['sequence'], 'base': first['base'], 'destination': first['destination'],
        'count': count, 'files': files, 'bytes': size, 'package': dict(first['package']), 'settings': dict(first['settings']),
        'basis': dict(first['basis']), 'source': dict(first['source']), 'created': first['created'],
    }
