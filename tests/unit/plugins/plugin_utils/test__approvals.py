"""``_approvals``: group trees by name path, the signed document, and the plan that makes an import server match it."""
from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _manifest
from ansible_collections.airgap.wsus.plugins.plugin_utils._approvals import ALL_COMPUTERS_ID as ALL
from ansible_collections.airgap.wsus.plugins.plugin_utils._approvals import UNASSIGNED_COMPUTERS_ID as UNASSIGNED

CREATED = '2026-11-25T12:00:00Z'
SOURCE = {'server_id': 'A2EA003C-B168-46AD-8F57-27183600E5CC', 'name': 'WSUS-CONNECTED'}


def gid(n):
    return f'00000000-0000-4000-8000-{n:012d}'


def uid(n):
    return f'AAAABBBB-0000-4000-8000-{n:012d}'


# The export server: English built-ins, Servers > Web > Canary, and Workstations.
EXPORT_GROUPS = [(ALL, None, 'All Computers'), (UNASSIGNED, ALL, 'Unassigned Computers'), (gid(1), ALL, 'Servers'),
                 (gid(2), gid(1), 'Web'), (gid(3), gid(2), 'Canary'), (gid(4), ALL, 'Workstations')]


def update(n, revision=200, declined=False, state='Published', kb=None, title=None):
    return (uid(n), revision, declined, state, kb if kb is not None else str(4480000 + n), title or f'Update {n} (KB{4480000 + n})')


def export_view(approvals=None, updates=None, groups=None):
    updates = updates if updates is not None else [update(1), update(2), update(3), update(4, declined=True)]
    approvals = approvals if approvals is not None else [
        (uid(1), 200, gid(2), 'Install', '2027-01-15T18:00:00.000Z'),
        (uid(2), 200, gid(3), 'Uninstall', None),
        (uid(3), 200, UNASSIGNED, 'Install', None),
        (uid(3), 200, ALL, 'Install', '9999-12-31T23:59:59.997Z'),
    ]
    return _approvals.read_view(groups or EXPORT_GROUPS, approvals, updates)


def document(**kwargs):
    doc = _approvals.build_document(export_view(**kwargs), created=CREATED, source=SOURCE)
    return _approvals.parse_document(_manifest.canonical_bytes(doc))


def import_view(groups=None, approvals=(), updates=None):
    """An import server with localized built-ins and its own ids; it knows updates 1 to 4 unless told otherwise."""
    groups = groups if groups is not None else [(ALL, None, 'Alle Computer'), (UNASSIGNED, ALL, 'Nicht zugewiesene Computer'),
                                                (gid(11), ALL, 'SERVERS'), (gid(14), ALL, 'Workstations')]
    updates = updates if updates is not None else [update(n) for n in (1, 2, 3, 4)]
    return _approvals.read_view(groups, approvals, updates)


# --------------------------------------------------------------------------- group trees

def test_paths_use_english_built_in_names_whatever_the_server_language():
    tree = _approvals.GroupTree([(ALL, None, 'Alle Computer'), (UNASSIGNED, ALL, 'Nicht zugewiesene Computer'), (gid(1), ALL, 'Server'),
                                 (gid(2), gid(1), 'Web')])
    assert tree.paths() == ['All Computers', 'All Computers/Server', 'All Computers/Server/Web', 'All Computers/Unassigned Computers']
    assert tree.find('all computers/SERVER/web').id == gid(2)
    assert tree.by_name['alle computer'].id == ALL, 'the localized name is still taken on that server'


def test_groups_outside_the_tree_are_left_out_and_named():
    tree = _approvals.GroupTree([(ALL, None, 'All Computers'), (gid(1), gid(9), 'Lost'), (gid(5), gid(6), 'Loop'), (gid(6), gid(5), 'Back')])
    assert tree.paths() == ['All Computers']
    assert len(tree.problems) == 1 and '3 group(s)' in tree.problems[0] and 'Lost' in tree.problems[0]


