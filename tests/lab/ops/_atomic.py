"""Writing a file as digest_write.ps1 and file_copy.ps1 do: unless it already holds the bytes, a temporary
file in the same folder (flushed), then ``File.Replace`` (or ``File.Move`` for a new file); the .NET
errors each step throws, at the script's line."""
from __future__ import annotations

import typing as t
import uuid

from ..windows.errors import WinError
from . import HostScriptError
from . import _dotnet as net

ERROR_DISK_FULL = 112


def write_replacing(host: t.Any, operation: str, full: str, data: bytes) -> bool:
    """Write ``data`` to ``full``; whether it wrote (False: the file held exactly these bytes)."""
    fs = host.fs
    if net.dir_exists(host, full, None):
        raise HostScriptError.thrown(operation, 'because it is a folder', 'cannot write %s because it is a folder' % full)
    try:
        if net.file_exists(host, full, None) and fs.read_bytes(full) == data:
            return False
    except WinError as exc:
        raise HostScriptError.method(operation, 'ReadAllBytes($full)', 'ReadAllBytes', 1, exc.dotnet_message) from None
    target = fs.parse(full)
    try:
        fs.mkdir(target.parent)
    except WinError as exc:
        raise HostScriptError.method(operation, 'CreateDirectory', 'CreateDirectory', 1, exc.dotnet_message) from None
    temp = target.parent.joinpath('.%s.%s.tmp' % (target.name, uuid.uuid4().hex))
    try:
        try:
            fs.write_bytes(temp, data)
        except WinError as exc:
            if exc.code == ERROR_DISK_FULL:
                raise HostScriptError.method(operation, '$stream.Flush', 'Flush', 1, exc.dotnet_message) from None
            raise HostScriptError.method(operation, 'New-Object -TypeName System.IO.FileStream', '.ctor', 4, exc.dotnet_message) from None
        try:
            fs.replace(temp, target)
        except WinError as exc:
            raise HostScriptError.method(operation, '[System.IO.File]::Move($temp, $full)', 'Move', 2, exc.dotnet_message) from None
    finally:
        if fs.is_file(temp):
            fs.delete_file(temp)
    return True
