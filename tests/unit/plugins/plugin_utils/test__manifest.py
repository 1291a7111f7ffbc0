"""Unit tests for bundle manifests: building, canonical bytes, hostile input, volume sets."""
from __future__ import annotations

import copy
import datetime
import gc
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import ManifestError

SETTINGS = {'express_files': False, 'all_languages': False, 'languages': ['de', 'en'], 'deferred_download': False, 'host_binaries_on_mu': False}


def content(n, ext='cab', size=None):
    """Return a content entry named by the SHA-1 of ``n`` (as WsusContent names files)."""
    sha1 = hashlib.sha1(str(n).encode()).hexdigest().upper()
    return (f'{sha1[-2:]}/{sha1}.{ext}', 1000 + n if size is None else size, hashlib.sha256(str(n).encode()).hexdigest())


def header(**overrides):
    """Keyword arguments for build_manifests describing a valid bundle."""
    values = dict(bundle_id='3c1d5b5e-1111-4222-8333-444455556666', created='2026-11-25T12:00:00Z',
                  source={'server_id': 'f0e1', 'name': 'wsus-connected', 'wsus_version': '10.0.17763.1'}, settings=SETTINGS,
                  destination='plant-a', sequence=4, base=3, basis={'kind': 'receipt', 'receipt_id': 'r-3', 'reason': 'receipt r-3'},
                  package={'path': 'metadata/export.xml.gz', 'size': 123456, 'sha256': 'a' * 64, 'volume': 1})
    values.update(overrides)
    return values


def one(files=None, **overrides):
    """Build a single-volume manifest."""
    files = [content(n) for n in range(5)] if files is None else files
    return _manifest.build_manifests(volumes=[files], **header(**overrides))[0]


def test_build_fills_volume_and_totals():
    doc = one()
    assert doc['schema'] == 'airgap.wsus.bundle/1'
    assert doc['volume'] == {'index': 1, 'count': 1, 'label': 'volume 1 of 1'}
    assert doc['totals'] == {'volume_files': 5, 'volume_bytes': sum(1000 + n for n in range(5)), 'files': 5, 'bytes': 5010}
    assert doc['files'][0] == list(content(0))
    assert doc['approvals'] is None


def test_canonical_bytes_are_sorted_compact_ascii_with_a_newline():
    doc = one(source={'server_id': 'x', 'name': 'wsus-m\u00fcnchen', 'wsus_version': '10'})
    data = _manifest.canonical_bytes(doc)
    assert data.endswith(b'}\n') and data.count(b'\n') == 1
    assert b'": ' not in data and b', "' not in data and b'\\u00fc' in data
    data.decode('ascii')
    keys = list(json.loads(data))
    assert keys == sorted(keys)
    # the same document always gives the same bytes (they are what gets signed)
    assert _manifest.canonical_bytes(copy.deepcopy(doc)) == data


def test_round_trip_parse_returns_the_same_document():
    doc = one(files=[content(1), ('misc/readme.txt', 10, 'b' * 64)])
    parsed, unverifiable = _manifest.parse_manifest(_manifest.canonical_bytes(doc))
    assert parsed == doc
    assert unverifiable == ['misc/readme.txt']


def test_sha1_name_rules():
    sha1 = hashlib.sha1(b'x').hexdigest().upper()
    assert _manifest.content_sha1(f'{sha1[-2:]}/{sha1}.cab') == sha1
    assert _manifest.content_sha1(f'{sha1[-2:]}/{sha1.lower()}.cab') is None      # upper-case hex only
    assert _manifest.content_sha1(f'00/{sha1}.cab') is None or sha1.endswith('00')  # folder = last two digits
    assert _manifest.content_sha1(f'{sha1}.cab') is None                           # no folder
    assert _manifest.content_sha1(f'{sha1[-2:]}/{sha1}') is None                   # no extension
    assert _manifest.content_sha1(f'x/{sha1[-2:]}/{sha1}.cab') is None


def test_misplaced_hash_names_are_allowed_but_unverifiable():
    sha1 = 'AB' * 19 + 'CD'
    doc = one(files=[(f'EF/{sha1}.cab', 5, 'c' * 64), (f'CD/{sha1.lower()}.cab', 5, 'd' * 64)])
    _parsed, unverifiable = _manifest.parse_manifest(_manifest.canonical_bytes(doc))
    assert unverifiable == [f'EF/{sha1}.cab', f'CD/{sha1.lower()}.cab']


