"""Drives, capacity, file systems and file faults of the emulated host."""
from __future__ import annotations

import os
import time

import pytest

from ansible_collections.airgap.wsus.tests.lab.windows.errors import WinError

GIB = 1024 ** 3


def test_drives_follow_the_spec(host) -> None:
    c, d, e = (host.fs.volume_info(x) for x in ('C:\\', 'D:\\', 'E:\\'))
    assert (c.total_bytes, c.file_system, c.drive_type) == (127 * GIB, 'NTFS', 'Fixed')
    assert c.free_bytes == 60 * GIB - _used(host, 'C')          # the spec's free space, less what the lab wrote
    assert (d.total_bytes, d.free_bytes) == (500 * GIB, 450 * GIB)
    assert (e.total_bytes, e.file_system, e.drive_type, e.label) == (64 * GIB, 'exFAT', 'Removable', 'TRANSFER')


def _used(host, letter: str) -> int:
    root = host.fs.drive(letter).folder
    return sum(os.path.getsize(os.path.join(d, f)) for d, _dirs, files in os.walk(root) for f in files)


def test_free_space_follows_writes_and_deletes(host) -> None:
    before = host.fs.volume_info('D:').free_bytes
    host.fs.write_bytes('D:\\big.bin', b'x' * 10000)
    assert host.fs.volume_info('D:').free_bytes == before - 10000
    host.fs.write_bytes('D:\\big.bin', b'x' * 4000)              # overwriting frees the difference
    assert host.fs.volume_info('D:').free_bytes == before - 4000
    host.fs.delete_file('D:\\big.bin')
    assert host.fs.volume_info('D:').free_bytes == before


def test_a_full_drive_refuses_writes_with_error_112(make_host) -> None:
    host = make_host(drives={'D:': {'size': 100000, 'free': 60000}})
    host.fs.write_bytes('D:\\a.bin', b'x' * 50000)
    with pytest.raises(WinError) as info:
        host.fs.write_bytes('D:\\b.bin', b'x' * 20000)
    assert info.value.code == 112 and info.value.message == 'There is not enough space on the disk.'
    assert not host.fs.exists('D:\\b.bin')                       # nothing half-written is left
    assert host.fs.volume_info('D:').free_bytes == 10000


def test_disk_full_fault_after_n_bytes(host) -> None:
    host.faults.disk_full_after('E', 3000)
    host.fs.write_bytes('E:\\one', b'1' * 2000)
    with pytest.raises(WinError) as info:
        host.fs.write_bytes('E:\\two', b'2' * 2000)
    assert info.value.code == 112
    with pytest.raises(WinError):
        host.fs.write_bytes('E:\\three', b'3')                   # full stays full
    host.faults.disk_full_after('E', None)
    host.fs.write_bytes('E:\\three', b'3')


def test_fat32_refuses_files_of_4_gib(make_host) -> None:
    host = make_host(drives={'F:': {'type': 'removable', 'size': 16 * GIB, 'free': 16 * GIB, 'file_system': 'FAT32'}})
    big = host.fs.real_path('D:\\') / 'big.iso'
    with open(big, 'wb') as handle:          # sparse: 4 GiB of apparent size, no disk used
        handle.truncate(4 * GIB)
    host.fs.invalidate_usage()
    with pytest.raises(WinError) as info:
        host.fs.copy_file('D:\\big.iso', 'F:\\big.iso')
    assert info.value.code == 223
    assert not host.fs.exists('F:\\big.iso')


def test_fat32_stores_times_in_two_second_steps(make_host) -> None:
    host = make_host(drives={'F:': {'type': 'removable', 'size': GIB, 'free': GIB, 'file_system': 'FAT32'}})
    host.fs.write_bytes('D:\\t.txt', b'x')
    odd = 1_700_000_001_234_567_800
    host.fs.set_mtime('D:\\t.txt', odd)
    host.fs.copy_file('D:\\t.txt', 'F:\\t.txt')
    assert host.fs.stat('D:\\t.txt').mtime_ns == odd
    assert host.fs.stat('F:\\t.txt').mtime_ns == 1_700_000_002_000_000_000


def test_slow_drive_takes_time(host) -> None:
    host.faults.slow_drive('D', 100_000)
    started = time.monotonic()
    host.fs.write_bytes('D:\\slow.bin', b'x' * 20_000)
    assert time.monotonic() - started >= 0.19
    host.faults.slow_drive('D', None)


def test_locked_file_is_a_sharing_violation_until_released(host) -> None:
    host.fs.write_bytes('D:\\in use.log', b'x')
    host.faults.lock_file('d:\\IN USE.log')
    for op in (lambda: host.fs.read_bytes('D:\\in use.log'), lambda: host.fs.delete_file('D:\\in use.log'),
               lambda: host.fs.write_bytes('D:\\in use.log', b'y')):
        with pytest.raises(WinError) as info:
            op()
        assert info.value.code == 32
        assert info.value.dotnet_message == ("The process cannot access the file 'D:\\in use.log' because it is being "
                                             "used by another process.")
    host.faults.unlock_file('D:\\in use.log')
    assert host.fs.read_bytes('D:\\in use.log') == b'x'


