"""robocopy: argument lists, job files, log parsing and exit codes.

Arguments
    Built as lists and turned into a command line with ``_cmdline.join_args`` (never split on
    spaces, so quoted paths and trailing backslashes survive). Always ``/BYTES`` (exact sizes in
    the summary), ``/R:n /W:n`` with small defaults (robocopy's own are 1,000,000 retries 30 s
    apart), ``/NP`` (no percentages in a log file), ``/NFL /NDL`` unless a file list is wanted,
    ``/LOG:`` (``/MT`` output is only coherent in a log file). ``/XJ`` (skip junctions, which
    could make a copy loop) is available as ``exclude_junctions``; WsusContent holds none, so
    it is off by default.

I/O mode
    ``/J`` (unbuffered I/O) is the default: WsusContent holds many large files and Microsoft
    recommends ``/J`` for them. ``/Z`` (restartable) checkpoints each file so an interrupted
    copy resumes mid-file, at a large throughput cost (reported 20 MB/s against 600 MB/s); it
    pays off only on unreliable network links, so it is opt-in. robocopy accepts both together
    (its ``Options :`` line then shows ``/Z /J``), so ``both`` is allowed too.

Explicit file lists (``/JOB:`` with ``/IF``)
    WsusContent names are content hashes and each hash-named file lives in the folder named by
    its last byte, so a name identifies one file of the tree. Hash-named files are therefore
    copied by *one* robocopy run over the whole tree (``/S``) whose job file lists the names
    (in chunks of :data:`MAX_NAMES_PER_JOB` to bound robocopy's per-file pattern matching),
    instead of one run per folder (up to 256 processes, 256 logs, 256 summaries). Files not
    named by a hash are grouped by folder, one run per folder without ``/S``, because their
    names need not be unique across folders.

Logs
    :func:`parse_log` reads the footer table by position, not by its (localised) labels, with
    or without ``/BYTES``, and tolerates its absence (``/NJS``, fatal errors). Error records
    (``<date> <time> ERROR n (0x...) <action> <path>`` and the Windows message on the next line)
    are found by their ``(0x########)`` shape, which survives localisation. It works on bytes
    with ``find``, so a million-line log parses in about the time it takes to read it.
"""
from __future__ import annotations

import mmap
import re
from dataclasses import dataclass, field

from . import _winpath
from ._errors import AirgapWsusError

IO_MODES = ('unbuffered', 'restartable', 'both', 'buffered')
MAX_NAMES_PER_JOB = 5000
DEFAULT_RETRIES = 2
DEFAULT_WAIT = 5
DEFAULT_THREADS = 8
_HASH_NAME_RE = re.compile(r'^([0-9A-F]{38}([0-9A-F]{2}))(\.[A-Za-z0-9]{1,16})?$', re.IGNORECASE)


class RobocopyError(AirgapWsusError, ValueError):
    """Robocopy options or a file list that cannot be turned into a safe invocation."""


def robocopy_path(system_root: str = 'C:\\Windows') -> str:
    """Return the full path of robocopy.exe under ``system_root`` (``%SystemRoot%``)."""
    return _winpath.join(system_root, 'System32', 'Robocopy.exe')


def io_mode_for(restartable: bool, unbuffered: bool) -> str:
    """The :attr:`RobocopyOptions.io_mode` for a module's ``restartable``/``unbuffered`` booleans."""
    if restartable and unbuffered:
        return 'both'
    if restartable:
        return 'restartable'
    return 'unbuffered' if unbuffered else 'buffered'


