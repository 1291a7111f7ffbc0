r"""Windows path rules, as Win32 (``GetFullPathNameW``) applies them.

- ``\`` separates components and ``/`` is accepted as one; runs of separators collapse.
- Roots: a drive (``C:\``), a UNC share (``\\server\share\``); ``C:rel`` and ``\rel`` are
  resolved against the current directory; ``.`` and ``..`` are folded (never above the root).
- ``\\?\C:\...`` and ``\\?\UNC\server\share\...`` are taken literally: no ``/``, ``.``, ``..``
  or trailing-dot processing, and device names are ordinary names there.
- A component that ends in a single period loses it; the last component, unless the path ends
  with a separator, loses all trailing periods and spaces ("File path formats on Windows
  systems", Microsoft Learn).
- ``< > : " | ? *`` and control characters are invalid in a name (ERROR_INVALID_NAME).
- ``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1``-``COM9``, ``LPT1``-``LPT9`` (also with an
  extension, and with superscript digits) as the last component name a device, not a file.
- Names compare case-insensitively, by upper-casing each character as NTFS's up-case table
  does (one character to one character: ``ß`` stays ``ß``).
"""
from __future__ import annotations

import re
import typing as t

from .errors import (ERROR_BAD_NETPATH, ERROR_INVALID_NAME, ERROR_PATH_NOT_FOUND, WinError)

INVALID_NAME_CHARS = frozenset('<>:"|?*') | frozenset(chr(i) for i in range(32))
WILDCARDS = frozenset('*?')

_DEVICE_BASES = {'CON', 'PRN', 'AUX', 'NUL'}
_DEVICE_BASES.update('COM%s' % d for d in '123456789\u00b9\u00b2\u00b3')
_DEVICE_BASES.update('LPT%s' % d for d in '123456789\u00b9\u00b2\u00b3')
RESERVED_NAMES = frozenset(_DEVICE_BASES)


def fold(text: str) -> str:
    """Upper-case ``text`` one character at a time, as NTFS compares names."""
    if text.isascii():
        return text.upper()
    out = []
    for ch in text:
        up = ch.upper()
        out.append(up if len(up) == 1 else ch)
    return ''.join(out)


def device_name(name: str) -> t.Optional[str]:
    """The device a file name denotes (``nul.txt`` -> ``NUL``), or None for an ordinary name."""
    base = name.split('.', 1)[0].rstrip(' ')
    base = fold(base)
    return base if base in RESERVED_NAMES else None


def check_name(name: str, allow_wildcards: bool = False, path: t.Optional[str] = None) -> None:
    """Raise ERROR_INVALID_NAME when ``name`` holds a character no Windows name may hold."""
    bad = INVALID_NAME_CHARS - WILDCARDS if allow_wildcards else INVALID_NAME_CHARS
    if any(ch in bad for ch in name):
        raise WinError(ERROR_INVALID_NAME, path if path is not None else name,
                       ps_message="Illegal characters in path.")


class WinPath:
    r"""An absolute, normalized Windows path: a root (``C:`` or ``\\server\share``) and names.

    Equality and hashing ignore case; ``str()`` keeps the case it was given.
    """

    __slots__ = ('root', 'parts', 'device', '_key')

    def __init__(self, root: str, parts: t.Sequence[str] = (), device: t.Optional[str] = None) -> None:
        self.root = root
        self.parts = tuple(parts)
        self.device = device
        self._key = (fold(root),) + tuple(fold(p) for p in self.parts)

    # -- identity ------------------------------------------------------------------------
    @property
    def key(self) -> tuple:
        """The case-folded identity of this path."""
        return self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WinPath) and other.key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return 'WinPath(%r)' % str(self)

    def __str__(self) -> str:
        if not self.parts:
            return self.root + '\\'
        return self.root + '\\' + '\\'.join(self.parts)

    # -- shape ---------------------------------------------------------------------------
    @property
    def is_unc(self) -> bool:
        return self.root.startswith('\\\\')

    @property
    def drive(self) -> t.Optional[str]:
        """The upper-case drive letter, or None for a UNC path."""
        return None if self.is_unc else self.root[0].upper()

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ''

    @property
    def parent(self) -> 'WinPath':
        return WinPath(self.root, self.parts[:-1]) if self.parts else self

    @property
    def with_slash(self) -> str:
        r"""The path with one trailing backslash, as robocopy prints folders (``C:\src\``)."""
        text = str(self)
        return text if text.endswith('\\') else text + '\\'

    def joinpath(self, *names: str) -> 'WinPath':
        """A path below this one. ``names`` are single components (no separators)."""
        parts = list(self.parts)
        for name in names:
            check_name(name, path=name)
            parts.append(name)
        return WinPath(self.root, parts)

    def is_relative_to(self, other: 'WinPath') -> bool:
        """True when this path is ``other`` or lies below it."""
        n = len(other.key)
        return self._key[:n] == other.key

    def relative_parts(self, other: 'WinPath') -> tuple:
        """The names leading from ``other`` down to this path (ValueError if not below it)."""
        if not self.is_relative_to(other):
            raise ValueError('%s is not below %s' % (self, other))
        return self.parts[len(other.parts):]


def _split(text: str) -> list:
    return [p for p in text.split('\\') if p != '']


