"""Win32 error codes with the texts Windows prints for them, and the .NET wording of the same.

Native tools (robocopy, cmd.exe) print ``FormatMessage`` texts; host scripts run on .NET
Framework 4.x (PowerShell 5.1), whose exceptions word the same failures differently and name
the path. :class:`WinError` carries both, so each emulated program can say what its real
counterpart would.
"""
from __future__ import annotations

import typing as t

ERROR_INVALID_FUNCTION = 1
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_DRIVE = 15
ERROR_SHARING_VIOLATION = 32
ERROR_BAD_NETPATH = 53
ERROR_BAD_NET_NAME = 67
ERROR_FILE_EXISTS = 80
ERROR_INVALID_PARAMETER = 87
ERROR_DISK_FULL = 112
ERROR_INVALID_NAME = 123
ERROR_DIR_NOT_EMPTY = 145
ERROR_ALREADY_EXISTS = 183
ERROR_FILENAME_EXCED_RANGE = 206
ERROR_FILE_TOO_LARGE = 223
ERROR_DIRECTORY = 267

MESSAGES = {
    ERROR_INVALID_FUNCTION: 'Incorrect function.',
    ERROR_FILE_NOT_FOUND: 'The system cannot find the file specified.',
    ERROR_PATH_NOT_FOUND: 'The system cannot find the path specified.',
    ERROR_ACCESS_DENIED: 'Access is denied.',
    ERROR_INVALID_DRIVE: 'The system cannot find the drive specified.',
    ERROR_SHARING_VIOLATION: 'The process cannot access the file because it is being used by another process.',
    ERROR_BAD_NETPATH: 'The network path was not found.',
    ERROR_BAD_NET_NAME: 'The network name cannot be found.',
    ERROR_FILE_EXISTS: 'The file exists.',
    ERROR_INVALID_PARAMETER: 'The parameter is incorrect.',
    ERROR_DISK_FULL: 'There is not enough space on the disk.',
    ERROR_INVALID_NAME: 'The filename, directory name, or volume label syntax is incorrect.',
    ERROR_DIR_NOT_EMPTY: 'The directory is not empty.',
    ERROR_ALREADY_EXISTS: 'Cannot create a file when that file already exists.',
    ERROR_FILENAME_EXCED_RANGE: 'The filename or extension is too long.',
    ERROR_FILE_TOO_LARGE: 'The file size exceeds the limit allowed and cannot be saved.',
    ERROR_DIRECTORY: 'The directory name is invalid.',
}

# .NET Framework 4.x (__Error.WinIOError) wording, keyed by error code; ``{path}`` is the path
# the caller passed. Codes without an entry use the FormatMessage text.
_DOTNET = {
    ERROR_FILE_NOT_FOUND: "Could not find file '{path}'.",
    ERROR_PATH_NOT_FOUND: "Could not find a part of the path '{path}'.",
    ERROR_ACCESS_DENIED: "Access to the path '{path}' is denied.",
    ERROR_SHARING_VIOLATION: "The process cannot access the file '{path}' because it is being used by another process.",
    ERROR_FILE_EXISTS: "The file '{path}' already exists.",
    ERROR_ALREADY_EXISTS: "Cannot create \"{path}\" because a file or directory with the same name already exists.",
    ERROR_INVALID_NAME: 'The filename, directory name, or volume label syntax is incorrect. : \'{path}\'',
}

_DOTNET_TYPES = {
    ERROR_FILE_NOT_FOUND: 'System.IO.FileNotFoundException',
    ERROR_PATH_NOT_FOUND: 'System.IO.DirectoryNotFoundException',
    ERROR_ACCESS_DENIED: 'System.UnauthorizedAccessException',
    ERROR_INVALID_DRIVE: 'System.IO.DriveNotFoundException',
}


class WinError(OSError):
    """A Win32 error: ``code``, the system ``message``, and the path it concerns.

    ``ps_message`` overrides the .NET wording where .NET says something else than its usual
    template (``Illegal characters in path.``); ``provider_message`` is what a PowerShell
    provider cmdlet (``Join-Path``, ``Get-Item``) says instead, as for an unknown drive.
    """

    def __init__(self, code: int, path: t.Optional[str] = None, message: t.Optional[str] = None,
                 ps_message: t.Optional[str] = None, provider_message: t.Optional[str] = None) -> None:
        self.code = code
        self.path = path
        self.message = message or MESSAGES.get(code, 'Windows error %d.' % code)
        self.ps_message = ps_message
        self.provider_message = provider_message or self.dotnet_message
        super().__init__(code, self.message if path is None else '%s (%s)' % (self.message, path))

    @property
    def hex(self) -> str:
        """The code as robocopy prints it: ``0x00000020``."""
        return '0x%08X' % self.code

    @property
    def dotnet_message(self) -> str:
        """What a .NET Framework file API would put in its exception for this error."""
        if self.ps_message:
            return self.ps_message
        template = _DOTNET.get(self.code)
        if template and self.path is not None:
            return template.format(path=self.path)
        return self.message

    @property
    def dotnet_type(self) -> str:
        """The .NET exception type PowerShell would report."""
        return _DOTNET_TYPES.get(self.code, 'System.IO.IOException')


def drive_not_found(letter: str, path: str) -> WinError:
    """An unknown drive letter: Win32 says path-not-found, PowerShell names the drive."""
    return WinError(ERROR_PATH_NOT_FOUND, path,
                    provider_message="Cannot find drive. A drive with the name '%s' does not exist." % letter)
