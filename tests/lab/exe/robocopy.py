r"""robocopy.exe of an emulated host: copies through the host's file layer, prints what the real
one prints, and exits with its bit mask.

Classification of each source file against the destination (robocopy's classes):
``new`` (lonely: only in the source), ``newer``/``older`` (time stamps differ; with ``/FFT``
within 2 s counts as equal), ``changed`` (same time, other size), ``same``, ``mismatch`` (a
file on one side, a folder on the other), and ``extra`` (only in the destination). New,
newer, older and changed files are copied unless ``/XL``, ``/XN``, ``/XO`` or ``/XC`` exclude
them; same files are skipped unless ``/IS``. Extras are reported (not with ``/XX``) and
deleted with ``/PURGE``/``/MIR``. ``/L`` lists and counts without touching anything.

Exit code: 1 files copied, 2 extras, 4 mismatches, 8 failures after retries, 16 fatal (usage,
source or destination root not accessible). A failed operation is retried ``/R`` times,
``/W`` seconds apart (times ``host.faults.wait_scale``), printing ``ERROR n (0x...)`` and
``Waiting n seconds... Retrying...``, then ``ERROR: RETRY LIMIT EXCEEDED.``.

Writes go through ``host.fs``: drive capacity (ERROR 112), the disk-full fault, FAT32's 4 GiB
limit (ERROR 223), a slow drive, locked files (ERROR 32) and denied paths (ERROR 5) behave as
on Windows. Copies keep the source's time stamp, rounded as the destination file system stores
it. ``/MT`` is accepted (and drops the Speed lines, as on Windows); copies run one at a time.
"""
from __future__ import annotations

import datetime
import time
import typing as t

from ..windows.errors import ERROR_DIRECTORY, ERROR_INVALID_NAME, WinError
from ..windows.paths import WinPath, fold, wildcard_match
from . import robocopy_output as fmt
from .robocopy_args import Options, UsageError, decode_job_file, parse_command_line

EXIT_COPIED, EXIT_EXTRAS, EXIT_MISMATCH, EXIT_FAILED, EXIT_FATAL = 1, 2, 4, 8, 16
FFT_WINDOW_NS = 2 * 10 ** 9
_TOTAL, _COPIED, _SKIPPED, _MISMATCH, _FAILED, _EXTRAS = range(6)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class Output:
    """The console, the log file, or both (``/TEE``). Log files are ANSI, or UTF-16 with /UNILOG."""

    def __init__(self, proc: t.Any) -> None:
        self.proc = proc
        self.log: t.Any = None
        self.unicode = False
        self.tee = True

    def open_log(self, path: str, append: bool, unicode: bool, tee: bool) -> None:
        fs = self.proc.fs
        fresh = not append or not fs.is_file(path, self.proc.cwd)
        self.log = fs.open_write(path, self.proc.cwd, append=append)
        self.unicode = unicode
        self.tee = tee
        if unicode and fresh:
            self.log.write(b'\xff\xfe')

    def write(self, text: str) -> None:
        if self.log is not None:
            data = text.replace('\n', '\r\n')
            self.log.write(data.encode('utf-16-le') if self.unicode else data.encode('cp1252', errors='replace'))
            self.log.flush()
        if self.tee:
            self.proc.write(text)

    def close(self) -> None:
        if self.log is not None:
            self.log.close()


class Specs:
    """File names and wildcards (``/IF``, file arguments): exact names are looked up, not scanned."""

    def __init__(self, patterns: t.Sequence[str]) -> None:
        self.exact = {fold(p) for p in patterns if '*' not in p and '?' not in p}
        self.wild = [p for p in patterns if '*' in p or '?' in p]

    def match(self, name: str) -> bool:
        return fold(name) in self.exact or any(wildcard_match(p, name) for p in self.wild)


