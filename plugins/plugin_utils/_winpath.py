"""Windows paths given by users, checked and normalised on the controller.

The controller runs on Linux, so ``ntpath`` semantics are implemented here explicitly and
strictly: a path the host would reinterpret (a relative path resolved against an unknown
working directory, a device path, a reserved device name, a name Windows silently trims, an
alternate data stream) is refused with a message that says what to write instead.

Accepted absolute forms:

- drive paths: ``C:\\WSUS\\WsusContent`` (``/`` is accepted and turned into ``\\``);
- UNC paths: ``\\\\server\\share\\folder``.

Refused: relative paths (``WSUS\\x``, ``\\WSUS`` without a drive, ``C:WSUS``), device and
long-path prefixes (``\\\\?\\``, ``\\\\.\\``), ``..`` segments, empty segments inside UNC
names, control characters and ``< > : " | ? *`` in names, reserved names (``CON``, ``NUL``,
``COM1``, ``LPT1``... with or without an extension), and names ending in a dot or space.

Comparison is case-insensitive, as on NTFS (one-to-one upper-casing: ``ß`` stays ``ß``).
"""
from __future__ import annotations

import re

from ._errors import AirgapWsusError

_INVALID_NAME_CHARS = frozenset('<>:"|?*')
_RESERVED = frozenset(
    ['CON', 'PRN', 'AUX', 'NUL', 'CONIN$', 'CONOUT$']
    + [f'COM{i}' for i in '123456789\u00b9\u00b2\u00b3']
    + [f'LPT{i}' for i in '123456789\u00b9\u00b2\u00b3']
)
_DRIVE_RE = re.compile(r'^[A-Za-z]:')
# NTFS limits one name to 255 UTF-16 code units; the whole path to 32,767 with long-path support.
MAX_COMPONENT = 255
MAX_PATH_LENGTH = 32767
# Host names (NetBIOS or DNS) and IPv4/IPv6 literals as they appear in UNC paths.
_SERVER_RE = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9._$-]*[A-Za-z0-9$])?$|^\[?[0-9A-Fa-f:.]+\]?$')


class WinPathError(AirgapWsusError, ValueError):
    """A path that is not a valid absolute Windows path; the message says why and what to use."""


def _show(text: str) -> str:
    """Quote ``text`` for a message: backslashes as typed, unprintable characters escaped."""
    return "'" + ''.join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text) + "'"


def _utf16_len(text: str) -> int:
    return len(text.encode('utf-16-le')) // 2


def check_name(name: str, what: str = 'path') -> None:
    """Raise :class:`WinPathError` unless ``name`` is a valid single file or folder name."""
    if name in ('', '.', '..'):
        raise WinPathError(f'{what}: {_show(name)} is not a file or folder name')
    for ch in name:
        if ch in '\\/':
            raise WinPathError(f'{what}: {_show(name)} is not a single name: it contains a path separator')
        if ord(ch) < 32:
            raise WinPathError(f'{what}: the name {_show(name)} contains the control character {_show(ch)}, which Windows refuses in file names')
        if ch in _INVALID_NAME_CHARS:
            if ch == ':':
                raise WinPathError(f'{what}: the name {_show(name)} contains ":"; a colon after the drive names an alternate data stream, '
                                   'which this collection does not read or write. Remove the colon.')
            raise WinPathError(f'{what}: the name {_show(name)} contains {_show(ch)}, one of the characters Windows refuses in file names (< > : " | ? *)')
    if name[-1] in '. ':
        raise WinPathError(f'{what}: the name {_show(name)} ends with a dot or a space, which Windows strips silently, '
                           'so the host would use a different name. Remove the trailing character.')
    stem = name.split('.', 1)[0].rstrip(' ').upper()
    if stem in _RESERVED:
        raise WinPathError(f'{what}: {_show(name)} uses the reserved device name {stem}; Windows opens the device instead of a file. Choose another name.')
    if _utf16_len(name) > MAX_COMPONENT:
        raise WinPathError(f'{what}: the name {_show(name[:40])}... is longer than {MAX_COMPONENT} characters, the NTFS limit')


