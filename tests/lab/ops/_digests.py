"""What content_delta.ps1 and digest_write.ps1 share: walking a content folder, telling which
files state their SHA-1 by name, and reading digest files (raw 20-byte SHA-1s, sorted
ascending without repeats), with the words the scripts use for a file they refuse."""
from __future__ import annotations

import hashlib
import re
import typing as t

from ..windows.errors import WinError
from ..windows.paths import WinPath
from . import method_message
from . import _dotnet as net

DIGEST_SIZE = 20
# The scripts' regex: XX\<40 upper-case hex digits>.<ext>, XX the digest's last two digits; case matters.
HASH_NAME = re.compile(r'([0-9A-F]{2})\\([0-9A-F]{38}\1)\.[A-Za-z0-9]{1,16}')


def digest_of_name(relative: str) -> t.Optional[str]:
    """The upper-case hex SHA-1 a relative path states (``XX\\<SHA-1>.<ext>``), or None."""
    match = HASH_NAME.fullmatch(relative)
    return match.group(2) if match else None


def root_path(root: str) -> str:
    """``$Root.TrimEnd('\\')``, with a bare drive (``D:``) given back its backslash."""
    path = root.rstrip('\\')
    if re.match(r'^[A-Za-z]:$', path):
        path += '\\'
    return path


def walk(host: t.Any, root: str, cwd: t.Any, errors: t.List[t.Dict[str, t.Any]]) -> t.Iterator[t.Tuple[str, int]]:
    """``(relative path, size)`` of every file under ``root``, depth first, each folder's files before its
    subfolders in NTFS order; junctions are not entered; a folder that cannot be listed goes to ``errors``."""
    top = host.fs.parse(root, cwd)
    shown_top = root.rstrip('\\')
    stack: t.List[WinPath] = [top]
    while stack:
        folder = stack.pop()
        names = folder.parts[len(top.parts):]
        try:
            children = host.fs.listdir(folder)
        except WinError as exc:
            shown = '\\'.join([shown_top] + list(names)) if names else root
            errors.append({'path': shown, 'error': method_message('GetFileSystemInfos', 0, exc.dotnet_message)})
            continue
        subfolders = []
        for child in children:
            if child.is_dir:
                if not child.real.is_symlink():
                    subfolders.append(child.path)
            else:
                yield '\\'.join(child.path.parts[len(top.parts):]), child.size
        stack.extend(reversed(subfolders))


def read_digest_file(host: t.Any, path: str, cwd: t.Any, into: t.Set[str]) -> t.Dict[str, t.Any]:
    """``Read-DigestFile``: add a digest file's digests to ``into`` (upper-case hex) and report on it."""
    report: t.Dict[str, t.Any] = {'path': path, 'exists': False, 'size': None, 'count': None, 'sha256': None, 'error': None}
    if not net.file_exists(host, path, cwd):
        report['error'] = 'the file does not exist'
        return report
    report['exists'] = True
    try:
        data = host.fs.read_bytes(path, cwd)
    except WinError as exc:
        report['error'] = exc.dotnet_message
        return report
    report['size'] = len(data)
    report['sha256'] = hashlib.sha256(data).hexdigest()
    if len(data) % DIGEST_SIZE:
        report['error'] = '%d bytes are not a whole number of 20-byte SHA-1 digests' % len(data)
        return report
    found = []
    previous = b''
    for index in range(0, len(data), DIGEST_SIZE):
        digest = data[index:index + DIGEST_SIZE]
        if digest <= previous:
            report['error'] = 'the digests are not sorted ascending without repeats (at digest %d)' % (index // DIGEST_SIZE + 1)
            return report
        found.append(digest.hex().upper())
        previous = digest
    into.update(found)
    report['count'] = len(found)
    return report