@pytest.mark.parametrize('path', [
    '../evil.cab', 'a/../../evil.cab', './a.cab', '/abs.cab', 'C:/windows/evil.dll', 'C:evil', 'a\\b.cab', '\\\\server\\share\\x',
    '\\\\?\\C:\\x', 'a.cab:stream', 'CON', 'nul.txt', 'COM1.cab', 'LPT9', 'dir/trailing.', 'dir/trailing ', 'a//b', 'a/', 'a\x00b',
    'a\x1fb', 'a|b', 'x' * 1100,
])
def test_unsafe_paths_are_refused_as_tampering(path):
    doc = _manifest.build_manifests(volumes=[[content(1), (path, 1, 'e' * 64)]], validate=False, **header())[0]
    data = _manifest.canonical_bytes(doc)
    with pytest.raises(ManifestError) as info:
        _manifest.parse_manifest(data)
    assert 'tampering' in str(info.value) or 'must be' in str(info.value)


def test_build_refuses_what_the_import_side_would_refuse():
    with pytest.raises(ManifestError, match='tampering'):
        one(files=[('../x.cab', 1, 'e' * 64)])


@pytest.mark.parametrize('mutate, fragment', [
    (lambda d: d.update(schema='airgap.wsus.bundle/2'), 'use the same airgap.wsus version'),
    (lambda d: d.update(schema='something/1'), 'not a bundle manifest'),
    (lambda d: d.pop('destination'), 'lacks destination'),
    (lambda d: d.update(extra=1), 'unknown keys extra'),
    (lambda d: d.update(sequence=0), 'sequence must be an integer of at least 1'),
    (lambda d: d.update(sequence=True), 'sequence must be an integer'),
    (lambda d: d.update(sequence='4'), 'sequence must be an integer'),
    (lambda d: d.update(base=4), 'base 4 must be lower than the sequence 4'),
    (lambda d: d.update(base='incremental'), 'base must be an integer'),
    (lambda d: d.update(destination='plant a'), 'destination'),
    (lambda d: d.update(bundle_id='../x'), 'bundle_id'),
    (lambda d: d.update(created='yesterday'), 'ISO 8601'),
    (lambda d: d['basis'].update(kind='guess'), 'basis.kind'),
    (lambda d: d.update(base='full'), 'disagree'),
    (lambda d: d['settings'].update(express_files='no'), 'settings'),
    (lambda d: d['volume'].update(index=2), 'volume.index 2 is larger'),
    (lambda d: d['volume'].update(label='disc 1'), "must be 'volume 1 of 1'"),
    (lambda d: d['package'].update(path='WsusContent/export.xml.gz'), 'metadata folder'),
    (lambda d: d['package'].update(path='metadata/../../x.gz'), 'tampering'),
    (lambda d: d['package'].update(sha256='A' * 64), 'lower-case hex'),
    (lambda d: d['package'].update(volume=2), 'package.volume 2'),
    (lambda d: d['package'].update(size=-1), 'package.size'),
    (lambda d: d.update(files={}), 'files must be a list'),
    (lambda d: d['files'].append(['x.cab', 1]), r'files\[5\] must be \[path, size, sha256\]'),
    (lambda d: d['files'][2].__setitem__(1, -1), r'files\[2\].*size'),
    (lambda d: d['files'][2].__setitem__(1, 1.5), r'files\[2\].*size'),
    (lambda d: d['files'][2].__setitem__(1, True), r'files\[2\].*size'),
    (lambda d: d['files'][3].__setitem__(2, 'F' * 64), r'files\[3\].*sha256'),
    (lambda d: d['files'][3].__setitem__(2, 'f' * 63), r'files\[3\].*sha256'),
    (lambda d: d['files'][3].__setitem__(2, '\u00e9' * 64), r'files\[3\].*sha256'),
    (lambda d: d['files'][3].__setitem__(0, 7), r'files\[3\] path must be a non-empty string'),
    (lambda d: d['files'].append([d['files'][0][0].replace('.cab', '.CAB'), 1, 'f' * 64]), 'listed twice'),
    (lambda d: d['totals'].update(volume_files=4), 'altered'),
    (lambda d: d['totals'].update(volume_bytes=1), 'altered'),
    (lambda d: d['totals'].update(files=1), 'smaller than this volume'),
    (lambda d: d.update(approvals='yes'), 'approvals'),
    (lambda d: d['source'].pop('name'), 'source lacks name'),
])
def test_validation_names_the_problem(mutate, fragment):
    doc = json.loads(_manifest.canonical_bytes(one()))
    mutate(doc)
    with pytest.raises(ManifestError, match=fragment):
        _manifest.parse_manifest(json.dumps(doc).encode())


