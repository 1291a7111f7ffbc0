"""Twin of ``file_write.ps1``: write a file atomically (temp file in the same folder, then
replace), creating missing folders; unchanged content or ``Overwrite: false`` leaves an
existing file alone (``changed: false``).
"""
from __future__ import annotations

import base64
import binascii
import typing as t
import uuid

from ..windows.errors import WinError
from . import HostScriptError
from . import _dotnet as net

OPERATION = 'file_write'
INPUT = ('Path', 'ContentB64', 'Overwrite?')
OUTPUT = ('path', 'changed', 'size')


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    path = params['Path']
    overwrite = params.get('Overwrite', True)
    cwd = getattr(ctx, 'cwd', None)
    try:
        data = base64.b64decode(params['ContentB64'], validate=True)
    except (binascii.Error, ValueError):
        raise HostScriptError.method(OPERATION, 'FromBase64String', 'FromBase64String', 1,
                                     'The input is not a valid Base-64 string as it contains a non-base 64 character, '
                                     'more than two padding characters, or an illegal character among the padding '
                                     'characters. ') from None
    full = net.full_path_text(host, path, cwd)
    if full is None:
        try:
            host.fs.parse(path, cwd)
        except WinError as exc:
            raise HostScriptError.method(OPERATION, 'GetFullPath', 'GetFullPath', 1, exc.dotnet_message) from None
        raise HostScriptError.method(OPERATION, 'GetFullPath', 'GetFullPath', 1, 'The path is not of a legal form.')
    fs = host.fs
    if net.dir_exists(host, full, None):
        raise HostScriptError.thrown(OPERATION, 'because it is a folder', 'cannot write %s because it is a folder' % full)
    try:
        if net.file_exists(host, full, None):
            existing = fs.stat(full)
            if not overwrite:
                return {'path': full, 'changed': False, 'size': existing.size}
            if existing.size == len(data) and fs.read_bytes(full) == data:
                return {'path': full, 'changed': False, 'size': existing.size}
    except WinError as exc:
        raise HostScriptError.method(OPERATION, 'ReadAllBytes', 'ReadAllBytes', 1, exc.dotnet_message) from None

    wp = fs.parse(full)
    try:
        fs.mkdir(wp.parent)
    except WinError as exc:
        raise HostScriptError.method(OPERATION, 'CreateDirectory', 'CreateDirectory', 1, exc.dotnet_message) from None
    temp = wp.parent.joinpath('.%s.%s.tmp' % (wp.name, uuid.uuid4().hex))
    try:
        try:
            fs.write_bytes(temp, data)
        except WinError as exc:
            if exc.code == 112:
                raise HostScriptError.method(OPERATION, '$stream.Flush', 'Flush', 1, exc.dotnet_message) from None
            raise HostScriptError.method(OPERATION, 'New-Object -TypeName System.IO.FileStream', '.ctor', 4,
                                         exc.dotnet_message) from None
        try:
            fs.replace(temp, wp)
        except WinError as exc:
            raise HostScriptError.method(OPERATION, '[System.IO.File]::Move($temp, $full)', 'Move', 2,
                                         exc.dotnet_message) from None
    finally:
        if fs.is_file(temp):
            fs.delete_file(temp)
    return {'path': full, 'changed': True, 'size': len(data)}
