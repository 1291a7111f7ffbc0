# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning and judging ``content_sync`` copies: pure, no I/O (``plugins/action/content_sync.py`` does that).

A copy is two detached jobs on the host, each a list of robocopy runs:

1. the *listing* pass: the same runs with ``/L``, which copies nothing and counts what a real
   run would copy. It is the whole of a check-mode run; otherwise it measures the bytes to
   copy, so the destination's free space is checked before anything is written and progress
   can be shown as a percentage, and a copy with nothing to do ends there;
2. the *copy* pass: the real runs.

A tree copy is one robocopy run (``/E``, or ``/MIR`` when mirroring). A ``files`` copy is the
runs :func:`_robocopy.plan_list_copies` plans: hash-named files by name through job files, one
run per 5,000 names, so 100,000 files cost two job starts and a handful of polls.

Each run's log stays on the host; polls bring back its tail, where robocopy writes the error
records and the summary table (``/NFL /NDL`` keep per-file lines out of it). Summaries of all
runs are added up and their exit codes OR-ed: the bitmask means the same for the whole copy.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass, field

from . import _cmdline, _jobs, _robocopy, _winpath
from ._errors import AirgapWsusError

MODES = ('incremental', 'mirror')
FAT_CHOICES = ('auto', 'on', 'off')
FAT_FILE_SYSTEMS = frozenset(['FAT', 'FAT12', 'FAT16', 'FAT32', 'EXFAT'])
COLUMNS = ('total', 'copied', 'skipped', 'mismatch', 'failed', 'extras')
# Errors beyond this many are counted, not listed: a failing share can log thousands.
MAX_ERRORS = 200
# Polls bring back this much of each log's end: the summary table, and the error records of
# up to a few hundred failed files (each failed file logs one record per retry).
TAIL_BYTES = 65536
# Files take whole clusters; 4 KiB (NTFS' default) per file makes the space check a lower bound.
CLUSTER_ESTIMATE = 4096
ROBOCOPY_STEP = 'robocopy'


class ContentSyncError(AirgapWsusError, ValueError):
    """Options that cannot make a safe copy; the message names the option and the fix."""


@dataclass(frozen=True)
class CopyPlan:
    """What to copy and how, checked and normalised."""

    src: str
    dest: str
    mode: str
    files: tuple | None
    options: _robocopy.RobocopyOptions
    work_dir: str
    log_path: str | None = None

    @property
    def mirror(self) -> bool:
        return self.mode == 'mirror'

    @functools.cached_property
    def _files_identity(self) -> dict | None:
        # Upper-casing (not NTFS folding, which is ten times slower per name) is enough here:
        # content names are ASCII hashes, and a rare mismatch only costs a separate job.
        if self.files is None:
            return None
        digest = hashlib.sha256('\n'.join(sorted(f.upper() for f in self.files)).encode('utf-8')).hexdigest()
        return {'count': len(self.files), 'sha256': digest}

    def job_args(self, list_only: bool) -> dict:
        """The arguments that identify this copy's job: the same task gives the same job id.

        A file list enters as a digest of its sorted, upper-cased entries, so its order does not
        matter and 100,000 names do not bloat the canonical form.
        """
        files = self._files_identity
        opts = self.options
        return {
            'src': _winpath.fold(self.src), 'dest': _winpath.fold(self.dest), 'mode': self.mode, 'files': files,
            'io_mode': opts.io_mode, 'threads': opts.threads, 'retries': opts.retries, 'wait': opts.wait,
            'fat_times': opts.fat_times, 'log_path': _winpath.fold(self.log_path) if self.log_path else None,
            'list_only': list_only,
        }

    def job_id(self, list_only: bool) -> str:
        return _jobs.job_id_for('content_sync_list' if list_only else 'content_sync', self.job_args(list_only))


def _path(value, what: str, allow_unc: bool = True) -> str:
    try:
        return _winpath.normalize(value, what, allow_unc=allow_unc)
    except _winpath.WinPathError as exc:
        raise ContentSyncError(exc.message) from None


def check_work_dir(work_dir: str) -> str:
    """``work_dir`` normalised; it must be a local path job_start accepts (letters, digits, space, ``. _ - ( )``)."""
    path = _path(work_dir, 'work_dir', allow_unc=False)
    allowed = set(' ._-()\\:')
    if not all(ch.isalnum() or ch in allowed for ch in path):
        raise ContentSyncError(f'work_dir {path} may hold only letters, digits, spaces and . _ - ( ): the job runner '
                               'refuses other characters in its folder. Choose another folder, such as C:\\ProgramData\\airgap.wsus')
    return path


