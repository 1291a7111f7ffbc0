"""Unit and property tests for packing a bundle into volumes."""
from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest, _volumes
from ansible_collections.airgap.wsus.plugins.plugin_utils._volumes import VolumeError

GB = 1000 ** 3
MB = 1000 ** 2


def path_of(n, ext='cab'):
    sha1 = hashlib.sha1(str(n).encode()).hexdigest().upper()
    return f'{sha1[-2:]}/{sha1}.{ext}'


def test_without_volume_size_everything_is_one_volume():
    files = [(path_of(n), 10 * MB) for n in range(50)]
    result = _volumes.pack(files, package_size=3 * GB)
    assert result['count'] == 1 and result['package_volume'] == 1
    [volume] = result['volumes']
    assert volume['file_count'] == 50 and volume['bytes'] == 500 * MB and volume['package']
    assert volume['allocated'] == _volumes.volume_usage(files, 3 * GB)
    assert volume['files'] == sorted(files)


def test_dvd_set():
    files = [(path_of(n), 400 * MB) for n in range(30)]  # 12 GB of content
    result = _volumes.pack(files, volume_size=4_700_000_000, package_size=900 * MB)
    # 11 files of 400 MB fit a DVD; 30 files and the package need 3 discs
    assert result['count'] == 3
    assert sum(v['file_count'] for v in result['volumes']) == 30
    assert all(v['allocated'] <= 4_700_000_000 for v in result['volumes'])
    assert [v['index'] for v in result['volumes']] == [1, 2, 3]
    assert sum(v['package'] for v in result['volumes']) == 1


def test_cluster_rounding_counts_small_files():
    # 2,000 one-byte files take 2,000 clusters plus their records, not 2,000 bytes
    files = [(path_of(n), 1) for n in range(2000)]
    usage = _volumes.volume_usage(files, cluster_size=4096)
    assert usage >= 2000 * (4096 + 1024)
    assert _volumes.volume_usage(files, cluster_size=512) < usage


def test_usage_counts_folders_other_than_the_reserved_ones():
    base = _volumes.volume_usage([('AB/x.cab', 0)])
    # two new folders, and four more characters of path in the manifest
    assert _volumes.volume_usage([('a/b/c.txt', 0)]) - _volumes.volume_usage([('c.txt', 0)]) == 2 * 4096 + len('a/b/')
    assert _volumes.volume_usage([('ab/x.cab', 0)]) == base  # XX folders are reserved, whatever their case


def test_non_ascii_names_cost_their_escaped_length():
    # the manifest is ASCII: u-umlaut is written as a 6-character escape, an emoji as two of them
    assert _volumes.file_cost('eula/\u00fc.txt', 0) - _volumes.file_cost('eula/u.txt', 0) == 5
    assert _volumes.file_cost('x/\U0001f600', 0) - _volumes.file_cost('x/a', 0) == 11


def test_header_allowance_can_be_raised_for_large_approvals():
    small = _volumes.pack([(path_of(1), 1)], volume_size=100 * MB)
    large = _volumes.pack([(path_of(1), 1)], volume_size=100 * MB, header_bytes=5 * MB)
    assert large['allocated'] - small['allocated'] == _volumes.fixed_overhead(header_bytes=5 * MB) - _volumes.fixed_overhead() > 4 * MB


def test_the_manifest_estimate_covers_the_real_manifest():
    files = [(path_of(n), 10 ** 12 + n) for n in range(300)] + [('eula/\u00fcbersicht.txt', 5), ('a/b/c.txt', 7)]
    entries = [(path, size, hashlib.sha256(path.encode()).hexdigest()) for path, size in files]
    manifest = _manifest.build_manifests(
        volumes=[entries], bundle_id='3c1d5b5e-1111-4222-8333-444455556666', created='2026-11-25T12:00:00Z',
        source={'server_id': 'F' * 36, 'name': 'wsus-\u00fc' * 20, 'wsus_version': '10.0.17763.1'},
        settings={'express_files': True, 'all_languages': False, 'languages': ['de', 'en', 'fr', 'pt-br'], 'deferred_download': False,
                  'host_binaries_on_mu': False},
        destination='plant-a', sequence=12, base=11, basis={'kind': 'receipt', 'receipt_id': 'r' * 100, 'reason': 'x' * 1500},
        package={'path': 'metadata/export.xml.gz', 'size': 3 * GB, 'sha256': 'a' * 64, 'volume': 1})[0]
    real = len(_manifest.canonical_bytes(manifest))
    # a file of size 0 with no per-file overhead costs exactly its manifest entry
    estimate = _volumes.MANIFEST_HEADER_BYTES + sum(_volumes.file_cost(path, 0, per_file_overhead=0) for path, _size in files)
    assert real <= estimate


def test_a_file_larger_than_a_volume_is_named():
    files = [(path_of(1), 10 * MB), (path_of(2), 5 * GB)]
    with pytest.raises(VolumeError) as info:
        _volumes.pack(files, volume_size=4_700_000_000)
    message = str(info.value)
    assert path_of(2) in message and '5 GB' in message and path_of(1) not in message
    assert 'larger volume_size' in message


