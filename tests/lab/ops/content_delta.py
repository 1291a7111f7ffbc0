"""Twin of ``content_delta.ps1``: the files under ``Root`` the other side does not hold.

A file is left out when its relative path states its SHA-1 (``XX\\<SHA-1>.<ext>``) and that
digest is in one of the ``Held`` digest files, unless ``Include`` names it (any case, ``/`` or
``\\``). Everything else is listed as ``[relative_path, size]`` in the script's order; each
digest file is reported with the SHA-256 of its bytes, or with the script's error.
"""
from __future__ import annotations

import typing as t

from . import _digests
from . import _dotnet as net

OPERATION = 'content_delta'
INPUT = ('Root', 'Held?', 'Include?')
OUTPUT = ('root', 'exists', 'files', 'count', 'bytes', 'held_count', 'held_bytes', 'sources', 'errors')


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    cwd = getattr(ctx, 'cwd', None)
    held: t.Set[str] = set()
    sources = [_digests.read_digest_file(host, str(path), cwd, held) for path in params.get('Held') or []]
    wanted = {str(item).replace('/', '\\').upper() for item in params.get('Include') or []}
    root = _digests.root_path(params['Root'])
    exists = net.dir_exists(host, root, cwd)
    files: t.List[t.List[t.Any]] = []
    errors: t.List[t.Dict[str, t.Any]] = []
    count = total = held_count = held_bytes = 0
    if exists:
        for relative, size in _digests.walk(host, root, cwd, errors):
            count += 1
            total += size
            digest = _digests.digest_of_name(relative)
            if digest is not None and digest in held and relative.upper() not in wanted:
                held_count += 1
                held_bytes += size
            else:
                files.append([relative, size])
    return {'root': root, 'exists': exists, 'files': files, 'count': count, 'bytes': total, 'held_count': held_count,
            'held_bytes': held_bytes, 'sources': sources, 'errors': errors}
