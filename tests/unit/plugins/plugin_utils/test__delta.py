"""Unit and property tests for content deltas and the receipt inventory encoding."""
from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.plugins.plugin_utils import _delta
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import ManifestError


def sha1_of(n):
    return hashlib.sha1(str(n).encode()).digest()


def path_of(digest, ext='cab'):
    """The WsusContent path of a file with SHA-1 ``digest``."""
    hexed = digest.hex().upper()
    return f'{hexed[-2:]}/{hexed}.{ext}'


def receipt_basis(digests, missing=()):
    return {'kind': 'receipt', 'digests': set(digests), 'missing': list(missing), 'reason': 'receipt r-1', 'receipt_id': 'r-1'}


# --- inventory encoding -------------------------------------------------------------------------

def test_encoding_sorts_and_deduplicates():
    digests = [sha1_of(n) for n in (3, 1, 2, 1)]
    inventory = _delta.encode_inventory(digests)
    assert inventory['encoding'] == 'sha1-sorted-base64' and inventory['count'] == 3
    raw = base64.b64decode(inventory['data'])
    assert [raw[i:i + 20] for i in range(0, 60, 20)] == sorted({sha1_of(n) for n in (1, 2, 3)})


def test_encoding_accepts_hex_in_any_case():
    digest = sha1_of(1)
    assert _delta.encode_inventory([digest.hex().upper(), digest.hex()]) == _delta.encode_inventory([digest])


def test_empty_inventory():
    inventory = _delta.encode_inventory([])
    assert inventory == {'encoding': 'sha1-sorted-base64', 'count': 0, 'data': ''}
    assert _delta.decode_inventory(inventory) == frozenset()


@given(st.sets(st.binary(min_size=20, max_size=20), max_size=200))
def test_inventory_round_trip(digests):
    assert _delta.decode_inventory(_delta.encode_inventory(digests)) == digests


def test_large_inventory_round_trips_across_chunks():
    digests = {hashlib.sha1(n.to_bytes(4, 'big')).digest() for n in range(30_000)}
    inventory = _delta.encode_inventory(digests)
    chunks = list(_delta.iter_encoded(sorted(digests)))
    assert len(chunks) > 2 and ''.join(chunks) == inventory['data']
    assert all(not chunk.endswith('=') for chunk in chunks[:-1])
    decoded = list(_delta.iter_inventory(inventory))
    assert decoded == sorted(digests)


@pytest.mark.parametrize('mutate, fragment', [
    (lambda inv: inv.update(encoding='sha256-hex'), 'is not'),
    (lambda inv: inv.update(count=inv['count'] + 1), 'take'),
    (lambda inv: inv.update(count=-1), 'non-negative'),
    (lambda inv: inv.update(count='3'), 'non-negative'),
    (lambda inv: inv.update(data=None), 'string'),
    (lambda inv: inv.update(data='!' + inv['data'][1:]), 'not valid base64'),
    (lambda inv: inv.update(data=base64.b64encode(sha1_of(2) + sha1_of(1)).decode(), count=2), 'not sorted'),
    (lambda inv: inv.update(data=base64.b64encode(sha1_of(1) * 2).decode(), count=2), 'not sorted'),
])
def test_damaged_inventories_are_refused(mutate, fragment):
    inventory = _delta.encode_inventory([sha1_of(1), sha1_of(2), sha1_of(3)])
    mutate(inventory)
    with pytest.raises(ManifestError, match=fragment):
        _delta.decode_inventory(inventory)


def test_digest_bytes():
    digest = sha1_of(5)
    assert _delta.digest_bytes(digest) == digest == _delta.digest_bytes(digest.hex())
    for bad in ('zz' * 20, b'short', 5, 'ab', 'ab ' * 13 + 'a'):
        with pytest.raises(ManifestError, match='not a SHA-1'):
            _delta.digest_bytes(bad)


def test_digests_of_paths_skips_other_names():
    assert _delta.digests_of_paths([path_of(sha1_of(1)), path_of(sha1_of(2)).replace('/', '\\'), 'readme.txt', 'AB/not-a-hash.cab']) \
        == {sha1_of(1), sha1_of(2)}