def fat_times(choice: str, file_systems) -> bool:
    """Whether to pass ``/FFT``: ``on``, ``off``, or ``auto`` when either side is on FAT or exFAT."""
    if choice == 'on':
        return True
    if choice == 'off':
        return False
    return any(str(fs or '').upper() in FAT_FILE_SYSTEMS for fs in file_systems)


def check_options(args: dict) -> dict:
    """Check the options that do not depend on the host; return them normalised.

    Returns ``{'mode', 'work_dir', 'files', 'log_path', 'options'}`` (``options`` without
    ``/FFT``, which depends on the file systems). Raises :class:`ContentSyncError` naming the
    option and the fix, before any round trip to the host.
    """
    mode = args.get('mode') or 'incremental'
    if mode not in MODES:
        raise ContentSyncError(f'mode must be one of {", ".join(MODES)}, not {mode!r}')
    work_dir = check_work_dir(args.get('work_dir') or '')
    for name in ('src', 'dest'):
        if args.get(name):
            _path(args[name], name)
    log_path = _path(args['log_path'], 'log_path') if args.get('log_path') else None
    files = args.get('files')
    if files is not None:
        if mode == 'mirror':
            raise ContentSyncError('files cannot be used with mode=mirror: mirroring would delete every file of dest that '
                                   'is not listed. Copy the list with mode=incremental.')
        if log_path:
            raise ContentSyncError('log_path cannot be used with files: a file list is copied by several robocopy runs, each '
                                   'logging to its own file in the job folder under work_dir')
        checked = []
        for index, relpath in enumerate(files):
            try:
                checked.append(_winpath.validate_content_relpath(relpath, f'files[{index}]'))
            except _winpath.WinPathError as exc:
                raise ContentSyncError(f'{exc.message}; give paths relative to src such as 0A/0A1B...0A.cab') from None
        files = tuple(checked)
    options = _robocopy.RobocopyOptions(
        mirror=mode == 'mirror', io_mode=_robocopy.io_mode_for(bool(args.get('restartable')), bool(args.get('unbuffered'))),
        threads=int(args.get('threads') or 0), retries=int(args.get('retries') or 0), wait=int(args.get('retry_wait') or 0))
    try:
        options.validate()
    except _robocopy.RobocopyError as exc:
        raise ContentSyncError(exc.message.replace('wait must', 'retry_wait must')) from None
    return {'mode': mode, 'work_dir': work_dir, 'files': files, 'log_path': log_path, 'options': options}


def make_plan(src: str, dest: str, args: dict, fft: bool, checked: dict | None = None) -> CopyPlan:
    """Check the task's options against ``src``/``dest`` (already chosen) and return the plan.

    ``checked`` is :func:`check_options`' answer when the caller has it (a long file list is
    then not checked twice). Raises :class:`ContentSyncError` with a message naming the option.
    """
    checked = checked or check_options(args)
    mode, work_dir, log_path = checked['mode'], checked['work_dir'], checked['log_path']
    src = _path(src, 'src')
    dest = _path(dest, 'dest')
    if _winpath.same_path(src, dest):
        raise ContentSyncError(f'src and dest are the same folder ({src}); give the other side of the copy')
    if _winpath.is_within(dest, src) or _winpath.is_within(src, dest):
        raise ContentSyncError(f'src {src} and dest {dest} contain one another; robocopy would copy a tree into itself')
    if mode == 'mirror':
        if not _winpath.components(dest):
            raise ContentSyncError(f'mode=mirror into the root of {dest} would delete everything else on it; '
                                   'give a folder, such as E:\\wsus-transfer\\WsusContent')
        for what, path in (('work_dir', work_dir), ('log_path', log_path)):
            if path and _winpath.is_within(path, dest):
                raise ContentSyncError(f'{what} {path} lies inside dest {dest}, and mode=mirror would delete it while robocopy '
                                       f'runs; put {what} elsewhere')
    options = dataclasses.replace(checked['options'], fat_times=fft)
    return CopyPlan(src=src, dest=dest, mode=mode, files=checked['files'], options=options, work_dir=work_dir, log_path=log_path)


def job_dir(plan: CopyPlan, job_id: str) -> str:
    """Where job_start puts this job's folder (``<work_dir>\\jobs\\<job id>``)."""
    return _winpath.join(plan.work_dir, 'jobs', job_id)