class Robocopy:
    """One robocopy run."""

    def __init__(self, proc: t.Any, opts: Options, out: Output) -> None:
        self.proc = proc
        self.fs = proc.fs
        self.opts = opts
        self.out = out
        self.specs = Specs(opts.file_specs)
        self.xf = Specs(opts.exclude_files) if opts.exclude_files else None
        self.xd = Specs(opts.exclude_dirs) if opts.exclude_dirs else None
        self.dirs = [0] * 6
        self.files = [0] * 6
        self.bytes = [0] * 6
        self.copy_seconds = 0.0
        self.wait_seconds = 0.0
        self.extra_seconds = 0.0
        self.exact = opts.has('BYTES')
        self.listing = opts.has('L')
        self.scale = float(getattr(proc.host.faults, 'wait_scale', 1.0))
        self.any_lines = False

    # -- output ------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.out.write(text)

    def fail(self, exc: WinError, action: str, path: str) -> None:
        self.say(fmt.error_lines(_now(), exc.code, action, path, exc.message))

    def retrying(self, action: str, path: str, operation: t.Callable[[], t.Any]) -> t.Tuple[bool, t.Any]:
        """Run ``operation`` with robocopy's retries; (succeeded, result)."""
        attempt = 0
        while True:
            try:
                return True, operation()
            except WinError as exc:
                self.fail(exc, action, path)
                if attempt >= self.opts.retries:
                    self.say('\nERROR: RETRY LIMIT EXCEEDED.\n\n')
                    return False, None
                self.say('Waiting %d seconds... Retrying...\n' % self.opts.wait)
                started = time.monotonic()
                self.proc.sleep(self.opts.wait * self.scale)
                self.wait_seconds += time.monotonic() - started
                attempt += 1

    # -- the run -----------------------------------------------------------------------------
    def run(self, source: WinPath, dest: WinPath) -> int:
        started = time.monotonic()
        try:
            info = self.fs.stat(source)
            if not info.is_dir:
                raise WinError(ERROR_DIRECTORY, str(source))
            self.fs.listdir(source)
        except WinError as exc:
            self.fail(exc, 'Accessing Source Directory', source.with_slash)
            return EXIT_FATAL
        try:
            if self.fs.exists(dest):
                if not self.fs.is_dir(dest):
                    raise WinError(ERROR_DIRECTORY, str(dest))
                self.fs.listdir(dest)
        except WinError as exc:
            self.fail(exc, 'Accessing Destination Directory', dest.with_slash)
            return EXIT_FATAL
        self.say('\n')
        if not self.process_dir(source, dest, root=True):
            return EXIT_FATAL
        if not self.opts.has('NJS'):
            total = time.monotonic() - started
            speed = None
            copy_ms = int(self.copy_seconds * 1000)
            if self.opts.mt is None and copy_ms > 0 and self.bytes[_COPIED] > 0:
                per_second = self.bytes[_COPIED] * 1000 // copy_ms
                speed = (per_second, per_second * 60 / 1048576.0)
            if self.any_lines:
                self.say('\n')
            self.say(fmt.summary(self.dirs, self.files, self.bytes,
                                 (total, self.copy_seconds, self.wait_seconds, self.extra_seconds), self.exact, speed, _now()))
        return self.exit_code()

    def line(self, text: str) -> None:
        self.any_lines = True
        self.say(text)

    def exit_code(self) -> int:
        code = 0
        if self.files[_COPIED]:
            code |= EXIT_COPIED
        if self.files[_EXTRAS] or self.dirs[_EXTRAS]:
            code |= EXIT_EXTRAS
        if self.files[_MISMATCH] or self.dirs[_MISMATCH]:
            code |= EXIT_MISMATCH
        if self.files[_FAILED] or self.dirs[_FAILED]:
            code |= EXIT_FAILED
        return code

    def process_dir(self, src: WinPath, dst: WinPath, root: bool = False) -> bool:
        """Copy one folder (and below). False only when the root itself could not be handled."""
        ok, entries = self.retrying('Accessing Source Directory' if root else 'Scanning Source Directory',
                                    src.with_slash, lambda: self.fs.listdir(src))
        if not ok:
            self.dirs[_TOTAL] += 1
            self.dirs[_FAILED] += 1
            return not root
        files = [e for e in entries if not e.is_dir and self.specs.match(e.name) and not (self.xf and self.xf.match(e.name))]
        subdirs = [e for e in entries if e.is_dir and not (self.xd and self.xd.match(e.name))] if self.opts.recurse else []
        dst_entries: t.Dict[str, t.Any] = {}
        exists = self.fs.exists(dst)
        if exists:
            ok, listed = self.retrying('Scanning Destination Directory', dst.with_slash, lambda: self.fs.listdir(dst))
            if not ok:
                self.dirs[_TOTAL] += 1
                self.dirs[_FAILED] += 1
                return not root
            dst_entries = {fold(e.name): e for e in listed}

        self.dirs[_TOTAL] += 1
        if not self.opts.has('NDL'):
            self.line(fmt.dir_line(fmt.NEW_DIR if not exists else ' ' * 12, len(files), src.with_slash))
        if exists:
            self.dirs[_SKIPPED] += 1
        else:
            if not self.listing:
                ok = self.retrying('Creating Destination Directory', dst.with_slash, lambda: self.fs.mkdir(dst))[0]
                if not ok:
                    self.dirs[_FAILED] += 1
                    return not root
            self.dirs[_COPIED] += 1

        self.handle_extras(src, dst, files, subdirs, dst_entries)
        for entry in files:
            self.handle_file(entry, dst, dst_entries.get(fold(entry.name)))
        for sub in subdirs:
            target = dst_entries.get(fold(sub.name))
            if target is not None and not target.is_dir:
                self.dirs[_TOTAL] += 1
                self.dirs[_MISMATCH] += 1
                if not self.opts.has('NDL'):
                    self.line(fmt.dir_line(fmt.DIR_MISMATCH, 0, sub.path.with_slash))
                continue
            if not self.opts.empty_dirs and not self._has_files(sub.path):
                continue
            self.process_dir(sub.path, dst.joinpath(sub.name))
        return True

    def _has_files(self, folder: WinPath) -> bool:
        """For /S: does the tree below ``folder`` hold a file robocopy would consider?"""
        try:
            entries = self.fs.listdir(folder)
        except WinError:
            return True     # let the copy report the error
        for entry in entries:
            if entry.is_dir:
                if not (self.xd and self.xd.match(entry.name)) and self._has_files(entry.path):
                    return True
            elif self.specs.match(entry.name) and not (self.xf and self.xf.match(entry.name)):
                return True
        return False

    def handle_extras(self, src: WinPath, dst: WinPath, files: t.Sequence[t.Any], subdirs: t.Sequence[t.Any],
                      dst_entries: t.Mapping[str, t.Any]) -> None:
        if self.opts.has('XX'):
            return
        started = time.monotonic()
        del src
        source_names = {fold(e.name) for e in files} | {fold(e.name) for e in subdirs}
        for key, entry in sorted(dst_entries.items()):
            if key in source_names:
                continue
            if entry.is_dir:
                if not self.opts.recurse or (self.xd and self.xd.match(entry.name)):
                    continue
                self.dirs[_EXTRAS] += 1
                if not self.opts.has('NDL'):
                    self.line(fmt.dir_line(fmt.EXTRA_DIR, -1, entry.path.with_slash))
                if self.opts.purge and not self.listing:
                    self.retrying('Deleting Extra Directory', entry.path.with_slash,
                                  lambda e=entry: self.fs.remove_dir(e.path, recursive=True))
                continue
            if not self.specs.match(entry.name) or (self.xf and self.xf.match(entry.name)):
                continue
            self.files[_EXTRAS] += 1
            self.bytes[_EXTRAS] += entry.size
            if not self.opts.has('NFL'):
                self.line(fmt.file_line(fmt.EXTRA_FILE, self._size(entry.size), self._name(entry.path), extra=True))
            if self.opts.purge and not self.listing:
                self.retrying('Deleting Extra File', str(entry.path), lambda e=entry: self.fs.delete_file(e.path))
        del dst
        self.extra_seconds += time.monotonic() - started

    def classify(self, src: t.Any, dst: t.Any) -> str:
        if dst is None:
            return 'new'
        if dst.is_dir:
            return 'mismatch'
        src_t, dst_t = src.mtime_ns // 100, dst.mtime_ns // 100
        if self.opts.has('FFT') and abs(src.mtime_ns - dst.mtime_ns) <= FFT_WINDOW_NS:
            src_t = dst_t
        if src_t > dst_t:
            return 'newer'
        if src_t < dst_t:
            return 'older'
        return 'same' if src.size == dst.size else 'changed'

    def handle_file(self, entry: t.Any, dst_dir: WinPath, existing: t.Any) -> None:
        klass = self.classify(entry, existing)
        self.files[_TOTAL] += 1
        self.bytes[_TOTAL] += entry.size
        if klass == 'mismatch':
            self.files[_MISMATCH] += 1
            self.bytes[_MISMATCH] += entry.size
            if not self.opts.has('NFL'):
                self.line(fmt.file_line(fmt.COPIED['mismatch'], self._size(entry.size), self._name(entry.path)))
            return
        excluded = {'new': 'XL', 'newer': 'XN', 'older': 'XO', 'changed': 'XC'}.get(klass)
        skip = (klass == 'same' and not self.opts.has('IS')) or (excluded is not None and self.opts.has(excluded))
        if skip:
            self.files[_SKIPPED] += 1
            self.bytes[_SKIPPED] += entry.size
            if self.opts.has('V') and not self.opts.has('NFL'):
                self.line(fmt.file_line(fmt.SKIPPED[klass], self._size(entry.size), self._name(entry.path)))
            return
        if not self.opts.has('NFL'):
            self.line(fmt.file_line(fmt.COPIED[klass], self._size(entry.size), self._name(entry.path)).rstrip('\n')
                      + ('' if self.opts.has('NP') or self.listing else '\r  0%  \r100%  ') + '\n')
        if self.listing:
            self.files[_COPIED] += 1
            self.bytes[_COPIED] += entry.size
            return
        target = dst_dir.joinpath(entry.name if existing is None else existing.name)
        started = time.monotonic()
        ok = self.retrying('Copying File', str(entry.path), lambda: self.fs.copy_file(entry.path, target))[0]
        self.copy_seconds += time.monotonic() - started
        if ok:
            self.files[_COPIED] += 1
            self.bytes[_COPIED] += entry.size
        else:
            self.files[_FAILED] += 1
            self.bytes[_FAILED] += entry.size

    def _size(self, size: int) -> t.Optional[str]:
        if self.opts.has('NS'):
            return None
        return fmt.size_text(size, self.exact, threshold=1024 * 1024)

    def _name(self, path: WinPath) -> str:
        return str(path) if self.opts.has('FP') else path.name


