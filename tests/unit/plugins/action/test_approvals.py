"""``airgap.wsus.approvals``: the action's round trips and decisions, against a fake WSUS host.

The fake host keeps files, groups, approvals and updates, answers the SUSDB queries and the
API scripts from them, and applies an ``approvals_apply`` plan to them.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
from types import SimpleNamespace

import pytest

from ansible_collections.airgap.wsus.plugins.action import approvals
from ansible_collections.airgap.wsus.plugins.modules import approvals as doc
from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _signing, _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._approvals import ALL_COMPUTERS_ID as ALL
from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils.doc_argspec import assert_doc_matches_spec

KEY = {'key_id': 'site-key-2026', 'algorithm': 'hmac-sha256', 'key': 'q7Vt2kLx9PzR4mWc8NbJ3hYs6GdF1aEu5TiO0rKv'}
PATH = 'E:\\plant-a\\approvals.json'
SERVERS = '00000000-0000-4000-8000-000000000001'
U1, U2, U3 = (f'AAAABBBB-0000-4000-8000-00000000000{n}' for n in (1, 2, 3))


class FakeHost:
    """A WSUS host: ``exec_command`` answers the bootstrap's payload from in-memory state."""

    transport = 'winrm'

    def __init__(self, groups=None, approvals_=None, updates=None, files=None, replica=False, susdb_error=None):
        self._shell = SimpleNamespace(tmpdir=None, SHELL_FAMILY='powershell')
        self.groups = groups if groups is not None else [[ALL, None, 'All Computers'], [SERVERS, ALL, 'Servers']]
        self.approvals = approvals_ if approvals_ is not None else []
        self.updates = updates if updates is not None else [[U1, 200, False, 'Published', '4480001', 'One'],
                                                            [U2, 200, False, 'Published', '4480002', 'Two']]
        self.files = {_winpath.fold(k): v for k, v in (files or {}).items()}
        self.replica = replica
        self.susdb_error = susdb_error
        self.sent = []
        self.new_ids = iter(f'00000000-0000-4000-8000-0000000009{n:02d}' for n in range(100))

    def exec_command(self, cmd, in_data=None, sudoable=True):
        payload = json.loads(in_data)
        self.sent.append((payload['name'], payload['params']))
        if payload['name'] == 'susdb_query' and self.susdb_error:
            error = {'message': self.susdb_error, 'type': 'System.Data.SqlClient.SqlException', 'script': 'susdb_query.ps1', 'line': 70}
            return 1, ('AIRGAP-WSUS-ERROR:' + json.dumps(error)).encode(), b''
        answer = getattr(self, 'op_' + payload['name'])(payload['params'])
        return 0, ('AIRGAP-WSUS-RESULT:' + json.dumps(answer)).encode(), b''

    def reset(self):
        pass

    def names(self):
        return [name for name, _params in self.sent]

    def file(self, path):
        return self.files.get(_winpath.fold(path))

    def op_server_state(self, params):
        return {'computer_name': 'WSUS01', 'account': {'name': 'WSUS01\\admin', 'is_admin': True}, 'registry': {'installed': True},
                'service': {}, 'config': {'available': True, 'server_id': 'SERVER-ID', 'is_replica_server': self.replica},
                'subscription': None, 'content_drive': {}, 'status': None}

    def op_file_read(self, params):
        data = self.file(params['Path'])
        if data is None:
            return {'path': params['Path'], 'exists': False, 'size': None, 'content_b64': None}
        return {'path': params['Path'], 'exists': True, 'size': len(data), 'content_b64': base64.b64encode(data).decode()}

    def op_file_write(self, params):
        self.files[_winpath.fold(params['Path'])] = base64.b64decode(params['ContentB64'])
        return {'path': params['Path'], 'changed': True, 'size': 1}

    def op_file_hash(self, params):
        out = []
        for path in params['Paths']:
            data = self.file(path)
            out.append({'path': path, 'exists': data is not None, 'size': None if data is None else len(data),
                        'sha256': None if data is None else hashlib.sha256(data).hexdigest().upper()})
        return {'files': out}

    def _latest(self):
        return {u[0]: u[1] for u in self.updates}

    def op_susdb_query(self, params):
        latest = self._latest()
        tables = {
            'target_groups': (['ComputerTargetGroupId', 'ParentGroupId', 'Name'], self.groups),
            'update_approvals': (['UpdateId', 'RevisionNumber', 'ComputerTargetGroupId', 'Action', 'Deadline'],
                                 [a for a in self.approvals if latest.get(a[0]) == a[1]]),
            'approval_updates': (['UpdateId', 'RevisionNumber', 'IsDeclined', 'PublicationState', 'KnowledgebaseArticle', 'DefaultTitle'],
                                 [u for u in self.updates if u[2] or any(a[0] == u[0] for a in self.approvals)]),
            'update_catalog': (['UpdateId', 'RevisionNumber', 'IsDeclined', 'PublicationState'], [u[:4] for u in self.updates]),
        }
        results = {}
        for query in params['Queries']:
            columns, rows = tables[query['name']]
            results[query['name']] = {'columns': columns, 'rows': rows}
        return {'results': results, 'server': 'MICROSOFT##WID', 'database': 'SUSDB'}

    def op_approvals_read(self, params):
        latest = self._latest()
        updates = self.updates if params.get('Updates') == 'all' else [u for u in self.updates if u[2] or any(a[0] == u[0] for a in self.approvals)]
        return {'groups': self.groups, 'approvals': [a for a in self.approvals if latest.get(a[0]) == a[1]], 'updates': updates}

    def op_approvals_apply(self, params):
        failed, created, ids = [], [], {}
        for entry in params.get('Groups', []):
            if entry.get('id'):
                ids[entry['key']] = entry['id']
            else:
                new = next(self.new_ids)
                self.groups.append([new, ids[entry['parent']], entry['name']])
                ids[entry['key']] = new
                created.append({'key': entry['key'], 'id': new})
        for item in params.get('Approve', []):
            if item['update_id'] == U3:
                failed.append({'op': 'approve', 'update_id': U3, 'group': item['group'],
                               'error': 'Exception calling "Approve" with "2" argument(s): "You must accept the license agreement"'})
                continue
            gid = ids[item['group']]
            self.approvals = [a for a in self.approvals if not (a[0] == item['update_id'] and a[2] == gid)]
            self.approvals.append([item['update_id'], item['revision'], gid, item['action'],
                                   item['deadline'][:-1] + '.000Z' if item['deadline'] else None])
        for item in params.get('Decline', []):
            for update in self.updates:
                if update[0] == item['update_id']:
                    update[2] = True
            self.approvals = [a for a in self.approvals if a[0] != item['update_id']]
        return {'groups_created': created, 'groups_deleted': 0, 'undeclined': 0, 'approved': len(params.get('Approve', [])) - len(failed),
                'unapproved': 0, 'declined': len(params.get('Decline', [])), 'failed': failed}


