r"""The .NET Framework and PowerShell calls the host scripts make, against the emulated host.

Each helper does what its namesake does on Windows PowerShell 5.1, so a twin reads like its
script: ``File.Exists`` is False for anything that is not a readable file path (invalid,
relative to nowhere, on an unknown drive); ``Path.GetPathRoot`` does not validate (it is
called with ``fullCheck: false``); ``Join-Path`` fails on a drive that does not exist;
``DriveInfo`` reports ``NoRootDirectory`` for one.
"""
from __future__ import annotations

import datetime
import json
import re
import time
import typing as t

from ..windows.errors import ERROR_SHARING_VIOLATION, WinError
from ..windows.paths import WinPath, fold
from . import HostScriptError

ISO_FORMAT = '%Y-%m-%dT%H:%M:%S'


def iso(moment: datetime.datetime) -> str:
    """``ToString('yyyy-MM-ddTHH:mm:ss.fffZ')`` of a UTC time."""
    moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime(ISO_FORMAT) + '.%03dZ' % (moment.microsecond // 1000)


def iso_now() -> str:
    return iso(datetime.datetime.now(datetime.timezone.utc))


def parse_iso(text: t.Any) -> t.Optional[datetime.datetime]:
    if not text:
        return None
    try:
        return datetime.datetime.strptime(str(text)[:23], ISO_FORMAT + '.%f').replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def full_path(host: t.Any, path: str, cwd: t.Any) -> t.Optional[WinPath]:
    """``GetFullPath``, or None where .NET would throw."""
    try:
        return host.fs.parse(path, cwd)
    except (WinError, ValueError, TypeError):
        return None


def full_path_text(host: t.Any, path: str, cwd: t.Any) -> t.Optional[str]:
    """``[System.IO.Path]::GetFullPath($path)`` as text (the drive letter keeps its case)."""
    wp = full_path(host, path, cwd)
    if wp is None:
        return None
    text = str(wp)
    if re.match(r'^[A-Za-z]:', path or ''):
        text = path[0] + text[1:]
    return text


def file_exists(host: t.Any, path: t.Any, cwd: t.Any) -> bool:
    """``[System.IO.File]::Exists``."""
    if not isinstance(path, str) or not path:
        return False
    try:
        return host.fs.is_file(path, cwd)
    except (WinError, ValueError):
        return False


def dir_exists(host: t.Any, path: t.Any, cwd: t.Any) -> bool:
    """``[System.IO.Directory]::Exists``."""
    if not isinstance(path, str) or not path:
        return False
    try:
        return host.fs.is_dir(path, cwd)
    except (WinError, ValueError):
        return False


def path_root(path: t.Any) -> t.Optional[str]:
    """``[System.IO.Path]::GetPathRoot``: ``C:\\``, ``C:``, ``\\\\server\\share``, ``\\`` or ``''``."""
    if path is None:
        return None
    text = str(path).replace('/', '\\')
    if text.startswith('\\\\'):
        parts = text[2:].split('\\')
        return '\\\\' + '\\'.join(parts[:2]) if len(parts) >= 2 else text
    if len(text) >= 2 and text[1] == ':':
        return text[:3] if text[2:3] == '\\' else text[:2]
    if text.startswith('\\'):
        return '\\'
    return ''


def volume_facts(host: t.Any, path: t.Any) -> t.Optional[t.Dict[str, t.Any]]:
    """``Get-VolumeFacts`` of path_info.ps1 (the same logic as job_poll's ``Get-FreeBytes``).

    A drive letter is read with ``DriveInfo`` (an unknown one is ``norootdirectory``, not
    ready); a UNC share with ``Scripting.FileSystemObject`` (``network``); anything else (an
    unreachable share, a relative path) gives no facts at all or all nulls.
    """
    root = path_root(path)
    if not root:
        return None
    facts: t.Dict[str, t.Any] = {'free_bytes': None, 'total_bytes': None, 'file_system': None, 'drive_type': None}
    if re.match(r'^[A-Za-z]:\\?$', root):
        try:
            info = host.fs.volume_info(root[:2] + '\\')
        except WinError:
            facts['drive_type'] = 'norootdirectory'
            return facts
        facts.update(free_bytes=info.free_bytes, total_bytes=info.total_bytes, file_system=info.file_system,
                     drive_type=info.drive_type.lower())
        return facts
    if not root.startswith('\\\\') or root.count('\\') < 3:
        return facts
    try:
        info = host.fs.volume_info(root + '\\')
    except (WinError, ValueError):
        return facts
    facts.update(free_bytes=info.free_bytes, total_bytes=info.total_bytes, file_system=info.file_system,
                 drive_type='network')
    return facts


def join_path(host: t.Any, operation: str, needle: str, path: str, child: str) -> str:
    """``Join-Path -Path $path -ChildPath $child``: the drive must exist (PowerShell checks it)."""
    match = re.match(r'^([A-Za-z]):', path or '')
    if match:
        letter = match.group(1).upper()
        if not any(d.letter and fold(d.letter) == letter for d in host.fs.drives()):
            raise HostScriptError.drive_not_found(operation, needle, match.group(1))
    return path.rstrip('\\') + '\\' + child.lstrip('\\')


def read_json_file(host: t.Any, operation: str, path: str, cwd: t.Any = None, sleep: t.Callable[[float], None] = time.sleep) -> t.Any:
    """``Read-JsonFile`` of the job scripts: None when missing or blank; a held file is retried
    five times 200 ms apart, then its error is thrown as the script would."""
    if not file_exists(host, path, cwd):
        return None
    for attempt in range(1, 6):
        try:
            data = host.fs.read_bytes(path, cwd)
            break
        except WinError as exc:
            if exc.code != ERROR_SHARING_VIOLATION or attempt >= 5:
                raise HostScriptError.method(operation, 'New-Object -TypeName System.IO.FileStream', '.ctor', 4,
                                             exc.dotnet_message) from None
            sleep(0.2)
    text = data.decode('utf-8', errors='replace').lstrip('\ufeff')
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise HostScriptError('Invalid JSON primitive: %s.' % text.strip()[:40], 'System.ArgumentException', 'NotSpecified',
                              0) from None


def write_text_atomic(host: t.Any, path: str, data: bytes, sleep: t.Callable[[float], None] = time.sleep,
                      attempts: int = 1) -> None:
    """``WriteAllText`` to ``<path>.<guid>.tmp``, then ``File.Replace``/``File.Move`` over ``path``;
    a held target is retried ``attempts`` times 200 ms apart."""
    import uuid  # pylint: disable=import-outside-toplevel
    temp = '%s.%s.tmp' % (path, uuid.uuid4().hex)
    host.fs.write_bytes(temp, data)
    for attempt in range(1, attempts + 1):
        try:
            host.fs.replace(temp, path)
            return
        except WinError as exc:
            if exc.code != ERROR_SHARING_VIOLATION or attempt >= attempts:
                raise
            sleep(0.2)


def ps_json(value: t.Any) -> bytes:
    """``ConvertTo-Json`` (indented) as UTF-8 without a BOM, as the job scripts write their files."""
    return json.dumps(value, indent=4).encode('utf-8')


def string_path(path: t.Any) -> str:
    """A JSON value as the ``[string]`` PowerShell would pass on."""
    return '' if path is None else str(path)