@dataclass(frozen=True)
class RobocopyOptions:
    """How to copy. Defaults suit WsusContent: incremental, never deleting, exact sizes."""

    mirror: bool = False
    io_mode: str = 'unbuffered'
    threads: int = DEFAULT_THREADS
    retries: int = DEFAULT_RETRIES
    wait: int = DEFAULT_WAIT
    list_only: bool = False
    fat_times: bool = False
    log_files: bool = False
    unicode_log: bool = False
    exclude_junctions: bool = False

    def validate(self) -> None:
        """Raise :class:`RobocopyError` for values robocopy would refuse or misuse."""
        if self.io_mode not in IO_MODES:
            raise RobocopyError(f'io_mode must be one of {", ".join(IO_MODES)}, not {self.io_mode!r}')
        if not 1 <= self.threads <= 128:
            raise RobocopyError(f'threads must be between 1 and 128 (robocopy /MT), not {self.threads}')
        if not 0 <= self.retries <= 1000:
            raise RobocopyError(f'retries must be between 0 and 1000, not {self.retries}')
        if not 0 <= self.wait <= 3600:
            raise RobocopyError(f'wait must be between 0 and 3600 seconds, not {self.wait}')


def option_flags(options: RobocopyOptions) -> list[str]:
    """Return the switches for ``options`` (no paths, no selection, no log)."""
    options.validate()
    flags = []
    if options.io_mode in ('restartable', 'both'):
        flags.append('/Z')
    if options.io_mode in ('unbuffered', 'both'):
        flags.append('/J')
    flags += [f'/MT:{options.threads}', f'/R:{options.retries}', f'/W:{options.wait}', '/BYTES', '/NP']
    if options.exclude_junctions:
        flags.append('/XJ')
    if not options.log_files:
        flags += ['/NFL', '/NDL']
    if options.fat_times:
        flags.append('/FFT')
    if options.list_only:
        flags.append('/L')
    return flags


def _log_flag(log_path: str, options: RobocopyOptions) -> str:
    log_path = _winpath.normalize(log_path, 'robocopy log path')
    return ('/UNILOG:' if options.unicode_log else '/LOG:') + log_path


def build_tree_args(source: str, dest: str, log_path: str, options: RobocopyOptions | None = None) -> list[str]:
    """Arguments that copy the tree ``source`` into ``dest`` (``/E``, or ``/MIR`` when mirroring).

    ``/MIR`` deletes destination files the source lacks; it is used only when asked for.
    """
    options = options or RobocopyOptions()
    source = _winpath.normalize(source, 'robocopy source')
    dest = _winpath.normalize(dest, 'robocopy destination')
    if _winpath.same_path(source, dest):
        raise RobocopyError(f'source and destination are the same folder ({source})')
    if _winpath.is_within(dest, source) or _winpath.is_within(source, dest):
        raise RobocopyError(f'{source} and {dest} contain one another; robocopy would copy into its own source')
    selection = ['/MIR'] if options.mirror else ['/E']
    return [source, dest, *selection, *option_flags(options), _log_flag(log_path, options)]


def job_file_text(names: list[str], title: str = 'airgap.wsus file list') -> str:
    """Return the text of a robocopy job file that includes only ``names`` (``/IF``).

    One name per indented line, as ``robocopy /SAVE:`` writes them. Names must be plain ASCII
    file names: the job file format has no quoting, so ``::`` would start a comment and
    leading blanks would be trimmed, and robocopy reads the file in the ANSI code page. That
    robocopy reads a name with an inner space whole is unconfirmed; WsusContent names have none.
    """
    if not names:
        raise RobocopyError('a robocopy file list must name at least one file')
    lines = ['::', f':: {title}', '::', '/IF\t\t:: Include Files matching these names']
    for name in names:
        _winpath.check_name(name, 'file name in a robocopy file list')
        if not name.isascii() or name != name.strip() or '*' in name or '?' in name:
            raise RobocopyError(f'{name!r} cannot go in a robocopy job file: only plain ASCII names without '
                                'leading blanks or wildcards can; copy its folder as a tree instead')
        lines.append('\t' + name)
    return '\r\n'.join(lines) + '\r\n'