def run(host, check_mode=False, diff=False, **args):
    task = SimpleNamespace(args=args, async_val=0, check_mode=check_mode, action='airgap.wsus.approvals', diff=diff)
    action = approvals.ActionModule(task, host, SimpleNamespace(remote_addr='wsus01'), None, None, None)
    action._load_name = 'airgap.wsus.approvals'
    return action.run(task_vars={})


def export(host, **args):
    return run(host, **dict({'state': 'exported', 'path': PATH, 'signing_key': KEY}, **args))


def apply(host, **args):
    return run(host, **dict({'state': 'applied', 'path': PATH, 'verify_keys': [KEY]}, **args))


def export_host():
    return FakeHost(groups=[[ALL, None, 'All Computers'], [SERVERS, ALL, 'Servers'], ['00000000-0000-4000-8000-000000000002', SERVERS, 'Web']],
                    approvals_=[[U1, 200, '00000000-0000-4000-8000-000000000002', 'Install', '2027-01-15T18:00:00.000Z'],
                                [U2, 200, ALL, 'Install', None]],
                    updates=[[U1, 200, False, 'Published', '4480001', 'One'], [U2, 200, False, 'Published', '4480002', 'Two'],
                             [U3, 200, True, 'Published', '4480003', 'Three']])


def carried(source, **kwargs):
    """An import host holding the document (and signature) ``source`` wrote."""
    files = {PATH: source.file(PATH)}
    if source.file(PATH + '.sig') is not None:
        files[PATH + '.sig'] = source.file(PATH + '.sig')
    return FakeHost(files=files, **kwargs)


def test_documentation_matches_the_argument_spec():
    assert_doc_matches_spec(doc.DOCUMENTATION, approvals.ActionModule.ARGUMENT_SPEC)


# --------------------------------------------------------------------------- export

