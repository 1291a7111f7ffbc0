"""robocopy: argument lists, job files, the log parser (with the real output shapes), exit codes."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _robocopy as r
from ansible_collections.airgap.wsus.plugins.plugin_utils._cmdline import join_args, split_args

# Real robocopy pads these lines with trailing blanks; they are written out here so that the
# source file itself has none.
HEADER = (
    '-------------------------------------------------------------------------------\n'
    '   ROBOCOPY     ::     Robust File Copy for Windows' + ' ' * 30 + '\n'
    '-------------------------------------------------------------------------------\n'
    '\n'
    '  Started : Tuesday, March 5, 2024 10:15:32 AM\n'
    '   Source : C:\\WSUS\\WsusContent\\\n'
    '     Dest : E:\\bundle\\WsusContent\\\n'
    '\n'
    '    Files : *.*\n'
    '\t    \n'
    '  Options : *.* /NDL /NFL /S /E /DCOPY:DA /COPY:DAT /Z /J /NP /BYTES /MT:8 /R:2 /W:5 \n'
    '\n'
    '------------------------------------------------------------------------------\n'
    '\n'
)

FOOTER = '''
------------------------------------------------------------------------------

               Total    Copied   Skipped  Mismatch    FAILED    Extras
    Dirs :       257       257         0         0         0         0
   Files :      5000      4998         0         0         2         0
   Bytes :  10485760  10481664         0         0      4096         0
   Times :   0:00:05   0:00:04                       0:00:00   0:00:00
   Ended : Tuesday, March 5, 2024 10:15:37 AM
'''

RETRIES = '''2024/03/05 10:15:33 ERROR 32 (0x00000020) Copying File C:\\WSUS\\WsusContent\\0A\\0A1B.cab
The process cannot access the file because it is being used by another process.
Waiting 5 seconds... Retrying...
2024/03/05 10:15:38 ERROR 32 (0x00000020) Copying File C:\\WSUS\\WsusContent\\0A\\0A1B.cab
The process cannot access the file because it is being used by another process.

ERROR: RETRY LIMIT EXCEEDED.
'''


def crlf(text: str) -> bytes:
    return text.replace('\n', '\r\n').encode('cp1252')


# --------------------------------------------------------------------------- arguments

def test_tree_args_have_safe_defaults():
    args = r.build_tree_args('C:\\WSUS\\WsusContent\\', 'E:\\My Bundle\\WsusContent', 'C:\\ProgramData\\j\\copy.log')
    assert args[:3] == ['C:\\WSUS\\WsusContent', 'E:\\My Bundle\\WsusContent', '/E']
    for flag in ('/BYTES', '/R:2', '/W:5', '/NP', '/NFL', '/NDL', '/J', '/MT:8', '/LOG:C:\\ProgramData\\j\\copy.log'):
        assert flag in args
    assert '/MIR' not in args and '/Z' not in args and '/L' not in args and '/XJ' not in args
    # Paths with spaces survive the trip through the command line.
    assert split_args(join_args(args)) == args


def test_tree_args_options():
    opts = r.RobocopyOptions(mirror=True, io_mode='both', threads=16, retries=0, wait=0, list_only=True, fat_times=True,
                             log_files=True, unicode_log=True, exclude_junctions=True)
    args = r.build_tree_args('C:\\a', 'F:\\b', 'C:\\j\\l.log', opts)
    assert '/MIR' in args and '/E' not in args
    assert {'/Z', '/J', '/MT:16', '/R:0', '/W:0', '/L', '/FFT', '/XJ', '/UNILOG:C:\\j\\l.log'} <= set(args)
    assert '/NFL' not in args


@pytest.mark.parametrize('opts, message', [
    (r.RobocopyOptions(threads=0), 'between 1 and 128'),
    (r.RobocopyOptions(threads=129), 'between 1 and 128'),
    (r.RobocopyOptions(retries=-1), 'retries'),
    (r.RobocopyOptions(io_mode='fast'), 'io_mode'),
])
def test_bad_options_refused(opts, message):
    with pytest.raises(r.RobocopyError, match=message):
        r.build_tree_args('C:\\a', 'D:\\b', 'C:\\l.log', opts)


@pytest.mark.parametrize('restartable, unbuffered, flags', [
    (True, True, {'/Z', '/J'}), (True, False, {'/Z'}), (False, True, {'/J'}), (False, False, set()),
])
def test_io_mode_from_module_booleans(restartable, unbuffered, flags):
    opts = r.RobocopyOptions(io_mode=r.io_mode_for(restartable, unbuffered))
    assert {f for f in r.option_flags(opts) if f in ('/Z', '/J')} == flags


def test_copy_into_itself_refused():
    with pytest.raises(r.RobocopyError, match='contain one another'):
        r.build_tree_args('C:\\WSUS', 'C:\\WSUS\\copy', 'C:\\l.log')
    with pytest.raises(r.RobocopyError, match='same folder'):
        r.build_tree_args('C:\\WSUS', 'c:\\wsus\\', 'C:\\l.log')


def test_job_file_lists_names_one_per_line():
    text = r.job_file_text(['AB.cab', 'CD.exe'])
    lines = text.split('\r\n')
    assert '/IF\t\t:: Include Files matching these names' in lines
    assert lines[-3:] == ['\tAB.cab', '\tCD.exe', '']
    assert all(not line or line.startswith(('::', '/', '\t')) for line in lines)


@pytest.mark.parametrize('name', ['a*.cab', 'x?.cab', 'caf\u00e9.cab', ' lead.cab', 'a\\b', 'nul'])
def test_job_file_refuses_names_it_cannot_carry(name):
    with pytest.raises((r.RobocopyError, ValueError)):
        r.job_file_text([name])


def _hash_name(last_byte: str, ext: str = '.cab') -> str:
    return '1' * 38 + last_byte + ext


def test_plan_groups_hash_named_files_into_one_tree_run():
    files = [f'{b}/{_hash_name(b)}' for b in ('0A', 'FF', '3c')] + ['0A/' + _hash_name('0A', '.psf')]
    runs = r.plan_list_copies('C:\\WSUS\\WsusContent', 'E:\\b\\WsusContent', files, 'C:\\j\\jobs\\abc')
    assert len(runs) == 1
    run = runs[0]
    assert run.args[:3] == ['C:\\WSUS\\WsusContent', 'E:\\b\\WsusContent', '/S']
    assert '/JOB:C:\\j\\jobs\\abc\\copy_000.rcj' in run.args
    assert run.log_path == 'C:\\j\\jobs\\abc\\copy_000.log'
    assert sorted(run.names) == sorted(f.split('/')[1] for f in files)
    assert all('\t' + n in run.job_file_text for n in run.names)


def test_plan_copies_other_files_per_folder():
    files = ['eula/terms.txt', 'eula/more.txt', 'x/terms.txt', f'FF/{_hash_name("0A")}']  # last one is misplaced
    runs = r.plan_list_copies('C:\\src', 'D:\\dst', files, 'C:\\j')
    by_source = {run.source: run for run in runs}
    assert set(by_source) == {'C:\\src\\eula', 'C:\\src\\x', 'C:\\src\\FF'}
    assert all('/S' not in run.args for run in runs)
    assert sorted(by_source['C:\\src\\eula'].names) == ['more.txt', 'terms.txt']
    assert by_source['C:\\src\\x'].dest == 'D:\\dst\\x'


def test_plan_chunks_long_lists_and_deduplicates(monkeypatch):
    monkeypatch.setattr(r, 'MAX_NAMES_PER_JOB', 3)
    files = [f'0A/{str(i).zfill(38)}0A.cab' for i in range(7)] + ['0a/' + '0' * 38 + '0A.CAB']
    runs = r.plan_list_copies('C:\\s', 'D:\\d', files, 'C:\\j')
    assert [len(run.names) for run in runs] == [3, 3, 1]
    assert len({run.job_file_name for run in runs}) == 3


def test_plan_refuses_mirror_and_escaping_paths():
    with pytest.raises(r.RobocopyError, match='delete'):
        r.plan_list_copies('C:\\s', 'D:\\d', ['a.txt'], 'C:\\j', r.RobocopyOptions(mirror=True))
    with pytest.raises(ValueError):
        r.plan_list_copies('C:\\s', 'D:\\d', ['..\\Windows\\x.dll'], 'C:\\j')


# --------------------------------------------------------------------------- exit codes

@pytest.mark.parametrize('code, success, flags', [
    (0, True, ()), (1, True, ('copied',)), (2, True, ('extras',)), (3, True, ('copied', 'extras')),
    (4, True, ('mismatches',)), (7, True, ('copied', 'extras', 'mismatches')), (8, False, ('failures',)),
    (9, False, ('copied', 'failures')), (16, False, ('fatal',)), (24, False, ('failures', 'fatal')),
])
def test_exit_code_bitmask(code, success, flags):
    info = r.interpret_exit_code(code)
    assert info.success is success
    for name in ('copied', 'extras', 'mismatches', 'failures', 'fatal'):
        assert getattr(info, name) is (name in flags)


@pytest.mark.parametrize('code', [None, -1, 32, 0xC000013A])
def test_impossible_exit_codes_fail(code):
    info = r.interpret_exit_code(code)
    assert not info.success and info.fatal


# --------------------------------------------------------------------------- logs

def test_summary_with_bytes_and_errors():
    log = r.parse_log(crlf(HEADER + RETRIES + FOOTER))
    s = log.summary
    assert s.dirs == {'total': 257, 'copied': 257, 'skipped': 0, 'mismatch': 0, 'failed': 0, 'extras': 0}
    assert s.files['copied'] == 4998 and s.files['failed'] == 2
    assert s.bytes['total'] == 10485760 and s.bytes['failed'] == 4096 and s.bytes_exact
    assert s.times == {'total': 5, 'copied': 4, 'failed': 0, 'extras': 0}
    assert s.speed_bytes_per_sec is None
    assert log.retry_limit_exceeded == 1
    assert len(log.errors) == 1
    error = log.errors[0]
    assert (error.code, error.hex, error.action, error.count) == (32, '0x00000020', 'Copying File', 2)
    assert error.path == 'C:\\WSUS\\WsusContent\\0A\\0A1B.cab'
    assert error.message == 'The process cannot access the file because it is being used by another process.'


def test_speed_lines_without_mt():
    footer = FOOTER.replace('   Ended :', '   Speed :             2341234 Bytes/sec.\n   Speed :             133.965 MegaBytes/min.\n   Ended :')
    log = r.parse_log(HEADER + footer)
    assert log.summary.speed_bytes_per_sec == 2341234


def test_summary_without_bytes_flag_uses_units():
    footer = FOOTER.replace('   Bytes :  10485760  10481664         0         0      4096         0',
                            '   Bytes :   17.473 g   17.473 g         0         0         0         0')
    s = r.parse_log(HEADER + footer).summary
    assert not s.bytes_exact
    assert s.bytes['total'] == round(17.473 * 1024 ** 3)
    footer = FOOTER.replace('   Bytes :  10485760  10481664         0         0      4096         0',
                            '   Bytes :    3.9 k         0     3.9 k         0         0         0')
    s = r.parse_log(HEADER + footer).summary
    assert s.bytes['skipped'] == round(3.9 * 1024) and s.bytes['copied'] == 0


def test_byte_counts_wider_than_a_column_are_read_exactly():
    footer = FOOTER.replace('   Bytes :  10485760  10481664         0         0      4096         0',
                            '   Bytes : 36146126643 36146122547         0         0      4096         0')
    s = r.parse_log(HEADER + footer).summary
    assert s.bytes_exact and s.bytes['total'] == 36146126643 and s.bytes['copied'] == 36146122547 and s.bytes['failed'] == 4096


def test_localised_labels_are_read_by_position():
    german = '''
------------------------------------------------------------------------------

                  Insgesamt   KopiertÜbersprungenKeine Übereinstimmung    FEHLER    Extras
   Verzeich.:        12         3         9         0         0         0
     Dateien:       100        40        60         0         0         1
       Bytes :    524288    131072    393216         0         0       512
      Zeiten :   0:00:02   0:00:01                       0:00:00   0:00:01
      Beendet: Dienstag, 5. März 2024 10:15:37
'''
    # Labels here also vary in where the colon sits; only the row order and values matter.
    german = german.replace('Verzeich.:', 'Verzeich. :').replace('Dateien:', 'Dateien :')
    s = r.parse_log(german.encode('cp1252')).summary
    assert s.dirs['total'] == 12 and s.files['extras'] == 1 and s.bytes['copied'] == 131072
    assert s.times['copied'] == 1 and s.times['extras'] == 1


def test_no_summary_table():
    log = r.parse_log(crlf(HEADER + RETRIES))
    assert log.summary is None
    assert log.failed_files() == 0
    assert log.retry_limit_exceeded == 1


@pytest.mark.parametrize('body, code, message', [
    ('2024/03/05 10:15:33 ERROR 5 (0x00000005) Accessing Source Directory C:\\WSUS\\WsusContent\\\nAccess is denied.\n',
     5, 'Access is denied.'),
    ('2024/03/05 10:15:33 ERROR 112 (0x00000070) Copying File C:\\WSUS\\WsusContent\\0A\\X.cab\nThere is not enough space on the disk.\n',
     112, 'There is not enough space on the disk.'),
    ('2024/03/05 10:15:33 ERROR 2 (0x00000002) Accessing Source Directory C:\\nope\\\nThe system cannot find the file specified.\n',
     2, 'The system cannot find the file specified.'),
])
def test_fatal_errors(body, code, message):
    log = r.parse_log(crlf(HEADER + body))
    assert [(e.code, e.message) for e in log.errors] == [(code, message)]
    verdict = r.assess(16, log)
    assert not verdict.ok
    assert any(message in reason for reason in verdict.reasons)


def test_unknown_flag():
    text = HEADER.replace('   Source : ', '   Source - ').replace('     Dest : ', '     Dest - ') + \
        'ERROR : Invalid Parameter #3 : "/BOGUS"\n\n       Simple Usage :: ROBOCOPY source destination /MIR\n'
    log = r.parse_log(text)
    assert log.fatal_messages == ['ERROR : Invalid Parameter #3 : "/BOGUS"']
    assert log.summary is None
    assert 'ERROR : Invalid Parameter #3 : "/BOGUS"' in r.assess(16, log).reasons


def test_per_file_lines_do_not_confuse_the_parser():
    lines = ''.join(f'\t    New File  \t\t    1234\t{i:040X}.cab\n' for i in range(50))
    lines += '\t*EXTRA File \t\t     100\tstray (0x1).tmp\n'
    log = r.parse_log(HEADER + lines + FOOTER)
    assert log.errors == []
    assert log.summary.files['total'] == 5000


def test_unicode_log():
    data = b'\xff\xfe' + (HEADER + RETRIES + FOOTER).replace('\n', '\r\n').encode('utf-16-le')
    log = r.parse_log(data)
    assert log.summary.files['failed'] == 2 and log.errors[0].code == 32


def test_log_file_by_path(tmp_path):
    path = tmp_path / 'copy.log'
    path.write_bytes(crlf(HEADER + FOOTER))
    assert r.parse_log_file(str(path)).summary.dirs['copied'] == 257
    empty = tmp_path / 'empty.log'
    empty.write_bytes(b'')
    assert r.parse_log_file(str(empty)).summary is None


def test_last_summary_wins_in_appended_logs():
    second = FOOTER.replace('      5000      4998', '        10        10').replace('       2         0\n   Bytes', '       0         0\n   Bytes')
    log = r.parse_log(HEADER + FOOTER + HEADER + second)
    assert log.summary.files['total'] == 10


def test_assess_distrusts_low_exit_code_when_log_says_failure():
    log = r.parse_log(HEADER + RETRIES + FOOTER)
    verdict = r.assess(1, log)
    assert not verdict.ok
    assert 'the summary counts 2 failed file(s)' in verdict.reasons
    clean = r.parse_log(HEADER + FOOTER.replace('         2         0\n   Bytes', '         0         0\n   Bytes'))
    assert r.assess(3, clean).ok
    assert not r.assess(8, clean).ok


def test_large_log_reads_edges_and_errors_in_the_middle():
    filler = ''.join(f'\t    New File  \t\t    1234\t{i:040X}.cab\n' for i in range(4000))  # ~250 KB
    text = HEADER + 'ERROR : Invalid Parameter #9 : "/X"\n' + filler + RETRIES + filler + FOOTER
    assert len(text) > 2 * r._EDGE
    log = r.parse_log(crlf(text))
    assert log.fatal_messages == ['ERROR : Invalid Parameter #9 : "/X"']
    assert log.errors[0].count == 2 and log.retry_limit_exceeded == 1
    assert log.summary.files['failed'] == 2
