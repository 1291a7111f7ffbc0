# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``airgap.wsus.content_sync``: copy WsusContent with robocopy, detached on the host.

Round trips, whatever the number of files: ``server_state`` (only when ``src`` or ``dest`` is
left to default), ``path_info`` for both folders, a ``job_poll`` probe for a copy this task
already started, then the listing job (``/L``) and, when it found something to copy and the
destination has room, the copy job; each job is a start and a few polls. Planning and judging
live in ``plugin_utils/_content_sync.py``.
"""
from __future__ import annotations

import time

from ansible_collections.airgap.wsus.plugins.plugin_utils import _argspec, _content_sync, _jobs, _robocopy, _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._action import AirgapWsusAction
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

CONTENT_FOLDER = 'WsusContent'

OPTIONS = {
    'src': {'type': 'str'},
    'dest': {'type': 'str'},
    'mode': {'type': 'str', 'choices': list(_content_sync.MODES), 'default': 'incremental'},
    'files': {'type': 'list', 'elements': 'str'},
    'threads': {'type': 'int', 'default': _robocopy.DEFAULT_THREADS},
    'retries': {'type': 'int', 'default': _robocopy.DEFAULT_RETRIES},
    'retry_wait': {'type': 'int', 'default': _robocopy.DEFAULT_WAIT},
    'restartable': {'type': 'bool', 'default': False},
    'unbuffered': {'type': 'bool', 'default': True},
    'fat_timestamps': {'type': 'str', 'choices': list(_content_sync.FAT_CHOICES), 'default': 'auto'},
    'log_path': {'type': 'str'},
}


class ActionModule(AirgapWsusAction):
    """Copy WsusContent (or a list of its files) with robocopy; see the module's documentation."""

    ARGUMENT_SPEC = _argspec.merge_specs(OPTIONS, _argspec.JOB_SPEC)
    REQUIRED_ONE_OF = [['src', 'dest']]

    def execute(self, args: dict, task_vars: dict) -> dict:
        problems = _argspec.check_job_values(args)
        if problems:
            raise AirgapWsusError('; '.join(problems))
        begin = time.monotonic()
        timeout = self.job_timeout(args)
        runner = self.host_runner()
        src, dest = args.get('src'), args.get('dest')
        try:
            # Bad options fail before any round trip; make_plan checks them again with the folders.
            checked = _content_sync.check_options(args)
        except _content_sync.ContentSyncError as exc:
            raise AirgapWsusError(exc.message) from None
        if not src or not dest:
            content = self._content_folder(runner)
            src, dest = src or content, dest or content
        src_info, dest_info = runner.run_retrying('path_info', {'Paths': [src, dest]})['paths']
        if not src_info.get('exists') or not src_info.get('is_dir'):
            what = 'is a file, not a folder' if src_info.get('exists') else 'does not exist'
            raise AirgapWsusError(f'src {src} {what} on the host; give the folder to copy from (the WsusContent folder or its copy)')
        if dest_info.get('exists') and not dest_info.get('is_dir'):
            raise AirgapWsusError(f'dest {dest} is a file on the host; give a folder (it is created when missing)')
        fft = _content_sync.fat_times(args['fat_timestamps'], [src_info.get('file_system'), dest_info.get('file_system')])
        try:
            plan = _content_sync.make_plan(src, dest, args, fft, checked)
        except _content_sync.ContentSyncError as exc:
            raise AirgapWsusError(exc.message) from None
        robocopy_exe = _robocopy.robocopy_path()
        copy_spec, copy_logs = _content_sync.build_job(plan, False, robocopy_exe)
        driver = self.job_driver(runner)
        warnings = [_content_sync.mirror_warning(plan)] if plan.mirror else []
        base = {'src': plan.src, 'dest': plan.dest}

        listing = None
        if self.check_mode or not self._copy_job_pending(runner, copy_spec):
            list_spec, list_logs = _content_sync.build_job(plan, True, robocopy_exe)
            list_run = self._run_job(driver, list_spec, args, begin, timeout, 'cancel')
            listing = _content_sync.judge(list_run.steps)
            base.update(job_id=list_spec.job_id, log_path=list_logs[0])
            if not list_run.succeeded and (list_run.timed_out or list_run.state != 'exited' or list_run.error):
                return self._failed(base, listing, list_run.summary(), warnings)
            if not listing.ok:
                return self._failed(base, listing, _content_sync.failure_message(listing, plan, list_only=True), warnings)
            warnings += _content_sync.listing_warnings(listing, plan, check_mode=True)
            would_change = _content_sync.changed(listing, plan)
            if self.check_mode:
                return self._done(base, listing, would_change, warnings,
                                  f'would copy {listing.copied_files} file(s) ({_jobs.format_bytes(listing.copied_bytes)}) '
                                  f'from {plan.src} to {plan.dest}')
            if not would_change:
                return self._done(base, listing, False, warnings, f'{plan.dest} already has every file of {plan.src}; nothing to copy')
            problem = _content_sync.space_problem(listing, plan, dest_info.get('free_bytes'))
            if problem:
                return self._failed(base, listing, problem, warnings)
            # The listing's warnings describe the copy to come; the copy's own replace them.
            warnings = [_content_sync.mirror_warning(plan)] if plan.mirror else []

        base.update(job_id=copy_spec.job_id, log_path=copy_logs[0])
        copy_run = self._run_job(driver, copy_spec, args, begin, timeout, args['on_timeout'], plan=plan,
                                 total_bytes=listing.copied_bytes if listing else None,
                                 baseline_free=dest_info.get('free_bytes') if listing else None)
        outcome = _content_sync.judge(copy_run.steps)
        if not copy_run.succeeded and (copy_run.timed_out or copy_run.state != 'exited' or copy_run.error):
            return self._failed(base, outcome, copy_run.summary(), warnings, copied=True)
        if not outcome.ok:
            return self._failed(base, outcome, _content_sync.failure_message(outcome, plan), warnings, copied=True)
        warnings += _content_sync.listing_warnings(outcome, plan, check_mode=False)
        return self._done(base, outcome, _content_sync.changed(outcome, plan), warnings,
                          f'copied {outcome.copied_files} file(s) ({_jobs.format_bytes(outcome.copied_bytes)}) '
                          f'from {plan.src} to {plan.dest} in {_jobs.format_duration(outcome.duration)}')

    # ------------------------------------------------------------------ steps

    def _content_folder(self, runner) -> str:
        """``<ContentDir>\\WsusContent`` from the host's WSUS Setup registry key."""
        state = runner.run_retrying('server_state', {})
        registry = state.get('registry') or {}
        content_dir = registry.get('content_dir')
        if not registry.get('installed') or not content_dir:
            raise AirgapWsusError(f'src and dest default to the WSUS content folder, but WSUS is not installed on '
                                  f'{state.get("computer_name") or "the host"} (no ContentDir in the registry); give both src and dest')
        try:
            return _winpath.join(content_dir, CONTENT_FOLDER)
        except _winpath.WinPathError as exc:
            raise AirgapWsusError(f'the registry\'s ContentDir cannot be used ({exc.message}); give both src and dest') from None

    @staticmethod
    def _copy_job_pending(runner, spec: _jobs.JobSpec) -> bool:
        """Whether this task's copy job is running, or ended without its result being read.

        Then the controller that started it lost its connection: re-attach at once instead of
        listing again (the listing would only count what the running copy is already doing).
        """
        poll = runner.run_retrying('job_poll', {'JobRoot': spec.job_root, 'JobId': spec.job_id, 'TailBytes': 0, 'Collect': False})
        state = poll.get('state')
        return state == 'running' or (state in _jobs.ENDED_STATES and not poll.get('collected'))

    def _run_job(self, driver, spec, args, begin, timeout, on_timeout, plan=None, total_bytes=None, baseline_free=None):
        remaining = None
        if timeout is not None:
            remaining = timeout - (time.monotonic() - begin)
            if remaining <= 0:
                raise AirgapWsusError(f'the timeout of {int(timeout)} s expired before the {spec.kind} job could start; '
                                      'raise timeout (0 means no limit)')
        return driver.run(spec, timeout=remaining, poll_interval=float(args['poll_interval']), on_timeout=on_timeout,
                          progress=self.show_progress, space_path=plan.dest if plan else None, total_bytes=total_bytes,
                          baseline_free_bytes=baseline_free, tail_bytes=_content_sync.TAIL_BYTES)

    @staticmethod
    def _done(base: dict, outcome, changed: bool, warnings: list, msg: str) -> dict:
        # failed is explicit: Ansible fails any result whose rc is not 0, and robocopy's 1 means copied.
        result = dict(base, changed=changed, failed=False, msg=msg, **outcome.result_keys())
        if warnings:
            result['warnings'] = warnings
        return result

    @staticmethod
    def _failed(base: dict, outcome, msg: str, warnings: list, copied: bool = False) -> dict:
        """A failed result; ``copied`` when the failed pass was a real copy (it may have copied some files)."""
        result = dict(base, failed=True, changed=copied and outcome.copied_files > 0, msg=msg, **outcome.result_keys())
        if warnings:
            result['warnings'] = warnings
        return result
