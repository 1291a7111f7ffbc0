# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``airgap.wsus.content_verify``: prove the approved updates' files are in WsusContent, whole.

Round trips, whatever the number of updates and files: ``server_state``, one SUSDB call
(``approved_files`` and ``approved_eula_files`` together) and one ``content_inventory`` of
WsusContent. The comparison is ``_content_verify``'s. With ``reset: true`` (never in check
mode), ``WsusUtil.exe reset`` runs as a detached job, then one small SUSDB query per poll
(``approved_files_not_ready``) until WSUS's view agrees with the disk or ``timeout`` ends.
"""
from __future__ import annotations

import time

from ansible_collections.airgap.wsus.plugins.action.server_info import CONTENT_FOLDER, unavailable_message
from ansible_collections.airgap.wsus.plugins.plugin_utils import _argspec, _cmdline, _content_verify, _jobs, _susdb, _winpath, _wsusutil
from ansible_collections.airgap.wsus.plugins.plugin_utils._action import AirgapWsusAction, display
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

OPTIONS = {
    'content_dir': {'type': 'str'},
    'hash': {'type': 'bool', 'default': False},
    'reset': {'type': 'bool', 'default': False},
    'fail_on_missing': {'type': 'bool', 'default': True},
}


def content_folder(state: dict, given: str | None) -> str:
    """The WsusContent folder: ``content_dir``, else the server's ``LocalContentCachePath``, else the registry's ``ContentDir``."""
    try:
        if given:
            return _winpath.normalize(given, 'content_dir')
        configured = (state.get('config') or {}).get('local_content_cache_path')
        if configured:
            return _winpath.normalize(configured, 'LocalContentCachePath')
        content_dir = (state.get('registry') or {}).get('content_dir')
        if content_dir:
            return _winpath.join(content_dir, CONTENT_FOLDER)
    except _winpath.WinPathError as exc:
        raise AirgapWsusError(f'{exc.message}; give content_dir') from None
    raise AirgapWsusError(f'WSUS on {state.get("computer_name") or "the host"} names no content folder; give content_dir')


class ActionModule(AirgapWsusAction):
    """Verify the content of approved updates; see the module's documentation."""

    ARGUMENT_SPEC = _argspec.merge_specs(OPTIONS, _argspec.SUSDB_SPEC, _argspec.JOB_SPEC)

    # Seams for the unit tests.
    clock = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)

    def execute(self, args: dict, task_vars: dict) -> dict:
        problems = _argspec.check_job_values(args)
        if problems:
            raise AirgapWsusError('; '.join(problems))
        begin = self.clock()
        runner = self.host_runner()
        executor = self.susdb_executor(args.get('susdb'), runner)
        state = runner.run_retrying('server_state')
        if not (state.get('config') or {}).get('available'):
            raise AirgapWsusError(unavailable_message(state))
        root = content_folder(state, args.get('content_dir'))
        warnings: list = []
        records = _susdb.read_approved_files(executor)
        inventory = runner.run_retrying('content_inventory', {'Root': root, 'Algorithms': ['sha1'] if args['hash'] else []})
        if not inventory.get('exists'):
            warnings.append(f'the content folder {root} does not exist on the host, so every file is missing; check content_dir')
        for error in (inventory.get('errors') or [])[:10]:
            warnings.append(f'{error.get("path")} could not be read ({error.get("error")}); files in it count as missing or damaged')
        verification = _content_verify.compare(records, inventory.get('files') or [], hashed=args['hash'])
        result = {
            'changed': False, 'content_dir': root, 'hashed': verification.hashed, 'approved_files': verification.needed,
            'approved_bytes': verification.needed_bytes, 'present_files': verification.present,
            'missing_files': [{'path': item['path'], 'size': item['size']} for item in verification.missing],
            'corrupt_files': [{key: item[key] for key in ('path', 'size', 'actual_size', 'reason')} for item in verification.corrupt],
            'files': verification.files, 'missing_bytes': verification.missing_bytes,
            'files_on_disk': verification.on_disk, 'reset': {'ran': False},
        }
        if verification.unverified_by_wsus and not args['reset']:
            warnings.append(f'{verification.unverified_by_wsus} file(s) are on disk but WSUS does not count them as present yet; run with '
                            'reset: true so WSUS checks them (until then clients cannot get those updates)')
        if verification.stale_in_wsus and not args['reset']:
            warnings.append(f'WSUS counts {verification.stale_in_wsus} of the missing or damaged file(s) as present; copy them in, then '
                            'run with reset: true')
        if args['reset']:
            if self.check_mode:
                warnings.append('check mode: WsusUtil reset was not run')
                result['changed'] = True
            else:
                result['reset'] = self._reset(args, runner, executor, state, verification, begin, warnings)
                result['changed'] = True
        result['msg'] = _content_verify.summary(verification, root)
        if not verification.ok and args['fail_on_missing']:
            result['failed'] = True
        if warnings:
            result['warnings'] = warnings
        return result

    # ------------------------------------------------------------------ reset

    def _reset(self, args, runner, executor, state, verification, begin, warnings) -> dict:
        """``WsusUtil reset`` as a detached job, then wait until WSUS reports exactly the missing and damaged files as not ready."""
        name = state.get('computer_name') or 'the host'
        account = state.get('account') or {}
        if not account.get('is_admin'):
            raise AirgapWsusError(f'{account.get("name") or "the connecting account"} is not a member of the local Administrators group '
                                  f'on {name}, and WsusUtil reset needs it. Connect as an administrator, or run without reset')
        registry = state.get('registry') or {}
        try:
            wsusutil = _wsusutil.wsusutil_path(registry.get('target_dir') or '')
            work_dir = _winpath.normalize(args['work_dir'], 'work_dir', allow_unc=False)
        except (_wsusutil.WsusUtilError, _winpath.WinPathError) as exc:
            raise AirgapWsusError(exc.message) from None
        timeout = self.job_timeout(args)
        # The metadata module's reset uses the same job id: a reset either of them left running is re-attached, not doubled.
        spec = _jobs.JobSpec(work_dir, _jobs.job_id_for('wsusutil_reset', {'wsusutil': _winpath.fold(wsusutil)}),
                             [_jobs.JobStep('reset', wsusutil, _cmdline.join_args(_wsusutil.reset_args()), 0)], kind='WsusUtil reset')
        remaining = None if timeout is None else max(1.0, timeout - (self.clock() - begin))
        run = self.job_driver(runner).run(spec, timeout=remaining, poll_interval=float(args['poll_interval']),
                                          on_timeout=args['on_timeout'], progress=self.show_progress)
        if not run.succeeded:
            raise AirgapWsusError(f'WsusUtil reset did not succeed: {run.summary()}')
        bad = verification.bad_digests
        backoff = _jobs.BackoffSchedule(cap=max(1.0, float(args['poll_interval'])))
        started = self.clock()
        while True:
            pending = _susdb.files_from(_susdb.fetch(executor, 'approved_files_not_ready')['approved_files_not_ready'])
            if _content_verify.reset_settled(pending, bad):
                settled = True
                break
            waited = self.clock() - started
            left = None if timeout is None else timeout - (self.clock() - begin)
            if left is not None and left <= 0:
                settled = False
                warnings.append(f'the timeout ended while WSUS was still checking the content after the reset: it reports '
                                f'{len(pending)} approved file(s) as not ready, and {len(bad)} are missing or damaged on disk. '
                                'Run the task again later to see where it stands')
                break
            wait = backoff.next() if left is None else min(backoff.next(), left)
            on_disk = sum(1 for record in pending if record['digest'] not in bad)
            display.v(f'WSUS is checking its content after the reset: {len(pending)} approved file(s) not ready ({on_disk} of them on disk '
                      f'and whole, {len(bad)} missing or damaged); waited {_jobs.format_duration(waited)}, next check in {wait:g} s',
                      host=self._play_context.remote_addr)
            self.sleep(wait)
        return {'ran': True, 'job_id': spec.job_id, 'settled': settled, 'waited': round(self.clock() - started, 1),
                'not_ready_files': len(pending)}
