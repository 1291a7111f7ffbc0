"""``_content_verify``: SUSDB's needed files against one inventory of WsusContent, exact and fast at scale."""
from __future__ import annotations

import hashlib
import time

from ansible_collections.airgap.wsus.plugins.plugin_utils import _content_verify, _susdb

COLUMNS = ['FileDigest', 'FileName', 'Size', 'IsEula', 'DesiredState', 'ActualState']


def digest(n):
    return hashlib.sha1(str(n).encode()).hexdigest().upper()


def records(rows):
    """``_susdb.files_from`` records, as the action gets them from ``read_approved_files``."""
    return _susdb.files_from(_susdb.QueryResult(COLUMNS, rows))


def row(n, size=1000, desired=1, actual=1, ext='cab'):
    return [digest(n), f'{digest(n).lower()}.{ext}', size, ext == 'txt', desired, actual]


def on_disk(n, size=1000, ext='cab', sha1=None, hashed=False):
    path = f'{digest(n)[-2:]}\\{digest(n)}.{ext}'
    return [path, size, sha1 if sha1 is not None or not hashed else digest(n)] if hashed else [path, size]


def path(n, ext='cab'):
    return f'{digest(n)[-2:]}/{digest(n)}.{ext}'


def test_complete_content_passes_and_extra_files_are_only_counted():
    result = _content_verify.compare(records([row(1), row(2, ext='txt')]), [on_disk(1), on_disk(2, ext='txt'), on_disk(3), ['stray.tmp', 5]])
    assert result.ok and result.files == [] and (result.needed, result.present) == (2, 2)
    assert result.not_needed_on_disk == 2 and result.on_disk == 4


def test_missing_files_are_named_by_path_and_size_whatever_the_case_on_disk():
    inventory = [[on_disk(1)[0].lower(), 1000], on_disk(4)]
    result = _content_verify.compare(records([row(1), row(2, size=2048), row(3, size=77), row(4)]), inventory)
    assert [(m['path'], m['size']) for m in result.missing] == sorted([(path(2), 2048), (path(3), 77)])
    assert result.files == sorted([path(2), path(3)]) and result.missing_bytes == 2048 + 77
    assert result.bad_digests == {digest(2), digest(3)}
    assert result.stale_in_wsus == 2, 'WSUS still counts them as present'


def test_a_wrong_size_is_damage_and_hashing_finds_damage_that_keeps_the_size():
    rows = [row(1), row(2), row(3)]
    inventory = [on_disk(1, size=999), on_disk(2), on_disk(3)]
    sizes_only = _content_verify.compare(records(rows), inventory)
    assert [(c['path'], c['reason'], c['actual_size']) for c in sizes_only.corrupt] == [(path(1), 'size', 999)]
    hashed_inventory = [on_disk(1, size=999, hashed=True), on_disk(2, sha1=digest(99), hashed=True), [on_disk(3)[0], 1000, None]]
    hashed = _content_verify.compare(records(rows), hashed_inventory, hashed=True)
    assert {c['path']: c['reason'] for c in hashed.corrupt} == {path(1): 'size', path(2): 'sha1', path(3): 'unreadable'}
    assert hashed.files == sorted([path(1), path(2), path(3)]) and not hashed.ok


def test_files_wsus_does_not_want_are_not_needed_but_untracked_ones_are():
    rows = [row(1, desired=0, actual=0), row(2, ext='psf', desired=0, actual=0), [digest(3), 'x.cab', 10, False, None, None]]
    result = _content_verify.compare(records(rows), [])
    assert result.needed == 1 and result.files == [path(3)]


def test_files_on_disk_that_wsus_has_not_checked_are_counted():
    result = _content_verify.compare(records([row(1, actual=2), row(2, actual=0)]), [on_disk(1), on_disk(2)])
    assert result.ok and result.unverified_by_wsus == 2


def test_summary_names_the_files_and_the_next_step():
    result = _content_verify.compare(records([row(n) for n in range(8)]), [on_disk(0), on_disk(1, size=3)])
    text = _content_verify.summary(result, 'D:\\WSUS\\WsusContent')
    assert text.startswith('6 missing and 1 damaged (its size differs from the size SUSDB records) of the 8 file(s)')
    assert 'and 2 more' in text and 'content_sync' in text and 'reset: true' in text
    ok = _content_verify.summary(_content_verify.compare(records([row(0)]), [on_disk(0)], hashed=False), 'D:\\C')
    assert ok == 'all 1 file(s) the approved updates need are in D:\\C, present and the right size'


def test_the_reset_settles_when_wsus_reports_exactly_the_bad_files():
    bad = {digest(1), digest(2)}
    assert _content_verify.reset_settled(records([row(1, actual=2), row(2, actual=2)]), bad)
    assert not _content_verify.reset_settled(records([row(1, actual=2)]), bad), 'WSUS has not noticed one yet'
    assert not _content_verify.reset_settled(records([row(1, actual=2), row(2, actual=2), row(3, actual=0)]), bad), 'still checking one'
    assert _content_verify.reset_settled([], set())


def test_300000_files_of_100000_updates_compare_in_about_a_second():
    # 100,000 approved updates with three files each; 3 missing, 2 damaged, 1,000 files on disk that no approved update needs.
    total = 300_000
    names = [f'{n:040X}' for n in range(total)]
    prepared = [{'digest': name, 'relpath': f'{name[-2:]}\\{name}.cab', 'size': 1000 + n % 500, 'tracked': True, 'desired_state': 1,
                 'present': True} for n, name in enumerate(names)]
    gone = (10, 20_000, 299_999)
    inventory = [[f'{name[-2:]}\\{name}.cab', 1000 + n % 500] for n, name in enumerate(names) if n not in gone]
    inventory[5][1] += 1
    inventory[150_000][1] -= 1
    inventory += [[f'00\\{n:038X}FF.cab', 1] for n in range(1000)]
    start = time.perf_counter()
    result = _content_verify.compare(prepared, inventory)
    elapsed = time.perf_counter() - start
    assert [m['path'] for m in result.missing] == sorted(f'{names[n][-2:]}/{names[n]}.cab' for n in gone)
    assert len(result.corrupt) == 2 and result.present == total - 5 and result.not_needed_on_disk == 1000
    assert len(result.files) == 5 and elapsed < 2.0, f'comparing {total} files took {elapsed:.2f} s'
