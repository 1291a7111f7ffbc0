"""robocopy.exe of the emulated host: flags, output layout, summary numbers and exit codes."""
from __future__ import annotations

import re
import time
import typing as t

import pytest

T0 = 1_700_000_000_000_000_000      # a fixed time stamp (ns)


def summary(text: str) -> t.Dict[str, t.List[str]]:
    """The summary table: row label -> its six column values."""
    rows = {}
    for label in ('Dirs', 'Files', 'Bytes'):
        match = re.search(r'^ +%s :(.{60})\r?$' % label, text, re.M)
        assert match, 'no %s row in:\n%s' % (label, text)
        rows[label] = [match.group(1)[i:i + 10].strip() for i in range(0, 60, 10)]
    return rows


def numbers(text: str, label: str) -> t.List[int]:
    return [int(v) for v in summary(text)[label]]


@pytest.fixture(name='tree')
def tree_fixture(host: t.Any) -> t.Callable[..., None]:
    """``tree({'a.txt': b'..', 'sub\\\\b.txt': b'..'}, root='D:\\\\src', mtime=T0)``"""
    def make(files: t.Mapping[str, bytes], root: str = 'D:\\src', mtime: int = T0) -> None:
        host.fs.mkdir(root)
        for name, data in files.items():
            path = root + '\\' + name
            host.fs.write_bytes(path, data, make_parents=True)
            host.fs.set_mtime(path, mtime)
    return make


SOURCE = {'a.txt': b'a' * 100, 'b.cab': b'b' * 2000, 'sub\\c.cab': b'c' * 3000, 'sub\\deep\\d.txt': b'd' * 4000}


def test_first_copy_layout_numbers_and_exit_code_1(run, tree, host) -> None:
    tree(SOURCE)
    host.fs.mkdir('D:\\src\\empty')
    result = run('robocopy D:\\src E:\\dst /E /R:0 /W:0')
    out = result.stdout
    assert result.exit_code == 1
    assert out.startswith('-' * 79 + '\r\n   ROBOCOPY     ::     Robust File Copy for Windows' + ' ' * 30 + '\r\n' + '-' * 79)
    assert '\r\n   Source : D:\\src\\\r\n     Dest : E:\\dst\\\r\n' in out
    assert '\r\n    Files : *.*\r\n\t    \r\n  Options : *.* /S /E /DCOPY:DA /COPY:DAT /R:0 /W:0 \r\n' in out
    assert '\t  New Dir          2\tD:\\src\\\r\n' in out
    assert '\t    New File  \t\t     100\ta.txt\r  0%  \r100%  \r\n' in out
    assert '\t  New Dir          0\tD:\\src\\empty\\\r\n' in out
    assert '               Total    Copied   Skipped  Mismatch    FAILED    Extras\r\n' in out
    assert numbers(out, 'Dirs') == [4, 4, 0, 0, 0, 0]
    assert numbers(out, 'Files') == [4, 4, 0, 0, 0, 0]
    assert summary(out)['Bytes'] == ['8.887 k', '8.887 k', '0', '0', '0', '0']
    assert re.search(r'^   Times :   0:00:0\d   0:00:0\d {23}0:00:00   0:00:00\r$', out, re.M)
    assert host.fs.read_bytes('E:\\dst\\sub\\deep\\d.txt') == b'd' * 4000
    assert host.fs.stat('E:\\dst\\a.txt').mtime_ns == T0         # exFAT keeps 10 ms steps; T0 is on one


def test_second_run_copies_nothing_exit_code_0(run, tree) -> None:
    tree(SOURCE)
    run('robocopy D:\\src D:\\dst /E')
    result = run('robocopy D:\\src D:\\dst /E /BYTES /NP /NDL')
    assert result.exit_code == 0
    assert numbers(result.stdout, 'Files') == [4, 0, 4, 0, 0, 0]
    assert numbers(result.stdout, 'Bytes') == [9100, 0, 9100, 0, 0, 0]
    assert numbers(result.stdout, 'Dirs') == [3, 0, 3, 0, 0, 0]
    assert '\t' not in result.stdout.split('-' * 78)[1]           # /NDL, and no file was copied to list


