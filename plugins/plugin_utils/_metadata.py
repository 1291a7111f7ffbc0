# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of the ``metadata`` module (WsusUtil export and import): pure, no I/O.

Export never writes onto the package the user named. WsusUtil writes a *staging* package
beside it (``export.partial.xml.gz`` for ``export.xml.gz``); only when WsusUtil exited 0 and
the staging package is a real gzip or CAB file of useful size does a second job rename it
over the package (``cmd.exe /c move /y``: ``MoveFileEx`` with replace, one step on the same
volume). So a failed or empty export leaves a good previous package as it was. It also keeps
WsusUtil from being handed an existing file: whether WsusUtil overwrites or refuses one is
unconfirmed (public scripts give it a fresh, dated name each time), and the staging file
exists beforehand only after a failed export.

State the module keeps on the host, under ``<work_dir>\\state``:

- ``exports.json``: per package path, what the last successful export wrote (size, SHA-256,
  when), so ``max_age`` can skip an export whose package is recent and unchanged;
- ``imports.json``: per package SHA-256, when it was imported, so a package is imported once;
- ``verified\\<sha256>.json``: written by ``airgap.wsus.bundle`` (``state=deployed``) once the
  content of the package's bundle is in WsusContent; the import's order guard reads it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from . import _jobs, _wsusutil, _winpath
from ._errors import AirgapWsusError

STATE_FOLDER = 'state'
EXPORTS_FILE = 'exports.json'
IMPORTS_FILE = 'imports.json'
VERIFIED_FOLDER = 'verified'
SCHEMAS = {'exports': 'airgap.wsus.exports/1', 'imports': 'airgap.wsus.imports/1'}
STAGING_MARK = '.partial'
# Bytes of the package read to check its format (gzip or CAB signature).
HEAD_BYTES = 16
# Lines of WsusUtil's log returned in log_tail and quoted in failure messages.
TAIL_LINES = 40
MESSAGE_TAIL_LINES = 12
# Characters cmd.exe treats specially even inside quotes: %VAR% is expanded there.
_CMD_UNSAFE = frozenset('%')


class MetadataError(AirgapWsusError, ValueError):
    """A package path or a record that the module cannot use; the message says what to change."""


# --------------------------------------------------------------------------- paths

def package_path(package: str) -> str:
    """``package`` normalised; it must be an absolute local or UNC path ending in ``.xml.gz`` or ``.cab``."""
    try:
        return _wsusutil.check_package_name(package)
    except AirgapWsusError as exc:
        raise MetadataError(exc.message) from None


def log_path_for(package: str, log_path: str | None, default_folder: str | None = None) -> str:
    """The WsusUtil log: ``log_path``; else ``<default_folder>\\wsusutil.log`` when given, else the package's path + ``.log``.

    An export's log goes beside the package (it travels with it). An import's goes into its
    job folder (``default_folder``), because the package may be on read-only media.
    """
    try:
        if log_path:
            path = _winpath.normalize(log_path, 'log_path')
        elif default_folder:
            path = _winpath.join(default_folder, 'wsusutil.log')
        else:
            path = package + '.log'
    except _winpath.WinPathError as exc:
        raise MetadataError(exc.message) from None
    if _winpath.same_path(path, package):
        raise MetadataError('log_path must be another file than package')
    return path


def import_job_id(package: str, log_path: str | None) -> str:
    """The import job's id: from the package and the log the user chose (``None`` for the default)."""
    return _jobs.job_id_for('wsusutil_import', {'package': _winpath.fold(package), 'log': _winpath.fold(log_path) if log_path else None})


def staging_path(package: str) -> str:
    """Where WsusUtil writes an export before it replaces ``package``: same folder, ``.partial`` before the suffix."""
    folder, name = _winpath.parent(package), _winpath.basename(package)
    suffix = next(s for s in _wsusutil.PACKAGE_SUFFIXES if name.lower().endswith(s))
    return _winpath.join(folder, name[:-len(suffix)] + STAGING_MARK + name[-len(suffix):])


