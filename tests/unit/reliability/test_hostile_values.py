"""Hostile values through the controller's checks: manifest paths, every manifest and receipt field, keys, ODBC fields, argv.

The rule everywhere: a value is either accepted as exactly what it says, or refused with the
collection's own error (an ``AirgapWsusError`` whose message names the field). Never another
exception, never a silent reinterpretation, never an echo of a secret or of a whole document.
Property tests are derandomized so CI sees the same examples every run.
"""
from __future__ import annotations

import copy
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.plugins.plugin_utils import _cmdline, _manifest, _receipt, _signing, _susdb, _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError
from ansible_collections.airgap.wsus.tests.lab.windows.cmdline import command_line_to_argv

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SETTINGS = {'express_files': False, 'all_languages': False, 'languages': ['en'], 'deferred_download': False, 'host_binaries_on_mu': False}


def entry(n: int) -> tuple:
    sha1 = hashlib.sha1(str(n).encode()).hexdigest().upper()
    return (f'{sha1[-2:]}/{sha1}.cab', 100 + n, hashlib.sha256(str(n).encode()).hexdigest())


def manifest(files=None, validate=True) -> dict:
    return _manifest.build_manifests(
        validate=validate, bundle_id='b-1', created='2026-11-25T12:00:00Z', source={'server_id': 's', 'name': 'wsus', 'wsus_version': '10.0'},
        settings=SETTINGS, destination='plant-a', sequence=1, base='full', basis={'kind': 'full', 'reason': 'first'},
        package={'path': 'metadata/export.xml.gz', 'size': 10, 'sha256': 'a' * 64, 'volume': 1},
        volumes=[[entry(n) for n in range(3)] if files is None else files])[0]


# --------------------------------------------------------------------------- manifest paths

# Every way a path can leave WsusContent or name something other than a plain file, in both separators.
UNSAFE_PATHS = [
    '..', '../x.cab', '0A/../../x.cab', '0A/..', './0A/x.cab', '0A/./x.cab',            # traversal and dot segments
    '/x.cab', '/0A/x.cab', 'C:/x.cab', 'c:x.cab', 'Z:', 'C:',                            # absolute, drive letters
    '//srv/share/x.cab', '\\\\srv\\share\\x.cab', '//?/C:/x.cab', '\\\\?\\C:\\x.cab',   # UNC, long-path and device prefixes
    '//./PhysicalDrive0', '\\\\.\\COM1', '0A\\x.cab',                                   # device namespace, backslashes
    '0A/x.cab:evil', '0A/x.cab::$DATA', '0A:evil/x.cab',                                 # alternate data streams
    'CON', 'con', '0A/NUL', '0A/nul.txt', '0A/com1.txt', '0A/COM1.cab', '0A/LPT9', 'aux', '0A/PRN.x', 'CONIN$', '0A/COM\u00b9',
    'CON .txt', '0A/con .cab',                                                            # reserved device names
    '0A/x.', '0A/x ', '0A./x.cab', '0A /x.cab', '0A/x...',                               # trailing dots and spaces
    '', '0A//x.cab', '0A/', 'a\x00b', 'a\x1fb', '0A/x|y', '0A/x<y', '0A/x"y', '0A/x*', '0A/x?',
]


@pytest.mark.parametrize('path', UNSAFE_PATHS)
def test_unsafe_manifest_paths_are_refused(path):
    with pytest.raises(_manifest.ManifestError):
        _manifest.validate_content_relpath(path, 'files[0] path')
    doc = manifest([entry(1), (path, 4, 'e' * 64)], validate=False)
    with pytest.raises(_manifest.ManifestError, match=r'tampering|must be'):
        _manifest.parse_manifest(_manifest.canonical_bytes(doc))


@given(st.text(max_size=40))
@PROPERTY
def test_an_accepted_manifest_path_stays_inside_wsuscontent(text):
    try:
        rel = _manifest.validate_content_relpath(text, 'path')
    except _manifest.ManifestError:
        return
    target = _winpath.join('D:\\WSUS\\WsusContent', rel)
    assert _winpath.is_within(target, 'D:\\WSUS\\WsusContent', allow_equal=False)
    assert _winpath.relative_to(target, 'D:\\WSUS\\WsusContent') == rel.replace('/', '\\')


# --------------------------------------------------------------------------- every field

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from(['../x', 'C:\\x', '\\\\?\\x', 'CON', 'x' * 5000, '\x00', '{"nested": 1}']),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _paths(value, prefix=()):
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, prefix + (index,))
    return out


def _replace(doc, path, value):
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


@given(st.data())
@PROPERTY
def test_any_value_in_any_manifest_field_is_accepted_or_refused_with_the_field_named(data):
    doc = manifest()
    path = data.draw(st.sampled_from(_paths(doc)), label='field')
    value = data.draw(JSON_VALUES, label='value')
    raw = json.dumps(_replace(doc, path, value), sort_keys=True, separators=(',', ':')).encode('ascii') + b'\n'
    try:
        parsed, _unverifiable = _manifest.parse_manifest(raw)
    except _manifest.ManifestError as exc:
        message = str(exc)
        # The message names what is wrong and quotes at most an excerpt, never the document.
        assert len(message) < 1500, message[:200]
        return
    assert parsed == json.loads(raw)