def _split_root(path: str, what: str) -> tuple[str, list[str]]:
    """Return ``(root, components)`` of an absolute path whose separators are backslashes."""
    if path.startswith('\\\\'):
        rest = path[2:]
        if rest[:2] in ('?\\', '.\\') or rest in ('?', '.'):
            raise WinPathError(f'{what}: {_show(path)} is a device or long-path name (\\\\?\\ or \\\\.\\); give a normal drive or UNC path '
                               '(Windows applies long-path support itself)')
        parts = rest.split('\\')
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise WinPathError(f'{what}: {_show(path)} is an incomplete UNC path; write \\\\server\\share\\folder')
        server, share = parts[0], parts[1]
        if not _SERVER_RE.match(server):
            raise WinPathError(f'{what}: {_show(server)} is not a valid server name in the UNC path {_show(path)}')
        check_name(share, what)
        return f'\\\\{server}\\{share}', [c for c in parts[2:] if c != '']
    if _DRIVE_RE.match(path):
        if len(path) == 2 or path[2] != '\\':
            raise WinPathError(f'{what}: {_show(path)} is relative to the current folder of drive {path[:2]}; write {path[:2]}\\{path[2:]}')
        root = path[0].upper() + ':\\'
        components = [c for c in path[3:].split('\\') if c != '']
        return root, components
    if path.startswith('\\'):
        raise WinPathError(f'{what}: {_show(path)} has no drive letter; write the full path, such as C:{path}')
    raise WinPathError(f'{what}: {_show(path)} is a relative path; write an absolute path such as D:\\WSUS or \\\\server\\share\\folder')


def normalize(path: str, what: str = 'path', allow_unc: bool = True) -> str:
    """Return the canonical form of absolute Windows path ``path``.

    Forward slashes become backslashes, repeated separators after the root collapse, ``.``
    segments drop, the drive letter is upper-cased and a trailing separator is removed (except
    on a drive root, ``C:\\``). Raises :class:`WinPathError` for anything else this module
    refuses; ``what`` names the option in messages.
    """
    if not isinstance(path, str):
        raise WinPathError(f'{what} must be a string, not {type(path).__name__}')
    if not path:
        raise WinPathError(f'{what} must not be empty')
    if path != path.strip(' \t\r\n'):
        raise WinPathError(f'{what}: {_show(path)} starts or ends with whitespace; remove it')
    if '\0' in path:
        raise WinPathError(f'{what} contains a NUL character')
    path = path.replace('/', '\\')
    root, components = _split_root(path, what)
    if root.startswith('\\\\') and not allow_unc:
        raise WinPathError(f'{what}: {_show(path)} is a network (UNC) path; a local drive path such as D:\\WSUS is required here')
    kept = []
    for component in components:
        if component == '.':
            continue
        if component == '..':
            raise WinPathError(f'{what}: {_show(path)} contains "..": write the resolved path instead')
        check_name(component, what)
        kept.append(component)
    result = root if not kept else root.rstrip('\\') + '\\' + '\\'.join(kept)
    if _utf16_len(result) > MAX_PATH_LENGTH:
        raise WinPathError(f'{what} is longer than {MAX_PATH_LENGTH} characters')
    return result


def is_unc(path: str) -> bool:
    """Return whether normalised ``path`` is a UNC path."""
    return path.startswith('\\\\')


def root_of(path: str) -> str:
    """Return the root (``C:\\`` or ``\\\\server\\share``) of a normalised path."""
    return _split_root(path, 'path')[0]


def components(path: str) -> list[str]:
    """Return the names below the root of a normalised path."""
    return _split_root(path, 'path')[1]