def test_export_writes_a_signed_canonical_document_once():
    host = export_host()
    first = export(host)
    data = host.file(PATH)
    assert first['changed'] is True and first['sha256'] == hashlib.sha256(data).hexdigest() and first['signed'] is True
    assert _signing.verify(data, host.file(PATH + '.sig'), [KEY]) == KEY['key_id']
    assert first['counts'] == {'groups': 3, 'updates': 3, 'approvals': 2, 'declines': 1} and first['read_from'] == 'susdb'
    assert host.names() == ['server_state', 'susdb_query', 'file_hash', 'file_read', 'file_write', 'file_write', 'file_write']
    assert len(host.sent[1][1]['Queries']) == 3, 'one SUSDB round trip for groups, approvals and updates'
    summary = json.loads(host.file(PATH + '.summary.json'))
    assert (summary['sha256'], summary['size'], summary['counts']) == (first['sha256'], len(data), first['counts'])
    host.sent.clear()
    second = export(host)
    assert second['changed'] is False and second['sha256'] == first['sha256'] and second['created'] == first['created']
    # The summary vouches for the bytes on the host: the document is hashed there, never read back.
    assert host.names() == ['server_state', 'susdb_query', 'file_hash', 'file_read', 'file_read']
    assert [params['Path'] for name, params in host.sent if name == 'file_read'] == [PATH + '.summary.json', PATH + '.sig']


def test_a_document_without_a_summary_or_altered_since_is_read_back():
    host = export_host()
    export(host)
    del host.files[_winpath.fold(PATH + '.summary.json')]
    host.sent.clear()
    assert export(host)['changed'] is False and PATH in [params['Path'] for name, params in host.sent if name == 'file_read']
    assert host.file(PATH + '.summary.json') is not None, 'the summary is written again'
    # Another document under the summary's name: the summary no longer describes it, so it is read and rewritten.
    host.files[_winpath.fold(PATH)] = host.file(PATH).replace(b'"One"', b'"Uno"')
    again = export(host)
    assert again['changed'] is True and again['sha256'] == hashlib.sha256(host.file(PATH)).hexdigest()
    assert json.loads(host.file(PATH + '.summary.json'))['sha256'] == again['sha256'] and b'"One"' in host.file(PATH)


def test_export_in_check_mode_writes_nothing():
    host = export_host()
    result = export(host, check_mode=True)
    assert result['changed'] is True and 'would write 2 approval(s)' in result['msg'] and host.file(PATH) is None


def test_a_changed_server_or_another_key_rewrites_the_document():
    host = export_host()
    export(host)
    host.approvals.append([U1, 200, ALL, 'Uninstall', None])
    assert export(host)['changed'] is True
    other = dict(KEY, key_id='site-key-2027')
    assert export(host, signing_key=other)['key_id'] == 'site-key-2027'


def test_an_unsigned_export_needs_allow_unsigned_and_no_stale_signature():
    host = export_host()
    assert 'signing_key is required' in run(host, state='exported', path=PATH)['msg']
    export(host)
    stale = run(host, state='exported', path=PATH, allow_unsigned=True)
    assert stale['failed'] and 'approvals.json.sig exists' in stale['msg']
    fresh = export_host()
    result = run(fresh, state='exported', path=PATH, allow_unsigned=True)
    assert result['changed'] and result['signed'] is False and fresh.file(PATH + '.sig') is None


def test_options_of_the_other_state_are_refused():
    assert 'prune applies to state=applied only' in export(export_host(), prune=True)['msg']
    assert 'signing_key applies to state=exported only' in apply(FakeHost(), signing_key=KEY)['msg']
    assert 'is a drive or share root' in export(export_host(), path='E:\\')['msg']


def test_susdb_that_cannot_be_read_falls_back_to_the_api_with_a_warning():
    host = export_host()
    host.susdb_error = 'Login failed for user WSUS01\\admin.'
    result = export(host)
    assert result['read_from'] == 'api' and 'approvals_read' in host.names()
    assert any('Login failed' in w and 'WSUS API' in w for w in result['warnings'])
    host.sent.clear()
    strict = export(host, read_from='susdb')
    assert strict['failed'] and 'Login failed' in strict['msg'] and 'approvals_read' not in host.names()
    api = export_host()
    assert export(api, read_from='api')['read_from'] == 'api' and 'susdb_query' not in api.names()


# --------------------------------------------------------------------------- apply