def test_a_server_without_all_computers_is_a_problem_not_a_crash():
    tree = _approvals.GroupTree([(gid(1), None, 'Servers')])
    assert tree.paths() == [] and 'no All Computers group' in tree.problems[0]


# --------------------------------------------------------------------------- reading a server

def test_read_view_keeps_install_and_uninstall_of_the_latest_revision_only():
    view = _approvals.read_view(EXPORT_GROUPS, [
        (uid(1), 200, gid(1), 'Install', None),
        (uid(1), 199, gid(4), 'Install', None),          # an older revision's approval
        (uid(2), 200, gid(1), 'NotApproved', None),
        (uid(3), 200, gid(1), 'Install', None),           # declined: WSUS removed it
        (uid(1), 200, gid(99), 'Install', None),          # a group outside the tree
    ], [update(1), update(2), update(3, declined=True)])
    assert list(view.approvals) == [(uid(1), 'all computers/servers')]
    assert view.declined == [uid(3)]
    assert any('outside the group tree' in w for w in view.warnings)


def test_deadlines_are_utc_to_the_second_and_maxvalue_means_none():
    assert _approvals.normalize_deadline('2027-01-15T18:00:00.123Z') == '2027-01-15T18:00:00Z'
    assert _approvals.normalize_deadline('2027-01-15 18:00:00.997') == '2027-01-15T18:00:00Z'
    assert _approvals.normalize_deadline('9999-12-31T23:59:59.997Z') is None
    assert _approvals.normalize_deadline(None) is None
    with pytest.raises(_approvals.ApprovalsError, match='ISO 8601'):
        _approvals.normalize_deadline('next tuesday')


# --------------------------------------------------------------------------- the document

def test_document_is_canonical_sorted_and_names_every_update_it_uses():
    doc = document()
    raw = doc.raw
    assert raw['schema'] == 'airgap.wsus.approvals/1' and raw['source'] == SOURCE
    assert raw['groups'] == ['All Computers', 'All Computers/Servers', 'All Computers/Servers/Web', 'All Computers/Servers/Web/Canary',
                             'All Computers/Unassigned Computers', 'All Computers/Workstations']
    assert raw['approvals'] == [[uid(1), 'All Computers/Servers/Web', 'install', '2027-01-15T18:00:00Z'],
                                [uid(2), 'All Computers/Servers/Web/Canary', 'uninstall', None],
                                [uid(3), 'All Computers', 'install', None],
                                [uid(3), 'All Computers/Unassigned Computers', 'install', None]]
    assert raw['declines'] == [uid(4)]
    assert [entry[0] for entry in raw['updates']] == [uid(1), uid(2), uid(3), uid(4)]
    assert raw['updates'][0] == [uid(1), 200, '4480001', 'Update 1 (KB4480001)']
    again = _approvals.build_document(export_view(), created='2026-12-01T00:00:00Z', source=SOURCE)
    assert _approvals.same_content(raw, again) and again['created'] != raw['created']


def _tampered(mutate):
    raw = copy.deepcopy(document().raw)
    mutate(raw)
    return _manifest.canonical_bytes(raw)