def test_s_skips_empty_folders_and_no_flag_stays_at_the_top(run, tree, host) -> None:
    tree(SOURCE)
    host.fs.mkdir('D:\\src\\empty\\emptier')
    assert run('robocopy D:\\src D:\\s /S').exit_code == 1
    assert host.fs.is_dir('D:\\s\\sub\\deep') and not host.fs.exists('D:\\s\\empty')
    result = run('robocopy D:\\src D:\\top')
    assert numbers(result.stdout, 'Files') == [2, 2, 0, 0, 0, 0]
    assert not host.fs.exists('D:\\top\\sub')


def test_extras_are_bit_2_and_purge_or_mir_deletes_them(run, tree, host) -> None:
    tree(SOURCE)
    run('robocopy D:\\src D:\\dst /E')
    host.fs.write_bytes('D:\\dst\\stray.tmp', b'zz')
    host.fs.mkdir('D:\\dst\\olddir')
    host.fs.write_bytes('D:\\dst\\olddir\\x', b'x')
    result = run('robocopy D:\\src D:\\dst /E /NP')
    assert result.exit_code == 2
    assert '\t*EXTRA File \t\t       2\tstray.tmp\r\n' in result.stdout
    assert '\t*EXTRA Dir        -1\tD:\\dst\\olddir\\\r\n' in result.stdout
    assert numbers(result.stdout, 'Files')[5] == 1 and numbers(result.stdout, 'Dirs')[5] == 1
    assert host.fs.exists('D:\\dst\\stray.tmp')                  # reported, not deleted
    assert run('robocopy D:\\src D:\\dst /E /XX').exit_code == 0  # /XX: extras are not even looked at
    listed = run('robocopy D:\\src D:\\dst /MIR /L')
    assert listed.exit_code == 2 and host.fs.exists('D:\\dst\\stray.tmp')     # /L deletes nothing
    mirrored = run('robocopy D:\\src D:\\dst /MIR')
    assert mirrored.exit_code == 2
    assert '/S /E /DCOPY:DA /COPY:DAT /PURGE /MIR ' in mirrored.stdout
    assert not host.fs.exists('D:\\dst\\stray.tmp') and not host.fs.exists('D:\\dst\\olddir')
    assert run('robocopy D:\\src D:\\dst /MIR').exit_code == 0
    host.fs.write_bytes('D:\\dst\\stray2.tmp', b'z')
    assert run('robocopy D:\\src D:\\dst /PURGE').exit_code == 2   # /PURGE alone, top folder only
    assert not host.fs.exists('D:\\dst\\stray2.tmp')


def test_mismatch_is_bit_4(run, tree, host) -> None:
    tree({'same-name': b'file in the source'})
    host.fs.mkdir('D:\\dst\\same-name')
    result = run('robocopy D:\\src D:\\dst')
    assert result.exit_code == 4
    assert '\t  *MISMATCH   \t\t      18\tsame-name\r\n' in result.stdout
    assert numbers(result.stdout, 'Files') == [1, 0, 0, 1, 0, 0]


def test_list_only_counts_but_touches_nothing(run, tree, host) -> None:
    tree(SOURCE)
    result = run('robocopy D:\\src D:\\dst /E /L /NP')
    assert result.exit_code == 1
    assert numbers(result.stdout, 'Files') == [4, 4, 0, 0, 0, 0]
    assert not host.fs.exists('D:\\dst')
    assert '\t    New File  \t\t     100\ta.txt\r\n' in result.stdout


def test_newer_older_changed_and_their_exclusions(run, tree, host) -> None:
    tree({'newer.txt': b'n', 'older.txt': b'o', 'changed.txt': b'cc', 'same.txt': b's'})
    tree({'newer.txt': b'n', 'older.txt': b'o', 'changed.txt': b'c', 'same.txt': b's'}, root='D:\\dst')
    host.fs.set_mtime('D:\\src\\newer.txt', T0 + 10 ** 9)
    host.fs.set_mtime('D:\\src\\older.txt', T0 - 10 ** 9)
    verbose = run('robocopy D:\\src D:\\dst /L /V /NP /XO /XN /XC')
    assert verbose.exit_code == 0
    for line in ('\t         older\t\t       1\tolder.txt', '\t         newer\t\t       1\tnewer.txt',
                 '\t       changed\t\t       2\tchanged.txt', '\t          same\t\t       1\tsame.txt'):
        assert line + '\r\n' in verbose.stdout
    assert numbers(verbose.stdout, 'Files') == [4, 0, 4, 0, 0, 0]
    result = run('robocopy D:\\src D:\\dst /NP')
    assert result.exit_code == 1
    for line in ('\t    Newer     \t\t       1\tnewer.txt', '\t    Older     \t\t       1\tolder.txt',
                 '\t    Changed   \t\t       2\tchanged.txt'):
        assert line + '\r\n' in result.stdout
    assert numbers(result.stdout, 'Files') == [4, 3, 1, 0, 0, 0]
    assert host.fs.read_bytes('D:\\dst\\changed.txt') == b'cc'