def check_renamable(path: str, what: str) -> None:
    """Refuse a path that ``cmd.exe /c move`` would rewrite (``%NAME%`` is expanded even inside quotes)."""
    bad = sorted({ch for ch in path if ch in _CMD_UNSAFE})
    if bad:
        raise MetadataError(f'{what} {path} contains {" ".join(bad)}, which cmd.exe expands even inside quotes, so the '
                            'finished export could not be renamed safely; choose a path without it')


def move_step(source: str, dest: str, cmd_exe: str) -> _jobs.JobStep:
    """A job step that renames ``source`` over ``dest`` with cmd.exe's built-in ``move /y``.

    cmd.exe parses its own command line, not ``CommandLineToArgvW``'s, so the paths are put in
    double quotes as cmd.exe reads them: checked Windows paths hold no quote, quotes make
    ``& | < > ^ ( )`` literal, and :func:`check_renamable` has refused ``%``. ``/d`` skips
    AutoRun commands from the registry; ``/v:off`` keeps ``!`` literal.
    """
    for what, path in (('source', source), ('destination', dest)):
        check_renamable(path, f'the rename {what}')
        if '"' in path:
            raise MetadataError(f'the rename {what} {path} contains a double quote')
    return _jobs.JobStep('rename', cmd_exe, f'/d /v:off /c move /y "{source}" "{dest}"', 0)


def cmd_path(system_root: str = 'C:\\Windows') -> str:
    """``%SystemRoot%\\System32\\cmd.exe``."""
    return _winpath.join(system_root, 'System32', 'cmd.exe')


def state_path(work_dir: str, *names: str) -> str:
    """A path under ``<work_dir>\\state``."""
    return _winpath.join(work_dir, STATE_FOLDER, *names)


def verified_record_path(work_dir: str, sha256: str) -> str:
    """``<work_dir>\\state\\verified\\<sha256>.json`` (lower-case hex, as bundle manifests write digests)."""
    return state_path(work_dir, VERIFIED_FOLDER, f'{sha256.lower()}.json')


# --------------------------------------------------------------------------- records