@dataclass
class ListCopy:
    """One robocopy run of an explicit file list: its arguments and the job file it reads."""

    source: str
    dest: str
    names: list[str]
    job_file_name: str
    job_file_text: str
    log_path: str
    args: list[str]


def plan_list_copies(source_root: str, dest_root: str, relpaths: list[str], job_dir: str,
                     options: RobocopyOptions | None = None, prefix: str = 'copy') -> list[ListCopy]:
    """Plan the robocopy runs that copy exactly ``relpaths`` (relative to both roots).

    Returns one :class:`ListCopy` per run; their job files are to be written into ``job_dir``
    (``job_start``'s ``Files``) and their logs go there too. See the module docstring for why
    hash-named files share runs over the whole tree and other files are grouped by folder.
    """
    options = options or RobocopyOptions()
    if options.mirror:
        raise RobocopyError('mirroring (/MIR) cannot be combined with a file list: it would delete every unlisted file')
    source_root = _winpath.normalize(source_root, 'robocopy source')
    dest_root = _winpath.normalize(dest_root, 'robocopy destination')
    job_dir = _winpath.normalize(job_dir, 'job folder')
    hashed: list[str] = []
    by_folder: dict[str, list[str]] = {}
    seen = set()
    for relpath in relpaths:
        rel = _winpath.validate_content_relpath(relpath, 'file to copy')
        key = _winpath.fold(rel)
        if key in seen:
            continue
        seen.add(key)
        folder, _sep, name = rel.rpartition('\\')
        match = _HASH_NAME_RE.match(name)
        if match and _winpath.fold(folder) == match.group(2).upper():
            hashed.append(name)
        else:
            by_folder.setdefault(folder, []).append(name)
    flags = option_flags(options)
    runs: list[ListCopy] = []

    def _add(source: str, dest: str, names: list[str], recurse: bool) -> None:
        index = len(runs)
        job_name = f'{prefix}_{index:03d}.rcj'
        log_path = _winpath.join(job_dir, f'{prefix}_{index:03d}.log')
        args = [source, dest, *(['/S'] if recurse else []), f'/JOB:{_winpath.join(job_dir, job_name)}', *flags,
                _log_flag(log_path, options)]
        runs.append(ListCopy(source, dest, list(names), job_name, job_file_text(names), log_path, args))

    hashed.sort(key=str.upper)
    for start in range(0, len(hashed), MAX_NAMES_PER_JOB):
        _add(source_root, dest_root, hashed[start:start + MAX_NAMES_PER_JOB], recurse=True)
    for folder in sorted(by_folder, key=str.upper):
        names = sorted(by_folder[folder], key=str.upper)
        src = _winpath.join(source_root, folder) if folder else source_root
        dst = _winpath.join(dest_root, folder) if folder else dest_root
        for start in range(0, len(names), MAX_NAMES_PER_JOB):
            _add(src, dst, names[start:start + MAX_NAMES_PER_JOB], recurse=False)
    return runs


# --------------------------------------------------------------------------- exit codes

@dataclass(frozen=True)
class RobocopyExit:
    """What a robocopy exit code says. ``success`` is robocopy's own rule: 0 to 7."""

    code: int
    copied: bool
    extras: bool
    mismatches: bool
    failures: bool
    fatal: bool
    success: bool
    description: str


def interpret_exit_code(code: int | None) -> RobocopyExit:
    """Decode robocopy's exit-code bitmask (1 copied, 2 extras, 4 mismatches, 8 failures, 16 fatal)."""
    if code is None or code < 0 or code > 31:
        if code is None:
            text = 'robocopy did not exit normally'
        else:
            text = f'robocopy ended with exit code {code}, which robocopy never sets: it was killed or crashed'
        return RobocopyExit(code if code is not None else -1, False, False, False, True, True, False, text)
    parts = []
    if code & 16:
        parts.append('fatal error: robocopy did not copy anything (bad usage, or no access to the source or destination)')
    if code & 8:
        parts.append('some files or folders could not be copied (after the retries)')
    if code & 4:
        parts.append('mismatched files or folders were found')
    if code & 2:
        parts.append('extra files or folders exist in the destination')
    if code & 1:
        parts.append('files were copied')
    if not parts:
        parts.append('nothing needed copying')
    return RobocopyExit(code, bool(code & 1), bool(code & 2), bool(code & 4), bool(code & 8), bool(code & 16),
                        code < 8, '; '.join(parts))