# --- delta ---------------------------------------------------------------------------------------

def test_full_delta_sends_everything_including_other_names():
    inventory = [(path_of(sha1_of(n)), 100 + n) for n in range(3)] + [('anonymousCheckFile.txt', 5)]
    delta = _delta.compute_delta(inventory, None)
    assert delta['count'] == 4 and delta['bytes'] == 100 + 101 + 102 + 5
    assert delta['basis'] == {'kind': 'full', 'reason': 'no basis given: every file travels'}
    assert delta['unhashed'] == [{'path': 'anonymousCheckFile.txt', 'size': 5, 'included': True, 'reason': 'full bundle'}]
    assert [path for path, _size in delta['files']] == sorted(path for path, _size in inventory)


def test_receipt_delta_sends_only_what_is_lacking():
    inventory = [(path_of(sha1_of(n)), 10) for n in range(5)]
    delta = _delta.compute_delta(inventory, receipt_basis([sha1_of(0), sha1_of(1), sha1_of(99)]))
    assert sorted(delta['files']) == sorted((path_of(sha1_of(n)), 10) for n in (2, 3, 4))
    assert delta['held'] == {'count': 2, 'bytes': 20}
    assert delta['basis'] == {'kind': 'receipt', 'reason': 'receipt r-1', 'receipt_id': 'r-1'}


def test_reported_missing_files_are_sent_even_when_held():
    held_path = path_of(sha1_of(1))
    delta = _delta.compute_delta([(held_path, 10), ('eula/readme.txt', 3)],
                                 receipt_basis([sha1_of(1)], missing=[held_path.lower(), 'EULA\\README.TXT', path_of(sha1_of(7))]))
    assert sorted(path for path, _size in delta['files']) == sorted([held_path, 'eula/readme.txt'])
    assert delta['missing_unavailable'] == [path_of(sha1_of(7))]
    assert delta['unhashed'][0]['included'] and 'reported missing' in delta['unhashed'][0]['reason']


def test_other_names_are_reported_but_not_sent_in_an_incremental_bundle():
    delta = _delta.compute_delta([('notes/readme.txt', 3), (path_of(sha1_of(1)), 10)], receipt_basis([]))
    assert delta['files'] == [(path_of(sha1_of(1)), 10)]
    [entry] = delta['unhashed']
    assert entry['path'] == 'notes/readme.txt' and not entry['included'] and 'not a SHA-1' in entry['reason']


def test_unsafe_names_are_reported_never_sent_never_fatal():
    delta = _delta.compute_delta([('bad/name.', 3), ('CON', 1), (path_of(sha1_of(1)), 10)], None)
    assert delta['files'] == [(path_of(sha1_of(1)), 10)]
    assert [(e['path'], e['included']) for e in delta['unhashed']] == [('bad/name.', False), ('CON', False)]
    assert all(e['reason'].startswith('unsafe name') for e in delta['unhashed'])


def test_content_inventory_rows_with_hash_columns_are_accepted():
    rows = [[path_of(sha1_of(1)).replace('/', '\\'), 10, 'ab' * 32], [path_of(sha1_of(2)), 20, 'cd' * 32]]
    delta = _delta.compute_delta(rows, receipt_basis([sha1_of(2)]))
    assert delta['files'] == [(path_of(sha1_of(1)), 10)]


def test_windows_separators_and_duplicates_are_normalized():
    path = path_of(sha1_of(1))
    delta = _delta.compute_delta([(path.replace('/', '\\'), 10), (path.lower(), 10), ('\\' + path, 10)], None)
    assert delta['files'] == [(path, 10)]
    # a rooted path is not a relative content path: reported, never sent
    assert [(e['path'], e['included']) for e in delta['unhashed']] == [('/' + path, False)]