def now_iso(now: datetime | None = None) -> str:
    """ISO 8601 UTC with a ``Z``, to the second."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_records(data: bytes | None, kind: str) -> tuple[dict, str | None]:
    """Entries of ``exports.json``/``imports.json`` and a warning when the file could not be used.

    A missing file has no entries. A damaged one is treated as empty (the worst outcome is a
    package exported or imported once more), and the warning says so.
    """
    if not data:
        return {}, None
    try:
        doc = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as exc:
        return {}, f'the {kind} record on the host is damaged ({exc}); it is rewritten after this run'
    if not isinstance(doc, dict) or doc.get('schema') != SCHEMAS[kind] or not isinstance(doc.get('entries'), dict):
        return {}, f'the {kind} record on the host has an unknown format; it is rewritten after this run'
    return {str(k): v for k, v in doc['entries'].items() if isinstance(v, dict)}, None


def render_records(entries: dict, kind: str) -> bytes:
    """The bytes of a record file: stable JSON, sorted keys."""
    doc = {'schema': SCHEMAS[kind], 'entries': entries}
    return (json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=True) + '\n').encode('ascii')


def export_key(package: str) -> str:
    """Exports are recorded per package path, compared as NTFS compares names."""
    return _winpath.fold(package)


def export_is_fresh(entry: dict | None, max_age: int, size: int | None, sha256: str | None, now: datetime) -> tuple[bool, str]:
    """Whether the last export of this package is recent enough to skip a new one, and why (not).

    Only an export this module verified counts, and only while the package is exactly what it
    wrote (same size and SHA-256): a package replaced, truncated or copied in by hand is
    exported again.
    """
    if max_age <= 0:
        return False, 'max_age is 0'
    if not entry:
        return False, 'no earlier export of this package was recorded on this host'
    when = _jobs.parse_iso(entry.get('exported_at'))
    if when is None:
        return False, 'the recorded export has no time'
    if entry.get('size') != size or str(entry.get('sha256') or '').lower() != str(sha256 or '').lower():
        return False, 'the package changed since it was exported'
    age = (now - when).total_seconds()
    if age < 0 or age >= max_age:
        return False, f'the package is {int(age)} s old, not younger than max_age ({max_age} s)'
    return True, (f'the package was exported {_jobs.format_duration(age)} ago ({entry.get("exported_at")}), '
                  f'less than max_age ({max_age} s), and is unchanged (SHA-256 {str(sha256).lower()})')


# --------------------------------------------------------------------------- checks

def admin_problem(state: dict) -> str | None:
    """Why WsusUtil cannot run for this account on this host (``server_state`` answer), or ``None``."""
    name = state.get('computer_name') or 'the host'
    registry = state.get('registry') or {}
    if not registry.get('installed'):
        return (f'WSUS is not installed on {name} (no Update Services Setup registry key); WsusUtil runs only on the WSUS '
                'server itself. Run this task against the WSUS server.')
    if not registry.get('target_dir'):
        return f'the WSUS registry on {name} has no TargetDir, so WsusUtil.exe cannot be found; repair the WSUS installation'
    account = state.get('account') or {}
    if not account.get('is_admin'):
        return (f'the account {account.get("name") or "in use"} is not a member of the local Administrators group on {name} '
                '(or its token is filtered by UAC), and WsusUtil refuses to export or import for it. Connect as a local '
                'administrator; for a local account other than the built-in Administrator over WinRM, set '
                'LocalAccountTokenFilterPolicy to 1 or use a domain account in the Administrators group.')
    return None


def replica_problem(state: dict) -> str | None:
    """WSUS refuses to import on a replica (centrally managed) server."""
    config = state.get('config') or {}
    if config.get('available') and config.get('is_replica_server'):
        return (f'{state.get("computer_name") or "this server"} is a replica server (centrally managed), and WSUS cannot import '
                'metadata into a replica. Microsoft\'s guidance: turn replica mode off, import, then turn it back on.')
    return None


def space_problem(free_bytes: int | None, min_free_bytes: int, folder: str) -> str | None:
    """The export needs ``min_free_bytes`` free on the package's volume."""
    if free_bytes is None or free_bytes >= min_free_bytes:
        return None
    return (f'the volume of {folder} has {_jobs.format_bytes(free_bytes)} free, less than min_free_bytes '
            f'({_jobs.format_bytes(min_free_bytes)}); free space or export to another volume')


@dataclass
class Guard:
    """The order guard's verdict: an error (refused), or a warning (forced), or neither."""

    error: str | None = None
    warning: str | None = None
    basis: str = ''


def order_guard(verified: bool, content_verified: bool, force: bool, sha256: str, record_path: str) -> Guard:
    """Whether an import may run: its content must be in place first (Microsoft's order)."""
    if verified:
        return Guard(basis=f'the content of this package was verified on this server ({record_path})')
    if content_verified:
        return Guard(basis='content_verified is true')
    risk = ('updates whose files are not in WsusContent show as failed downloads in the console until the files are '
            'copied in and WSUS checks its content again (reset: true)')
    if force:
        return Guard(warning=f'importing although the content of this package (SHA-256 {sha256.lower()}) was not verified on '
                             f'this server (force: true): {risk}', basis='force is true')
    return Guard(error=(f'refusing to import: the content of this package (SHA-256 {sha256.lower()}) was not verified on this '
                        f'server (no {record_path}). Microsoft\'s procedure copies the content before the metadata; otherwise '
                        f'{risk}. Deploy the bundle with airgap.wsus.bundle (state: deployed), or copy WsusContent (for '
                        'example with airgap.wsus.content_sync) and set content_verified: true; force: true imports anyway.'))


