"""Twin of ``file_copy.ps1``: copy a small file on the host atomically, unless the destination already holds its bytes."""
from __future__ import annotations

import hashlib
import typing as t

from ..windows.errors import WinError
from . import HostScriptError
from . import _atomic
from . import _dotnet as net

OPERATION = 'file_copy'
INPUT = ('Source', 'Destination')
OUTPUT = ('path', 'exists', 'changed', 'size', 'sha256')


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    cwd = getattr(ctx, 'cwd', None)
    full = net.full_path_text(host, params['Destination'], cwd)
    if full is None:
        raise HostScriptError.method(OPERATION, 'GetFullPath', 'GetFullPath', 1, 'The path is not of a legal form.')
    if not net.file_exists(host, params['Source'], cwd):
        return {'path': full, 'exists': False, 'changed': False, 'size': None, 'sha256': None}
    if net.dir_exists(host, full, None):
        raise HostScriptError.thrown(OPERATION, 'because it is a folder', 'cannot write %s because it is a folder' % full)
    try:
        data = host.fs.read_bytes(params['Source'], cwd)
    except WinError as exc:
        raise HostScriptError.method(OPERATION, 'ReadAllBytes($Source)', 'ReadAllBytes', 1, exc.dotnet_message) from None
    changed = _atomic.write_replacing(host, OPERATION, full, data)
    return {'path': full, 'exists': True, 'changed': changed, 'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()}