def test_apply_verifies_then_plans_and_sends_the_whole_plan_in_one_call():
    source = export_host()
    export(source)
    host = carried(source)
    result = apply(host)
    assert result['changed'] is True and result['failed_items'] == [] and result['groups_created'] == ['All Computers/Servers/Web']
    assert host.names() == ['server_state', 'file_read', 'file_read', 'susdb_query', 'approvals_apply']
    assert result['document']['signed'] and result['document']['counts']['approvals'] == 2
    assert {(a[0], a[3], a[4]) for a in host.approvals} == {(U1, 'Install', '2027-01-15T18:00:00.000Z'), (U2, 'Install', None)}
    assert [(s['kind'], s['update_id'], s['reason_code']) for s in result['skipped_items']] == [('decline', U3, 'not_in_catalog')]
    again = apply(host)
    assert again['changed'] is False and host.names().count('approvals_apply') == 1 and 'already matches' in again['msg']


def test_check_mode_with_diff_plans_without_applying():
    source = export_host()
    export(source)
    host = carried(source)
    result = apply(host, check_mode=True, diff=True)
    assert result['changed'] is True and 'approvals_apply' not in host.names() and host.approvals == []
    assert 'group All Computers/Servers/Web: present' in result['diff']['after']
    assert result['diff']['before_header'].startswith('WSUS01') and 'would change WSUS01' in result['msg']


def test_updates_missing_from_the_catalog_are_skipped_and_refusals_fail_the_task():
    source = export_host()
    export(source)
    missing = carried(source, updates=[[U2, 200, False, 'Published']])
    result = apply(missing)
    assert {(s['update_id'], s['reason_code']) for s in result['skipped_items']} == {(U1, 'not_in_catalog'), (U3, 'not_in_catalog')}
    assert 'skipped 2 item(s)' in result['msg'] and result['changed'] is True
    source.approvals.append([U3, 200, ALL, 'Install', None])
    source.updates[2][2] = False
    export(source)
    refused = apply(carried(source, updates=[[U1, 200, False, 'Published'], [U2, 200, False, 'Published'], [U3, 200, False, 'Published']]))
    assert refused['failed'] and 'refused 1 of the planned changes' in refused['msg'] and 'license agreement' in refused['msg']
    assert refused['failed_items'][0]['update_id'] == U3


def test_an_altered_document_or_signature_changes_nothing():
    source = export_host()
    export(source)
    host = carried(source)
    doc_ = json.loads(host.file(PATH))
    altered = copy.deepcopy(doc_)
    altered['approvals'][0][2] = 'uninstall'
    host.files[_winpath.fold(PATH)] = json.dumps(altered).encode()
    result = apply(host)
    assert result['failed'] and 'refused before anything changed' in result['msg'] and 'does not match' in result['msg']
    assert host.names() == ['server_state', 'file_read', 'file_read']
    del host.files[_winpath.fold(PATH + '.sig')]
    assert 'not signed' in apply(host)['msg']
    unsigned = apply(host, allow_unsigned=True, verify_keys=[])
    assert unsigned['changed'] and unsigned['warnings'][0].startswith('UNVERIFIED approvals document')


def test_a_missing_document_a_malformed_one_and_a_replica_are_refused():
    assert 'there is no approvals document at E:\\plant-a\\approvals.json' in apply(FakeHost())['msg']
    bad = FakeHost(files={PATH: b'{"schema": "airgap.wsus.approvals/1"}'})
    assert 'lacks created' in apply(bad, allow_unsigned=True, verify_keys=[])['msg']
    replica = apply(FakeHost(replica=True))
    assert replica['failed'] and 'replica' in replica['msg']


def test_secrets_never_appear_in_results():
    host = export_host()
    result = export(host)
    assert KEY['key'] not in json.dumps(result)
    source = export_host()
    export(source)
    applied = apply(carried(source), diff=True)
    assert KEY['key'] not in json.dumps(applied)


@pytest.mark.parametrize('read_from', ['susdb', 'api'])
def test_both_read_paths_plan_the_same(read_from):
    source = export_host()
    export(source, read_from=read_from)
    result = apply(carried(source), check_mode=True, read_from=read_from)
    assert result['read_from'] == read_from and result['counts']['approvals_set'] == 2 and result['counts']['groups_created'] == 1
    assert _approvals.parse_document(source.file(PATH)).counts()['declines'] == 1