def build_job(plan: CopyPlan, list_only: bool, robocopy_exe: str) -> tuple[_jobs.JobSpec, list[str]]:
    """The job for one pass and the log path of each of its runs."""
    job_id = plan.job_id(list_only)
    folder = job_dir(plan, job_id)
    options = dataclasses.replace(plan.options, list_only=list_only)
    steps, files, logs = [], {}, []
    if plan.files is None:
        log = plan.log_path if plan.log_path and not list_only else _winpath.join(folder, 'robocopy.log')
        args = _robocopy.build_tree_args(plan.src, plan.dest, log, options)
        steps.append(_jobs.JobStep(ROBOCOPY_STEP, robocopy_exe, _cmdline.join_args(args), 7, log))
        logs.append(log)
    else:
        for run in _robocopy.plan_list_copies(plan.src, plan.dest, list(plan.files), folder, options):
            steps.append(_jobs.JobStep(f'{ROBOCOPY_STEP} {len(steps) + 1}', robocopy_exe, _cmdline.join_args(run.args), 7, run.log_path))
            files[run.job_file_name] = run.job_file_text.encode('ascii')
            logs.append(run.log_path)
    spec = _jobs.JobSpec(job_root=plan.work_dir, job_id=job_id, steps=steps, files=files,
                         kind='robocopy listing' if list_only else 'robocopy')
    return spec, logs


# --------------------------------------------------------------------------- judging the runs

@dataclass
class CopyOutcome:
    """The runs of one pass, added up."""

    rc: int | None
    files: dict
    bytes: dict
    dirs: dict
    errors: list
    errors_total: int
    duration: float
    ok: bool
    reasons: list
    summaries_missing: int = 0
    warnings: list = field(default_factory=list)

    @property
    def copied_files(self) -> int:
        return int(self.files.get('copied', 0))

    @property
    def copied_bytes(self) -> int:
        return int(self.bytes.get('copied', 0))

    def result_keys(self) -> dict:
        return {'rc': self.rc, 'files': dict(self.files), 'bytes': dict(self.bytes), 'errors': list(self.errors),
                'duration': round(self.duration, 1)}


def _zero() -> dict:
    return dict.fromkeys(COLUMNS, 0)


def combine_exit_codes(codes) -> int:
    """OR the runs' exit codes; an unknown or impossible code counts as fatal (16)."""
    total = 0
    for code in codes:
        if code is None or code < 0 or code > 31:
            total |= 16
        else:
            total |= code
    return total


def judge(steps: list) -> CopyOutcome:
    """Add up the runs of a finished pass (``_jobs.StepResult`` list) and judge them."""
    files, sizes, dirs = _zero(), _zero(), _zero()
    errors: list = []
    errors_total = 0
    duration = 0.0
    reasons: list = []
    codes = []
    missing = 0
    for step in steps:
        if step.state in ('pending', 'skipped'):
            continue
        if step.state == 'failed_to_start':
            reasons.append(f'{step.name} could not start: {step.error or "no reason given"}')
            codes.append(None)
            continue
        if step.state != 'exited':
            # Still running (left at a timeout), cancelled or lost: no exit code to judge, and
            # the log's summary is not written yet; the caller reports why the job stopped.
            reasons.append(f'{step.name} did not finish ({step.state})')
            continue
        codes.append(step.exit_code)
        duration += step.duration or 0.0
        log = _robocopy.parse_log(step.log_tail or '')
        if log.summary is None:
            missing += 1
        else:
            for key in COLUMNS:
                files[key] += int(log.summary.files.get(key, 0))
                sizes[key] += int(log.summary.bytes.get(key, 0))
                dirs[key] += int(log.summary.dirs.get(key, 0))
        verdict = _robocopy.assess(step.exit_code, log)
        reasons.extend(r for r in verdict.reasons if r not in reasons)
        for error in log.errors:
            errors_total += 1
            if len(errors) < MAX_ERRORS:
                errors.append({'code': error.code, 'action': error.action, 'path': error.path, 'message': error.message})
        if step.stderr_tail and step.stderr_tail.strip() and not verdict.ok:
            reasons.append(f'robocopy said: {step.stderr_tail.strip()[-500:]}')
    rc = combine_exit_codes(codes) if codes else None
    ok = not reasons and rc is not None and rc < 8
    return CopyOutcome(rc=rc, files=files, bytes=sizes, dirs=dirs, errors=errors, errors_total=errors_total,
                       duration=duration, ok=ok, reasons=reasons, summaries_missing=missing)