# --------------------------------------------------------------------------- log parsing

@dataclass
class CopyError:
    """One distinct error robocopy logged, with how often (retries repeat it)."""

    code: int
    hex: str
    action: str
    path: str
    message: str
    count: int = 1


@dataclass
class RobocopySummary:
    """The footer table. Sizes are exact when ``bytes_exact`` (the run used ``/BYTES``)."""

    dirs: dict
    files: dict
    bytes: dict
    times: dict = field(default_factory=dict)
    bytes_exact: bool = True
    speed_bytes_per_sec: int | None = None


@dataclass
class RobocopyLog:
    """What a robocopy log says."""

    summary: RobocopySummary | None
    errors: list[CopyError]
    retry_limit_exceeded: int
    fatal_messages: list[str]

    def failed_files(self) -> int:
        """Files the summary counts as FAILED (0 without a summary)."""
        return int(self.summary.files.get('failed', 0)) if self.summary else 0


_COLUMNS = ('total', 'copied', 'skipped', 'mismatch', 'failed', 'extras')
_ERROR_LINE = re.compile(rb'(?:^|\s)(\S+)\s+(-?\d+) \(0x([0-9A-Fa-f]{8})\) (.*)$')
_PATH_START = re.compile(rb'[A-Za-z]:\\|\\\\')
_INT_ROW = re.compile(rb'^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$')
_SIZE_TOKEN = re.compile(rb'(\d+(?:[.,]\d+)?)(?:\s([kmgtKMGT]))?(?=\s|$)')
_TIME_TOKEN = re.compile(rb'(\d+):(\d\d):(\d\d)')
_UNITS = {b'k': 1024, b'm': 1024 ** 2, b'g': 1024 ** 3, b't': 1024 ** 4}
_SEPARATOR = b'-' * 40
_SPEED = re.compile(rb'\s*(\d+)\s+\D')
_RETRY_LIMIT = b'RETRY LIMIT EXCEEDED'
# After an error line, robocopy prints the Windows message, maybe "Waiting ... Retrying...", a
# blank line and then the retry-limit line; with /MT other threads' lines may come between.
_RETRY_WINDOW = 4096
# The summary table and fatal usage errors sit within this many bytes of the log's ends.
_EDGE = 65536


def _to_bytes(data):
    if isinstance(data, str):
        return data.encode('utf-8', 'surrogateescape')
    if data[:2] == b'\xff\xfe' or (len(data) > 8 and bytes(data[1:8:2]) == b'\0\0\0\0'):
        # /UNILOG writes UTF-16 LE; re-encode so the byte-level parser sees ASCII structure.
        return bytes(data).decode('utf-16-le', 'replace').lstrip('\ufeff').encode('utf-8')
    return data


def _decode(raw: bytes) -> str:
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        # The log is in the ANSI code page of the host, which the controller cannot know;
        # cp1252 decodes every byte, so nothing is lost beyond the look of accented letters.
        return raw.decode('cp1252', 'replace')


def _line_at(data, pos: int) -> tuple[int, int]:
    start = data.rfind(b'\n', 0, pos) + 1
    end = data.find(b'\n', pos)
    if end < 0:
        end = len(data)
    return start, end


def _strip_cr(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b'\r') else line


