"""Twin of ``dir_list.ps1``: the immediate children of one folder, in NTFS order.

As the script: ``Directory.Exists`` decides (an invalid path or unknown drive is simply not a
folder), and each entry is ``[name, is_dir, size]`` with no size for a folder.
"""
from __future__ import annotations

import typing as t

from . import _dotnet as net

OPERATION = 'dir_list'
INPUT = ('Path',)
OUTPUT = ('path', 'exists', 'entries')


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    path = params['Path']
    cwd = getattr(ctx, 'cwd', None)
    if not net.dir_exists(host, path, cwd):
        return {'path': path, 'exists': False, 'entries': []}
    entries = [[info.name, info.is_dir, None if info.is_dir else info.size] for info in host.fs.listdir(path, cwd)]
    return {'path': path, 'exists': True, 'entries': entries}
