"""Approvals and content verification wired into the roles, through ``airgap.wsus.export`` and ``airgap.wsus.import`` (issue 7).

The export server approves updates for nested groups (with a deadline, for install and
uninstall) and declines some; the approvals cross the gap in the bundle and land on the import
server by group name path. Updates the import catalog lacks are reported as skipped. Then
content files disappear from the import server: its post-import check names them, the receipt
carries them back, and the next bundle brings exactly those files.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os

from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _signing
from ansible_collections.airgap.wsus.tests.integration import playbook as pb
from ansible_collections.airgap.wsus.tests.integration.roles import roles_helpers as rh
from ansible_collections.airgap.wsus.tests.lab.wsus import constants as C
from ansible_collections.airgap.wsus.tests.lab.wsus import targeting

STAGED_APPROVALS = 'D:\\WSUS\\airgap-wsus-approvals.json'
DEADLINE = datetime.datetime(2027, 1, 15, 18, 0, 0)
IMPORT_CONTENT = 'D:\\WSUS\\WsusContent'


def by_path(wsus) -> set:
    """``{(update id, group path, action, deadline)}`` of a lab server's approvals, groups by name path."""
    tree = _approvals.GroupTree(targeting.groups(wsus))
    return {(uid, tree.by_id[gid].path, action.lower(), deadline) for uid, _rev, gid, action, deadline in targeting.approvals(wsus)}


def declined(wsus) -> set:
    return {uid for uid, _rev, is_declined, _state, _kb, _title in targeting.updates(wsus, referenced_only=True) if is_declined}


def group_paths(wsus) -> set:
    return set(_approvals.GroupTree(targeting.groups(wsus)).paths())


def undecided(wsus) -> list:
    """Updates neither approved nor declined, in catalog order."""
    referenced = {uid for uid, *_rest in targeting.updates(wsus, referenced_only=True)}
    return [uid for uid, *_rest in targeting.updates(wsus, referenced_only=False) if uid not in referenced]


def lab_state(lab) -> tuple:
    import_ = lab.wsus(pb.IMPORT)
    return by_path(import_), declined(import_), group_paths(import_), rh.import_server_state(lab)


def stage_package(lab) -> None:
    """WsusUtil's export into the role's staging path, as an earlier run of step 2 leaves it."""
    task = {'name': 'Stage', 'airgap.wsus.metadata': {'state': 'exported', 'package': rh.STAGED_PACKAGE, 'poll_interval': 1}}
    lab.run_playbook([{'hosts': pb.EXPORT, 'gather_facts': False, 'tasks': [task]}])


def decide_on_export(lab) -> dict:
    """Groups, approvals and declines on the export server; some name updates the staged package lacks."""
    export, import_ = lab.wsus(pb.EXPORT), lab.wsus(pb.IMPORT)
    rh.synchronized_earlier(lab)
    stage_package(lab)
    free = undecided(export)
    servers = targeting.group_id(export, 'All Computers/Servers')
    web = targeting.create_group(export, 'Web', servers)
    canary = targeting.create_group(export, 'Canary', web)
    pilot = targeting.group_id(export, 'All Computers/Servers/Pilot')
    targeting.approve(export, free[0], web, 'Install', DEADLINE)
    targeting.approve(export, free[1], canary, 'Uninstall')
    targeting.approve(export, free[2], pilot, 'Install')
    targeting.approve(export, free[3], C.UNASSIGNED_COMPUTERS, 'Install')
    targeting.decline(export, free[4])
    # A synchronization ended while WsusUtil was exporting: the package's snapshot lacks its updates, the
    # approvals read afterwards name them, and the package still counts as newer than the synchronization.
    known = set(export.update_ids())
    export.synchronize(new_updates=3)
    newer = [uid for uid in export.update_ids() if uid not in known]
    targeting.approve(export, newer[0], web, 'Install')
    targeting.decline(export, newer[1])
    export.finish_downloads()
    rh.synchronized_earlier(lab)
    # The import server's own Pilot group: the same path, another id. And a group only it has.
    targeting.delete_group(import_, targeting.group_id(import_, 'All Computers/Servers/Pilot'))
    targeting.create_group(import_, 'Pilot', targeting.group_id(import_, 'All Computers/Servers'))
    targeting.create_group(import_, 'Plant floor')
    return {'free': free, 'newer': newer, 'pilot': pilot}


def assert_import_matches_export(lab, facts) -> None:
    """Approvals (by group name path, action, deadline), declines and groups of the export server, as far as the catalog allows."""
    export, import_ = lab.wsus(pb.EXPORT), lab.wsus(pb.IMPORT)
    known = set(import_.update_ids())
    assert not set(facts['newer']) & known, 'the package lacks the updates of the late synchronization'
    assert by_path(import_) == {item for item in by_path(export) if item[0] in known}
    assert (facts['free'][0], 'All Computers/Servers/Web', 'install', DEADLINE) in by_path(import_)
    assert (facts['free'][1], 'All Computers/Servers/Web/Canary', 'uninstall', None) in by_path(import_)
    assert declined(import_) == declined(export) & known
    assert group_paths(import_) == group_paths(export) | {'All Computers/Plant floor'}, 'a group only the import server has stays'