def _scan_errors(data) -> tuple[list[CopyError], int]:
    """Error records and the retry-limit lines that follow them, in one pass.

    Error lines are found through their ``(0x########)`` code: the scan looks for ``(``,
    a single byte, which ``find`` locates with ``memchr`` at memory speed; per-file lines
    rarely contain one. ``RETRY LIMIT EXCEEDED`` only ever follows an error's last retry, so
    it is looked for in a window after each error line instead of in the whole log.
    """
    found: dict[tuple, CopyError] = {}
    retries = 0
    searched_until = 0
    size = len(data)
    pos = data.find(b'(')
    while pos >= 0:
        if data[pos + 1:pos + 3] != b'0x':
            pos = data.find(b'(', pos + 1)
            continue
        start, end = _line_at(data, pos)
        line = _strip_cr(bytes(data[start:end]))
        match = _ERROR_LINE.search(line)
        if match:
            rest = match.group(4)
            path_match = _PATH_START.search(rest)
            if path_match:
                action, path = rest[:path_match.start()].strip(), rest[path_match.start():].strip()
            else:
                action, path = rest.strip(), b''
            message = b''
            if end < size:
                msg_end = data.find(b'\n', end + 1)
                message = _strip_cr(bytes(data[end + 1:msg_end if msg_end >= 0 else size])).strip()
            key = (int(match.group(2)), action, path)
            if key in found:
                found[key].count += 1
            else:
                found[key] = CopyError(int(match.group(2)), '0x' + match.group(3).decode('ascii').upper(),
                                       _decode(action), _decode(path), _decode(message))
            window_start = max(end, searched_until)
            window_end = min(size, end + _RETRY_WINDOW)
            if window_end > window_start:
                retries += _count(data, _RETRY_LIMIT, window_start, window_end)
                searched_until = window_end
        pos = data.find(b'(', end)
    return list(found.values()), retries


def _parse_size(token: tuple[bytes, bytes]) -> tuple[int, bool]:
    number, unit = token
    value = float(number.replace(b',', b'.'))
    if unit:
        return int(round(value * _UNITS[unit.lower()])), False
    if b'.' in number or b',' in number:
        return int(round(value)), False
    return int(number), True


def _values_after_label(line: bytes) -> bytes | None:
    colon = line.find(b':')
    # A label is text then " :"; time values also hold colons, so take the first colon that
    # follows a space (labels are "    Dirs :", "  Fichiers :", ...).
    while colon >= 0 and (colon == 0 or line[colon - 1:colon] != b' '):
        colon = line.find(b':', colon + 1)
    if colon < 0:
        return None
    # Values start right after the colon, in 10-character right-aligned columns.
    return line[colon + 1:]


