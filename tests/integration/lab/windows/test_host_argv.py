"""CommandLineToArgvW, as every emulated program splits its command line."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.tests.lab.windows.cmdline import (
    build_command_line, command_line_to_argv, quote_argument, split_arguments)


@pytest.mark.parametrize('line, argv', [
    # "Parsing C++ command-line arguments" (Microsoft Learn), the CommandLineToArgvW rules
    ('prog "abc" d e', ['prog', 'abc', 'd', 'e']),
    ('prog a\\\\b d"e f"g h', ['prog', 'a\\\\b', 'de fg', 'h']),
    ('prog a\\\\\\"b c d', ['prog', 'a\\"b', 'c', 'd']),
    ('prog a\\\\\\\\"b c" d e', ['prog', 'a\\\\b c', 'd', 'e']),
    # a quote pair closes quoting and leaves a literal quote: shell32 (and Wine, tested against
    # it) differ here from the 2008+ C runtime, which would give 'ab" c d'
    ('prog a"b"" c d', ['prog', 'ab"', 'c', 'd']),
    # the program name ends at the next quote, backslashes and all
    ('"C:\\Program Files\\x.exe"arg1 arg2', ['C:\\Program Files\\x.exe', 'arg1', 'arg2']),
    ('C:\\dir\\x.exe\t"a b"', ['C:\\dir\\x.exe', 'a b']),
    # robocopy's classic trap: a quoted folder with a trailing backslash swallows the quote
    ('robocopy "C:\\src\\" "D:\\dst"', ['robocopy', 'C:\\src" D:\\dst']),
    ('robocopy "C:\\src\\\\" "D:\\dst"', ['robocopy', 'C:\\src\\', 'D:\\dst']),
    ('x """a""" ""', ['x', '"a"', '']),
    ('x', ['x']),
])
def test_documented_examples(line: str, argv: list) -> None:
    assert command_line_to_argv(line) == argv


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=('Cs',), blacklist_characters='\x00'), max_size=12),
                max_size=6))
def test_quoting_round_trips(args: list) -> None:
    assert split_arguments(' '.join(quote_argument(a) for a in args)) == args
    assert command_line_to_argv(build_command_line('C:\\Program Files\\t.exe', args)) == ['C:\\Program Files\\t.exe'] + args


def test_arguments_are_data() -> None:
    hostile = ['$(Remove-Item C:\\)', '`whoami`', 'a;b', '-Force', "it's", 'ünïcødé', '"quoted"', '\\\\server\\x\\']
    assert split_arguments(' '.join(quote_argument(a) for a in hostile)) == hostile