def failure_message(outcome: CopyOutcome, plan: CopyPlan, list_only: bool = False) -> str:
    """The task's message for a failed pass: exit code, what it means, and the error lines."""
    what = 'robocopy (listing what to copy)' if list_only else 'robocopy'
    head = f'{what} failed copying {plan.src} to {plan.dest} (exit code {outcome.rc})'
    reasons = list(outcome.reasons) or [_robocopy.interpret_exit_code(outcome.rc).description]
    if outcome.rc is None:
        head = f'{what} did not finish copying {plan.src} to {plan.dest}'
    text = f'{head}: ' + '; '.join(reason.rstrip('.') for reason in reasons)
    if outcome.errors_total > len(outcome.errors):
        text += f' ({outcome.errors_total} error records in all; the first {len(outcome.errors)} are in errors)'
    hints = []
    codes = {e['code'] for e in outcome.errors}
    if 32 in codes or 33 in codes:
        hints.append('another process holds a file open: stop it (for WsusContent, stop WsusService or wait for its downloads) and run the task again')
    if 5 in codes:
        hints.append('access was denied: run as an account that may read src and write dest (a local administrator for WsusContent)')
    if 112 in codes:
        hints.append('the destination is full: free space or use a larger medium')
    if hints:
        joined = '; '.join(hints)
        text += '. ' + joined[0].upper() + joined[1:]
    text += '. The copy is incremental: running the task again copies only what is still missing.'
    return text


def listing_warnings(outcome: CopyOutcome, plan: CopyPlan, check_mode: bool) -> list[str]:
    """Warnings for exit code bits 2 and 4 and for deletions (``mode=mirror``)."""
    warnings = []
    extra_files, extra_dirs = outcome.files.get('extras', 0), outcome.dirs.get('extras', 0)
    if plan.mirror:
        if extra_files or extra_dirs:
            verb = 'would delete' if check_mode else 'deleted'
            warnings.append(f'mode=mirror {verb} {extra_files} file(s) ({outcome.bytes.get("extras", 0)} bytes) and '
                            f'{extra_dirs} folder(s) in {plan.dest} that {plan.src} does not have')
    elif extra_files or extra_dirs:
        warnings.append(f'{plan.dest} holds {extra_files} file(s) and {extra_dirs} folder(s) that {plan.src} does not have; '
                        'they were left in place (mode=incremental never deletes)')
    mismatched = outcome.files.get('mismatch', 0) + outcome.dirs.get('mismatch', 0)
    if mismatched or (outcome.rc or 0) & 4:
        warnings.append(f'robocopy found {mismatched} mismatched item(s): a file on one side is a folder on the other. '
                        'They were not copied; remove the wrong one and run the task again')
    if plan.files is not None and not outcome.summaries_missing:
        # robocopy selects listed names it finds and says nothing about the others.
        expected = len({name.upper() for name in plan.files})
        found = int(outcome.files.get('total', 0))
        if found < expected:
            warnings.append(f'{expected - found} of the {expected} listed file(s) are not in {plan.src}; robocopy copied only '
                            'those it found')
    if outcome.summaries_missing:
        warnings.append(f'{outcome.summaries_missing} robocopy run(s) left no summary in their log tail; counts are incomplete')
    return warnings


def mirror_warning(plan: CopyPlan) -> str:
    return (f'mode=mirror deletes every file and folder in {plan.dest} that {plan.src} does not have '
            '(robocopy /MIR); use mode=incremental unless dest holds nothing else')


def changed(outcome: CopyOutcome, plan: CopyPlan) -> bool:
    """Whether the pass changed (or, for a listing, would change) the destination."""
    if outcome.copied_files or (outcome.rc or 0) & 1:
        return True
    return plan.mirror and bool(outcome.files.get('extras', 0) or outcome.dirs.get('extras', 0))


def space_problem(listing: CopyOutcome, plan: CopyPlan, free_bytes: int | None) -> str | None:
    """Why the destination cannot take what the listing says will be copied, or ``None``.

    Overwritten and (with ``mode=mirror``) deleted files free space too, so only the bytes of
    new data beyond that are compared; the cluster estimate makes the need a lower bound.
    """
    if free_bytes is None or not listing.copied_files:
        return None
    need = listing.copied_bytes + listing.copied_files * CLUSTER_ESTIMATE
    if plan.mirror:
        need -= int(listing.bytes.get('extras', 0))
    if need <= free_bytes:
        return None
    return (f'{plan.dest} needs at least {_jobs.format_bytes(need)} for {listing.copied_files} file(s) '
            f'({_jobs.format_bytes(listing.copied_bytes)} of data) but its volume has {_jobs.format_bytes(free_bytes)} free. '
            'Free space on it, or copy to a larger medium; nothing was copied')