def _normalize(components: t.Sequence[str], trailing_separator: bool) -> list:
    out: list = []
    for comp in components:
        if comp == '.':
            continue
        if comp == '..':
            if out:
                out.pop()
            continue
        if comp.endswith('.') and not comp.endswith('..'):
            comp = comp[:-1]
            if comp == '':
                continue
        out.append(comp)
    if out and not trailing_separator:
        last = out[-1].rstrip('. ')
        if last:
            out[-1] = last
        else:
            out.pop()
    return out


def parse_path(text: str, cwd: t.Optional[WinPath] = None, allow_wildcards: bool = False) -> WinPath:
    """Turn ``text`` into an absolute :class:`WinPath`, or raise :class:`WinError`.

    ``cwd`` resolves relative forms (``rel``, ``\rel``, ``C:rel``); without it they are errors.
    ``allow_wildcards`` lets ``*`` and ``?`` through in names (robocopy file specs, ``dir``).
    """
    if not isinstance(text, str):
        raise TypeError('a Windows path must be a string, not %s' % type(text).__name__)
    if text == '' or text.strip() == '':
        raise WinError(ERROR_PATH_NOT_FOUND, text, ps_message='The path is not of a legal form.')
    if '\0' in text:
        raise WinError(ERROR_INVALID_NAME, text, ps_message='Illegal characters in path.')

    if text.startswith('\\\\?\\'):
        return _parse_literal(text, allow_wildcards)
    path = text.replace('/', '\\')
    if path.startswith('\\\\.\\'):
        rest = path[4:]
        if re.match(r'^[A-Za-z]:(\\|$)', rest):
            path = rest
        else:
            name = rest.split('\\', 1)[0]
            dev = device_name(name)
            raise WinError(ERROR_INVALID_NAME, text,
                           ps_message='FileStream will not open Win32 devices such as disk partitions and tape drives. '
                                      'Avoid use of "\\\\.\\" in the path.' if dev else None)
    trailing = path.endswith('\\') or path.endswith('\\.') or path.endswith('\\..')

    if path.startswith('\\\\'):
        comps = _split(path[2:])
        if len(comps) < 2:
            raise WinError(ERROR_BAD_NETPATH, text)
        server, share = comps[0], comps[1]
        for piece in (server, share):
            check_name(piece, path=text)
        root = '\\\\%s\\%s' % (server, share)
        names = _normalize(comps[2:], trailing)
    elif len(path) >= 2 and path[1] == ':':
        letter = path[0]
        if not ('A' <= letter.upper() <= 'Z' and letter.isascii()):
            raise WinError(ERROR_INVALID_NAME, text)
        root = letter.upper() + ':'
        rest = path[2:]
        if rest.startswith('\\'):
            names = _normalize(_split(rest), trailing)
        else:
            base: tuple = ()
            if cwd is not None and cwd.root == root:
                base = cwd.parts
            names = _normalize(list(base) + _split(rest), trailing or rest == '')
    else:
        if cwd is None:
            raise ValueError('relative path %r needs a current directory' % text)
        root = cwd.root
        if path.startswith('\\'):
            names = _normalize(_split(path), trailing)
        else:
            names = _normalize(list(cwd.parts) + _split(path), trailing)

    for name in names:
        check_name(name, allow_wildcards, path=text)
    device = device_name(names[-1]) if names else None
    return WinPath(root, names, device=device)


def _parse_literal(text: str, allow_wildcards: bool) -> WinPath:
    rest = text[4:]
    if rest[:4].upper() == 'UNC\\':
        comps = rest[4:].split('\\')
        if len(comps) < 2 or not comps[0] or not comps[1]:
            raise WinError(ERROR_BAD_NETPATH, text)
        root = '\\\\%s\\%s' % (comps[0], comps[1])
        names = comps[2:]
    elif re.match(r'^[A-Za-z]:(\\|$)', rest):
        root = rest[0].upper() + ':'
        names = rest[3:].split('\\') if len(rest) > 3 else []
    else:
        raise WinError(ERROR_PATH_NOT_FOUND, text)
    if names and names[-1] == '':
        names = names[:-1]
    if '' in names:
        raise WinError(ERROR_INVALID_NAME, text)
    for name in names:
        check_name(name, allow_wildcards, path=text)
    return WinPath(root, names)


_WILDCARD_CACHE: dict = {}


def wildcard_match(pattern: str, name: str) -> bool:
    """Match a file name against a Windows wildcard (``*``, ``?``), ignoring case.

    ``*.*`` matches every name, and ``x.*`` also matches ``x`` (no extension), as
    ``FindFirstFile`` does.
    """
    rx = _WILDCARD_CACHE.get(pattern)
    if rx is None:
        if pattern in ('*', '*.*'):
            body = '.*'
        else:
            body = ''.join('.*' if ch == '*' else '.' if ch == '?' else re.escape(fold(ch)) for ch in pattern)
            if pattern.endswith('.*'):
                body = '(?:%s|%s)' % (body, body[:-len(re.escape('.') + '.*')])
        rx = re.compile(body + r'\Z', re.DOTALL)
        _WILDCARD_CACHE[pattern] = rx
    return rx.match(fold(name)) is not None