# --------------------------------------------------------------------------- WsusUtil's output

def tail_lines(text: str, count: int = TAIL_LINES) -> list[str]:
    """The last ``count`` non-empty lines of ``text``."""
    lines = [line.rstrip() for line in (text or '').replace('\r\n', '\n').split('\n')]
    return [line for line in lines if line.strip()][-count:]


# What to do after a failed WsusUtil run, said before the log tail (which can be long).
RUN_FAILURE_FIXES = {
    'export': 'Fix the cause the log names (free space, SUSDB, the Update Service), then run the task again: the previous '
              'package stays as it was until an export succeeds',
    'import': 'Fix the cause the log names (free space, SUSDB, the Update Service), then run the task again: the content '
              'stays in place and WsusUtil imports the whole package again, which adds what this run did not',
    'reset': 'Fix the cause the log names, then run the task again',
}


def run_failure(operation: str, assessment: _wsusutil.LogAssessment, log_path: str, log_text: str, console: str,
                extra: str = '') -> str:
    """The message for a WsusUtil run that failed: why, then the end of its log and its console output."""
    lines = tail_lines(log_text, MESSAGE_TAIL_LINES)
    console_lines = tail_lines(console, MESSAGE_TAIL_LINES)
    text = f'WsusUtil {operation} failed: ' + '; '.join(assessment.failures or ['unknown failure'])
    if extra:
        text += f'. {extra}'
    if operation in RUN_FAILURE_FIXES:
        text += f'. {RUN_FAILURE_FIXES[operation]}'
    if lines:
        text += f'. End of its log ({log_path}): ' + ' | '.join(lines)
    if console_lines:
        text += '. Its console output: ' + ' | '.join(console_lines)
    return text


def empty_package_message(staging: str, check: _wsusutil.PackageCheck, package: str, had_previous: bool) -> str:
    """WsusUtil exited 0 but left no usable package (seen on real servers)."""
    previous = (f'The previous package {package} was left as it was.' if had_previous
                else f'Nothing was written to {package}.')
    problems = '; '.join(check.problems)
    if any('empty' in p for p in check.problems):
        head = f'WsusUtil exited 0 but the package {staging} is empty (0 bytes)'
    else:
        head = f'WsusUtil exited 0 but the package {staging} is not usable'
    return (f'{head}: {problems}. {previous} Check free space and the WsusUtil log, then export again (the legacy .cab '
            'format fails this way above 2 GB: use .xml.gz).')


# --------------------------------------------------------------------------- content after a reset

def content_file_paths(content_root: str, files: list) -> list[str]:
    """The host paths of ``files`` (``_susdb`` file records) under WsusContent."""
    return [_winpath.join(content_root, record['relpath']) for record in files]


def not_ready(files: list) -> list:
    """File records (``_susdb.read_approved_files``) the server wants but does not have (or does not track)."""
    return [f for f in files if (not f['tracked']) or (f['desired_state'] != 0 and not f['present'])]


def split_waiting(files: list, infos: list) -> tuple[list, list]:
    """Split not-ready files by what is on disk: ``(waiting, missing)``.

    A file on disk with the size SUSDB records is waiting for WSUS to verify it (the reset is
    still running); any other is missing, and no amount of waiting brings it on a disconnected
    server.
    """
    waiting, missing = [], []
    for record, info in zip(files, infos):
        on_disk = bool(info.get('exists')) and not info.get('is_dir') and (record['size'] is None or info.get('size') == record['size'])
        (waiting if on_disk else missing).append(record)
    return waiting, missing


def missing_entries(files: list) -> list[dict]:
    """``missing_files`` result entries: path relative to WsusContent with ``/``, and size; sorted by path."""
    return sorted(({'path': f['relpath'].replace('\\', '/'), 'size': f['size']} for f in files), key=lambda e: e['path'])
