"""``airgap.wsus.approvals`` on the lab: approvals, declines and nested groups cross the gap (issue 7's acceptance).

The export host approves updates for nested groups (one it creates, with a deadline, and the
lab's ``All Computers/Servers/Pilot``) and declines some; the import host has imported the
export server's metadata before the export server synchronized a few more updates, so those
are not in its catalog. Its ``Pilot`` group was made anew, so it has another id than the
export server's. The document travels on the shared medium (``E:`` on both hosts).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _manifest, _signing
from ansible_collections.airgap.wsus.tests.integration.playbook import EXPORT, IMPORT
from ansible_collections.airgap.wsus.tests.lab.ops import Invocation, dispatch
from ansible_collections.airgap.wsus.tests.lab.wsus import constants as C
from ansible_collections.airgap.wsus.tests.lab.wsus import targeting

KEY = {'key_id': 'site-key-2026', 'algorithm': 'hmac-sha256', 'key': 'q7Vt2kLx9PzR4mWc8NbJ3hYs6GdF1aEu5TiO0rKv'}
DOC = 'E:\\plant-a\\approvals.json'
DEADLINE = datetime.datetime(2027, 1, 15, 18, 0, 0)


def export_task(name='Export', **options):
    args = {'state': 'exported', 'path': DOC, 'signing_key': '{{ key }}'}
    args.update(options)
    return {'name': name, 'airgap.wsus.approvals': args}


def apply_task(name='Apply', **options):
    args = {'state': 'applied', 'path': DOC, 'verify_keys': ['{{ key }}']}
    args.update(options)
    return {'name': name, 'airgap.wsus.approvals': args}


def play(host, *tasks):
    return {'hosts': host, 'gather_facts': False, 'tasks': list(tasks)}


def run(lab, *plays, **kwargs):
    return lab.run_playbook(list(plays), extra_vars={'key': KEY}, **kwargs)


def by_path(wsus):
    """``{(update id, group path, action, deadline)}`` of a lab server's approvals, groups by name path."""
    tree = _approvals.GroupTree(targeting.groups(wsus))
    return {(uid, tree.by_id[gid].path, action.lower(), deadline) for uid, _rev, gid, action, deadline in targeting.approvals(wsus)}


def declined(wsus):
    return {uid for uid, _rev, is_declined, _state, _kb, _title in targeting.updates(wsus, referenced_only=True) if is_declined}


def prepare(lab):
    """Export-side decisions, the import host's catalog and groups, and the medium's folder; returns facts for the asserts."""
    export, import_ = lab.wsus(EXPORT), lab.wsus(IMPORT)
    import_.import_updates(export.export_updates())            # what WsusUtil import does
    ids = export.update_ids()
    servers = targeting.group_id(export, 'All Computers/Servers')
    web = targeting.create_group(export, 'Web', servers)
    canary = targeting.create_group(export, 'Canary', web)
    pilot = targeting.group_id(export, 'All Computers/Servers/Pilot')
    targeting.approve(export, ids[0], web, 'Install', DEADLINE)
    targeting.approve(export, ids[1], canary, 'Uninstall')
    targeting.approve(export, ids[2], pilot, 'Install')
    targeting.approve(export, ids[3], C.UNASSIGNED_COMPUTERS, 'Install')
    targeting.decline(export, ids[4])
    # Updates the import server has not seen yet: approved or declined on the export side, skipped on import.
    export.synchronize(new_updates=3)
    newer = export.update_ids()[len(ids):]
    targeting.approve(export, newer[0], web, 'Install')
    targeting.decline(export, newer[1])
    # The import server's own Pilot group: same path, another id.
    old_pilot = targeting.group_id(import_, 'All Computers/Servers/Pilot')
    targeting.delete_group(import_, old_pilot)
    targeting.create_group(import_, 'Pilot', targeting.group_id(import_, 'All Computers/Servers'))
    # An approval only the import server has.
    targeting.approve(import_, ids[5], targeting.group_id(import_, 'All Computers/Workstations'), 'Install')
    lab.export.host.fs.mkdir('E:\\plant-a')
    return {'ids': ids, 'newer': newer, 'import_only': (ids[5], 'All Computers/Workstations', 'install', None)}


