# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``airgap.wsus.metadata``: ``WsusUtil.exe export`` / ``import``, detached on the host.

Every check runs before WsusUtil does (in check mode, instead of it): the account must be a
local administrator, the package's volume must have room (export), the package must be a
real package, the order guard must pass and the package must not have been imported already
(import). WsusUtil runs as a detached job; an export goes to a staging file that a second job
renames over the package only once it is known to be good. Decisions and messages live in
``plugin_utils/_metadata.py``.
"""
from __future__ import annotations

import base64
import time
from datetime import datetime, timezone

from ansible_collections.airgap.wsus.plugins.plugin_utils import _argspec, _cmdline, _content_sync, _jobs, _metadata, _susdb, _winpath, _wsusutil
from ansible_collections.airgap.wsus.plugins.plugin_utils._action import AirgapWsusAction
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

CONTENT_FOLDER = 'WsusContent'
DEFAULT_MIN_FREE = 1024 ** 3
# The import's job options: on_timeout has no fixed default (leave for an import, cancel for an export).
_JOB_OPTIONS = _argspec.job_spec()
_JOB_OPTIONS['on_timeout'] = {'type': 'str', 'choices': list(_argspec.ON_TIMEOUT_CHOICES)}

OPTIONS = {
    'state': {'type': 'str', 'choices': ['exported', 'imported'], 'required': True},
    'package': {'type': 'str', 'required': True},
    'log_path': {'type': 'str'},
    'max_age': {'type': 'int', 'default': 0},
    'content_verified': {'type': 'bool', 'default': False},
    'force': {'type': 'bool', 'default': False},
    'reset': {'type': 'bool', 'default': False},
    'min_free_bytes': {'type': 'int', 'default': DEFAULT_MIN_FREE},
}


class ActionModule(AirgapWsusAction):
    """Export or import WSUS metadata with WsusUtil; see the module's documentation."""

    ARGUMENT_SPEC = _argspec.merge_specs(OPTIONS, _argspec.SUSDB_SPEC, _JOB_OPTIONS)

    # The clock and sleep of the timeout budget and the post-reset wait (tests replace them).
    _clock = staticmethod(time.monotonic)
    _sleep = staticmethod(time.sleep)
    # Per-run state, set by execute().
    _begin = 0.0
    _timeout = None
    _runner = None
    _warnings: list = []

    # ------------------------------------------------------------------ entry

    def execute(self, args: dict, task_vars: dict) -> dict:
        problems = _argspec.check_job_values(args)
        if args['max_age'] < 0:
            problems.append('max_age must be 0 (always export) or a number of seconds')
        if args['min_free_bytes'] < 0:
            problems.append('min_free_bytes must not be negative')
        exporting = args['state'] == 'exported'
        for name in ('content_verified', 'force', 'reset'):
            if exporting and args[name]:
                problems.append(f'{name} applies to state=imported only')
        if problems:
            raise AirgapWsusError('; '.join(problems))
        try:
            package = _metadata.package_path(args['package'])
            work_dir = _content_sync.check_work_dir(args['work_dir'])
            import_job = _metadata.import_job_id(package, args.get('log_path'))
            job_folder = None if exporting else _winpath.join(work_dir, 'jobs', import_job)
            log_path = _metadata.log_path_for(package, args.get('log_path'), job_folder)
            if exporting:
                _metadata.check_renamable(package, 'package')
        except (_metadata.MetadataError, _content_sync.ContentSyncError) as exc:
            raise AirgapWsusError(exc.message) from None
        self._begin = self._clock()
        self._timeout = self.job_timeout(args)
        self._runner = self.host_runner()
        self._warnings = []
        state = self._runner.run_retrying('server_state', {})
        problem = _metadata.admin_problem(state) or (None if exporting else _metadata.replica_problem(state))
        if problem:
            raise AirgapWsusError(problem)
        wsusutil = _wsusutil.wsusutil_path(state['registry']['target_dir'])
        base = {'package': package, 'log_path': log_path}
        if exporting:
            result = self._export(args, state, wsusutil, package, log_path, work_dir, base)
        else:
            result = self._import(args, state, wsusutil, package, log_path, work_dir, base, import_job)
        if self._warnings:
            result['warnings'] = self._warnings
        return result

    # ------------------------------------------------------------------ export

    def _export(self, args, state, wsusutil, package, log_path, work_dir, base):
        runner = self._runner
        staging = _metadata.staging_path(package)
        folder = _winpath.parent(package)
        pkg_info, staging_info, folder_info = runner.run_retrying('path_info', {'Paths': [package, staging, folder]})['paths']
        if not folder_info.get('exists') or not folder_info.get('is_dir'):
            raise AirgapWsusError(f'the folder of the package, {folder}, does not exist on {state.get("computer_name") or "the host"}; '
                                  'create it first (ansible.windows.win_file with state: directory)')
        if pkg_info.get('is_dir'):
            raise AirgapWsusError(f'package {package} is a folder; give the path of the package file')
        problem = _metadata.space_problem(folder_info.get('free_bytes'), args['min_free_bytes'], folder)
        if problem:
            raise AirgapWsusError(problem)
        records_path = _metadata.state_path(work_dir, _metadata.EXPORTS_FILE)
        records, warning = self._read_records(records_path, 'exports')
        if args['max_age'] > 0 and pkg_info.get('exists') and pkg_info.get('size'):
            entry = records.get(_metadata.export_key(package))
            sha256 = self._sha256(package) if entry else None
            fresh, reason = _metadata.export_is_fresh(entry, args['max_age'], pkg_info.get('size'), sha256, datetime.now(timezone.utc))
            if fresh:
                return dict(base, changed=False, size=pkg_info['size'], sha256=sha256, skipped_reason=reason,
                            msg=f'export skipped: {reason}')
        if warning:
            self._warnings.append(warning)
        if self.check_mode:
            message = f'WsusUtil would export the metadata to {package} (through {staging}); the administrator and free-space checks passed'
            return dict(base, changed=True, msg=message)

        job_args = {'package': _winpath.fold(package), 'staging': _winpath.fold(staging), 'log': _winpath.fold(log_path)}
        export_spec = _jobs.JobSpec(work_dir, _jobs.job_id_for('wsusutil_export', job_args),
                                    [_jobs.JobStep('export', wsusutil, _cmdline.join_args(_wsusutil.export_args(staging, log_path)), 0, log_path)],
                                    kind='WsusUtil export')
        run = self._run_job(export_spec, args, args.get('on_timeout') or 'cancel', space_path=folder)
        step = run.steps[0] if run.steps else None
        base.update(job_id=export_spec.job_id)
        if step is not None:
            base.update(rc=step.exit_code, duration=round(step.duration or 0.0, 1), log_tail=_metadata.tail_lines(step.log_tail or ''))
        extra = f'The previous package {package} was left as it was.' if pkg_info.get('exists') else ''
        if staging_info.get('exists'):
            extra += (f' {staging} was left by an earlier failed export; if WsusUtil refused to write over it, delete it and '
                      'run the task again.')
        failed = self._job_failure(run, 'export', log_path, extra=extra.strip())
        if failed:
            return dict(base, failed=True, changed=False, msg=failed)

        staged, head = self._package_facts(staging)
        check = _wsusutil.check_package(dict(staged, path=staging), head)
        if not check.ok:
            return dict(base, failed=True, changed=False,
                        msg=_metadata.empty_package_message(staging, check, package, bool(pkg_info.get('exists'))))
        rename_spec = _jobs.JobSpec(work_dir, _jobs.job_id_for('wsusutil_export_rename', job_args),
                                    [_metadata.move_step(staging, package, _metadata.cmd_path())], kind='package rename')
        renamed = self._run_job(rename_spec, args, 'cancel')
        if not renamed.succeeded:
            out = self._console(renamed)
            return dict(base, failed=True, changed=False,
                        msg=f'the export succeeded into {staging}, but renaming it to {package} failed ({renamed.summary()}): '
                            f'{out.strip() or "no output"}. Rename it by hand, or free the package file and run the task again.')
        final = runner.run_retrying('path_info', {'Paths': [package]})['paths'][0]
        if final.get('size') != staged.get('size'):
            return dict(base, failed=True, changed=True,
                        msg=f'after renaming {staging} to {package}, the package is {final.get("size")} bytes instead of '
                            f'{staged.get("size")}: another process changed it; export again')
        sha256 = self._sha256(package)
        records[_metadata.export_key(package)] = {'package': package, 'size': final['size'], 'sha256': sha256,
                                                  'exported_at': _metadata.now_iso(), 'job_id': export_spec.job_id}
        self._write_records(records_path, records, 'exports')
        return dict(base, changed=True, failed=False, size=final['size'], sha256=sha256,
                    msg=f'exported the metadata to {package} ({_jobs.format_bytes(final["size"])})')

    # ------------------------------------------------------------------ import

    def _import(self, args, state, wsusutil, package, log_path, work_dir, base, job_id):
        runner = self._runner
        info, head = self._package_facts(package)
        check = _wsusutil.check_package(dict(info, path=package), head)
        if not check.ok:
            raise AirgapWsusError(f'cannot import {package}: ' + '; '.join(check.problems) +
                                  '. Copy the package again from the export side and check its SHA-256.')
        sha256 = self._sha256(package)
        base.update(size=info['size'], sha256=sha256)
        records_path = _metadata.state_path(work_dir, _metadata.IMPORTS_FILE)
        records, warning = self._read_records(records_path, 'imports')
        if warning:
            self._warnings.append(warning)
        earlier = records.get(sha256)
        if earlier and not args['force']:
            reason = (f'package with SHA-256 {sha256} was already imported on {earlier.get("imported_at") or "an earlier run"}'
                      f' (recorded in {records_path}); force: true imports it again')
            result = dict(base, changed=False, skipped_reason=reason, msg=f'import skipped: {reason}')
            if args['reset']:
                result.update(self._reset(args, state, after_import=False))
            return result
        if earlier:
            self._warnings.append(f'importing package {sha256} again although it was imported on {earlier.get("imported_at")} (force: true)')
        record = _metadata.verified_record_path(work_dir, sha256)
        verified = bool(runner.run_retrying('file_read', {'Path': record, 'MaxBytes': 0}).get('exists'))
        guard = _metadata.order_guard(verified, args['content_verified'], args['force'], sha256, record)
        if guard.error:
            raise AirgapWsusError(guard.error)
        if guard.warning:
            self._warnings.append(guard.warning)
        if self.check_mode:
            message = (f'WsusUtil would import {package} (SHA-256 {sha256}): the administrator check passed and the order guard '
                       f'allows it ({guard.basis})')
            return dict(base, changed=True, msg=message)

        spec = _jobs.JobSpec(work_dir, job_id,
                             [_jobs.JobStep('import', wsusutil, _cmdline.join_args(_wsusutil.import_args(package, log_path)), 0, log_path)],
                             kind='WsusUtil import')
        run = self._run_job(spec, args, args.get('on_timeout') or 'leave')
        step = run.steps[0] if run.steps else None
        base.update(job_id=spec.job_id)
        if step is not None:
            base.update(rc=step.exit_code, duration=round(step.duration or 0.0, 1), log_tail=_metadata.tail_lines(step.log_tail or ''))
        failed = self._job_failure(run, 'import', log_path)
        if failed:
            return dict(base, failed=True, changed=run.state == 'exited' or run.left_running, msg=failed)
        records[sha256] = {'package': package, 'size': info['size'], 'imported_at': _metadata.now_iso(), 'job_id': spec.job_id,
                           'server': state.get('computer_name')}
        self._write_records(records_path, records, 'imports')
        result = dict(base, changed=True, failed=False, msg=f'imported {package} (SHA-256 {sha256})')
        if args['reset']:
            result.update(self._reset(args, state, after_import=True))
        return result

    def _reset(self, args, state, after_import: bool) -> dict:
        """``WsusUtil reset``, then wait until no approved update needs files (or nothing more can arrive).

        After a skipped import, the reset runs only when SUSDB says approved updates still need
        files: that is when copying them in and checking again helps.
        """
        if not state['registry'].get('content_dir'):
            raise AirgapWsusError('reset needs the WSUS content folder, but the registry has no ContentDir; repair the WSUS installation')
        executor = self.susdb_executor(args.get('susdb'), self._runner)
        content_root = _winpath.join(state['registry']['content_dir'], CONTENT_FOLDER)
        if not after_import:
            counts = _susdb.read_update_counts(executor)
            if not (counts['approved_not_present'] or counts['approved_untracked']):
                return {'missing_files': []}
        wsusutil = _wsusutil.wsusutil_path(state['registry']['target_dir'])
        spec = _jobs.JobSpec(_content_sync.check_work_dir(args['work_dir']),
                             _jobs.job_id_for('wsusutil_reset', {'wsusutil': _winpath.fold(wsusutil)}),
                             [_jobs.JobStep('reset', wsusutil, _cmdline.join_args(_wsusutil.reset_args()), 0)], kind='WsusUtil reset')
        run = self._run_job(spec, args, 'cancel')
        failed = self._job_failure(run, 'reset', None)
        if failed:
            raise AirgapWsusError(failed)
        missing = self._wait_for_content(executor, content_root, float(args['poll_interval']))
        if missing:
            self._warnings.append(f'{len(missing)} file(s) that approved updates need are missing from {content_root}; copy them '
                                  'in (airgap.wsus.content_sync with files) and run this task again with reset: true')
        return {'missing_files': _metadata.missing_entries(missing)}

    def _wait_for_content(self, executor, content_root: str, poll_interval: float) -> list:
        """Poll SUSDB until every approved update's files are present, or every absent one is missing from disk."""
        backoff = _jobs.BackoffSchedule(cap=max(1.0, poll_interval))
        while True:
            pending = _metadata.not_ready(_susdb.read_approved_files(executor))
            if not pending:
                return []
            paths = _metadata.content_file_paths(content_root, pending)
            infos = self._runner.run_retrying('path_info', {'Paths': paths})['paths']
            waiting, missing = _metadata.split_waiting(pending, infos)
            if not waiting:
                return missing
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                self._warnings.append(f'the timeout expired while WSUS was still verifying {len(waiting)} file(s) that are on disk; '
                                      'they are listed in missing_files until WSUS has checked them')
                return missing + waiting
            wait = backoff.next() if remaining is None else min(backoff.next(), remaining)
            self.log(f'WSUS is verifying {len(waiting)} file(s) after the reset; {len(missing)} missing; checking again in {wait:g} s')
            self._sleep(wait)

    # ------------------------------------------------------------------ helpers

    def _remaining(self) -> float | None:
        if self._timeout is None:
            return None
        return self._timeout - (self._clock() - self._begin)

    def _run_job(self, spec, args, on_timeout, space_path=None):
        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            raise AirgapWsusError(f'the timeout of {int(self._timeout)} s expired before the {spec.kind} job could start; '
                                  'raise timeout (0 means no limit)')
        driver = self.job_driver(self._runner)
        return driver.run(spec, timeout=remaining, poll_interval=float(args['poll_interval']), on_timeout=on_timeout,
                          progress=self.show_progress, space_path=space_path, tail_bytes=_wsusutil.TAIL_CHARS * 2)

    def _job_failure(self, run, operation: str, log_path: str | None, extra: str = '') -> str | None:
        """The failure message of a finished WsusUtil job, or ``None`` when it succeeded."""
        if run.timed_out or run.state in ('lost', 'cancelled') or run.error:
            text = run.summary()
            if run.left_running and operation == 'import':
                text += ('. The import was left running because stopping WsusUtil half-way could leave SUSDB half-imported '
                         '(on_timeout: leave)')
            return text
        step = run.steps[0] if run.steps else None
        if step is None or step.state == 'failed_to_start':
            return f'WsusUtil {operation} could not start: {(step.error if step else None) or run.summary()}'
        console = self._console(run)
        assessment = _wsusutil.assess_output(step.exit_code, '\n'.join(filter(None, [step.log_tail, console])))
        if assessment.ok:
            return None
        return _metadata.run_failure(operation, assessment, log_path or 'none', step.log_tail if log_path else '', console, extra)

    def _console(self, run) -> str:
        """WsusUtil's console output (``step0.out`` in the job folder): what it prints before its log exists."""
        if not run.job_dir:
            return ''
        answer = self._runner.run_retrying('file_read', {'Path': _winpath.join(run.job_dir, 'step0.out'), 'MaxBytes': 65536})
        if not answer.get('exists') or not answer.get('content_b64'):
            return ''
        data = base64.b64decode(answer['content_b64'])
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            # A detached console program writes in the OEM code page, usually 437.
            return data.decode('cp437', 'replace')

    def _package_facts(self, path: str) -> tuple[dict, bytes | None]:
        info = self._runner.run_retrying('path_info', {'Paths': [path]})['paths'][0]
        head = None
        if info.get('exists') and not info.get('is_dir') and info.get('size'):
            answer = self._runner.run_retrying('file_read', {'Path': path, 'MaxBytes': _metadata.HEAD_BYTES})
            head = base64.b64decode(answer.get('content_b64') or '')
        return info, head

    def _sha256(self, path: str) -> str:
        entry = self._runner.run_retrying('file_hash', {'Paths': [path], 'Algorithms': ['SHA256']})['files'][0]
        if entry.get('error') or not entry.get('sha256'):
            raise AirgapWsusError(f'cannot hash {path}: {entry.get("error") or "no hash returned"}')
        return str(entry['sha256']).lower()

    def _read_records(self, path: str, kind: str) -> tuple[dict, str | None]:
        answer = self._runner.run_retrying('file_read', {'Path': path, 'MaxBytes': 16 * 1024 * 1024})
        data = base64.b64decode(answer['content_b64']) if answer.get('exists') and answer.get('content_b64') else None
        return _metadata.parse_records(data, kind)

    def _write_records(self, path: str, entries: dict, kind: str) -> None:
        content = base64.b64encode(_metadata.render_records(entries, kind)).decode('ascii')
        self._runner.run_retrying('file_write', {'Path': path, 'ContentB64': content})