def _folder_text(fs: t.Any, proc: t.Any, text: str) -> str:
    """A folder argument as robocopy prints it: full path, one trailing backslash."""
    if not text:
        return ''
    try:
        return fs.parse(text, proc.cwd).with_slash
    except (WinError, ValueError):
        return text if text.endswith('\\') else text + '\\'


def main(proc: t.Any) -> int:
    """Entry point: ``robocopy <source> <destination> [files] [options]``."""
    started = _now()
    fs = proc.fs

    def read_job(name: str) -> str:
        path = name if '.' in name.rsplit('\\', 1)[-1] else name + '.RCJ'
        return decode_job_file(fs.read_bytes(path, proc.cwd))

    try:
        opts = parse_command_line(proc.argv[1:], read_job)
    except UsageError as exc:
        partial = exc.opts or Options()
        shown = [_folder_text(fs, proc, text) for text in (exc.positional + ['', ''])[:2]]
        proc.write(fmt.header(started, shown[0], shown[1], partial.file_specs, partial.options_line(), valid=False))
        proc.write('\n%s\n\n%s' % (exc.line, fmt.SIMPLE_USAGE))
        if exc.note:
            proc.error('%s.\n' % exc.note)
        return EXIT_FATAL
    except WinError as exc:
        proc.write(fmt.error_lines(_now(), exc.code, 'Opening Job File', exc.path or '', exc.message))
        return EXIT_FATAL

    out = Output(proc)
    if opts.source is None or opts.dest is None:
        proc.write(fmt.BANNER + '\n  Started : %s\n' % fmt.long_date(started) + fmt.SIMPLE_USAGE)
        return EXIT_FATAL
    try:
        if opts.log:
            try:
                out.open_log(opts.log, opts.log_append, opts.log_unicode, opts.has('TEE'))
            except WinError as exc:
                proc.write(fmt.error_lines(_now(), exc.code, 'Opening Log File', opts.log, exc.message))
                return EXIT_FATAL
            proc.write('\n Log File : %s\n' % str(fs.parse(opts.log, proc.cwd)))
        paths: t.List[t.Optional[WinPath]] = []
        errors: t.List[t.Tuple[WinError, str, str]] = []
        for text, action in ((opts.source, 'Accessing Source Directory'), (opts.dest, 'Accessing Destination Directory')):
            try:
                paths.append(fs.parse(text, proc.cwd))
            except (WinError, ValueError) as exc:
                err = exc if isinstance(exc, WinError) else WinError(ERROR_INVALID_NAME, text)
                paths.append(None)
                errors.append((err, action, text if text.endswith('\\') else text + '\\'))
        shown = [p.with_slash if p is not None else (text if text.endswith('\\') else text + '\\')
                 for p, text in zip(paths, (opts.source, opts.dest))]
        if not opts.has('NJH'):
            out.write(fmt.header(started, shown[0], shown[1], opts.file_specs, opts.options_line(),
                                 opts.exclude_files, opts.exclude_dirs))
        if errors:
            for err, action, text in errors:
                out.write(fmt.error_lines(_now(), err.code, action, text, err.message))
            return EXIT_FATAL
        return Robocopy(proc, opts, out).run(t.cast(WinPath, paths[0]), t.cast(WinPath, paths[1]))
    finally:
        out.close()