def test_the_package_too_large_for_a_volume_is_named():
    with pytest.raises(VolumeError, match='metadata/export.xml.gz'):
        _volumes.pack([], volume_size=4_700_000_000, package_size=5 * GB)


def test_a_volume_too_small_for_its_overhead():
    with pytest.raises(VolumeError, match='leaves no room'):
        _volumes.pack([(path_of(1), 1)], volume_size=100_000)


def test_fat32_limit_is_reported_up_front_for_every_large_file():
    files = [(path_of(1), 4 * 1024 ** 3), (path_of(2), 4 * 1024 ** 3 - 1), (path_of(3), 6 * GB)]
    with pytest.raises(VolumeError) as info:
        _volumes.pack(files, file_system='FAT32')
    message = str(info.value)
    assert '2 file(s)' in message and path_of(1) in message and path_of(3) in message and path_of(2) not in message
    assert 'exFAT' in message


def test_fat32_limit_covers_the_package():
    with pytest.raises(VolumeError, match='metadata/export.xml.gz'):
        _volumes.pack([], package_size=5 * GB, file_system='fat32')


def test_other_file_systems_have_no_file_limit():
    assert _volumes.pack([(path_of(1), 6 * GB)], file_system='NTFS')['count'] == 1
    assert _volumes.pack([(path_of(1), 6 * GB)], file_system='exFAT')['count'] == 1


def test_empty_bundle_still_has_one_volume():
    result = _volumes.pack([], volume_size=4_700_000_000)
    assert result['count'] == 1 and result['volumes'][0]['files'] == [] and result['package_volume'] is None


def test_bad_cluster_size():
    with pytest.raises(VolumeError, match='power of two'):
        _volumes.pack([], cluster_size=3000)


def test_first_fit_decreasing_fills_gaps_with_small_files():
    room = _volumes.pack([], volume_size=100 * MB)['volume_size'] - _volumes.fixed_overhead()
    big = room - _volumes.file_cost(path_of(9), 10 * MB) - 5 * MB  # leaves space for exactly one 10 MB file
    files = [(path_of(1), big - 2000), (path_of(2), big - 2000), (path_of(9), 10 * MB)]
    result = _volumes.pack(files, volume_size=100 * MB)
    assert result['count'] == 2
    assert path_of(9) in dict(result['volumes'][0]['files'])


def test_packing_does_not_depend_on_input_order():
    files = [(path_of(n), (n * 7919) % (300 * MB)) for n in range(200)]
    forward = _volumes.pack(files, volume_size=4_700_000_000, package_size=GB)
    backward = _volumes.pack(list(reversed(files)), volume_size=4_700_000_000, package_size=GB)
    assert forward == backward


_names = st.one_of(st.integers(min_value=0, max_value=10 ** 6).map(path_of),
                   st.sampled_from(['readme.txt', 'a/b/c.txt', 'x/y.bin', 'eula/1.txt', 'eula/\u00fcbersicht.txt', 'x/\U0001f600.txt']))


@st.composite
def packing_cases(draw):
    """A volume size and files mostly smaller than it (sometimes too large), so most cases need several volumes."""
    volume_size = draw(st.integers(min_value=2 * MB, max_value=200 * MB))
    largest = draw(st.sampled_from([volume_size // 8, volume_size // 3, volume_size, 2 * volume_size]))
    small = draw(st.dictionaries(_names, st.integers(min_value=0, max_value=4096), max_size=10))
    files = draw(st.dictionaries(_names, st.integers(min_value=largest // 4, max_value=largest), min_size=1, max_size=40))
    package_size = draw(st.one_of(st.none(), st.integers(0, largest)))
    return dict(small, **files), volume_size, package_size


@settings(max_examples=150, deadline=None)
@given(case=packing_cases(), cluster_size=st.sampled_from([512, 2048, 4096, 65536]))
def test_packing_never_overfills_and_places_every_file_once(case, cluster_size):
    files, volume_size, package_size = case
    items = list(files.items())
    try:
        result = _volumes.pack(items, volume_size=volume_size, package_size=package_size, cluster_size=cluster_size)
    except VolumeError as exc:
        # only allowed when something really cannot fit on an empty volume
        largest = max([_volumes.volume_usage([item], cluster_size=cluster_size) for item in items]
                      + [_volumes.volume_usage([], package_size, cluster_size=cluster_size)])
        assert largest > volume_size, str(exc)
        return
    placed = [item for volume in result['volumes'] for item in volume['files']]
    assert sorted(placed) == sorted(items)
    assert sum(volume['package'] for volume in result['volumes']) == (package_size is not None)
    for volume in result['volumes']:
        independent = _volumes.volume_usage(volume['files'], package_size if volume['package'] else None, cluster_size=cluster_size)
        assert volume['allocated'] == independent
        assert independent <= volume_size
    assert result['bytes'] == sum(files.values())