RECEIPT_SETTINGS = dict(SETTINGS)


def receipt() -> dict:
    return _receipt.build_receipt(destination='plant-a', import_server={'server_id': 's', 'name': 'wsus2'}, last_sequence=1,
                                  bundle_id='b-1', package_sha256='a' * 64, settings=RECEIPT_SETTINGS,
                                  inventory=[hashlib.sha1(b'x').digest()], missing=[], receipt_id='r-1', created='2026-11-25T12:00:00Z')


@given(st.data())
@PROPERTY
def test_any_value_in_any_receipt_field_is_accepted_or_refused(data):
    doc = receipt()
    path = data.draw(st.sampled_from(_paths(doc)), label='field')
    value = data.draw(JSON_VALUES, label='value')
    raw = json.dumps(_replace(doc, path, value), sort_keys=True, separators=(',', ':')).encode('ascii') + b'\n'
    try:
        _receipt.parse_receipt(raw)
    except AirgapWsusError as exc:
        assert len(str(exc)) < 1500


# --------------------------------------------------------------------------- keys

SECRET = 'Key-material-that-must-never-be-echoed-0123456789'


@given(key_id=st.text(max_size=40), algorithm=st.one_of(st.sampled_from(['hmac-sha256', 'ed25519']), st.text(max_size=12)),
       material=st.one_of(st.just(SECRET), st.text(max_size=60).map(lambda t: SECRET + t)))
@PROPERTY
def test_a_key_is_loaded_or_refused_without_echoing_its_material(key_id, algorithm, material):
    spec = {'key_id': key_id, 'algorithm': algorithm, 'key': material}
    try:
        key = _signing.load_key(spec, 'sign')
    except _signing.SignatureError as exc:
        assert SECRET not in str(exc) and SECRET not in repr(exc)
        return
    assert key.key_id == key_id and SECRET not in repr(key) and SECRET not in str(key)
    signature = _signing.sign(b'data', key)
    assert signature['key_id'] == key_id and SECRET not in json.dumps(signature)


# --------------------------------------------------------------------------- ODBC connection strings

def parse_odbc(text: str) -> list:
    """Split an ODBC connection string into ``(key, value)`` pairs as the driver manager reads it (braced values, ``}}``)."""
    pairs, i = [], 0
    while i < len(text):
        eq = text.index('=', i)
        key = text[i:eq]
        i = eq + 1
        if text.startswith('{', i):
            value, i = [], i + 1
            while True:
                close = text.index('}', i)
                value.append(text[i:close])
                if text.startswith('}}', close):
                    value.append('}')
                    i = close + 2
                else:
                    i = close + 1
                    break
            value = ''.join(value)
        else:
            end = text.find(';', i)
            end = len(text) if end < 0 else end
            value, i = text[i:end], end
        pairs.append((key, value))
        if text.startswith(';', i):
            i += 1
    return pairs


FIELD = st.text(min_size=1, max_size=30).filter(lambda v: v.strip())


@given(server=FIELD, database=FIELD, username=FIELD, password=FIELD)
@PROPERTY
def test_odbc_fields_cannot_add_or_change_settings(server, database, username, password):
    try:
        text = _susdb.build_connection_string(server, database, username=username, password=password)
    except AirgapWsusError as exc:
        assert '\0' in server + database + username + password and 'NUL' in str(exc) and password not in str(exc)
        return
    pairs = parse_odbc(text)
    assert [key for key, _value in pairs] == ['DRIVER', 'SERVER', 'DATABASE', 'Encrypt', 'TrustServerCertificate', 'ApplicationIntent',
                                              'APP', 'UID', 'PWD']
    values = dict(pairs)
    assert (values['SERVER'], values['DATABASE'], values['UID'], values['PWD']) == (server, database, username, password)
    assert values['Encrypt'] == 'yes' and values['TrustServerCertificate'] == 'no'


def test_a_nul_in_an_odbc_field_is_refused_before_it_can_cut_the_connection_string():
    # pyodbc hands the string to the driver manager as a C string: everything after a NUL would vanish (Encrypt=yes too).
    with pytest.raises(_susdb.SusdbError, match='susdb.server contains a NUL character'):
        _susdb.build_connection_string('db\0x', 'SUSDB', username='u', password='p')
    with pytest.raises(_susdb.SusdbError, match='susdb.connection_string contains a NUL') as info:
        _susdb.PyodbcExecutor('DRIVER={x};SERVER=db\0;PWD=Secret-123')
    assert 'Secret-123' not in str(info.value)


# --------------------------------------------------------------------------- command lines

ARG = st.text(alphabet=st.characters(blacklist_categories=('Cs',), blacklist_characters='\0'), max_size=20)


@given(st.lists(ARG, min_size=1, max_size=6))
@PROPERTY
def test_windows_reads_every_argument_back_exactly(args):
    # The lab's CommandLineToArgvW is written apart from the collection's quoting: they must agree on every string.
    line = _cmdline.quote_program('C:\\Windows\\System32\\Robocopy.exe') + ' ' + _cmdline.join_args(args)
    assert command_line_to_argv(line)[1:] == args