def test_lock_for_a_number_of_attempts_and_by_wildcard(host) -> None:
    host.fs.write_bytes('D:\\c\\a.cab', b'a', make_parents=True)
    host.faults.lock_file('D:\\c\\*.cab', attempts=2)
    for _attempt in range(2):
        with pytest.raises(WinError):
            host.fs.read_bytes('D:\\c\\a.cab')
    assert host.fs.read_bytes('D:\\c\\a.cab') == b'a'


def test_access_denied_below_a_path_but_attributes_still_readable(host) -> None:
    host.fs.write_bytes('D:\\secret\\x.txt', b'x', make_parents=True)
    host.faults.deny_access('D:\\Secret')
    assert host.fs.is_dir('D:\\secret') and host.fs.is_file('D:\\secret\\x.txt')    # attributes come from the parent
    for op in (lambda: host.fs.listdir('D:\\secret'), lambda: host.fs.read_bytes('D:\\secret\\x.txt'),
               lambda: host.fs.write_bytes('D:\\secret\\y.txt', b'')):
        with pytest.raises(WinError) as info:
            op()
        assert info.value.code == 5 and info.value.message == 'Access is denied.'
    host.faults.allow_access()
    assert host.fs.read_bytes('D:\\secret\\x.txt') == b'x'


def test_a_medium_carried_between_hosts_is_the_same_volume(make_host) -> None:
    exporter, importer = make_host('export1'), make_host('import1')
    exporter.fs.write_bytes('E:\\bundle\\m.json', b'{}', make_parents=True)
    assert importer.fs.read_bytes('e:\\BUNDLE\\M.JSON') == b'{}'
    assert importer.fs.volume_info('E:').free_bytes == exporter.fs.volume_info('E:').free_bytes
    exporter.faults.disk_full_after('E', 0)
    with pytest.raises(WinError):
        importer.fs.write_bytes('E:\\x', b'x')                   # the stick is full, whoever writes


def test_replace_is_atomic_rename_over_an_existing_file(host) -> None:
    host.fs.write_bytes('D:\\t\\final.txt', b'old', make_parents=True)
    host.fs.write_bytes('D:\\t\\.final.tmp', b'new')
    host.fs.replace('D:\\t\\.final.tmp', 'D:\\t\\final.txt')
    assert host.fs.read_bytes('D:\\t\\final.txt') == b'new'
    assert [e.name for e in host.fs.listdir('D:\\t')] == ['final.txt']


def test_a_host_with_5000_content_files_starts_fast(make_host, tmp_path) -> None:
    folder = tmp_path / 'hosts' / 'big' / 'drives' / 'D' / 'WSUS' / 'WsusContent'
    seed = tmp_path / 'seed.cab'
    seed.write_bytes(b'x' * 10)
    for i in range(256):
        (folder / ('%02X' % i)).mkdir(parents=True)
    for i in range(5000):       # hard links: 5,000 directory entries in milliseconds
        os.link(seed, folder / ('%02X' % (i % 256)) / ('%040X.cab' % i))
    started = time.monotonic()
    host = make_host('big')
    built = time.monotonic() - started
    started = time.monotonic()
    free = host.fs.volume_info('D:').free_bytes
    scanned = time.monotonic() - started
    assert built < 1.0, 'building a host took %.2f s' % built
    assert scanned < 1.0, 'the first free-space question took %.2f s' % scanned
    assert free == 450 * GIB - 50000


def test_faults_from_the_lab_spec(make_host) -> None:
    host = make_host('faulty', faults={'winrm': {'drop_at_request': 3}, 'disk_full_after': {'E:': '1 KiB'},
                                       'slow_drive': {'D:': '10 MiB'}, 'locked_files': ['D:\\in use\\*.log'],
                                       'access_denied': ['C:\\Private'], 'wait_scale': 0.01, 'wsusutil_exit_code': 5})
    with pytest.raises(WinError) as info:
        host.fs.write_bytes('E:\\x.bin', b'x' * 2048)
    assert info.value.code == 112
    assert host.fs.drive('D').volume.bytes_per_second == 10 * 1024 * 1024
    host.fs.write_bytes('D:\\in use\\a.log', b'', make_parents=True)     # creating it is not opening a held file
    with pytest.raises(WinError) as info:
        host.fs.read_bytes('D:\\in use\\a.log')
    assert info.value.code == 32
    with pytest.raises(WinError) as info:
        host.fs.mkdir('C:\\Private\\x')
    assert info.value.code == 5
    assert host.faults.wait_scale == 0.01 and host.faults.get('wsusutil_exit_code') == 5
    assert host.faults.get('winrm') is None                              # the WinRM listener's, not the host's