def _parse_summary(data) -> RobocopySummary | None:
    sep = data.rfind(_SEPARATOR)
    if sep < 0:
        return None
    start = data.find(b'\n', sep)
    if start < 0:
        return None
    lines = [_strip_cr(line) for line in bytes(data[start + 1:]).split(b'\n')]
    int_rows: list[tuple] = []
    size_row = None
    exact = True
    times: dict = {}
    speed = None
    for line in lines:
        values = _values_after_label(line)
        if values is None:
            continue
        if len(int_rows) < 2:
            match = _INT_ROW.match(values)
            if match:
                int_rows.append(tuple(int(v) for v in match.groups()))
            continue
        if size_row is None:
            tokens = _SIZE_TOKEN.findall(values)
            if len(tokens) == 6:
                parsed = [_parse_size(t) for t in tokens]
                size_row = tuple(p[0] for p in parsed)
                exact = all(p[1] for p in parsed)
            continue
        if not times:
            matches = list(_TIME_TOKEN.finditer(values))
            if matches:
                # Times fill only some columns (Skipped and Mismatch stay blank), so place each
                # value by where it ends in the 10-character grid that starts after the colon.
                for index, match in enumerate(matches):
                    seconds = int(match.group(1)) * 3600 + int(match.group(2)) * 60 + int(match.group(3))
                    if len(matches) == 4:
                        name = ('total', 'copied', 'failed', 'extras')[index]
                    else:
                        name = _COLUMNS[min((match.end() - 1) // 10, 5)]
                    times[name] = seconds
            continue
        if _TIME_TOKEN.search(values):
            # The "Ended :" line (a date and time) follows when /MT suppressed the speed lines.
            break
        match = _SPEED.match(values)
        if match:
            speed = int(match.group(1))
        break
    if len(int_rows) < 2 or size_row is None:
        return None
    return RobocopySummary(dirs=dict(zip(_COLUMNS, int_rows[0])), files=dict(zip(_COLUMNS, int_rows[1])),
                           bytes=dict(zip(_COLUMNS, size_row)), times=times, bytes_exact=exact,
                           speed_bytes_per_sec=speed)


def _parse_fatal(data) -> list[str]:
    messages = []
    pos = data.find(b'ERROR : ')
    while pos >= 0:
        start, end = _line_at(data, pos)
        messages.append(_decode(_strip_cr(bytes(data[start:end])).strip()))
        pos = data.find(b'ERROR : ', end)
    return messages


def parse_log(data) -> RobocopyLog:
    """Parse a robocopy log (``bytes``, ``str`` or a memory map); any part may be absent.

    The summary table is read from the last :data:`_EDGE` bytes (it ends the log) and fatal
    ``ERROR : ...`` lines from the first and last :data:`_EDGE` bytes (robocopy prints them
    before it copies anything, or at the end), so a huge log costs one ``memchr`` pass.
    """
    data = _to_bytes(data)
    size = len(data)
    errors, retries = _scan_errors(data)
    if size <= 2 * _EDGE:
        edges = [bytes(data)]
    else:
        edges = [bytes(data[:_EDGE]), bytes(data[size - _EDGE:])]
    fatal = [message for edge in edges for message in _parse_fatal(edge)]
    return RobocopyLog(summary=_parse_summary(edges[-1]), errors=errors, retry_limit_exceeded=retries,
                       fatal_messages=fatal)


def _count(data, needle: bytes, start: int = 0, end: int | None = None) -> int:
    # mmap has find() but no count().
    end = len(data) if end is None else end
    total, pos = 0, data.find(needle, start, end)
    while pos >= 0:
        total += 1
        pos = data.find(needle, pos + len(needle), end)
    return total


def parse_log_file(path: str) -> RobocopyLog:
    """Parse the robocopy log at local ``path`` without reading it into memory."""
    with open(path, 'rb') as handle:
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            return parse_log(b'')
        with view:
            if view[:2] == b'\xff\xfe':
                return parse_log(view[:])
            return parse_log(view)


@dataclass
class Verdict:
    """The judgement on one robocopy run: ``ok`` and the reasons when not."""

    ok: bool
    reasons: list[str]
    exit: RobocopyExit


def assess(code: int | None, log: RobocopyLog | None) -> Verdict:
    """Judge a run from its exit code *and* its log.

    The exit code alone is not trusted: a public report says ``ERROR: RETRY LIMIT EXCEEDED``
    can come with a code below 8, so a failed-files count or a retry-limit line fails the run
    too.
    """
    exit_info = interpret_exit_code(code)
    reasons = []
    if not exit_info.success:
        reasons.append(exit_info.description)
    if log is not None:
        if log.failed_files():
            reasons.append(f'the summary counts {log.failed_files()} failed file(s)')
        if log.retry_limit_exceeded:
            reasons.append(f'robocopy gave up on {log.retry_limit_exceeded} file(s) after the retry limit')
        reasons.extend(log.fatal_messages)
        for error in log.errors:
            if not exit_info.success or log.retry_limit_exceeded:
                reasons.append(f'{error.action} {error.path}: error {error.code} ({error.hex}) {error.message}'.strip())
    seen = set()
    unique = [r for r in reasons if not (r in seen or seen.add(r))]
    return Verdict(ok=not unique, reasons=unique, exit=exit_info)
