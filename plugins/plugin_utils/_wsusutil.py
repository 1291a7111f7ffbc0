"""WsusUtil.exe: arguments for export, import and reset, and what its output and package say.

Facts (REFERENCE.md section 2): ``WsusUtil.exe export|import <package> <logfile>``; the tool
lives in ``<TargetDir>\\Tools``; it must run on the WSUS server, as a local administrator;
exit code 0 means success but a zero-size or missing package has been seen after a
"successful" export; its log format is undocumented, so the log is free text: its tail is
kept for the user and searched for a few known failure phrases.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import _winpath
from ._errors import AirgapWsusError

OPERATIONS = ('export', 'import', 'reset')
PACKAGE_SUFFIXES = ('.xml.gz', '.cab')
# gzip streams start with 1F 8B; cabinet files with "MSCF".
_MAGIC = {b'\x1f\x8b': 'gzip', b'MSCF': 'cab'}
# The smallest gzip member is 20 bytes (10-byte header, empty deflate block, 8-byte trailer).
MIN_PACKAGE_SIZE = 20
TAIL_CHARS = 4000

# Phrases seen in WsusUtil or .NET output when an operation fails. Lower-case; matched
# case-insensitively. Each maps to the explanation shown to the user.
FAILURE_PHRASES = (
    ('incomplete or invalid parameters specified', 'WsusUtil rejected its arguments'),
    ('unexpected end of file', 'the package is truncated (copy it again and check its hash)'),
    ('elements are not closed', 'the package is truncated (copy it again and check its hash)'),
    ('the magic number in gzip header is not correct', 'the package is not a gzip file'),
    ('access is denied', 'access denied: run as a local administrator, and check the package and log folders'),
    ('unauthorizedaccessexception', 'access denied: run as a local administrator, and check the package and log folders'),
    ('there is not enough space on the disk', 'the disk is full'),
    ('the process cannot access the file', 'another process holds the package or log file open'),
    ('cannot open database', 'SUSDB could not be opened (is the database service running?)'),
    ('login failed', 'SUSDB refused the login (run as a local administrator)'),
    ('timeout expired', 'a SUSDB command timed out'),
    ('outofmemoryexception', 'WsusUtil ran out of memory'),
    ('sqlexception', 'SUSDB reported an error'),
    ('unhandled exception', 'WsusUtil crashed'),
    ('import failed', 'the import failed'),
    ('export failed', 'the export failed'),
)
SUCCESS_PHRASES = ('successfully imported', 'successfully exported')


class WsusUtilError(AirgapWsusError, ValueError):
    """Arguments that WsusUtil cannot be given."""


def wsusutil_path(target_dir: str) -> str:
    """Return ``<TargetDir>\\Tools\\WsusUtil.exe`` (TargetDir from the Setup registry key)."""
    return _winpath.join(_winpath.normalize(target_dir, 'WSUS TargetDir'), 'Tools', 'WsusUtil.exe')


def check_package_name(package: str) -> str:
    """Return normalised ``package`` path; it must end with ``.xml.gz`` or ``.cab``."""
    path = _winpath.normalize(package, 'package')
    if not path.lower().endswith(PACKAGE_SUFFIXES):
        raise WsusUtilError(f'package {path} must end with .xml.gz (modern servers) or .cab (legacy); '
                            'WsusUtil picks the format from the name')
    return path


def export_args(package: str, log_path: str) -> list[str]:
    """Arguments for ``WsusUtil.exe export <package> <log>``."""
    return _package_args('export', package, log_path)


def import_args(package: str, log_path: str) -> list[str]:
    """Arguments for ``WsusUtil.exe import <package> <log>``."""
    return _package_args('import', package, log_path)


def reset_args() -> list[str]:
    """Arguments for ``WsusUtil.exe reset`` (re-verify every file; returns before the work ends)."""
    return ['reset']


def _package_args(operation: str, package: str, log_path: str) -> list[str]:
    package = check_package_name(package)
    log_path = _winpath.normalize(log_path, 'WsusUtil log path')
    if _winpath.same_path(package, log_path):
        raise WsusUtilError('the package and the log file must be different files')
    return [operation, package, log_path]


@dataclass
class PackageCheck:
    """Whether a package file looks usable, and why not."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    format: str | None = None


def check_package(info: dict, head: bytes | None = None) -> PackageCheck:
    """Judge a package from ``path_info`` facts (``exists``, ``is_dir``, ``size``) and its first bytes.

    A missing, empty or tiny file fails: WsusUtil has been seen to exit 0 and leave exactly
    that. When ``head`` (the file's first bytes) is given, its signature must be gzip or CAB.
    """
    problems = []
    fmt = None
    if not info.get('exists'):
        problems.append(f'the package {info.get("path", "")} does not exist')
    elif info.get('is_dir'):
        problems.append(f'the package path {info.get("path", "")} is a folder')
    else:
        size = info.get('size') or 0
        if size == 0:
            problems.append('the package is empty (0 bytes): WsusUtil wrote no metadata')
        elif size < MIN_PACKAGE_SIZE:
            problems.append(f'the package is only {size} bytes long, too short to hold metadata')
        if head is not None and size:
            fmt = next((name for magic, name in _MAGIC.items() if head.startswith(magic)), None)
            if fmt is None:
                problems.append('the package is neither gzip (.xml.gz) nor CAB: its first bytes are ' + head[:8].hex(' ').upper())
    return PackageCheck(ok=not problems, problems=problems, format=fmt)


@dataclass
class LogAssessment:
    """What WsusUtil's exit code and output say."""

    ok: bool
    exit_code: int | None
    failures: list[str]
    success_phrase: bool
    tail: str


def tail_text(text: str, limit: int = TAIL_CHARS) -> str:
    """Return the last ``limit`` characters of ``text``, starting at a line boundary when possible."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find('\n')
    return cut[newline + 1:] if 0 <= newline < limit // 2 else cut


def assess_output(exit_code: int | None, text: str) -> LogAssessment:
    """Judge a WsusUtil run from its exit code and its log/console text (free text).

    Only a zero exit code can pass; a known failure phrase fails even then. The success phrase
    is reported, never required: its exact text is unconfirmed.
    """
    text = text or ''
    lower = text.lower()
    failures = []
    for phrase, meaning in FAILURE_PHRASES:
        if phrase in lower and meaning not in failures:
            failures.append(meaning)
    if exit_code is None:
        failures.insert(0, 'WsusUtil did not report an exit code (it was killed or never ran)')
    elif exit_code != 0:
        failures.insert(0, f'WsusUtil exited with code {exit_code}')
    success = any(p in lower for p in SUCCESS_PHRASES)
    return LogAssessment(ok=not failures, exit_code=exit_code, failures=failures, success_phrase=success,
                         tail=tail_text(text.replace('\r\n', '\n')))


_SAFE_STEM = re.compile(r'[^A-Za-z0-9._-]+')


def unique_names(stem: str, timestamp: str) -> tuple[str, str]:
    """Return ``(package_file_name, log_file_name)`` unique per ``timestamp`` (WsusUtil wants unique names)."""
    base = _SAFE_STEM.sub('_', f'{stem}-{timestamp}').strip('._') or 'wsus-export'
    return f'{base}.xml.gz', f'{base}.log'
