"""Hashing files the way file_hash.ps1 and content_inventory.ps1 do: one read feeding every
requested algorithm, upper-case hex, and the error ``New-Object FileStream`` throws for a file
that cannot be opened."""
from __future__ import annotations

import hashlib
import typing as t

from ..windows.errors import WinError
from . import HostScriptError, method_message

CHUNK = 1024 * 1024
SUPPORTED = ('sha1', 'sha256')


def algorithm_names(operation: str, algorithms: t.Iterable[t.Any]) -> t.List[str]:
    """Lower-cased, de-duplicated in order; anything but sha1/sha256 is the script's ``throw``."""
    names: t.List[str] = []
    for item in algorithms or []:
        name = ('' if item is None else str(item)).lower()
        if name not in names:
            names.append(name)
    for name in names:
        if name not in SUPPORTED:
            raise HostScriptError.thrown(operation, 'unsupported hash algorithm',
                                         "unsupported hash algorithm '%s': use sha1 or sha256" % name)
    return names


def hash_file(host: t.Any, path: t.Any, names: t.Sequence[str], cwd: t.Any = None) -> t.Tuple[t.Optional[int], t.List[t.Optional[str]], t.Optional[str]]:
    """(size, hex digests in ``names`` order, error message) of one file."""
    try:
        handle = host.fs.open_read(path, cwd)
    except WinError as exc:
        return None, [None] * len(names), method_message('.ctor', 6, exc.dotnet_message)
    with handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(0)
        hashers = [hashlib.new(name) for name in names]
        while True:
            block = handle.read(CHUNK)
            if not block:
                break
            for hasher in hashers:
                hasher.update(block)
    return size, [h.hexdigest().upper() for h in hashers], None
