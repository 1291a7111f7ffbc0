"""Unit tests for human-readable sizes."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.plugins.plugin_utils._sizes import SizeError, format_size, parse_size


@pytest.mark.parametrize('text, expected', [
    ('4.7GB', 4_700_000_000),          # a DVD, as printed on the disc
    ('25GB', 25_000_000_000),          # a BD-R
    ('1TB', 1_000_000_000_000),
    ('500MiB', 500 * 1024 ** 2),
    ('1.5 GiB', 3 * 1024 ** 3 // 2),
    ('4096', 4096),
    ('  8 kb ', 8000),
    ('2KiB', 2048),
    ('.5GB', 500_000_000),
    ('1B', 1),
    ('0', 0),
    ('1.0000000001KB', 1000),          # fractions of a byte round down, never up
])
def test_parse_size_reads_decimal_and_binary_units(text, expected):
    assert parse_size(text) == expected


def test_parse_size_takes_ints_as_bytes():
    assert parse_size(4_700_000_000) == 4_700_000_000


@pytest.mark.parametrize('text', ['4.7G', '25g', '1T', '500M', '8k'])
def test_single_letter_units_are_refused_as_ambiguous(text):
    with pytest.raises(SizeError, match='ambiguous') as info:
        parse_size(text, 'volume_size')
    message = str(info.value)
    assert 'volume_size' in message and 'B for' in message and 'iB for' in message


@pytest.mark.parametrize('value, fragment', [
    ('4.7 gigabytes', 'unknown unit'),
    ('GB', 'not a size'),
    ('-1GB', 'not a size'),
    ('1,5GB', 'not a size'),
    ('', 'not a size'),
    (-5, 'negative'),
    (True, 'boolean'),
    (4.7, 'not float'),
    (None, 'not NoneType'),
])
def test_bad_sizes_say_what_to_write(value, fragment):
    with pytest.raises(SizeError, match=fragment):
        parse_size(value)


@pytest.mark.parametrize('num_bytes, binary, expected', [
    (0, False, '0 B'),
    (999, False, '999 B'),
    (1000, False, '1 KB'),
    (4_700_000_000, False, '4.7 GB'),
    (25_000_000_000, False, '25 GB'),
    (1024 ** 3, True, '1 GiB'),
    (1536 * 1024 ** 2, True, '1.5 GiB'),
    (1023, True, '1023 B'),
    (123_456_789, False, '123 MB'),
    (-2048, True, '-2 KiB'),
    (3 * 1000 ** 5 * 1000, False, '3000 PB'),
])
def test_format_size(num_bytes, binary, expected):
    assert format_size(num_bytes, binary=binary) == expected


def test_format_size_refuses_non_ints():
    with pytest.raises(SizeError):
        format_size('12')


@given(st.integers(min_value=0, max_value=10 ** 16), st.booleans())
def test_format_then_parse_stays_within_rounding(num_bytes, binary):
    text = format_size(num_bytes, binary=binary).replace(' ', '')
    parsed = parse_size(text)
    # three significant digits: at most 0.5% off (plus a unit of rounding down)
    assert abs(parsed - num_bytes) <= num_bytes * 0.005 + 1
