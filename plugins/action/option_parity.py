# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``airgap.wsus.option_parity``: step 1 of Microsoft's disconnected-network procedure.

The decisions (fingerprints, comparison, the smallest ``config_set`` call, the conditions that
break either side) are ``_parity``'s; this plugin does the I/O around them:

1. ``server_state`` on the task's host (retried across dropped connections);
2. compare with the reference and refuse what neither mode can fix (a replica import server);
3. ``mode: enforce``: one ``config_set`` call with the planned parameters, never retried
   (``Save()`` is not idempotent as far as its before/after report goes), never in check mode;
4. ``side: export``: count approved updates that lack files (SUSDB), optionally waiting for
   the downloads with one count query per poll, and name the missing files when it fails.
"""
from __future__ import annotations

import time
from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.action.server_info import is_server_info, to_server_state, unavailable_message
from ansible_collections.airgap.wsus.plugins.plugin_utils import _argspec, _parity, _susdb
from ansible_collections.airgap.wsus.plugins.plugin_utils._action import AirgapWsusAction
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError, HostScriptError

OWN_SPEC = {
    'reference': {'type': 'dict', 'required': True},
    'side': {'type': 'str', 'choices': ['export', 'import'], 'required': True},
    'mode': {'type': 'str', 'choices': ['check', 'enforce'], 'default': 'check'},
    'wait_for_downloads': {'type': 'int', 'default': 0},
    'poll_interval': {'type': 'int', 'default': 30},
}

# Save() refusals the WSUS API documents, by a word of its message, with what to do.
_SAVE_FIXES = (
    ('hostbinariesonmicrosoftupdate', 'HostBinariesOnMicrosoftUpdate',
     'turn off "download update files from Microsoft Update" (store update files locally), which a disconnected network '
     'needs anyway, then run the task again'),
    ('synchroniz', 'the synchronization state',
     'wait until the running synchronization finishes (Update Services console > Synchronizations) and run the task again'),
    ('previous configuration save', 'the configuration save state', 'wait a minute for the previous save to finish and run the task again'),
    ('changed by another', 'the configuration version', 'another administrator saved the configuration meanwhile; run the task again'),
    ('setenabledupdatelanguages', 'EnabledUpdateLanguages', 'use update language codes this WSUS server knows (lower-case RFC 1766 codes)'),
    ('language', 'the update languages', 'enable at least one update language, or all languages, on the reference server'),
)


def reference_state(reference: Mapping):
    """The reference as ``_parity`` reads it: a ``server_state``-shaped dict or a settings fingerprint.

    Accepts a registered ``server_info`` result, a bundle manifest's or receipt's ``settings``,
    or a raw ``server_state`` answer.
    """
    if reference.get('failed'):
        raise AirgapWsusError('reference is the result of a failed task: '
                              f'{reference.get("msg") or "no message"}. Fix that task first')
    if is_server_info(reference):
        return to_server_state(reference)
    if 'config' in reference:
        return reference
    if 'settings' in reference and 'express_files' not in reference:
        raise AirgapWsusError('reference looks like a whole manifest or receipt: pass its settings ("{{ bundle.settings }}")')
    return _parity.validate_settings(reference)


def save_refusal(error: HostScriptError, name: str) -> str:
    """A message for a ``Save()`` the host refused, naming the setting and the fix."""
    text = f'{error.error_type} {error.message}'.lower()
    for needle, setting, fix in _SAVE_FIXES:
        if needle in text:
            return f'WSUS on {name} refused to save the new express/language options because of {setting}: {error.message}. Fix: {fix}'
    return (f'WSUS on {name} refused to save the new express/language options: {error.message}. Check the server\'s options in the '
            'Update Services console and run the task again')


_SETTING_NAMES = {'express_files': 'express installation files', 'languages': 'update languages'}


def _plain(value):
    if value == 'all':
        return 'all languages'
    if isinstance(value, list):
        return '[' + ', '.join(map(str, value)) + ']'
    if isinstance(value, bool):
        return 'on' if value else 'off'
    return str(value)


def describe_differences(differences: list, export_label: str, import_label: str) -> str:
    """``update languages: export server A has [de, en], import server B has [en]``, joined by ``; ``.

    The labels name who holds each side's value (``export server A``, ``the reference``).
    """
    return '; '.join(f'{_SETTING_NAMES.get(d["setting"], d["setting"])}: {export_label} has {_plain(d["export"])}, '
                     f'{import_label} has {_plain(d["import"])}' for d in differences)


def side_label(role: str, name: str | None) -> str:
    """``export server WSUS01``; for settings without a server name (a bundle's or receipt's), who recorded them."""
    return f'{role} server {name}' if name else f'the {role} server (as the reference settings record it)'


class ActionModule(AirgapWsusAction):
    """Compares (and with ``mode: enforce`` aligns) the host's express and language options with a reference."""

    ARGUMENT_SPEC = _argspec.merge_specs(OWN_SPEC, _argspec.SUSDB_SPEC)
    SUPPORTS_DIFF = True

    # Seams for the unit tests.
    sleep = staticmethod(time.sleep)
    clock = staticmethod(time.monotonic)

    def execute(self, args: dict, task_vars: dict) -> dict:
        side, mode = args['side'], args['mode']
        if args['wait_for_downloads'] < 0:
            raise AirgapWsusError('wait_for_downloads must be 0 (do not wait) or a number of seconds')
        if not 1 <= args['poll_interval'] <= 3600:
            raise AirgapWsusError('poll_interval must be between 1 and 3600 seconds')
        reference = reference_state(args['reference'])
        runner = self.host_runner()
        executor = self.susdb_executor(args.get('susdb'), runner) if side == 'export' else None
        state = runner.run_retrying('server_state')
        if not (state.get('config') or {}).get('available'):
            raise AirgapWsusError(unavailable_message(state))
        name = state.get('computer_name') or self._play_context.remote_addr or 'this server'
        other = reference.get('computer_name') if 'config' in reference else None
        export, import_ = (state, reference) if side == 'export' else (reference, state)
        export_name, import_name = (name, other) if side == 'export' else (other, name)
        comparison = _parity.compare(export, import_)
        differences = comparison['required']
        warnings = []
        result = {'changed': False, 'differences': differences, 'informational': comparison['informational']}
        if 'config' in reference and reference.get('config', {}).get('server_id') and \
                reference['config']['server_id'] == state['config'].get('server_id'):
            warnings.append(f'the reference is {name} itself (same ServerId): pass the other server\'s server_info result')

        if side == 'import':
            if args['wait_for_downloads']:
                warnings.append('wait_for_downloads applies only with side=export (downloads happen on the connected server); ignored')
            for problem in _parity.import_side_problems(state):
                if problem['blocking']:
                    return self._fail(result, problem['message'], warnings)
                warnings.append(problem['message'])

        settings = _parity.fingerprint(state)
        if differences and mode == 'check':
            listed = describe_differences(differences, side_label('export', export_name), side_label('import', import_name))
            return self._fail(result, f'the export and import servers must agree on express installation files and update languages, '
                                      f'and they differ: {listed}. Run this task with mode=enforce to change {name} to match, or change '
                                      'the other server', warnings, settings=settings)
        if mode == 'enforce':
            outcome = self._enforce(runner, state, reference, name, warnings)
            if outcome.get('failed'):
                return self._fail(result, outcome['msg'], warnings, settings=settings, host_error=outcome.get('host_error'))
            result['changed'] = outcome['changed']
            settings = outcome['settings']
            if 'diff' in outcome:
                result['diff'] = outcome['diff']

        if side == 'export':
            blocking = [p for p in _parity.export_side_problems(state) if p['blocking']]
            if blocking:
                return self._fail(result, blocking[0]['message'], warnings, settings=settings)
            needing, waited = self._wait_for_downloads(executor, args, warnings)
            result.update(approved_needing_files=needing, waited=waited)
            if needing:
                files = self._missing_files(executor)
                problems = _parity.export_side_problems(state, {'approved_needing_files': needing, 'needing_files': files})
                message = next(p['message'] for p in problems if p['problem'] == 'files_pending')
                if args['wait_for_downloads'] and not self.check_mode:
                    message = f'after waiting {waited:.0f} s, {message}'
                if self.check_mode and args['wait_for_downloads']:
                    warnings.append(f'{message} (check mode does not wait; the task would wait up to {args["wait_for_downloads"]} s)')
                else:
                    return self._fail(result, message, warnings, settings=settings)
        result['settings'] = settings
        if warnings:
            result['warnings'] = warnings
        return result

    def _fail(self, result: dict, message: str, warnings: list, **extra) -> dict:
        result = dict(result, failed=True, msg=message)
        result.update({key: value for key, value in extra.items() if value is not None})
        if warnings:
            result['warnings'] = warnings
        return result

    def _enforce(self, runner, state: dict, reference, name: str, warnings: list) -> dict:
        """Plan and (outside check mode) apply the ``config_set`` call; returns ``changed``, ``settings``, ``diff`` or ``failed``, ``msg``."""
        plan = _parity.plan_enforce(state, reference, name)
        diff = {k: plan['diff'][k] for k in ('before', 'after', 'before_header', 'after_header')}
        if not plan['changed']:
            return {'changed': False, 'settings': _parity.fingerprint(state)}
        account = state.get('account') or {}
        if not account.get('is_admin'):
            return {'failed': True,
                    'msg': f'{account.get("name") or "the connecting account"} is not a local administrator on {name}, so it cannot change '
                           f'the WSUS options ({", ".join(sorted(plan["params"]))}). Connect as a member of the local Administrators '
                           'group (ansible_user), or have an administrator apply the reference settings'}
        warnings.extend(plan['warnings'])
        predicted = _parity.fingerprint(dict(state, config=dict(state['config'], **_config_from_params(plan['params']))))
        if self.check_mode:
            return {'changed': True, 'settings': predicted, 'diff': diff}
        try:
            answer = runner.run('config_set', plan['params'])
        except HostScriptError as exc:
            return {'failed': True, 'msg': save_refusal(exc, name), 'host_error': exc.to_result()['host_error']}
        after_config = dict(answer.get('after') or {})
        after = _parity.fingerprint(dict(state, config=dict(state['config'], **after_config)))
        remaining = _parity.compare(after, reference)['required']
        if remaining:
            return {'failed': True,
                    'msg': f'WSUS on {name} saved the options but still differs from the reference: '
                           f'{describe_differences(remaining, name, "the reference")}. Check the server\'s options in the Update Services console'}
        return {'changed': bool(answer.get('changed')), 'settings': after, 'diff': diff}

    def _count_needing(self, executor) -> int:
        counts = _susdb.read_update_counts(executor)
        return int(counts.get('approved_not_present') or 0)

    def _wait_for_downloads(self, executor, args: dict, warnings: list) -> tuple:
        """Approved updates still lacking files, after waiting up to ``wait_for_downloads`` (not in check mode)."""
        needing = self._count_needing(executor)
        limit = args['wait_for_downloads']
        if not needing or not limit or self.check_mode:
            return needing, 0.0
        start = self.clock()
        while needing:
            elapsed = self.clock() - start
            if elapsed >= limit:
                break
            self.log(f'{needing} approved update(s) still downloading; checking again in {args["poll_interval"]} s')
            self.sleep(min(args['poll_interval'], max(limit - elapsed, 0)))
            needing = self._count_needing(executor)
        waited = round(self.clock() - start, 1)
        if not needing:
            warnings.append(f'waited {waited:.0f} s for approved updates to finish downloading')
        return needing, waited

    def _missing_files(self, executor) -> list:
        """Names of the files approved updates want and the server does not have, for the message."""
        files = _susdb.read_approved_files(executor)
        return [f['file_name'] for f in files if f['desired_state'] != _susdb.DESIRED_STATE_NOT_NEEDED and not f['present']]


def _config_from_params(params: Mapping) -> dict:
    """The ``server_state`` config keys a ``config_set`` call with ``params`` sets."""
    mapping = {'DownloadExpressPackages': 'download_express_packages', 'AllUpdateLanguagesEnabled': 'all_update_languages_enabled',
               'EnabledUpdateLanguages': 'enabled_update_languages'}
    return {mapping[key]: value for key, value in params.items()}
