"""Controller-side validation of Windows paths given by users and found in manifests."""
from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.plugins.plugin_utils import _winpath as w
from ansible_collections.airgap.wsus.plugins.plugin_utils._winpath import WinPathError


def _valid_name(name: str) -> bool:
    return name[-1] not in '. ' and name not in ('.', '..') and name.split('.', 1)[0].rstrip(' ').upper() not in w._RESERVED


_NAME = st.text(alphabet=st.characters(blacklist_characters='<>:"/\\|?*', blacklist_categories=('Cc', 'Cs')),
                min_size=1, max_size=12).filter(_valid_name)
_NAMES = st.lists(_NAME, min_size=0, max_size=5)


@pytest.mark.parametrize('given_path, expected', [
    ('C:\\WSUS', 'C:\\WSUS'),
    ('c:/WSUS//WsusContent/./0A/', 'C:\\WSUS\\WsusContent\\0A'),
    ('D:\\', 'D:\\'),
    ('d:/', 'D:\\'),
    ('\\\\server\\share', '\\\\server\\share'),
    ('\\\\server\\share\\', '\\\\server\\share'),
    ('//server/share/bundle', '\\\\server\\share\\bundle'),
    ('\\\\10.0.0.5\\c$\\x', '\\\\10.0.0.5\\c$\\x'),
    ('E:\\My Bundle (2024)\\x.xml.gz', 'E:\\My Bundle (2024)\\x.xml.gz'),
])
def test_normalize_accepts_absolute_paths(given_path, expected):
    assert w.normalize(given_path) == expected


@pytest.mark.parametrize('bad, fragment', [
    ('', 'empty'),
    ('WSUS\\x', 'relative path'),
    ('\\WSUS', 'no drive letter'),
    ('C:WSUS', 'relative to the current folder'),
    ('\\\\?\\C:\\WSUS', 'device or long-path'),
    ('\\\\.\\PhysicalDrive0', 'device or long-path'),
    ('\\\\server', 'incomplete UNC'),
    ('\\\\server\\', 'incomplete UNC'),
    ('C:\\a\\..\\b', '".."'),
    ('C:\\WSUS\\con', 'reserved device name CON'),
    ('C:\\WSUS\\NUL.txt', 'reserved device name NUL'),
    ('C:\\WSUS\\lpt1 .log', 'reserved device name LPT1'),
    ('C:\\WSUS\\COM\u00b9', 'reserved device name'),
    ('C:\\WSUS.', 'ends with a dot or a space'),
    ('C:\\WSUS \\x', 'ends with a dot or a space'),
    ('C:\\file.txt:stream', 'alternate data stream'),
    ('C:\\a<b', 'refuses in file names'),
    ('C:\\a|b', 'refuses in file names'),
    ('C:\\a\tb', 'control character'),
    (' C:\\a', 'whitespace'),
    ('C:\\a\0b', 'NUL'),
])
def test_normalize_refuses_with_reason(bad, fragment):
    with pytest.raises(WinPathError, match=None) as info:
        w.normalize(bad, 'dest')
    assert fragment in str(info.value)
    assert str(info.value).startswith('dest')


def test_unc_can_be_refused():
    with pytest.raises(WinPathError, match='local drive path'):
        w.normalize('\\\\srv\\share\\x', 'work_dir', allow_unc=False)


def test_join_and_relative():
    assert w.join('C:\\WSUS', 'WsusContent/0A', 'x.cab') == 'C:\\WSUS\\WsusContent\\0A\\x.cab'
    assert w.join('C:\\', 'a') == 'C:\\a'
    assert w.join('\\\\s\\sh', 'a\\b') == '\\\\s\\sh\\a\\b'
    assert w.relative_to('c:\\wsus\\WsusContent\\0A\\x.cab', 'C:\\WSUS') == 'WsusContent\\0A\\x.cab'
    assert w.relative_to('C:\\WSUS', 'c:\\wsus') == ''
    with pytest.raises(WinPathError):
        w.join('C:\\WSUS', '..\\Windows')
    with pytest.raises(WinPathError):
        w.join('C:\\WSUS', 'D:\\x')
    with pytest.raises(WinPathError):
        w.join('C:\\WSUS', '\\x')
    with pytest.raises(WinPathError, match='not inside'):
        w.relative_to('C:\\WSUSX\\a', 'C:\\WSUS')


