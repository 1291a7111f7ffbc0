"""Windows path rules of the emulated host: parsing, normalization, and resolution to the sandbox."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.tests.lab.windows.errors import WinError
from ansible_collections.airgap.wsus.tests.lab.windows.paths import WinPath, device_name, parse_path, wildcard_match

CWD = parse_path('C:\\Users\\Administrator')


@pytest.mark.parametrize('text, expected', [
    ('C:\\Windows\\System32', 'C:\\Windows\\System32'),
    ('c:/windows//system32/', 'C:\\windows\\system32'),
    ('C:\\a\\.\\b\\..\\c', 'C:\\a\\c'),
    ('C:\\..\\..\\x', 'C:\\x'),
    ('C:\\dir.\\file.txt', 'C:\\dir\\file.txt'),          # a single trailing period goes
    ('C:\\dir\\file.txt. . ', 'C:\\dir\\file.txt'),        # the last name loses dots and spaces
    ('C:\\keep \\x', 'C:\\keep \\x'),                        # not in the middle
    ('docs\\a.txt', 'C:\\Users\\Administrator\\docs\\a.txt'),
    ('\\Temp', 'C:\\Temp'),
    ('C:rel', 'C:\\Users\\Administrator\\rel'),
    ('D:rel', 'D:\\rel'),
    ('\\\\FileSrv\\WSUS\\content\\', '\\\\FileSrv\\WSUS\\content'),
    ('//filesrv/wsus/a/../b', '\\\\filesrv\\wsus\\b'),
    ('\\\\?\\C:\\odd. \\.\\CON', 'C:\\odd. \\.\\CON'),     # literal: nothing normalized
    ('\\\\?\\UNC\\srv\\share\\x', '\\\\srv\\share\\x'),
    ('\\\\.\\C:\\x\\..\\y', 'C:\\y'),
])
def test_paths_normalize_as_win32_does(text: str, expected: str) -> None:
    assert str(parse_path(text, CWD)) == expected


def test_paths_compare_without_case_but_keep_it() -> None:
    a, b = parse_path('D:\\WSUS\\WsusContent'), parse_path('d:\\wsus\\WSUSCONTENT')
    assert a == b and hash(a) == hash(b)
    assert str(b) == 'D:\\wsus\\WSUSCONTENT'
    assert parse_path('C:\\Straße') != parse_path('C:\\STRASSE')      # NTFS upcases one character to one
    assert parse_path('C:\\été') == parse_path('C:\\ÉTÉ')


@pytest.mark.parametrize('text', ['C:\\a<b', 'C:\\a>b', 'C:\\a|b', 'C:\\a"b', 'C:\\a?b', 'C:\\a*b', 'C:\\a:b',
                                  'C:\\tab\there', '1:\\x'])
def test_invalid_characters_are_the_invalid_name_error(text: str) -> None:
    with pytest.raises(WinError) as info:
        parse_path(text)
    assert info.value.code == 123
    assert info.value.message == 'The filename, directory name, or volume label syntax is incorrect.'


def test_wildcards_pass_only_where_allowed() -> None:
    assert parse_path('D:\\x\\*.cab', allow_wildcards=True).name == '*.cab'
    with pytest.raises(WinError):
        parse_path('D:\\x\\*.cab')


@pytest.mark.parametrize('name, device', [('CON', 'CON'), ('nul', 'NUL'), ('NUL.txt', 'NUL'), ('com1', 'COM1'),
                                          ('lpt9.log', 'LPT9'), ('COM\u00b9', 'COM\u00b9'), ('aux .x', 'AUX'),
                                          ('CONSOLE', None), ('COM0', None), ('xNUL', None)])
def test_reserved_device_names(name: str, device: str) -> None:
    assert device_name(name) == device


def test_device_as_last_name_is_a_device_but_literal_paths_are_files() -> None:
    assert parse_path('C:\\logs\\nul.txt').device == 'NUL'
    assert parse_path('\\\\?\\C:\\logs\\nul.txt').device is None


def test_relative_path_without_a_current_directory_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_path('relative')


def test_unc_needs_a_share() -> None:
    with pytest.raises(WinError) as info:
        parse_path('\\\\server')
    assert info.value.code == 53


def test_relations() -> None:
    root = parse_path('D:\\WSUS')
    inner = parse_path('d:\\wsus\\WsusContent\\0A')
    assert inner.is_relative_to(root) and not root.is_relative_to(inner)
    assert inner.relative_parts(root) == ('WsusContent', '0A')
    assert inner.parent == parse_path('D:\\WSUS\\WsusContent')
    assert WinPath('D:', ()).with_slash == 'D:\\' and root.with_slash == 'D:\\WSUS\\'


@pytest.mark.parametrize('pattern, name, expected', [
    ('*.*', 'noextension', True), ('*.cab', 'A.CAB', True), ('*.cab', 'a.cabx', False), ('0A1B*.?ab', '0a1bff.cab', True),
    ('report.*', 'report', True), ('report.*', 'report.txt', True), ('a?c', 'abc', True), ('a?c', 'ac', False),
])
def test_windows_wildcards(pattern: str, name: str, expected: bool) -> None:
    assert wildcard_match(pattern, name) is expected


def test_resolution_preserves_the_case_files_were_created_with(host) -> None:
    fs = host.fs
    fs.mkdir('D:\\WSUS\\WsusContent\\0A')
    fs.write_bytes('d:\\wsus\\wsuscontent\\0a\\File.CAB', b'x')
    assert fs.real_path('D:\\WSUS\\WSUSCONTENT\\0A\\FILE.cab').name == 'File.CAB'
    assert str(fs.canonical('d:\\wsus\\wsuscontent\\0a\\file.cab')) == 'D:\\WSUS\\WsusContent\\0A\\File.CAB'
    assert [e.name for e in fs.listdir('D:\\wsus')] == ['WsusContent']
    fs.write_bytes('D:\\WSUS\\WSUSCONTENT\\0A\\FILE.CAB', b'yy')      # the same file, not a second one
    assert [e.name for e in fs.listdir('D:\\WSUS\\WsusContent\\0A')] == ['File.CAB']
    assert fs.read_bytes('d:\\wsus\\wsuscontent\\0a\\file.cab') == b'yy'


def test_paths_outside_the_hosts_drives_and_shares(host) -> None:
    with pytest.raises(WinError) as info:
        host.fs.read_bytes('Q:\\x.txt')
    assert info.value.code == 3 and info.value.message == 'The system cannot find the path specified.'
    assert info.value.provider_message == "Cannot find drive. A drive with the name 'Q' does not exist."
    assert info.value.dotnet_message == "Could not find a part of the path 'Q:\\x.txt'."
    with pytest.raises(WinError) as info:
        host.fs.listdir('\\\\nowhere\\share')
    assert info.value.code == 53 and info.value.message == 'The network path was not found.'
    with pytest.raises(WinError) as info:
        host.fs.listdir('\\\\wsus1\\noshare')
    assert info.value.code == 67
    assert not host.fs.exists('Q:\\') and not host.fs.exists('C:\\a<b')


def test_missing_file_and_missing_folder_are_different_errors(host) -> None:
    with pytest.raises(WinError) as info:
        host.fs.read_bytes('C:\\Windows\\nope.txt')
    assert info.value.code == 2
    with pytest.raises(WinError) as info:
        host.fs.read_bytes('C:\\nope\\nope.txt')
    assert info.value.code == 3
    host.fs.write_bytes('C:\\afile', b'')
    with pytest.raises(WinError) as info:
        host.fs.read_bytes('C:\\afile\\below.txt')       # a file used as a folder
    assert info.value.code in (2, 3)


def test_device_paths_are_refused_by_file_operations(host) -> None:
    with pytest.raises(WinError) as info:
        host.fs.write_bytes('C:\\Temp\\CON', b'x')
    assert 'FileStream will not open Win32 devices' in info.value.dotnet_message


def test_admin_shares_and_shares_of_other_lab_hosts(make_host) -> None:
    exporter = make_host('export1', shares=[{'name': 'WsusContent', 'path': 'D:\\WSUS\\WsusContent'}])
    importer = make_host('import1')
    exporter.fs.write_bytes('D:\\WSUS\\WsusContent\\a.cab', b'abc', make_parents=True)
    assert importer.fs.read_bytes('\\\\EXPORT1\\wsuscontent\\A.CAB') == b'abc'
    assert importer.fs.volume_info('\\\\export1\\WsusContent').drive_type == 'Network'
    assert exporter.fs.read_bytes('\\\\localhost\\D$\\WSUS\\WsusContent\\a.cab') == b'abc'
    with pytest.raises(WinError) as info:
        importer.fs.listdir('\\\\export1\\other')
    assert info.value.code == 67
