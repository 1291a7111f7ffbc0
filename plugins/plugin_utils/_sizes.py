"""Human-readable sizes, both ways.

Units are explicit, because a medium's capacity is sold in decimal units and file sizes are
often shown in binary ones:

- ``B``, ``KB``, ``MB``, ``GB``, ``TB``, ``PB`` are **decimal** (powers of 1000), as printed on
  discs and drives: a DVD's ``4.7GB`` is 4,700,000,000 bytes, a BD-R's ``25GB`` is
  25,000,000,000 bytes.
- ``KiB``, ``MiB``, ``GiB``, ``TiB``, ``PiB`` are **binary** (powers of 1024): ``500MiB`` is
  524,288,000 bytes.
- A bare number (or an ``int``) is a count of bytes.
- Single letters (``K``, ``M``, ``G``, ``T``) are refused: they mean 1000 to some tools and 1024 to
  others, and a wrong guess on a medium's size means a volume that does not fit.

Units are case-insensitive (``gb``, ``Gb`` and ``GB`` are the same) and a space may separate
number and unit. Fractions are allowed and rounded down to whole bytes, so a parsed capacity is
never larger than what was written.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

DECIMAL_UNITS = {'b': 1, 'kb': 1000, 'mb': 1000 ** 2, 'gb': 1000 ** 3, 'tb': 1000 ** 4, 'pb': 1000 ** 5}
BINARY_UNITS = {'kib': 1024, 'mib': 1024 ** 2, 'gib': 1024 ** 3, 'tib': 1024 ** 4, 'pib': 1024 ** 5}
_UNITS = dict(DECIMAL_UNITS, **BINARY_UNITS)
_AMBIGUOUS = ('k', 'm', 'g', 't', 'p')

_SIZE_RE = re.compile(r'^\s*(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?P<unit>[A-Za-z]*)\s*$')

_DECIMAL_STEPS = (('PB', 1000 ** 5), ('TB', 1000 ** 4), ('GB', 1000 ** 3), ('MB', 1000 ** 2), ('KB', 1000))
_BINARY_STEPS = (('PiB', 1024 ** 5), ('TiB', 1024 ** 4), ('GiB', 1024 ** 3), ('MiB', 1024 ** 2), ('KiB', 1024))


class SizeError(AirgapWsusError, ValueError):
    """A size that cannot be read: the message says what was wrong and how to write it."""


def parse_size(value: int | str, name: str = 'size') -> int:
    """Return ``value`` as a whole number of bytes.

    ``value`` is an ``int`` (bytes) or a string such as ``4.7GB``, ``25 GB``, ``1TB``, ``500MiB``
    or ``4096``. ``name`` is the option's name, used in error messages.
    """
    if isinstance(value, bool):
        raise SizeError(f'{name} must be a size such as 4.7GB or 500MiB, not a boolean')
    if isinstance(value, int):
        if value < 0:
            raise SizeError(f'{name} must not be negative (got {value})')
        return value
    if not isinstance(value, str):
        raise SizeError(f'{name} must be a size such as 4.7GB or 500MiB, not {type(value).__name__}')
    match = _SIZE_RE.match(value)
    if not match:
        raise SizeError(f'{name} {value!r} is not a size: write a number and a unit, such as 4.7GB, 25GB, 1TB or 500MiB')
    unit = match.group('unit').lower()
    if unit in _AMBIGUOUS:
        raise SizeError(f'{name} {value!r}: the unit {match.group("unit")!r} is ambiguous; write {unit.upper()}B for '
                        f'powers of 1000 (as printed on discs) or {unit.upper()}iB for powers of 1024')
    if unit not in _UNITS and unit != '':
        raise SizeError(f'{name} {value!r}: unknown unit {match.group("unit")!r}; use B, KB, MB, GB, TB (powers of 1000) '
                        'or KiB, MiB, GiB, TiB (powers of 1024)')
    try:
        number = Decimal(match.group('number'))
    except InvalidOperation:  # pragma: no cover - the pattern only lets valid decimals through
        raise SizeError(f'{name} {value!r} is not a number') from None
    return int(number * _UNITS.get(unit, 1))


def format_size(num_bytes: int, binary: bool = False) -> str:
    """Return ``num_bytes`` as text with three significant digits, such as ``4.7 GB`` or ``1.5 GiB``.

    Decimal units by default, to match how media capacities are written; ``binary=True`` uses
    KiB, MiB, GiB. Sizes under 1 KB (or 1 KiB) are shown as an exact count of bytes.
    """
    if isinstance(num_bytes, bool) or not isinstance(num_bytes, int):
        raise SizeError(f'format_size needs an int, not {type(num_bytes).__name__}')
    sign = '-' if num_bytes < 0 else ''
    magnitude = abs(num_bytes)
    for unit, factor in (_BINARY_STEPS if binary else _DECIMAL_STEPS):
        if magnitude >= factor:
            value = magnitude / factor
            text = f'{value:.3g}' if value < 1000 else f'{value:.0f}'
            if 'e' in text:  # 3 significant digits of a value >= 1000 in the top unit
                text = f'{value:.0f}'
            return f'{sign}{text} {unit}'
    return f'{sign}{magnitude} B'