def test_is_within_compares_whole_names_and_ignores_case():
    assert w.is_within('C:\\WSUS\\WsusContent', 'c:\\wsus')
    assert not w.is_within('C:\\WSUSContent', 'C:\\WSUS')
    assert not w.is_within('D:\\WSUS', 'C:\\WSUS')
    assert w.is_within('C:\\WSUS', 'C:\\WSUS')
    assert not w.is_within('C:\\WSUS', 'C:\\WSUS', allow_equal=False)
    assert w.is_within('\\\\SRV\\Share\\a', '\\\\srv\\share')


def test_fold_is_one_to_one_like_ntfs():
    # str.upper() turns sharp s into "SS"; NTFS keeps one character.
    assert w.fold('stra\u00dfe') == 'STRA\u00dfE'
    assert w.same_path('C:\\Stra\u00dfe', 'c:\\STRA\u00dfE')


def test_parent_and_basename():
    assert w.parent('C:\\a\\b') == 'C:\\a'
    assert w.parent('C:\\a') == 'C:\\'
    assert w.parent('C:\\') == 'C:\\'
    assert w.parent('\\\\s\\sh\\x') == '\\\\s\\sh'
    assert w.basename('C:\\a\\b.txt') == 'b.txt'
    assert w.basename('C:\\') == ''


@pytest.mark.parametrize('rel, expected', [
    ('0A/0A1B.cab', '0A\\0A1B.cab'),
    ('0A\\0A1B.cab', '0A\\0A1B.cab'),
    ('x.txt', 'x.txt'),
])
def test_content_relpath_accepted(rel, expected):
    assert w.validate_content_relpath(rel) == expected


@pytest.mark.parametrize('rel', [
    '', '..\\x', '0A\\..\\..\\x', 'C:\\x', 'C:x', '\\x', '/x', '\\\\srv\\share\\x', '0A\\\\x', '0A\\.\\x',
    'a:b', 'con', '0A\\aux.cab', 'x.', 'x ', 'a|b', 'a\0b',
])
def test_content_relpath_refused(rel):
    with pytest.raises(WinPathError):
        w.validate_content_relpath(rel)


@given(st.sampled_from(['C:\\', 'd:\\', '\\\\srv\\share\\']), _NAMES, st.sampled_from(['\\', '/']))
@settings(max_examples=300, deadline=None)
def test_normalize_is_idempotent_and_keeps_names(root, names, sep):
    path = root + sep.join(names)
    normal = w.normalize(path)
    assert w.normalize(normal) == normal
    assert w.components(normal) == names
    assert w.is_within(normal, w.root_of(normal))


@given(_NAMES, _NAMES)
@settings(max_examples=300, deadline=None)
def test_join_then_relative_round_trips(base_names, rel_names):
    base = 'C:\\' + '\\'.join(base_names)
    joined = w.join(base, *rel_names)
    assert w.relative_to(joined, base) == '\\'.join(rel_names)
    assert w.is_within(joined, base)


@given(st.text(max_size=30))
@settings(max_examples=500, deadline=None)
def test_content_relpath_never_escapes(text):
    # Whatever a manifest says, an accepted path stays relative and free of "..".
    try:
        rel = w.validate_content_relpath(text)
    except WinPathError:
        return
    assert not rel.startswith('\\') and ':' not in rel
    assert '..' not in rel.split('\\')
    assert w.is_within(w.join('D:\\WSUS\\WsusContent', rel), 'D:\\WSUS\\WsusContent', allow_equal=False)


@given(st.text(max_size=30))
@settings(max_examples=500, deadline=None)
def test_normalize_accepts_only_absolute_forms(text):
    assume(text)
    try:
        normal = w.normalize(text)
    except WinPathError:
        return
    assert normal[1:3] == ':\\' or normal.startswith('\\\\')
    assert '\0' not in normal and '/' not in normal
