"""WsusUtil: arguments, package checks and reading its free-text output."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _wsusutil as u
from ansible_collections.airgap.wsus.plugins.plugin_utils._cmdline import join_args, split_args
from ansible_collections.airgap.wsus.plugins.plugin_utils._winpath import WinPathError


def test_paths_and_arguments():
    assert u.wsusutil_path('C:\\Program Files\\Update Services\\') == 'C:\\Program Files\\Update Services\\Tools\\WsusUtil.exe'
    args = u.export_args('E:\\Bundle 1\\export.xml.gz', 'E:\\Bundle 1\\export.log')
    assert args == ['export', 'E:\\Bundle 1\\export.xml.gz', 'E:\\Bundle 1\\export.log']
    assert split_args(join_args(args)) == args
    assert u.import_args('D:\\in\\x.cab', 'D:\\in\\x.log')[0] == 'import'
    assert u.reset_args() == ['reset']


@pytest.mark.parametrize('package, log, error', [
    ('E:\\export.zip', 'E:\\export.log', u.WsusUtilError),
    ('export.xml.gz', 'E:\\export.log', WinPathError),
    ('E:\\export.xml.gz', 'E:\\EXPORT.XML.GZ', u.WsusUtilError),
    ('E:\\export.xml.gz', 'export.log', WinPathError),
])
def test_bad_arguments(package, log, error):
    with pytest.raises(error):
        u.export_args(package, log)


@pytest.mark.parametrize('info, head, ok, problem', [
    ({'path': 'E:\\x.xml.gz', 'exists': False}, None, False, 'does not exist'),
    ({'path': 'E:\\x.xml.gz', 'exists': True, 'is_dir': True}, None, False, 'is a folder'),
    ({'path': 'E:\\x.xml.gz', 'exists': True, 'size': 0}, None, False, 'empty'),
    ({'path': 'E:\\x.xml.gz', 'exists': True, 'size': 12}, None, False, 'too short'),
    ({'path': 'E:\\x.xml.gz', 'exists': True, 'size': 5000}, b'<?xml ver', False, 'neither gzip'),
    ({'path': 'E:\\x.xml.gz', 'exists': True, 'size': 5000}, b'\x1f\x8b\x08\x00', True, None),
    ({'path': 'E:\\x.cab', 'exists': True, 'size': 5000}, b'MSCF\x00\x00', True, None),
    ({'path': 'E:\\x.xml.gz', 'exists': True, 'size': 5000}, None, True, None),
])
def test_package_check(info, head, ok, problem):
    check = u.check_package(info, head)
    assert check.ok is ok
    if problem:
        assert any(problem in p for p in check.problems)
    if head and ok:
        assert check.format in ('gzip', 'cab')


def test_success_needs_exit_zero_and_no_failure_phrase():
    ok = u.assess_output(0, 'Exporting updates...\r\nSuccessfully exported.\r\n')
    assert ok.ok and ok.success_phrase
    silent = u.assess_output(0, '')
    assert silent.ok and not silent.success_phrase   # the phrase is reported, never required


@pytest.mark.parametrize('code, text, expected', [
    (1, '', 'exited with code 1'),
    (None, '', 'did not report an exit code'),
    (0, 'Unexpected end of file has occurred. The following elements are not closed: metadata, update, updates, ExportPackage',
     'truncated'),
    (1, 'Incomplete or invalid parameters specified.\r\nUsage: ...', 'rejected its arguments'),
    (0, 'System.UnauthorizedAccessException: Access to the path is denied', 'access denied'),
    (2, 'Fatal Error: There is not enough space on the disk.', 'disk is full'),
])
def test_failures_are_named(code, text, expected):
    result = u.assess_output(code, text)
    assert not result.ok
    assert any(expected in f for f in result.failures)


def test_tail_is_kept_from_a_line_start():
    text = '\n'.join(f'line {i}' for i in range(2000))
    result = u.assess_output(3, text)
    assert len(result.tail) <= u.TAIL_CHARS
    assert result.tail.startswith('line ') and result.tail.endswith('line 1999')


def test_unique_names():
    pkg, log = u.unique_names('export server/1', '20240305T101532Z')
    assert pkg == 'export_server_1-20240305T101532Z.xml.gz' and log.endswith('.log')
