"""Windows command-line quoting: what CommandLineToArgvW splits back is what was joined."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.plugins.plugin_utils import _cmdline
from ansible_collections.airgap.wsus.plugins.plugin_utils._cmdline import CommandLineError, join_args, quote_arg, split_args, split_command_line

# Arguments biased towards the characters that matter to the quoting rules.
_TRICKY = st.text(alphabet=st.sampled_from(list('\\" \tab\nC:') + ['\u00e9', '\u4e2d', '\U0001f600']), max_size=12)
_ANY = st.text(alphabet=st.characters(blacklist_characters='\0', blacklist_categories=('Cs',)), max_size=20)
_ARG = st.one_of(_TRICKY, _ANY)


@given(st.lists(_ARG, max_size=8))
@settings(max_examples=400, deadline=None)
def test_split_undoes_join(args):
    assert split_args(join_args(args)) == args


@given(st.lists(_ARG, max_size=5), st.text(alphabet=st.characters(blacklist_characters='"\0', blacklist_categories=('Cs',)), min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_whole_command_line_round_trip(args, program):
    line = _cmdline.quote_program(program) + (' ' + join_args(args) if args else '')
    assert split_command_line(line) == [program] + args


@pytest.mark.parametrize('arg, quoted', [
    ('plain', 'plain'),
    ('', '""'),
    ('two words', '"two words"'),
    ('C:\\Program Files\\', '"C:\\Program Files\\\\"'),   # the trailing-backslash trap
    ('C:\\src\\', 'C:\\src\\'),                            # no space: no quotes, backslash stays literal
    ('say "hi"', '"say \\"hi\\""'),
    ('a\\\\"b', '"a\\\\\\\\\\"b"'),
    ('/LOG:C:\\My Logs\\copy.log', '"/LOG:C:\\My Logs\\copy.log"'),
])
def test_quote_known_cases(arg, quoted):
    assert quote_arg(arg) == quoted
    assert split_args(quoted) == [arg]


@pytest.mark.parametrize('line, argv', [
    # Examples from Microsoft's "Parsing C++ command-line arguments" table.
    ('"abc" d e', ['abc', 'd', 'e']),
    ('a\\\\\\b d"e f"g h', ['a\\\\\\b', 'de fg', 'h']),
    ('a\\\\\\"b c d', ['a\\"b', 'c', 'd']),
    ('a\\\\\\\\"b c" d e', ['a\\\\b c', 'd', 'e']),
    # Here CommandLineToArgvW (three quotes make one literal quote and end quoting) differs
    # from the 2008+ C runtime (which gives ['ab" c d']); join_args never produces "" inside
    # an argument, so both parsers read its output the same way (see the next test).
    ('a"b"" c d', ['ab"', 'c', 'd']),
    ('  leading   spaces  ', ['leading', 'spaces']),
    ('"" x', ['', 'x']),
])
def test_split_matches_documented_examples(line, argv):
    assert split_args(line) == argv


def _split_msvcrt(tail):
    """The C runtime's argv split (2008 and later), an independent oracle for join_args.

    It differs from CommandLineToArgvW only for runs of quotes: inside quotes, "" is one
    literal quote and quoting continues.
    """
    args, i, n = [], 0, len(tail)
    while True:
        while i < n and tail[i] in ' \t':
            i += 1
        if i >= n:
            return args
        out, quoted = [], False
        while i < n and (quoted or tail[i] not in ' \t'):
            if tail[i] == '\\':
                j = i
                while j < n and tail[j] == '\\':
                    j += 1
                if j < n and tail[j] == '"':
                    out.append('\\' * ((j - i) // 2))
                    if (j - i) % 2:
                        out.append('"')
                        j += 1
                    i = j
                else:
                    out.append('\\' * (j - i))
                    i = j
            elif tail[i] == '"':
                if quoted and i + 1 < n and tail[i + 1] == '"':
                    out.append('"')
                    i += 2
                else:
                    quoted = not quoted
                    i += 1
            else:
                out.append(tail[i])
                i += 1
        args.append(''.join(out))


@given(st.lists(_ARG, max_size=8))
@settings(max_examples=300, deadline=None)
def test_c_runtime_reads_join_the_same_way(args):
    # robocopy.exe is a C program: its argv comes from the C runtime, not CommandLineToArgvW.
    assert _split_msvcrt(join_args(args)) == args


def test_nul_is_refused():
    with pytest.raises(CommandLineError, match='NUL'):
        quote_arg('a\0b')
    with pytest.raises(CommandLineError):
        join_args(['ok', 'bad\0'])


def test_non_string_is_refused():
    with pytest.raises(CommandLineError, match='strings'):
        quote_arg(5)


def test_program_with_quote_is_refused():
    with pytest.raises(CommandLineError):
        _cmdline.quote_program('C:\\a"b.exe')


def test_overlong_command_line_is_refused():
    with pytest.raises(CommandLineError, match='JOB'):
        join_args(['x' * 1000] * 40)


def test_program_name_ignores_backslash_rules():
    assert split_command_line('"C:\\Program Files\\x\\" a') == ['C:\\Program Files\\x\\', 'a']
    assert split_command_line('C:\\bin\\robocopy.exe "a b"') == ['C:\\bin\\robocopy.exe', 'a b']


@pytest.mark.parametrize('line, argv', [
    # Microsoft's "Parsing C++ command-line arguments" table (C runtime, 2008 and later).
    ('"abc" d e', ['abc', 'd', 'e']),
    ('a\\\\\\b d"e f"g h', ['a\\\\\\b', 'de fg', 'h']),
    ('a\\\\\\"b c d', ['a\\"b', 'c', 'd']),
    ('a\\\\\\\\"b c" d e', ['a\\\\b c', 'd', 'e']),
    ('a"b"" c d', ['ab" c d']),
])
def test_c_runtime_oracle_matches_microsoft_table(line, argv):
    assert _split_msvcrt(line) == argv