def skipped_for_the_catalog(lab) -> set:
    """``{(kind, update id, group path)}`` of the export server's approvals and declines of updates the import catalog lacks."""
    export, known = lab.wsus(pb.EXPORT), set(lab.wsus(pb.IMPORT).update_ids())
    unknown = {('approval', uid, group) for uid, group, _action, _deadline in by_path(export) if uid not in known}
    return unknown | {('decline', uid, None) for uid in declined(export) - known}


def test_approvals_in_nested_groups_cross_the_gap_plans_change_nothing_and_a_replay_changes_nothing(wsus_lab):
    lab = wsus_lab
    export = lab.wsus(pb.EXPORT)
    facts = decide_on_export(lab)

    # The export plan writes nothing: neither the approvals document nor the medium.
    rh.run_export(lab, check=True)
    plan = rh.latest_report(lab, 'export', pb.EXPORT)
    assert plan['status'] == 'planned' and rh.step(plan, '2b')['status'] == 'ok' and 'would write' in rh.step(plan, '2b')['summary']
    assert not os.path.exists(lab.sandbox_path(pb.EXPORT, STAGED_APPROVALS)) and rh.tree(lab, 'E:\\') == {}

    rh.run_export(lab)
    report = rh.latest_report(lab, 'export', pb.EXPORT)
    assert report['status'] == 'succeeded' and [s['number'] for s in report['steps']] == ['1', '2', '2b', '3', '4']
    assert report['metadata']['exported'] is False, 'the staged package is reused'
    approvals = report['approvals']
    assert approvals['counts'] == {'groups': len(group_paths(export)), 'updates': len({a[0] for a in by_path(export)} | declined(export)),
                                   'approvals': len(by_path(export)), 'declines': len(declined(export))}
    volume = report['bundle']['path'] + '\\volume-01'
    assert approvals['bundle_path'] == volume + '\\approvals\\approvals.json'
    with open(lab.sandbox_path(pb.EXPORT, approvals['bundle_path']), 'rb') as handle:
        document = handle.read()
    with open(lab.sandbox_path(pb.EXPORT, approvals['bundle_path'] + '.sig'), 'rb') as handle:
        assert _signing.verify(document, handle.read(), [{'key_id': 'airgap-wsus', 'algorithm': 'hmac-sha256', 'key': rh.KEY}])
    with open(lab.sandbox_path(pb.EXPORT, volume + '\\manifest.json'), 'rb') as handle:
        manifest = json.loads(handle.read())
    assert manifest['approvals'] == {'path': 'approvals/approvals.json', 'size': len(document), 'sha256': hashlib.sha256(document).hexdigest(),
                                     'counts': approvals['counts']}
    assert approvals['sha256'] == manifest['approvals']['sha256'] and 'Approvals' in report['html']

    # The import plan verifies everything and changes nothing; the approvals wait for the metadata import.
    untouched = lab_state(lab)
    rh.run_import(lab, check=True)
    plan = rh.latest_report(lab, 'import', pb.IMPORT)
    assert plan['status'] == 'planned' and rh.step(plan, '6b')['status'] == 'skipped'
    assert f'would apply the {approvals["counts"]["approvals"]} approval(s)' in rh.step(plan, '6b')['summary']
    assert lab_state(lab) == untouched

    rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert report['status'] == 'succeeded', report['failed_step']
    assert [s['number'] for s in report['steps']] == ['1', '2', '3', '4+5', '6', '6b', '7', '8', '9']
    assert_import_matches_export(lab, facts)
    applied = report['approvals']
    assert applied['applied'] is True and applied['document']['sha256'] == approvals['sha256']
    assert applied['groups_created'] == ['All Computers/Servers/Web', 'All Computers/Servers/Web/Canary']
    assert applied['approved'] == len(by_path(lab.wsus(pb.IMPORT))) and applied['declined'] == len(declined(lab.wsus(pb.IMPORT)))
    unknown = skipped_for_the_catalog(lab)
    assert {('approval', facts['newer'][0], 'All Computers/Servers/Web'), ('decline', facts['newer'][1], None)} <= unknown
    assert applied['skipped'] == len(unknown) and applied['skipped_reasons'] == {'not_in_catalog': len(unknown)}
    assert {(item['kind'], item['update_id'], item['group']) for item in applied['skipped_items']} == unknown
    assert 'not in catalog' in report['html'] and facts['newer'][0] in report['html'] and 'All Computers/Servers/Web/Canary' in report['html']
    assert report['content_verify']['missing'] == 0 and report['content_verify']['approved_files'] > 0

    # Only the approvals change: a bundle of its own carries them, without content.
    targeting.approve(export, facts['free'][0], facts['pilot'], 'Install')
    targeting.decline(export, undecided(export)[0])
    rh.run_export(lab)
    report = rh.latest_report(lab, 'export', pb.EXPORT)
    assert report['bundle']['sequence'] == 2 and report['moved']['files'] == 0 and report['approvals']['sha256'] != approvals['sha256']

    untouched = lab_state(lab)
    rh.run_import(lab, check=True)
    plan = rh.latest_report(lab, 'import', pb.IMPORT)
    assert rh.step(plan, '6b')['status'] == 'ok' and 'would change' in rh.step(plan, '6b')['summary']
    assert plan['approvals']['approved'] == 1 and plan['approvals']['declined'] == 1 and plan['approvals']['applied'] is False
    assert lab_state(lab) == untouched

    rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert report['status'] == 'succeeded' and report['approvals']['approved'] == 1 and report['approvals']['declined'] == 1
    assert_import_matches_export(lab, facts)

    # The same bundle again changes nothing, and neither does an export with nothing new.
    state = lab_state(lab)
    replay = rh.run_import(lab)
    assert rh.latest_report(lab, 'import', pb.IMPORT)['status'] == 'already imported'
    assert not any(record.changed for record in replay.records), [r.task for r in replay.records if r.changed]
    assert lab_state(lab) == state
    again = rh.run_export(lab)
    assert rh.latest_report(lab, 'export', pb.EXPORT)['bundle']['sequence'] == 2
    assert not any(record.changed for record in again.records), [r.task for r in again.records if r.changed]