@pytest.mark.parametrize('mutate, message', [
    (lambda d: d.update(schema='airgap.wsus.approvals/2'), 'same airgap.wsus version'),
    (lambda d: d.update(schema='airgap.wsus.bundle/1'), 'not an approvals document'),
    (lambda d: d.update(extra=1), 'unknown keys extra'),
    (lambda d: d['groups'].append('All Computers/Servers/Web'), 'listed twice'),
    (lambda d: d['groups'].append('All Computers/Nowhere/Deep'), 'parent'),
    (lambda d: d['groups'].append('Everything/Servers'), 'does not start with'),
    (lambda d: d['groups'].append('All Computers/Bad;Name'), 'characters WSUS refuses'),
    (lambda d: d['groups'].append('All Computers/Workstations/Web'), 'unique on a server'),
    (lambda d: d['approvals'].append([uid(9), 'All Computers', 'install', None]), 'not listed in updates'),
    (lambda d: d['approvals'].append([uid(1), 'All Computers/Elsewhere', 'install', None]), 'not listed in groups'),
    (lambda d: d['approvals'].append([uid(1), 'all computers/servers/web', 'install', None]), 'approved twice'),
    (lambda d: d['approvals'][0].__setitem__(2, 'block'), 'action'),
    (lambda d: d['approvals'][0].__setitem__(3, 'tomorrow'), 'deadline'),
    (lambda d: d['declines'].append(uid(1)), 'both declined and approved'),
    (lambda d: d['updates'][0].__setitem__(0, uid(1).lower()), 'upper-case GUID'),
    (lambda d: d['updates'][0].__setitem__(1, True), 'revision'),
    (lambda d: d['updates'].append(d['updates'][0]), 'listed twice'),
])
def test_a_document_that_breaks_a_rule_is_refused_naming_the_entry(mutate, message):
    with pytest.raises(_approvals.ApprovalsError, match=message):
        _approvals.parse_document(_tampered(mutate))


def test_hostile_bytes_are_refused_before_parsing():
    with pytest.raises(_approvals.ApprovalsError, match='deeper than 3 levels'):
        _approvals.parse_document(b'{"groups": [[["x"]]]}')
    with pytest.raises(_approvals.ApprovalsError, match='over the limit'):
        _approvals.parse_document(b'{}' + b' ' * 100, max_bytes=50)
    with pytest.raises(_approvals.ApprovalsError, match='duplicate key'):
        _approvals.parse_document(b'{"schema": 1, "schema": 2}')


# --------------------------------------------------------------------------- planning

def test_groups_are_matched_by_name_path_not_id_and_missing_ones_created_parents_first():
    plan = _approvals.plan_changes(document(), import_view())
    assert [g['path'] for g in plan.create_groups] == ['All Computers/Servers/Web', 'All Computers/Servers/Web/Canary']
    assert plan.create_groups[0]['parent'] == 'All Computers/SERVERS', 'the existing group keeps its own spelling'
    params = _approvals.apply_params(plan)
    keys = [g['key'] for g in params['Groups']]
    assert keys.index('All Computers/SERVERS') < keys.index('All Computers/Servers/Web') < keys.index('All Computers/Servers/Web/Canary')
    assert {'key': 'All Computers/SERVERS', 'id': gid(11)} in params['Groups']
    assert {'key': 'All Computers/Unassigned Computers', 'id': UNASSIGNED} in params['Groups'], 'built-ins by their well-known id'
    assert plan.unchanged['groups'] == 4 and plan.skipped == []


def test_the_plan_sets_approvals_and_declines_and_a_second_plan_is_empty():
    doc = document()
    plan = _approvals.plan_changes(doc, import_view())
    assert plan.changed and plan.counts()['approvals_set'] == 4 and [d['update_id'] for d in plan.decline] == [uid(4)]
    params = _approvals.apply_params(plan)
    assert {'update_id': uid(1), 'revision': 200, 'group': 'All Computers/Servers/Web', 'action': 'Install',
            'deadline': '2027-01-15T18:00:00Z'} in params['Approve']
    assert params['Decline'] == [{'update_id': uid(4), 'revision': 200}]
    # The import server after the plan: the new groups (other ids), the approvals, the decline.
    groups = [(ALL, None, 'Alle Computer'), (UNASSIGNED, ALL, 'Nicht zugewiesene Computer'), (gid(11), ALL, 'SERVERS'),
              (gid(12), gid(11), 'Web'), (gid(13), gid(12), 'Canary'), (gid(14), ALL, 'Workstations')]
    ids = {'All Computers/Servers/Web': gid(12), 'All Computers/Servers/Web/Canary': gid(13), 'All Computers': ALL,
           'All Computers/Unassigned Computers': UNASSIGNED}
    approvals = [(a['update_id'], 200, ids[a['group']], a['action'], a['deadline']) for a in params['Approve']]
    after = import_view(groups=groups, approvals=approvals, updates=[update(1), update(2), update(3), update(4, declined=True)])
    again = _approvals.plan_changes(doc, after)
    assert not again.changed and again.counts()['unchanged_approvals'] == 4 and again.counts()['unchanged_declines'] == 1