def test_previous_bundle_basis_uses_the_export_record():
    record = _delta.record_after_bundle({sha1_of(1)}, [(path_of(sha1_of(2)), 10, 'x'), ('readme.txt', 1, 'y')])
    assert record == {sha1_of(1), sha1_of(2)}
    basis = {'kind': 'previous_bundle', 'digests': record, 'reason': 'bundle 3'}
    delta = _delta.compute_delta([(path_of(sha1_of(n)), 10) for n in (1, 2, 3)], basis)
    assert delta['files'] == [(path_of(sha1_of(3)), 10)] and delta['basis']['kind'] == 'previous_bundle'


def test_previous_bundle_basis_from_a_stored_record():
    record = _delta.encode_inventory(_delta.record_after_bundle(None, [(path_of(sha1_of(1)), 1)]))
    basis = _delta.previous_bundle_basis(record, 'bundle 3 assumed imported')
    assert basis == {'kind': 'previous_bundle', 'digests': frozenset({sha1_of(1)}), 'missing': [], 'reason': 'bundle 3 assumed imported'}
    assert _delta.previous_bundle_basis({sha1_of(2)}, 'r')['digests'] == frozenset({sha1_of(2)})


def test_record_after_a_full_bundle():
    assert _delta.record_after_bundle(None, [(path_of(sha1_of(4)), 1)]) == {sha1_of(4)}


def test_bad_basis():
    with pytest.raises(ManifestError, match='kind'):
        _delta.compute_delta([], {'kind': 'guess'})
    with pytest.raises(ManifestError, match='needs the set of digests'):
        _delta.compute_delta([], {'kind': 'receipt', 'reason': 'x'})


_digest = st.integers(min_value=0, max_value=60).map(sha1_of)
_other = st.sampled_from(['readme.txt', 'eula/a.txt', 'x/y/z.bin', 'anonymousCheckFile.txt'])


@settings(max_examples=150, deadline=None)
@given(export=st.dictionaries(st.one_of(_digest.map(path_of), _other), st.integers(min_value=0, max_value=10 ** 9), max_size=40),
       held=st.sets(_digest, max_size=40), missing=st.sets(st.one_of(_digest.map(path_of), _other), max_size=10),
       full=st.booleans())
def test_delta_never_misses_a_needed_file_and_never_resends_a_held_one(export, held, missing, full):
    basis = None if full else receipt_basis(held, missing)
    delta = _delta.compute_delta(list(export.items()), basis)
    sent = dict(delta['files'])
    assert len(sent) == len(delta['files']) and delta['count'] == len(sent) and delta['bytes'] == sum(sent.values())
    for path, size in export.items():
        digest = _delta.digests_of_paths([path])
        hashed = bool(digest)
        needed = full or path in missing or (hashed and not digest <= held)
        if needed:
            assert sent.get(path) == size, f'{path} is needed but not sent'
        else:
            assert path not in sent, f'{path} is held (or unverifiable) and was sent anyway'
    assert set(sent) <= set(export)
    if not full:
        assert set(delta['missing_unavailable']) == set(missing) - set(export)
        assert delta['held']['count'] == sum(1 for path in export if path not in sent and _delta.digests_of_paths([path]))


# --- digest files (sha1-sorted-file) --------------------------------------------------------------