def test_fft_forgives_fat_time_stamps(run, tree, make_host) -> None:
    fat = make_host('fat', drives={'F:': {'type': 'removable', 'size': '1 GiB', 'free': '1 GiB', 'file_system': 'FAT32'}})
    fat.fs.write_bytes('D:\\src\\x.cab', b'x', make_parents=True)
    fat.fs.set_mtime('D:\\src\\x.cab', T0 + 123_456_700)

    def ctx_run(line: str) -> t.Any:
        return fat.run_command(_ctx(), line, b'')
    assert ctx_run('robocopy D:\\src F:\\dst').exit_code == 1
    assert ctx_run('robocopy D:\\src F:\\dst').exit_code == 1        # FAT rounded the time: "Older" again
    assert ctx_run('robocopy D:\\src F:\\dst /FFT').exit_code == 0
    del run, tree


def _ctx() -> t.Any:
    from ansible_collections.airgap.wsus.tests.lab.windows.testing import shell_context  # pylint: disable=import-outside-toplevel
    return shell_context()


def test_file_arguments_and_job_file_include_lists(run, tree, host) -> None:
    tree({'0A1B.cab': b'1', 'FF00.exe': b'2', 'other.txt': b'3', 'sub\\0A1B.cab': b'4'})
    result = run('robocopy D:\\src D:\\one other.txt *.exe')
    assert numbers(result.stdout, 'Files') == [2, 2, 0, 0, 0, 0]
    assert '    Files : other.txt\r\n\t    *.exe\r\n\t    \r\n  Options : other.txt *.exe /DCOPY' in result.stdout
    job = ('::\r\n:: Robocopy Job D:\\list.rcj\r\n::\r\n/IF\t\t:: Include Files matching these names\r\n'
           '\t0a1b.CAB\r\n\tFF00.exe\r\n/S\r\n/R:1\t:: retries\r\n/NP\r\n')
    host.fs.write_bytes('D:\\list.rcj', job.encode('cp1252'))
    result = run('robocopy D:\\src D:\\two /JOB:D:\\list /BYTES')
    assert result.exit_code == 1
    assert numbers(result.stdout, 'Files') == [3, 3, 0, 0, 0, 0]
    assert sorted(e.name for e in host.fs.listdir('D:\\two')) == ['0A1B.cab', 'FF00.exe', 'sub']
    assert '/S /DCOPY:DA /COPY:DAT /NP /BYTES /R:1 /W:30 ' in result.stdout
    host.fs.write_bytes('D:\\bad.rcj', b'/S\r\nstray line\r\n')
    bad = run('robocopy D:\\src D:\\three /JOB:D:\\bad.rcj')
    assert bad.exit_code == 16 and 'ERROR : Invalid Job File, Line #2 :"stray line"' in bad.stdout
    missing = run('robocopy D:\\src D:\\three /JOB:D:\\nope.rcj')
    assert missing.exit_code == 16
    assert re.search(r'ERROR 2 \(0x00000002\) Opening Job File D:\\nope.rcj\r\nThe system cannot find the file specified.',
                     missing.stdout)