def test_a_changed_deadline_or_action_is_set_again_and_shows_in_the_diff():
    current = [(uid(1), 200, gid(12), 'Install', None), (uid(2), 200, gid(13), 'Install', None)]
    groups = [(ALL, None, 'All Computers'), (gid(11), ALL, 'Servers'), (gid(12), gid(11), 'Web'), (gid(13), gid(12), 'Canary')]
    doc = document()
    plan = _approvals.plan_changes(doc, import_view(groups=groups, approvals=current))
    before = {a['update_id']: a['before'] for a in plan.approve}
    assert before[uid(1)] == {'action': 'install', 'deadline': None} and before[uid(2)] == {'action': 'install', 'deadline': None}
    text = _approvals.diff(plan, doc)
    assert f'approval {uid(1)} (KB4480001) for All Computers/Servers/Web: install\n' in text['before']
    assert f'approval {uid(1)} (KB4480001) for All Computers/Servers/Web: install, deadline 2027-01-15T18:00:00Z\n' in text['after']
    assert f'approval {uid(2)} (KB4480002) for All Computers/Servers/Web/Canary: uninstall' in text['after']
    assert f'update {uid(4)} (KB4480004): not declined' in text['before'] and f'update {uid(4)} (KB4480004): declined' in text['after']


def test_updates_the_import_catalog_lacks_are_skipped_with_the_reason_and_expired_ones_are_not_approved_for_install():
    doc = document()
    view = import_view(updates=[update(1, state='Expired'), update(2, state='Expired'), update(4)])
    plan = _approvals.plan_changes(doc, view)
    skipped = {(s['kind'], s['update_id'], s['reason_code']) for s in plan.skipped}
    assert skipped == {('approval', uid(1), 'expired'), ('approval', uid(3), 'not_in_catalog')}
    assert [a['update_id'] for a in plan.approve] == [uid(2)], 'an expired update may still be approved for uninstall'
    missing = next(s for s in plan.skipped if s['reason_code'] == 'not_in_catalog')
    assert missing['kb'] == 'KB4480003' and missing['title'] == 'Update 3 (KB4480003)' and 'airgap.wsus.metadata' in missing['reason']
    assert plan.skipped_counts() == {'expired': 1, 'not_in_catalog': 2}


def test_a_group_name_taken_elsewhere_is_skipped_with_its_approvals_and_children():
    groups = [(ALL, None, 'All Computers'), (gid(11), ALL, 'Servers'), (gid(20), ALL, 'Web')]
    plan = _approvals.plan_changes(document(), import_view(groups=groups))
    reasons = {s['group']: s['reason_code'] for s in plan.skipped if s['kind'] == 'group'}
    assert reasons == {'All Computers/Servers/Web': 'name_taken', 'All Computers/Servers/Web/Canary': 'parent_unavailable'}
    assert 'All Computers/Web is the group named Web' in next(s['reason'] for s in plan.skipped if s['reason_code'] == 'name_taken')
    assert {(s['update_id'], s['reason_code']) for s in plan.skipped if s['kind'] == 'approval'} == {
        (uid(1), 'group_unavailable'), (uid(2), 'group_unavailable')}
    assert [g['path'] for g in plan.create_groups] == ['All Computers/Workstations']


