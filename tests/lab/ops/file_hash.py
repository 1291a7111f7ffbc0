"""Twin of ``file_hash.ps1``: SHA-1 and/or SHA-256 of files, upper-case hex, in ``Paths`` order.

Each entry is ``{path, exists, size, <algorithm>...}``; a file that cannot be read keeps
``exists: true`` with null hashes and gains ``error``; a folder gains ``error`` too. Only an
unsupported algorithm fails the call.
"""
from __future__ import annotations

import typing as t

from . import _dotnet as net
from ._hashing import algorithm_names, hash_file

OPERATION = 'file_hash'
INPUT = ('Paths', 'Algorithms')
OUTPUT = ('files',)


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    names = algorithm_names(OPERATION, params['Algorithms'])
    cwd = getattr(ctx, 'cwd', None)
    files = []
    for path in params['Paths']:
        entry: t.Dict[str, t.Any] = {'path': path, 'exists': False, 'size': None}
        for name in names:
            entry[name] = None
        if net.file_exists(host, path, cwd):
            entry['exists'] = True
            size, digests, error = hash_file(host, path, names, cwd)
            entry['size'] = size
            if error is None:
                entry.update(zip(names, digests))
            else:
                entry['error'] = error
        elif net.dir_exists(host, path, cwd):
            entry['error'] = 'the path is a folder, not a file'
        files.append(entry)
    return {'files': files}
