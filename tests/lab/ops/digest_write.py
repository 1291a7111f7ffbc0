"""Twin of ``digest_write.ps1``: a digest file (raw 20-byte SHA-1s, sorted ascending without
repeats) made of the digests named by the files under ``Root``, those of the ``Sources`` digest
files and ``Digests``; written atomically to ``Path`` unless it already holds these bytes.
"""
from __future__ import annotations

import hashlib
import re
import typing as t

from . import HostScriptError
from . import _atomic, _digests
from . import _dotnet as net

OPERATION = 'digest_write'
INPUT = ('Path?', 'Root?', 'Sources?', 'Digests?')
OUTPUT = ('path', 'root_exists', 'changed', 'count', 'size', 'sha256', 'sources', 'files', 'errors')
_HEX40 = re.compile(r'[0-9A-F]{40}')


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    cwd = getattr(ctx, 'cwd', None)
    digests: t.Set[str] = set()
    for item in params.get('Digests') or []:
        text = str(item).upper()
        if not _HEX40.fullmatch(text):
            raise HostScriptError.thrown(OPERATION, 'is not a SHA-1 digest', "'%s' is not a SHA-1 digest (40 hex digits)" % item)
        digests.add(text)
    sources = [_digests.read_digest_file(host, str(path), cwd, digests) for path in params.get('Sources') or []]
    errors: t.List[t.Dict[str, t.Any]] = []
    listed = 0
    root_exists = None
    if params.get('Root'):
        root = _digests.root_path(params['Root'])
        root_exists = net.dir_exists(host, root, cwd)
        if root_exists:
            for relative, _size in _digests.walk(host, root, cwd, errors):
                listed += 1
                digest = _digests.digest_of_name(relative)
                if digest is not None:
                    digests.add(digest)
    data = b''.join(bytes.fromhex(digest) for digest in sorted(digests))
    sha256 = hashlib.sha256(data).hexdigest()
    full = None
    changed = False
    if params.get('Path'):
        full = net.full_path_text(host, params['Path'], cwd)
        if full is None:
            raise HostScriptError.method(OPERATION, 'GetFullPath', 'GetFullPath', 1, 'The path is not of a legal form.')
        changed = _atomic.write_replacing(host, OPERATION, full, data)
    return {'path': full, 'root_exists': root_exists, 'changed': changed, 'count': len(digests), 'size': len(data),
            'sha256': sha256, 'sources': sources, 'files': listed, 'errors': errors}