def file_inventory(digests, name='receipt-3.inventory'):
    data = b''.join(sorted(set(digests)))
    return _delta.file_inventory(count=len(data) // 20, file=name, size=len(data), sha256=hashlib.sha256(data).hexdigest().upper())


def test_file_inventories_are_validated():
    inventory = file_inventory([sha1_of(1), sha1_of(2)])
    assert inventory['sha256'] == inventory['sha256'].lower() and inventory['size'] == 40
    assert _delta.is_file_inventory(inventory) and not _delta.is_file_inventory(_delta.encode_inventory([]))
    for bad, message in ((dict(inventory, size=41), 'take 40 bytes'), (dict(inventory, file='..\\x.inventory'), 'plain file name'),
                         (dict(inventory, file='.inventory.'), 'plain file name'), (dict(inventory, sha256='x'), 'sha256'),
                         (dict(inventory, data=''), 'data'), ({k: v for k, v in inventory.items() if k != 'count'}, 'count')):
        with pytest.raises(ManifestError, match=message):
            _delta.validate_inventory(bad)
    with pytest.raises(ManifestError, match='use the same airgap.wsus version'):
        _delta.decode_inventory(inventory)


def test_a_host_report_must_match_the_vouched_for_file():
    inventory = file_inventory([sha1_of(1)])
    good = {'path': 'E:\\r\\receipt-3.inventory', 'exists': True, 'size': 20, 'count': 1, 'sha256': inventory['sha256'].upper(), 'error': None}
    assert _delta.source_problem(good, inventory) is None
    assert 'altered or replaced' in _delta.source_problem(dict(good, sha256='0' * 64), inventory)
    assert _delta.source_problem(dict(good, count=2), inventory) == 'it holds 2 digests, not 1'
    assert _delta.source_problem(dict(good, error='the file does not exist'), inventory) == 'the file does not exist'
    assert _delta.source_problem(None, inventory) == 'the host did not report on it'


def host_filter(rows, held, missing):
    """What content_delta does on the host (its lab twin's rule): leave out the held hash-named files, except the missing ones."""
    from ansible_collections.airgap.wsus.tests.lab.ops import _digests  # pylint: disable=import-outside-toplevel
    wanted = {path.replace('/', '\\').upper() for path in missing}
    kept, count, size = [], 0, 0
    for relpath, length in rows:
        native = relpath.replace('/', '\\')
        digest = _digests.digest_of_name(native)
        if digest is not None and bytes.fromhex(digest) in held and native.upper() not in wanted:
            count, size = count + 1, size + length
        else:
            kept.append((native, length))
    return kept, {'count': count, 'bytes': size}


@settings(max_examples=60, deadline=None)
@given(export=st.lists(st.tuples(st.integers(0, 40), st.sampled_from(['cab', 'exe', 'psf'])), max_size=30),
       held=st.sets(st.integers(0, 40), max_size=30), missing=st.sets(st.integers(0, 40), max_size=5),
       others=st.lists(st.sampled_from(['eula/a.txt', 'anonymousCheckFile.txt', '0a/' + 'a' * 40 + '.cab']), max_size=3))
def test_a_delta_the_host_filtered_equals_the_controllers(export, held, missing, others):
    # A folder lists each name once (the file system ignores case).
    rows = list({path.lower(): (path, size) for path, size in [(path_of(sha1_of(n), ext), n + 1) for n, ext in export]
                 + [(path, 7) for path in others]}.values())
    digests = {sha1_of(n) for n in held}
    missing_paths = [path_of(sha1_of(n)).lower() for n in missing]
    reference = _delta.compute_delta(rows, receipt_basis(digests, missing_paths))
    kept, counted = host_filter(rows, digests, missing_paths)
    basis = _delta.file_basis('receipt', file_inventory(digests), 'E:\\r\\receipt-3.inventory', 'receipt r-1', missing=missing_paths,
                              receipt_id='r-1')
    filtered = _delta.compute_delta(kept, basis, held=counted)
    for key in ('files', 'count', 'bytes', 'held', 'basis', 'unhashed', 'missing_unavailable'):
        assert filtered[key] == reference[key], key


def test_previous_bundle_basis_from_a_digest_file_record():
    record = file_inventory([sha1_of(1)], name='plant-a.sent.inventory')
    basis = _delta.previous_bundle_basis(record, 'bundle 4 was not confirmed', path='C:\\state\\exports\\plant-a.sent.inventory')
    assert (basis['kind'], basis['digests'], basis['path'], basis['inventory']) == (
        'previous_bundle', None, 'C:\\state\\exports\\plant-a.sent.inventory', record)
    delta = _delta.compute_delta([(path_of(sha1_of(2)), 5)], basis, held={'count': 1, 'bytes': 9})
    assert delta['files'] == [(path_of(sha1_of(2)), 5)] and delta['held'] == {'count': 1, 'bytes': 9}
