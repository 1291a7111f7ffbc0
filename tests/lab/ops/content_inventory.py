"""Twin of ``content_inventory.ps1``: every file under ``Root`` as ``[relative_path, size,
hash...]``, in the order the script lists them (depth first, each folder's files before its
subfolders, names in NTFS order), with the total count and bytes.

A folder that cannot be listed, or a file that cannot be hashed, goes to ``errors`` with the
message PowerShell would show; the inventory goes on.
"""
from __future__ import annotations

import re
import typing as t

from ..windows.errors import WinError
from ..windows.paths import WinPath
from . import method_message
from . import _dotnet as net
from ._hashing import algorithm_names, hash_file

OPERATION = 'content_inventory'
INPUT = ('Root', 'Algorithms?')
OUTPUT = ('root', 'exists', 'files', 'count', 'bytes', 'errors')


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    names = algorithm_names(OPERATION, params.get('Algorithms') or [])
    cwd = getattr(ctx, 'cwd', None)
    root = params['Root'].rstrip('\\')
    if re.match(r'^[A-Za-z]:$', root):
        root += '\\'
    exists = net.dir_exists(host, root, cwd)
    records: t.List[t.List[t.Any]] = []
    errors: t.List[t.Dict[str, t.Any]] = []
    total = 0
    if exists:
        top = host.fs.parse(root, cwd)
        display_top = root.rstrip('\\')
        stack: t.List[WinPath] = [top]
        while stack:
            folder = stack.pop()
            shown = _display(display_top, folder.parts[len(top.parts):])
            try:
                children = host.fs.listdir(folder)
            except WinError as exc:
                errors.append({'path': shown, 'error': method_message('GetFileSystemInfos', 0, exc.dotnet_message)})
                continue
            subfolders = []
            for child in children:
                if child.is_dir:
                    if not child.real.is_symlink():
                        subfolders.append(child.path)
                else:
                    records.append(['\\'.join(child.path.parts[len(top.parts):]), child.size])
                    total += child.size
            stack.extend(reversed(subfolders))
    if names and records:
        for record in records:
            full = _display(root.rstrip('\\'), tuple(record[0].split('\\')))
            _size, digests, error = hash_file(host, full, names, cwd)
            record.extend(digests)
            if error is not None:
                errors.append({'path': full, 'error': error})
    return {'root': root, 'exists': exists, 'files': records, 'count': len(records), 'bytes': total, 'errors': errors}


def _display(top: str, names: t.Sequence[str]) -> str:
    """The path as ``DirectoryInfo.FullName`` shows it: the root as given, then stored names."""
    return '\\'.join([top] + list(names)) if names else (top if not top.endswith(':') else top + '\\')