def test_unknown_switch_is_a_usage_error_16(run, host) -> None:
    result = run('robocopy C:\\src E:\\dst /BOGUS')
    assert result.exit_code == 16
    assert '   Source - C:\\src\\\r\n     Dest - E:\\dst\\\r\n' in result.stdout
    assert '  Options : *.* /DCOPY:DA /COPY:DAT /R:1000000 /W:30 \r\n' in result.stdout
    assert 'ERROR : Invalid Parameter #3 : "/BOGUS"\r\n\r\n       Simple Usage :: ROBOCOPY source destination /MIR' in result.stdout
    for bad in ('/MT:129', '/R:x', '/COPY:Q', '/LOG'):
        assert run('robocopy C:\\a C:\\b ' + bad).exit_code == 16
    real = run('robocopy C:\\a C:\\b /SEC')
    assert real.exit_code == 16 and 'not emulate' in real.stderr
    assert not host.fs.exists('E:\\dst')


def test_fatal_source_errors_are_16(run, host, tree) -> None:
    missing = run('robocopy C:\\nope D:\\dst')
    assert missing.exit_code == 16
    assert re.search(r'\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ERROR 2 \(0x00000002\) Accessing Source Directory C:\\nope\\\r\n'
                     r'The system cannot find the file specified.\r\n', missing.stdout)
    assert 'Total    Copied' not in missing.stdout
    tree({'a': b'a'})
    host.faults.deny_access('D:\\src')
    denied = run('robocopy D:\\src D:\\dst')
    assert denied.exit_code == 16 and 'ERROR 5 (0x00000005) Accessing Source Directory D:\\src\\\r\nAccess is denied.' in denied.stdout
    host.faults.allow_access()
    host.fs.mkdir('D:\\locked-dst')
    host.faults.deny_access('D:\\locked-dst')
    assert run('robocopy D:\\src D:\\locked-dst').exit_code == 16


def test_locked_file_retries_then_fails_with_8(run, tree, host) -> None:
    tree(SOURCE)
    host.faults.wait_scale = 0.001
    host.faults.lock_file('D:\\src\\b.cab')
    result = run('robocopy D:\\src D:\\dst /E /R:2 /W:5 /NP')
    assert result.exit_code == 9                  # the others copied (1), one failed (8)
    errors = re.findall(r'ERROR 32 \(0x00000020\) Copying File D:\\src\\b.cab\r\n'
                        r'The process cannot access the file because it is being used by another process.\r\n', result.stdout)
    assert len(errors) == 3
    assert result.stdout.count('Waiting 5 seconds... Retrying...\r\n') == 2
    assert '\r\n\r\nERROR: RETRY LIMIT EXCEEDED.\r\n\r\n' in result.stdout
    assert numbers(result.stdout, 'Files') == [4, 3, 0, 0, 1, 0]
    assert not host.fs.exists('D:\\dst\\b.cab')


def test_a_lock_released_during_the_retries_copies(run, tree, host) -> None:
    tree({'b.cab': b'b'})
    host.faults.wait_scale = 0.001
    host.faults.lock_file('D:\\src\\b.cab', attempts=1)
    result = run('robocopy D:\\src D:\\dst /R:3 /W:1')
    assert result.exit_code == 1 and result.stdout.count('ERROR 32') == 1
    assert host.fs.read_bytes('D:\\dst\\b.cab') == b'b'


def test_access_denied_on_a_file_is_8(run, tree, host) -> None:
    tree(SOURCE)
    host.faults.deny_access('D:\\src\\sub\\c.cab')
    result = run('robocopy D:\\src D:\\dst /E /R:0 /W:0')
    assert result.exit_code == 9
    assert 'ERROR 5 (0x00000005) Copying File D:\\src\\sub\\c.cab\r\nAccess is denied.' in result.stdout


def test_disk_full_is_error_112_and_exit_8(run, tree, host) -> None:
    tree({'a.cab': b'a' * 1000, 'b.cab': b'b' * 1000, 'c.cab': b'c' * 1000})
    host.faults.disk_full_after('E:', 2500)
    result = run('robocopy D:\\src E:\\dst /R:0 /W:0 /BYTES')
    assert result.exit_code == 9
    assert 'ERROR 112 (0x00000070) Copying File D:\\src\\c.cab\r\nThere is not enough space on the disk.' in result.stdout
    assert numbers(result.stdout, 'Files') == [3, 2, 0, 0, 1, 0]
    assert numbers(result.stdout, 'Bytes') == [3000, 2000, 0, 0, 1000, 0]