def test_errors_are_collection_errors_and_value_errors():
    assert issubclass(ManifestError, AirgapWsusError) and issubclass(ManifestError, ValueError)


@pytest.mark.parametrize('data, fragment', [
    (b'', 'empty'),
    (b'   \n', 'empty'),
    (b'not json', 'not valid JSON'),
    (b'{"schema": "airgap.wsus.bundle/1", ', 'not valid JSON'),
    (b'\xff\xfe{}', 'not UTF-8'),
    (b'[1, 2, 3]', 'must be a JSON object'),
    (b'{"a": NaN}', 'not valid JSON'),
    (b'{"a": Infinity}', 'not valid JSON'),
    (b'{"a": 1, "a": 2}', 'duplicate key'),
    (b'{"a": 1' + b'1' * 5000 + b'}', 'not valid JSON'),  # more digits than Python converts
    ('{}'.encode('utf-16'), 'not UTF-8'),
])
def test_hostile_bytes_give_a_clear_error(data, fragment):
    with pytest.raises(ManifestError, match=fragment):
        _manifest.parse_manifest(data)


def test_non_bytes_are_refused():
    with pytest.raises(ManifestError, match='must be bytes'):
        _manifest.parse_manifest('{}')


def test_oversized_manifest_is_refused_before_parsing():
    data = b'{"x": "' + b'a' * 2000 + b'"}'
    with pytest.raises(ManifestError, match='over the limit of 1000 bytes') as info:
        _manifest.parse_manifest(data, max_bytes=1000)
    assert 'max_manifest_bytes' in str(info.value)


@pytest.mark.parametrize('depth', [7, 50, 100_000])
def test_deep_nesting_is_refused_before_parsing(depth):
    data = b'{"approvals":' + b'[' * depth + b']' * depth + b'}'
    with pytest.raises(ManifestError, match='deeper than 6 levels'):
        _manifest.parse_manifest(data)


def test_brackets_inside_strings_do_not_count_as_nesting():
    doc = one(source={'server_id': '[[[[[[[[[[', 'name': '{{{{{{{{{{"\\', 'wsus_version': ']]]]'})
    parsed, _unverifiable = _manifest.parse_manifest(_manifest.canonical_bytes(doc))
    assert parsed['source']['name'] == '{{{{{{{{{{"\\'


def test_check_depth_allows_exactly_the_limit():
    _manifest.check_depth(b'[[[[[[]]]]]]', 6)
    with pytest.raises(ManifestError):
        _manifest.check_depth(b'[[[[[[[]]]]]]]', 6)
    with pytest.raises(ManifestError, match='brackets do not match'):
        _manifest.check_depth(b'[[}}', 6)
    with pytest.raises(ManifestError, match='brackets do not match'):
        _manifest.check_depth(b'{"a": [1, 2', 6)


def test_parsing_leaves_the_garbage_collector_as_it_was():
    assert gc.isenabled()
    _manifest.parse_manifest(_manifest.canonical_bytes(one()))
    assert gc.isenabled()
    gc.disable()
    try:
        _manifest.parse_manifest(_manifest.canonical_bytes(one()))
        assert not gc.isenabled()
    finally:
        gc.enable()


def three_volumes(**overrides):
    volumes = [[content(1), content(2)], [content(3)], []]
    return _manifest.build_manifests(volumes=volumes, **header(**dict({'package': dict(header()['package'], volume=3)}, **overrides)))


def test_build_three_volumes():
    docs = three_volumes()
    assert [d['volume']['label'] for d in docs] == ['volume 1 of 3', 'volume 2 of 3', 'volume 3 of 3']
    assert all(d['totals']['files'] == 3 and d['totals']['bytes'] == 1001 + 1002 + 1003 for d in docs)
    assert [d['totals']['volume_files'] for d in docs] == [2, 1, 0]
    summary = _manifest.check_volume_set(docs)
    assert summary['count'] == 3 and summary['files'] == 3 and summary['package']['volume'] == 3
    assert summary['sequence'] == 4 and summary['base'] == 3 and summary['destination'] == 'plant-a'


def test_volume_set_in_any_order():
    docs = three_volumes()
    assert _manifest.check_volume_set(list(reversed(docs)))['count'] == 3


def test_missing_volume_is_named():
    docs = three_volumes()
    with pytest.raises(ManifestError, match=r'volume 2 of 3 \(volume-02\) is missing'):
        _manifest.check_volume_set([docs[0], docs[2]])