def in_catalog(approvals, wsus):
    known = set(wsus.update_ids())
    return {a for a in approvals if a[0] in known}


def test_approvals_cross_the_gap_check_mode_first_then_applied_once(wsus_lab):
    facts = prepare(wsus_lab)
    export, import_ = wsus_lab.wsus(EXPORT), wsus_lab.wsus(IMPORT)
    before = (by_path(import_), declined(import_), targeting.groups(import_))

    exported = run(wsus_lab, play(EXPORT, export_task())).result('Export')
    assert exported['changed'] is True and exported['signed'] is True and exported['read_from'] == 'susdb'
    with open(wsus_lab.sandbox_path(IMPORT, DOC), 'rb') as handle:
        data = handle.read()
    with open(wsus_lab.sandbox_path(IMPORT, DOC + '.sig'), 'rb') as handle:
        assert _signing.verify(data, handle.read(), [KEY]) == KEY['key_id']
    document = _approvals.parse_document(data)
    assert exported['sha256'] == hashlib.sha256(data).hexdigest()
    assert data == _manifest.canonical_bytes(document.raw)
    assert {'All Computers/Servers/Web', 'All Computers/Servers/Web/Canary', 'All Computers/Servers/Pilot',
            'All Computers/Unassigned Computers'} <= set(document.groups)
    assert set(document.approvals) and exported['counts']['approvals'] == len(document.approvals) == len(by_path(export))
    again = run(wsus_lab, play(EXPORT, export_task('Again'))).result('Again')
    assert again['changed'] is False and again['sha256'] == exported['sha256'], 'an unchanged server leaves the document as it is'

    planned = run(wsus_lab, play(IMPORT, apply_task('Plan')), check=True, diff=True)
    plan = planned.result('Plan')
    assert plan['changed'] is True
    assert (by_path(import_), declined(import_), targeting.groups(import_)) == before, 'check mode must change nothing'
    assert plan['groups_created'] == ['All Computers/Servers/Web', 'All Computers/Servers/Web/Canary']
    diff_after = plan['diff']['after']
    assert 'group All Computers/Servers/Web/Canary: present' in diff_after
    assert f'approval {facts["ids"][0]}' in diff_after and 'install, deadline 2027-01-15T18:00:00Z' in diff_after
    assert 'All Computers/Servers/Web/Canary: uninstall' in diff_after and 'declined' in diff_after
    assert '+approval' in planned.stdout, 'ansible-playbook shows the diff'

    applied = run(wsus_lab, play(IMPORT, apply_task()), verbosity=1).result('Apply')
    assert applied['changed'] is True and applied['failed_items'] == []
    assert applied['counts'] == dict(plan['counts']), 'the run does what check mode announced'
    wanted = in_catalog(by_path(export), import_)
    assert by_path(import_) == wanted | {facts['import_only']}, 'import-only approvals stay without prune'
    assert any(deadline == DEADLINE for _u, _g, _a, deadline in by_path(import_))
    assert declined(import_) == declined(export) & set(import_.update_ids())
    known = set(import_.update_ids())
    unknown = {('approval', uid, group) for uid, group, _action, _deadline in by_path(export) if uid not in known}
    unknown |= {('decline', uid, None) for uid in declined(export) - known}
    assert {('approval', facts['newer'][0], 'All Computers/Servers/Web'), ('decline', facts['newer'][1], None)} <= unknown
    assert {(item['kind'], item['update_id'], item['group']) for item in applied['skipped_items']} == unknown
    assert {item['reason_code'] for item in applied['skipped_items']} == {'not_in_catalog'}
    assert all('airgap.wsus.metadata' in item['reason'] and item['title'] for item in applied['skipped_items'])
    assert applied['document']['signed'] is True and applied['document']['sha256'] == exported['sha256']

    second = run(wsus_lab, play(IMPORT, apply_task('Second'))).result('Second')
    assert second['changed'] is False and second['counts']['skipped'] == len(unknown)
    assert by_path(import_) == wanted | {facts['import_only']}

    pruned = run(wsus_lab, play(IMPORT, apply_task('Prune', prune=True), apply_task('Pruned again', prune=True)))
    assert pruned.result('Prune')['changed'] is True and pruned.result('Prune')['counts']['approvals_removed'] == 1
    assert pruned.result('Pruned again')['changed'] is False
    assert by_path(import_) == wanted