def needed(lab) -> dict:
    """``{relative path with /: size}`` of the files the import server wants for its approved updates."""
    rows = lab.wsus(pb.IMPORT).db.query('SELECT f.FileName, f.Size FROM tbFileOnServer fs JOIN tbFile f ON f.FileDigest = fs.FileDigest '
                                        'WHERE fs.DesiredState = 1')
    return {f'{name.split(".")[0][-2:]}/{name}': size for name, size in rows}


def test_missing_content_is_named_carried_back_by_the_receipt_and_the_next_bundle_brings_exactly_it(wsus_lab):
    lab = wsus_lab
    export = lab.wsus(pb.EXPORT)
    rh.synchronized_earlier(lab)
    rh.run_export(lab)
    rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    files = needed(lab)
    check = report['content_verify']
    assert check['missing'] == check['corrupt'] == 0 and check['files'] == []
    assert check['approved_files'] == check['present_files'] == len(files) > 3

    gone = sorted(files)[1::5][:3]
    for relpath in gone:
        os.unlink(lab.sandbox_path(pb.IMPORT, IMPORT_CONTENT + '\\' + relpath.replace('/', '\\')))
    # Something new to import (a decline), whose bundle does not carry the deleted files: the last receipt says the import
    # server holds them.
    targeting.decline(export, undecided(export)[0])
    rh.run_export(lab)
    report = rh.latest_report(lab, 'export', pb.EXPORT)
    assert report['bundle']['sequence'] == 2 and rh.tree(lab, report['bundle']['path'] + '\\volume-01\\WsusContent') == {}

    # Told to, the import fails at the post-import check, after the import, and names the files.
    run = rh.run_import(lab, expect_failure=True, import_server_fail_on_missing_content=True)
    message = rh.role_task(run, 'import_server', 'Stop this host at the step that failed').result['msg']
    assert message.startswith("import stopped at step '7. Post-import checks': ") and all(path in message for path in gone), message
    assert rh.tree(lab, rh.RECEIPTS).keys() == {'receipt-1.json', 'receipt-1.json.sig', 'receipt-1.inventory'}

    # By default the missing files are reported, and the receipt asks for them.
    rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert report['status'] == 'succeeded', report['failed_step']
    check = report['content_verify']
    assert check['files'] == gone and check['missing'] == 3 and check['corrupt'] == 0
    assert check['missing_bytes'] == sum(files[path] for path in gone)
    assert all(path in report['html'] for path in gone) and 'Content verification' in report['html']
    assert any('3 file(s) of approved updates are missing' in warning for warning in report['warnings'])
    assert report['receipt']['missing_count'] == 3
    with open(lab.sandbox_path(pb.IMPORT, rh.RECEIPTS + '\\receipt-2.json'), 'rb') as handle:
        assert json.loads(handle.read())['missing'] == gone

    # The next cycle, on that receipt, carries exactly those files, and the check passes.
    rh.run_export(lab)
    report = rh.latest_report(lab, 'export', pb.EXPORT)
    assert report['bundle']['sequence'] == 3 and report['bundle']['basis']['kind'] == 'receipt'
    assert rh.tree(lab, report['bundle']['path'] + '\\volume-01\\WsusContent') == {path.replace('/', '\\'): files[path] for path in gone}
    rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert report['status'] == 'succeeded' and report['moved']['files'] == 3
    assert report['content_verify']['missing'] == 0 and report['content_verify']['files'] == [] and report['receipt']['missing_count'] == 0
    assert rh.content(lab, pb.IMPORT) == rh.content(lab, pb.EXPORT)