def fold(text: str) -> str:
    """Case-fold like NTFS: upper-case each character only where that gives one character."""
    out = []
    for ch in text:
        upper = ch.upper()
        out.append(upper if len(upper) == 1 else ch)
    return ''.join(out)


def same_path(a: str, b: str) -> bool:
    """Return whether two paths name the same location (after normalisation, ignoring case)."""
    return fold(normalize(a)) == fold(normalize(b))


def join(base: str, *parts: str) -> str:
    """Join relative ``parts`` (each may hold ``\\`` or ``/`` separators) onto absolute ``base``.

    Every part must be relative and free of ``..``; an absolute part is refused rather than
    silently replacing ``base`` (``ntpath.join``'s surprising rule).
    """
    result = normalize(base)
    for part in parts:
        if not part:
            continue
        text = part.replace('/', '\\')
        if text.startswith('\\') or _DRIVE_RE.match(text):
            raise WinPathError(f'cannot join {_show(part)} onto {_show(result)}: it is not a relative path')
        for name in text.split('\\'):
            if name in ('', '.'):
                continue
            if name == '..':
                raise WinPathError(f'cannot join {_show(part)}: ".." is not allowed')
            check_name(name, 'path')
            result = result.rstrip('\\') + '\\' + name
    return result


def is_within(path: str, base: str, allow_equal: bool = True) -> bool:
    """Return whether ``path`` is ``base`` or lies below it (case-insensitive, by whole names)."""
    p, b = normalize(path), normalize(base)
    if fold(root_of(p)) != fold(root_of(b)):
        return False
    pc, bc = [fold(c) for c in components(p)], [fold(c) for c in components(b)]
    if pc[:len(bc)] != bc:
        return False
    return allow_equal or len(pc) > len(bc)


def relative_to(path: str, base: str) -> str:
    """Return ``path`` relative to ``base`` with backslashes (``''`` when they are equal).

    Raises :class:`WinPathError` when ``path`` is not inside ``base``.
    """
    if not is_within(path, base):
        raise WinPathError(f'{_show(path)} is not inside {_show(base)}')
    p, b = normalize(path), normalize(base)
    return '\\'.join(components(p)[len(components(b)):])


def parent(path: str) -> str:
    """Return the folder holding ``path`` (the root itself for a root)."""
    p = normalize(path)
    names = components(p)
    root = root_of(p)
    if not names:
        return root
    return root if len(names) == 1 else root.rstrip('\\') + '\\' + '\\'.join(names[:-1])


def basename(path: str) -> str:
    """Return the last name of ``path`` (``''`` for a root)."""
    names = components(normalize(path))
    return names[-1] if names else ''


def validate_content_relpath(relpath: str, what: str = 'manifest path') -> str:
    """Check a path relative to ``WsusContent`` (from a bundle manifest) and return it normalised.

    It must be relative (no drive, no UNC, no leading separator), with no ``.`` or ``..`` or
    empty segments, and every name valid by :func:`check_name`. Both separators are
    accepted; the result uses backslashes. A manifest is data from another network, so this
    is the guard that keeps a crafted manifest from writing outside ``WsusContent``.
    """
    if not isinstance(relpath, str) or not relpath:
        raise WinPathError(f'{what} must be a non-empty string')
    if '\0' in relpath:
        raise WinPathError(f'{what} {_show(relpath)} contains a NUL character')
    text = relpath.replace('/', '\\')
    if text.startswith('\\'):
        raise WinPathError(f'{what} {_show(relpath)} is absolute; paths in a manifest are relative to WsusContent')
    if _DRIVE_RE.match(text):
        raise WinPathError(f'{what} {_show(relpath)} names a drive; paths in a manifest are relative to WsusContent')
    names = text.split('\\')
    for name in names:
        if name in ('', '.', '..'):
            raise WinPathError(f'{what} {_show(relpath)} contains an empty, "." or ".." segment; it must stay inside WsusContent')
        check_name(name, what)
    return '\\'.join(names)
