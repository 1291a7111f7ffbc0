# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``airgap.wsus.approvals``: carry approvals, declines and computer groups across the gap.

The document, its validation and the planning are ``_approvals``'s; this plugin does the I/O.

``state: exported`` (export server)
    ``server_state``; one read of groups, approvals and the referenced updates (one
    ``susdb_query`` call with three queries, or ``approvals_read`` through the API); the
    document already at ``path`` hashed on the host, its summary and its signature (the
    document itself is read back only when no summary describes it, ``_approvals_summary``);
    then, unless that document already says the same, ``file_write`` of the document, of its
    signature and of its summary.

``state: applied`` (import server)
    ``server_state``; the document and its signature (two ``file_read``), verified before
    anything else; one read of groups, approvals and the whole catalog; the plan; then one
    ``approvals_apply`` call carrying the whole plan (never one call per update).

Reads go through SUSDB when they can (``read_from: auto``): from the controller with the
``susdb`` option, otherwise on the host. When SUSDB cannot be queried there, ``auto`` falls
back to the UpdateServices API, slower on large catalogs, with a warning. Writes always go
through the API.
"""
from __future__ import annotations

import base64
import datetime
import hashlib

from ansible_collections.airgap.wsus.plugins.action.server_info import unavailable_message
from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _approvals_summary, _argspec, _manifest, _signing, _susdb, _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._action import AirgapWsusAction
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError, HostScriptError

KEY_OPTIONS = {
    'key_id': {'type': 'str', 'required': True, 'no_log': False},
    'algorithm': {'type': 'str', 'choices': list(_signing.ALGORITHMS), 'required': True},
    'key': {'type': 'str', 'required': True, 'no_log': True},
}

OPTIONS = {
    'state': {'type': 'str', 'choices': ['exported', 'applied'], 'required': True},
    'path': {'type': 'str', 'required': True},
    'signing_key': {'type': 'dict', 'options': KEY_OPTIONS, 'no_log': False},
    'verify_keys': {'type': 'list', 'elements': 'dict', 'options': KEY_OPTIONS, 'default': [], 'no_log': False},
    'allow_unsigned': {'type': 'bool', 'default': False},
    'prune': {'type': 'bool', 'default': False},
    'read_from': {'type': 'str', 'choices': ['auto', 'susdb', 'api'], 'default': 'auto'},
}

EXPORT_QUERIES = ('target_groups', 'update_approvals', 'approval_updates')
IMPORT_QUERIES = ('target_groups', 'update_approvals', 'update_catalog')


def now_text() -> str:
    """The current UTC time as documents write it."""
    return _manifest.timestamp(datetime.datetime.now(datetime.timezone.utc))


def document_path(value: str) -> str:
    """The ``path`` option as a normalised absolute Windows path, or an error naming the option."""
    try:
        path = _winpath.normalize(value, 'path')
    except _winpath.WinPathError as exc:
        raise AirgapWsusError(exc.message) from None
    if not _winpath.basename(path):
        raise AirgapWsusError(f'path {path} is a drive or share root; give the file the document is written to, such as '
                              f'{path.rstrip(chr(92))}\\{_approvals.DOCUMENT_NAME}')
    return path


class ActionModule(AirgapWsusAction):
    """Export or apply approvals; see the module's documentation."""

    ARGUMENT_SPEC = _argspec.merge_specs(OPTIONS, _argspec.SUSDB_SPEC)
    SUPPORTS_DIFF = True

    _warnings: list = []

    def execute(self, args: dict, task_vars: dict) -> dict:
        exporting = args['state'] == 'exported'
        problems = []
        if exporting:
            problems += [f'{name} applies to state=applied only' for name in ('prune',) if args[name]]
            if args.get('verify_keys'):
                problems.append('verify_keys applies to state=applied only (the export side signs with signing_key)')
        elif args.get('signing_key'):
            problems.append('signing_key applies to state=exported only (the import side verifies with verify_keys)')
        if problems:
            raise AirgapWsusError('; '.join(problems))
        path = document_path(args['path'])
        self._warnings = []
        runner = self.host_runner()
        if exporting:
            key = self._signing_key(args)
            executor = self.susdb_executor(args.get('susdb'), runner) if args['read_from'] != 'api' else None
            state = self._server_state(runner)
            result = self._export(args, runner, executor, state, path, key)
        else:
            keys = self._verify_keys(args)
            executor = self.susdb_executor(args.get('susdb'), runner) if args['read_from'] != 'api' else None
            state = self._server_state(runner)
            result = self._apply(args, runner, executor, state, path, keys)
        if self._warnings:
            result['warnings'] = self._warnings
        return result

    # ------------------------------------------------------------------ export

    def _export(self, args, runner, executor, state, path, key) -> dict:
        view, source = self._read_view(args, runner, executor, 'referenced')
        self._warnings.extend(view.warnings)
        config = state.get('config') or {}
        doc = _approvals.build_document(view, created=now_text(),
                                        source={'server_id': config.get('server_id') or '', 'name': state.get('computer_name') or ''})
        sig_path = path + _approvals.SIGNATURE_SUFFIX
        summary_path = _approvals_summary.path_for(path)
        old_data, summary = self._previous(runner, path, summary_path, doc)
        old_sig = self._read(runner, sig_path)
        if key is None and old_sig is not None:
            raise AirgapWsusError(f'{sig_path} exists, but this export is unsigned (allow_unsigned without signing_key): the import side '
                                  'would check the old signature against the new document and refuse it. Delete the .sig file or '
                                  'give signing_key')
        counts = {'groups': len(doc['groups']), 'updates': len(doc['updates']), 'approvals': len(doc['approvals']),
                  'declines': len(doc['declines'])}
        base = {'path': path, 'signature_path': sig_path if key else None, 'signed': key is not None,
                'key_id': key.key_id if key else None, 'counts': counts, 'read_from': source}
        current = self._unchanged(old_data, old_sig, doc, key)
        if current is not None:
            if not self.check_mode:
                self._summarize(runner, summary_path, summary, _approvals.parse_document(current).raw, current)
            return dict(base, changed=False, sha256=hashlib.sha256(current).hexdigest(), size=len(current), created=self._created(current),
                        msg=f'{path} already holds these approvals; left as it is')
        data = _manifest.canonical_bytes(doc)
        result = dict(base, changed=True, sha256=hashlib.sha256(data).hexdigest(), size=len(data), created=doc['created'])
        if self.check_mode:
            return dict(result, msg=f'would write {counts["approvals"]} approval(s), {counts["declines"]} decline(s) and '
                                    f'{counts["groups"]} group(s) to {path}')
        self._write(runner, path, data)
        if key is not None:
            self._write(runner, sig_path, _signing.signature_bytes(_signing.sign(data, key)))
        self._summarize(runner, summary_path, summary, doc, data)
        return dict(result, msg=f'wrote {counts["approvals"]} approval(s), {counts["declines"]} decline(s) and {counts["groups"]} '
                                f'group(s) to {path}')

    def _previous(self, runner, path: str, summary_path: str, doc: dict):
        """The bytes of the document already at ``path`` when they may say what ``doc`` says, and its summary.

        The document is hashed on the host; when its summary (``_approvals_summary``) describes
        those bytes, they are rebuilt from ``doc`` when the content is the same (``None``
        otherwise: it changed) instead of being read back over the connection.
        """
        present = runner.run_retrying('file_hash', {'Paths': [path], 'Algorithms': ['sha256']})['files'][0]
        if not present.get('exists') or present.get('error'):
            return None, None
        summary = _approvals_summary.parse(self._read(runner, summary_path))
        if _approvals_summary.describes(summary, present.get('sha256'), present.get('size')):
            return _approvals_summary.rebuilt(summary, doc, present.get('sha256'), present.get('size')), summary
        return self._read(runner, path), summary

    def _summarize(self, runner, summary_path: str, summary, doc: dict, data: bytes) -> None:
        """Write the document's summary beside it, unless the one there already describes it."""
        if _approvals_summary.describes(summary, hashlib.sha256(data).hexdigest(), len(data)):
            return
        self._write(runner, summary_path, _approvals_summary.summary_bytes(_approvals_summary.build(doc, data)))

    @staticmethod
    def _unchanged(old_data, old_sig, doc, key) -> bytes | None:
        """The bytes already at ``path`` when they say what ``doc`` says and carry a valid signature by ``key``."""
        if old_data is None:
            return None
        try:
            old = _approvals.parse_document(old_data)
        except _approvals.ApprovalsError:
            return None
        if not _approvals.same_content(old.raw, doc):
            return None
        if key is None:
            return old_data
        try:
            _signing.verify(old_data, old_sig, [key])
        except _signing.SignatureError:
            return None
        return old_data

    @staticmethod
    def _created(data: bytes) -> str | None:
        try:
            return _approvals.parse_document(data).created
        except _approvals.ApprovalsError:
            return None

    # ------------------------------------------------------------------ apply

    def _apply(self, args, runner, executor, state, path, keys) -> dict:
        name = state.get('computer_name') or 'the import server'
        if (state.get('config') or {}).get('is_replica_server'):
            raise AirgapWsusError(f'{name} is a replica server: it takes its approvals from its upstream server, and WSUS refuses '
                                  'to approve on it. Apply the approvals to the autonomous server it replicates from')
        sig_path = path + _approvals.SIGNATURE_SUFFIX
        data = self._read(runner, path)
        if data is None:
            raise AirgapWsusError(f'there is no approvals document at {path} on {name}: export it on the export server '
                                  '(state: exported) and carry it across with the bundle')
        signature = self._read(runner, sig_path)
        try:
            verdict = _signing.verify_document(data, signature, keys, allow_unsigned=args['allow_unsigned'], what='approvals document')
        except _signing.SignatureError as exc:
            raise AirgapWsusError(f'the approvals document {path} was refused before anything changed: {exc}') from None
        if verdict['warning']:
            self._warnings.append(verdict['warning'])
        try:
            document = _approvals.parse_document(data)
        except _approvals.ApprovalsError as exc:
            raise AirgapWsusError(f'the approvals document {path} was refused before anything changed: {exc}') from None
        view, source = self._read_view(args, runner, executor, 'all')
        plan = _approvals.plan_changes(document, view, prune=args['prune'])
        self._warnings.extend(plan.warnings)
        result = {
            'path': path, 'read_from': source, 'prune': args['prune'],
            'document': {'sha256': hashlib.sha256(data).hexdigest(), 'signed': verdict['signed'], 'key_id': verdict['key_id'],
                         'created': document.created, 'source': document.source, 'counts': document.counts()},
            'changed': plan.changed, 'counts': plan.counts(), 'skipped_items': plan.skipped, 'skipped_counts': plan.skipped_counts(),
            'groups_created': [item['path'] for item in plan.create_groups],
            'groups_deleted': [item['path'] for item in plan.delete_groups], 'failed_items': [],
        }
        if self.diff_mode:
            result['diff'] = _approvals.diff(plan, document, before_header=f'{name} (import server)',
                                             after_header=f'{path} (from {document.source.get("name") or "the export server"})')
        summary = self._summary(plan)
        if not plan.changed:
            return dict(result, msg=f'{name} already matches the approvals document{summary}')
        if self.check_mode:
            return dict(result, msg=f'would change {name}: {self._changes_text(plan)}{summary}')
        answer = runner.run('approvals_apply', _approvals.apply_params(plan))
        failed = list(answer.get('failed') or [])
        result['failed_items'] = failed
        done = len(answer.get('groups_created') or []) + sum(int(answer.get(key) or 0) for key in (
            'groups_deleted', 'undeclined', 'approved', 'unapproved', 'declined'))
        result['changed'] = done > 0
        if failed:
            return dict(result, failed=True, msg=f'WSUS on {name} refused {len(failed)} of the planned changes; the others were made. '
                                                 f'{_approvals.describe_failures(failed)}. Fix the cause and run the task again: '
                                                 'it only makes the changes still missing')
        return dict(result, msg=f'changed {name}: {self._changes_text(plan)}{summary}')

    @staticmethod
    def _changes_text(plan) -> str:
        counts = plan.counts()
        parts = [(counts['groups_created'], 'group(s) created'), (counts['groups_deleted'], 'group(s) deleted'),
                 (counts['approvals_set'], 'approval(s) set'), (counts['approvals_removed'], 'approval(s) removed'),
                 (counts['declined'], 'update(s) declined'), (counts['undeclined'], 'update(s) no longer declined')]
        return ', '.join(f'{count} {what}' for count, what in parts if count)

    @staticmethod
    def _summary(plan) -> str:
        if not plan.skipped:
            return ''
        reasons = ', '.join(f'{count} {code.replace("_", " ")}' for code, count in plan.skipped_counts().items())
        return f'; skipped {len(plan.skipped)} item(s) of the document ({reasons}), listed in skipped_items with the reason and the fix'

    # ------------------------------------------------------------------ host I/O

    def _server_state(self, runner) -> dict:
        state = runner.run_retrying('server_state')
        if not (state.get('config') or {}).get('available'):
            raise AirgapWsusError(unavailable_message(state))
        return state

    def _read_view(self, args, runner, executor, scope: str):
        """The server's groups, approvals and updates, from SUSDB or (fallback, or ``read_from: api``) the API."""
        names = EXPORT_QUERIES if scope == 'referenced' else IMPORT_QUERIES
        if executor is not None:
            try:
                results = executor.run([_susdb.load_query(query).bind() for query in names])
                return _approvals.read_view(results[names[0]].rows, results[names[1]].rows, results[names[2]].rows), 'susdb'
            except (_susdb.SusdbError, HostScriptError) as exc:
                if args['read_from'] == 'susdb' or (isinstance(exc, HostScriptError) and exc.operation != 'susdb_query'):
                    raise
                self._warnings.append(f'SUSDB could not be read ({exc.message}); the approvals were read through the WSUS API '
                                      'instead, which is slow on large catalogs. Give the susdb option, or read_from: api to '
                                      'skip the attempt')
        # approvals_read changes nothing, but it is not in the runner's list of operations it retries.
        answer = runner.run_retrying('approvals_read', {'Updates': scope})
        return _approvals.read_view(answer.get('groups') or [], answer.get('approvals') or [], answer.get('updates') or []), 'api'

    @staticmethod
    def _read(runner, path: str) -> bytes | None:
        answer = runner.run_retrying('file_read', {'Path': path, 'MaxBytes': _approvals.MAX_DOCUMENT_BYTES})
        if not answer.get('exists'):
            return None
        data = base64.b64decode(answer.get('content_b64') or '')
        size = answer.get('size')
        if isinstance(size, int) and size > len(data):
            raise AirgapWsusError(f'{path} is {size} bytes, more than the {_approvals.MAX_DOCUMENT_BYTES} bytes an approvals document '
                                  'may have; it is not a file this collection wrote')
        return data

    @staticmethod
    def _write(runner, path: str, data: bytes) -> None:
        runner.run_retrying('file_write', {'Path': path, 'ContentB64': base64.b64encode(data).decode('ascii')})

    # ------------------------------------------------------------------ keys

    @staticmethod
    def _signing_key(args: dict):
        spec = args.get('signing_key')
        if not spec:
            if not args['allow_unsigned']:
                raise AirgapWsusError('signing_key is required: the import side refuses unsigned documents. Give the key (from Ansible '
                                      'Vault), or set allow_unsigned: true for a site that does not sign yet')
            return None
        try:
            return _signing.load_key(spec, 'sign')
        except _signing.SignatureError as exc:
            raise AirgapWsusError(f'signing_key: {exc}') from None

    @staticmethod
    def _verify_keys(args: dict) -> list:
        try:
            return [_signing.load_key(spec, 'verify') for spec in args.get('verify_keys') or []]
        except _signing.SignatureError as exc:
            raise AirgapWsusError(f'verify_keys: {exc}') from None