def test_susdb_and_api_reads_give_the_same_document(wsus_lab):
    prepare(wsus_lab)
    api_task = export_task('Through the API', path=DOC + '.api.json', read_from='api')
    run(wsus_lab, play(EXPORT, export_task(read_from='susdb'), api_task))
    documents = []
    for path in (DOC, DOC + '.api.json'):
        with open(wsus_lab.sandbox_path(EXPORT, path), 'rb') as handle:
            documents.append(_approvals.parse_document(handle.read()).raw)
    assert documents[0]['approvals'] and _approvals.same_content(documents[0], documents[1])


@pytest.mark.parametrize('tamper', ['edit', 'unsigned'])
def test_an_altered_or_unsigned_document_changes_nothing(wsus_lab, tamper):
    prepare(wsus_lab)
    import_ = wsus_lab.wsus(IMPORT)
    run(wsus_lab, play(EXPORT, export_task()))
    before = by_path(import_)
    path = wsus_lab.sandbox_path(IMPORT, DOC)
    if tamper == 'edit':
        with open(path, 'rb') as handle:
            doc = json.loads(handle.read())
        doc['approvals'][0][2] = 'uninstall'
        with open(path, 'wb') as handle:
            handle.write(_manifest.canonical_bytes(doc))
        expected = 'does not match'
    else:
        os.unlink(path + '.sig')
        expected = 'not signed'
    run_ = run(wsus_lab, play(IMPORT, dict(apply_task(), ignore_errors=True)))
    result = run_.result('Apply')
    assert run_.status('Apply') == 'failed' and 'refused before anything changed' in result['msg'] and expected in result['msg']
    assert by_path(import_) == before


def test_the_lab_api_refuses_what_wsus_refuses_and_the_script_reports_it_as_data(wsus_lab_shared):
    host = wsus_lab_shared.import_.host
    plan = {'Groups': [{'key': 'All Computers', 'id': C.ALL_COMPUTERS},
                       {'key': 'All Computers/Servers/Workstations', 'name': 'workstations', 'parent': 'All Computers/Servers'},
                       {'key': 'All Computers/Bad', 'name': 'Bad;Name', 'parent': 'All Computers'}],
            'DeleteGroups': [C.UNASSIGNED_COMPUTERS],
            'Approve': [{'update_id': '00000000-0000-4000-8000-0000000000AA', 'revision': 1, 'group': 'All Computers', 'action': 'Install',
                         'deadline': None}]}
    answer = dispatch(host, 'approvals_apply', plan, Invocation('Administrator'))
    errors = {item['op'] + ' ' + item['group']: item['error'] for item in answer['failed']}
    assert "plan names group 'All Computers/Servers'" in errors['create_group All Computers/Servers/Workstations']
    assert 'characters that are not valid' in errors['create_group All Computers/Bad']
    assert 'cannot delete the All Computers or Unassigned' in errors['delete_group ' + C.UNASSIGNED_COMPUTERS]
    assert 'was not found in the database' in errors['approve All Computers']
    assert answer['groups_created'] == [] and answer['approved'] == 0
    duplicate = dispatch(host, 'approvals_apply', {'Groups': [{'key': 'All Computers', 'id': C.ALL_COMPUTERS},
                                                              {'key': 'All Computers/PILOT', 'name': 'PILOT', 'parent': 'All Computers'}]},
                         Invocation('Administrator'))
    assert 'already exists' in duplicate['failed'][0]['error'] and duplicate['failed'][0]['error'].startswith('Exception calling')
