"""Twin of ``file_read.ps1``: the first ``MaxBytes`` (default 1 MiB) of a file, base64-encoded.

The file is opened with full sharing (a log still being written can be read); a missing file
is ``exists: false``. A file held without sharing by another process fails the call with the
error ``New-Object`` throws.
"""
from __future__ import annotations

import base64
import typing as t

from ..windows.errors import WinError
from . import HostScriptError
from . import _dotnet as net

OPERATION = 'file_read'
INPUT = ('Path', 'MaxBytes?')
OUTPUT = ('path', 'exists', 'size', 'content_b64')


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    path = params['Path']
    max_bytes = params.get('MaxBytes', 1048576)
    cwd = getattr(ctx, 'cwd', None)
    result = {'path': path, 'exists': False, 'size': None, 'content_b64': None}
    if not net.file_exists(host, path, cwd):
        return result
    try:
        with host.fs.open_read(path, cwd) as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(0)
            data = handle.read(min(size, max_bytes))
    except WinError as exc:
        raise HostScriptError.method(OPERATION, 'New-Object -TypeName System.IO.FileStream', '.ctor', 4,
                                     exc.dotnet_message) from None
    result.update(exists=True, size=size, content_b64=base64.b64encode(data).decode('ascii'))
    return result