def test_repeated_volume_is_named_by_folder():
    docs = three_volumes()
    with pytest.raises(ManifestError, match='E:/volume-01 and D:/volume-01 are both volume 1 of 3'):
        _manifest.check_volume_set([docs[0], docs[1], docs[0]], names=['D:/volume-01', 'D:/volume-02', 'E:/volume-01'])


@pytest.mark.parametrize('key, value', [
    ('bundle_id', 'another-bundle'), ('sequence', 5), ('destination', 'plant-b'), ('base', 2),
    ('package', {'path': 'metadata/export.xml.gz', 'size': 1, 'sha256': 'b' * 64, 'volume': 3}),
])
def test_volumes_of_different_bundles_are_refused(key, value):
    docs = three_volumes()
    other = three_volumes(**{key: value})
    with pytest.raises(ManifestError, match=f'disagree on {key}'):
        _manifest.check_volume_set([docs[0], other[1], docs[2]])


def test_volume_count_disagreement_is_refused():
    docs = three_volumes(package=header()['package'])
    two = _manifest.build_manifests(volumes=[[content(1), content(2)], [content(3)]], **header())
    with pytest.raises(ManifestError, match='volume count'):
        _manifest.check_volume_set([docs[0], two[1], docs[2]])


def test_file_on_two_volumes_is_refused():
    with pytest.raises(ManifestError, match='listed on both volume-01 and volume-02'):
        _manifest.build_manifests(volumes=[[content(1)], [content(1)]], **header())


def test_no_volume_at_all():
    with pytest.raises(ManifestError, match='no volume found'):
        _manifest.check_volume_set([])
    with pytest.raises(ManifestError, match='at least one volume'):
        _manifest.build_manifests(volumes=[], **header())


def test_altered_totals_across_volumes_are_caught():
    docs = [json.loads(_manifest.canonical_bytes(d)) for d in three_volumes()]
    # drop a file from volume 2 and fix its own totals: only the cross-volume sum can tell
    docs[1]['files'] = []
    docs[1]['totals'].update(volume_files=0, volume_bytes=0)
    for doc in docs:
        _manifest.validate_manifest(doc)
    with pytest.raises(ManifestError, match='the bundle was altered'):
        _manifest.check_volume_set(docs)


def test_full_bundle_and_package_only_bundle():
    doc = _manifest.build_manifests(volumes=[[]], **header(base='full', basis={'kind': 'full', 'reason': 'first bundle'}))[0]
    assert doc['base'] == 'full' and doc['files'] == [] and doc['totals']['files'] == 0


def test_helpers_for_ids_and_folders():
    assert _manifest.volume_folder(3) == 'volume-03' and _manifest.volume_folder(123) == 'volume-123'
    assert _manifest.validate_destination('plant-a.1_x') == 'plant-a.1_x'
    with pytest.raises(ManifestError):
        _manifest.validate_destination('-plant')
    assert _manifest.validate_timestamp('2026-11-25T12:00:00.123Z')
    assert _manifest.is_sha256('0' * 64) and not _manifest.is_sha256(None)


_entry = st.one_of(
    st.integers(0, 30).map(lambda n: list(content(n))),
    st.tuples(st.sampled_from(['readme.txt', 'a/b.txt', '../x', 'CON', 'A/B.', 7, None]), st.integers(-2, 5),
              st.sampled_from(['a' * 64, 'A' * 64, 'a' * 63, 1, '\u00e9' * 64])).map(list),
    st.sampled_from([['x'], 'entry', None, ('t', 1, 'a' * 64)]),
    st.integers(0, 30).map(lambda n: [content(n)[0].lower(), 1, 'b' * 64]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_entry, max_size=12))
def test_fast_and_exact_file_checks_agree(files):
    try:
        exact = _manifest._scan_files_exact(files)  # pylint: disable=protected-access
    except ManifestError:
        exact = None
    fast = _manifest._scan_files_fast(files)  # pylint: disable=protected-access
    # wrong lists must fall through to the exact check, which names the entry; valid ones must take the
    # fast path (or a big manifest would be slow) and give the same answer
    assert fast == exact


def test_timestamp_is_utc_and_valid():
    moment = datetime.datetime(2026, 11, 25, 13, 30, 5, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    text = _manifest.timestamp(moment)
    assert text == '2026-11-25T12:30:05Z' and _manifest.validate_timestamp(text) == text
    with pytest.raises(ManifestError, match='timezone-aware'):
        _manifest.timestamp(datetime.datetime(2026, 11, 25))