def test_prune_deletes_the_other_group_of_that_name_first_and_removes_what_only_the_import_server_has():
    groups = [(ALL, None, 'All Computers'), (UNASSIGNED, ALL, 'Unassigned Computers'), (gid(11), ALL, 'Servers'),
              (gid(20), ALL, 'Web'), (gid(21), gid(20), 'Old'), (gid(14), ALL, 'Workstations')]
    approvals = [(uid(3), 200, gid(14), 'Install', None), (uid(3), 200, ALL, 'Install', None), (uid(1), 200, gid(21), 'Install', None)]
    updates = [update(1), update(2), update(3), update(4), update(5, declined=True)]
    view = import_view(groups=groups, approvals=approvals, updates=updates)
    kept = _approvals.plan_changes(document(), view)
    assert kept.delete_groups == [] and kept.unapprove == [] and kept.undecline == []
    pruned = _approvals.plan_changes(document(), view, prune=True)
    assert [g['path'] for g in pruned.delete_groups] == ['All Computers/Web/Old', 'All Computers/Web'], 'deepest first'
    assert [g['path'] for g in pruned.create_groups] == ['All Computers/Servers/Web', 'All Computers/Servers/Web/Canary']
    assert [(a['update_id'], a['group']) for a in pruned.unapprove] == [(uid(3), 'All Computers/Workstations')], \
        'approvals of deleted groups go with the group'
    assert pruned.undecline == [{'update_id': uid(5), 'revision': 200, 'reason': 'declined only on the import server (prune)'}]
    params = _approvals.apply_params(pruned)
    assert params['DeleteGroups'] == [gid(21), gid(20)] and params['Undecline'] == [{'update_id': uid(5), 'revision': 200}]
    assert 'absent (deleted, prune)' in _approvals.diff(pruned)['after']


def test_built_in_groups_are_never_pruned():
    view = import_view(groups=[(ALL, None, 'All Computers'), (UNASSIGNED, ALL, 'Unassigned Computers')])
    empty = _approvals.parse_document(_manifest.canonical_bytes(
        _approvals.build_document(export_view(approvals=[], updates=[], groups=[(ALL, None, 'All Computers')]), created=CREATED,
                                  source=SOURCE)))
    assert _approvals.plan_changes(empty, view, prune=True).delete_groups == []


def test_an_update_declined_on_import_but_approved_in_the_document_is_undeclined_then_approved():
    view = import_view(updates=[update(1, declined=True), update(2), update(3), update(4)])
    plan = _approvals.plan_changes(document(), view)
    assert plan.undecline == [{'update_id': uid(1), 'revision': 200, 'reason': 'approved in the document'}]
    assert uid(1) in {a['update_id'] for a in plan.approve}


def test_an_older_revision_on_import_is_approved_with_a_warning():
    view = import_view(updates=[update(1, revision=150), update(2), update(3), update(4)])
    plan = _approvals.plan_changes(document(), view)
    assert next(a for a in plan.approve if a['update_id'] == uid(1))['revision'] == 150
    assert any('older revision' in w for w in plan.warnings)


def test_the_diff_is_capped_and_says_how_much_more_there_is(monkeypatch):
    monkeypatch.setattr(_approvals, 'MAX_DIFF_LINES', 2)
    text = _approvals.diff(_approvals.plan_changes(document(), import_view()))
    assert text['after'].count('\n') == 3 and '... and' in text['after']


def test_failures_are_described_briefly():
    failed = [{'op': 'approve', 'update_id': uid(n), 'group': 'All Computers', 'error': 'license'} for n in range(7)]
    text = _approvals.describe_failures(failed)
    assert text.startswith(f'approve {uid(0)} group All Computers: license') and text.endswith('and 2 more')


def test_a_large_document_builds_parses_and_plans_quickly():
    groups = EXPORT_GROUPS
    count = 30000
    updates = [update(n) for n in range(count)]
    approvals = [(uid(n), 200, (gid(1), gid(2), ALL)[n % 3], 'Install', None) for n in range(count)]
    doc = _approvals.build_document(_approvals.read_view(groups, approvals, updates), created=CREATED, source=SOURCE)
    data = _manifest.canonical_bytes(doc)
    parsed = _approvals.parse_document(data)
    plan = _approvals.plan_changes(parsed, import_view(updates=updates))
    assert plan.counts()['approvals_set'] == count and json.loads(data)['approvals'][0][0] == uid(0)