def test_bytes_units_and_summary_switches(run, tree) -> None:
    tree({'big.bin': b'x' * (3 * 1024 * 1024 + 512 * 1024)})
    result = run('robocopy D:\\src D:\\dst /NP')
    assert '\t    New File  \t\t   3.5 m\tbig.bin' in result.stdout
    assert summary(result.stdout)['Bytes'][:2] == ['3.5 m', '3.5 m']
    quiet = run('robocopy D:\\src D:\\dst2 /NFL /NDL /NJH /NJS')
    assert quiet.exit_code == 1 and quiet.stdout.strip() == ''
    header_only = run('robocopy D:\\src D:\\dst3 /NJS /NP')
    assert 'ROBOCOPY' in header_only.stdout and 'Total' not in header_only.stdout
    summary_only = run('robocopy D:\\src D:\\dst4 /NJH /NP /NFL /NDL')
    assert 'ROBOCOPY' not in summary_only.stdout and numbers(summary_only.stdout, 'Files') == [1, 1, 0, 0, 0, 0]


def test_speed_lines_only_without_mt(run, tree, host) -> None:
    tree({'a.bin': b'a' * 200_000})
    host.faults.slow_drive('D', 4_000_000)
    plain = run('robocopy D:\\src D:\\dst /NP')
    assert re.search(r'^   Speed : +\d+ Bytes/sec\.\r\n   Speed : +\d+\.\d{3} MegaBytes/min\.\r$', plain.stdout, re.M)
    threaded = run('robocopy D:\\src D:\\dst2 /NP /MT:4 /Z /J')
    assert 'Speed' not in threaded.stdout
    assert '/Z /J /NP /MT:4 /R:1000000 /W:30 ' in threaded.stdout
    assert ' /MT:8 ' in run('robocopy D:\\src D:\\dst3 /MT').stdout


def test_log_files_and_tee(run, tree, host) -> None:
    tree({'a.txt': b'a'})
    result = run('robocopy D:\\src D:\\dst /LOG:C:\\logs\\copy.log /NP'.replace('C:\\logs', 'C:\\Windows\\Temp'))
    assert result.stdout == '\r\n Log File : C:\\Windows\\Temp\\copy.log\r\n'
    log = host.fs.read_bytes('C:\\Windows\\Temp\\copy.log')
    assert b'   Source : D:\\src\\\r\n' in log and b'\ta.txt\r\n' in log
    run('robocopy D:\\src D:\\dst /LOG+:C:\\Windows\\Temp\\copy.log /NP')
    assert host.fs.read_bytes('C:\\Windows\\Temp\\copy.log').count(b'ROBOCOPY     ::') == 2
    run('robocopy D:\\src D:\\dst /LOG:C:\\Windows\\Temp\\copy.log /NP')
    assert host.fs.read_bytes('C:\\Windows\\Temp\\copy.log').count(b'ROBOCOPY     ::') == 1
    teed = run('robocopy D:\\src D:\\dst /UNILOG:C:\\Windows\\Temp\\uni.log /TEE /DCOPY:T /COPY:DT')
    unilog = host.fs.read_bytes('C:\\Windows\\Temp\\uni.log')
    assert unilog.startswith(b'\xff\xfe') and 'Robust File Copy' in unilog[2:].decode('utf-16-le')
    assert 'Robust File Copy' in teed.stdout and '/DCOPY:T /COPY:DT ' in teed.stdout


def test_retry_waits_are_real_unless_scaled(run, tree, host) -> None:
    tree({'a.cab': b'a'})
    host.faults.lock_file('D:\\src\\a.cab')
    started = time.monotonic()
    run('robocopy D:\\src D:\\dst /R:1 /W:1')
    assert time.monotonic() - started >= 0.9


def test_robocopy_runs_detached_as_a_job_step_would(host, tree) -> None:
    tree(SOURCE)
    proc = host.start_process('"C:\\Windows\\System32\\Robocopy.exe" D:\\src E:\\dst /E /NP /BYTES /LOG:D:\\r.log',
                              stdout_path='D:\\r.out')
    assert proc.wait(10) and proc.exit_code == 1
    assert host.fs.read_bytes('D:\\r.out') == b'\r\n Log File : D:\\r.log\r\n'
    assert b'Files :         4         4' in host.fs.read_bytes('D:\\r.log')
