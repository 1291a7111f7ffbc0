"""Twin of ``path_info.ps1``: existence, type and size of each path, and its volume's facts.

As the script: ``File.Exists``/``Directory.Exists`` (False for an invalid, relative-to-nothing
or unknown-drive path, never an error), the size of files only, and volume facts from the
path's root even when the path does not exist yet (``DriveInfo`` for a drive letter, the
FileSystemObject for a share; an unknown drive is ``norootdirectory`` with null space).
"""
from __future__ import annotations

import typing as t

from . import _dotnet as net

OPERATION = 'path_info'
INPUT = ('Paths',)
OUTPUT = ('paths',)


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    cwd = getattr(ctx, 'cwd', None)
    cache: t.Dict[str, t.Any] = {}
    entries = []
    for path in params['Paths']:
        entry: t.Dict[str, t.Any] = {'path': path, 'exists': False, 'is_dir': False, 'size': None, 'free_bytes': None,
                                     'total_bytes': None, 'file_system': None, 'drive_type': None}
        if net.file_exists(host, path, cwd):
            entry['exists'] = True
            entry['size'] = host.fs.stat(path, cwd).size
        elif net.dir_exists(host, path, cwd):
            entry['exists'] = True
            entry['is_dir'] = True
        root = net.path_root(path)
        if root:
            key = root.upper()
            if key not in cache:
                cache[key] = net.volume_facts(host, path)
            if cache[key] is not None:
                entry.update(cache[key])
        entries.append(entry)
    return {'paths': entries}
