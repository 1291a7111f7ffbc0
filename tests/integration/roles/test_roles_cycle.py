"""The export_server and import_server roles end to end, through ``airgap.wsus.export`` and ``airgap.wsus.import``.

Plans first (check mode changes nothing), then a full cycle that leaves the import server with
the export server's catalog and content, a replay that changes nothing, and a second cycle
after new updates arrive upstream in which only the new files travel.
"""
from __future__ import annotations

import json
import os
import re

from ansible_collections.airgap.wsus.plugins.plugin_utils import _sizes
from ansible_collections.airgap.wsus.tests.integration import playbook as pb
from ansible_collections.airgap.wsus.tests.integration.roles import roles_helpers as rh

EXTERNAL = re.compile(r'<script|<link|<img|<iframe|\bsrc\s*=|\bhref\s*=|url\(|@import', re.IGNORECASE)


def assert_self_contained(html: str) -> None:
    found = EXTERNAL.search(html)
    assert found is None, f'the HTML report loads something from outside: {html[max(0, found.start() - 80):found.end() + 80]}'
    assert '<style>' in html


def test_plans_change_nothing_then_a_cycle_carries_catalog_and_content_then_only_new_files(wsus_lab):
    lab = wsus_lab
    exported = rh.content(lab, pb.EXPORT)
    assert exported and not rh.content(lab, pb.IMPORT) and not rh.catalog(lab, pb.IMPORT)

    # A plan on a fresh export server: nothing is written, neither the package nor the medium.
    plan = rh.run_export(lab, check=True)
    report = rh.latest_report(lab, 'export', pb.EXPORT)
    assert report['status'] == 'planned' and report['check_mode'] is True and report['failed_step'] is None
    # The plan says what would travel even before the metadata package exists.
    planned = rh.step(report, '3')
    assert rh.step(report, '2')['status'] == 'ok' and planned['status'] == 'ok'
    assert planned['summary'] == (f'would build bundle sequence 1 for plant-a (full basis): {len(exported)} files, '
                                  f'{_sizes.format_size(sum(exported.values()))}, 1 volume(s), and the metadata package still to be exported')
    assert report['bundle']['package_sha256'] is None and report['bundle']['sequence'] == 1
    assert any('leaves out the metadata package' in warning for warning in report['warnings'])
    assert not os.path.exists(lab.sandbox_path(pb.EXPORT, rh.STAGED_PACKAGE))
    assert rh.tree(lab, 'E:\\') == {}
    stats = rh.role_task(plan, 'export_server', 'Summarize the run for AWX / Automation Controller').result
    assert stats['ansible_stats']['data']['airgap_wsus_export'][pb.EXPORT]['status'] == 'planned'

    first = rh.run_export(lab)
    report = rh.latest_report(lab, 'export', pb.EXPORT)
    bundle = report['bundle']
    assert report['status'] == 'succeeded' and bundle['sequence'] == 1 and bundle['base'] == 'full'
    assert bundle['path'] == rh.TRANSFER + '\\plant-a-000001'
    assert report['moved']['files'] == len(exported) and report['moved']['bytes'] == sum(exported.values())
    assert [entry['number'] for entry in report['steps']] == ['1', '2', '2b', '3', '4']
    assert all(entry['status'] == 'ok' and entry['duration'] >= 0 for entry in report['steps'])
    assert report['metadata']['exported'] is True and report['metadata']['sha256'] == bundle['package_sha256']
    on_medium = rh.tree(lab, bundle['path'] + '\\volume-01\\WsusContent')
    assert on_medium == exported
    stats = rh.role_task(first, 'export_server', 'Summarize the run for AWX / Automation Controller').result
    summary = stats['ansible_stats']['data']['airgap_wsus_export'][pb.EXPORT]
    assert summary['bundle_id'] == bundle['id'] and summary['status'] == 'succeeded' and summary['files'] == len(exported)
    assert bundle['id'] in report['html'] and 'plant-a-000001' in report['html']
    assert_self_contained(report['html'])

    # The import plan verifies the bundle and says what it would copy, and changes nothing.
    before = rh.import_server_state(lab)
    rh.run_import(lab, check=True)
    plan_report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert plan_report['status'] == 'planned' and plan_report['bundle']['id'] == bundle['id']
    assert plan_report['moved']['files'] == len(exported) and plan_report['moved']['bytes'] == sum(exported.values())
    assert 'would import' in rh.step(plan_report, '6')['summary'] and rh.step(plan_report, '8')['status'] == 'skipped'
    assert rh.import_server_state(lab) == before
    assert rh.tree(lab, rh.RECEIPTS) == {}

    rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert report['status'] == 'succeeded', report['failed_step']
    assert [entry['number'] for entry in report['steps']] == ['1', '2', '3', '4+5', '6', '6b', '7', '8', '9']
    assert rh.catalog(lab, pb.IMPORT) == rh.catalog(lab, pb.EXPORT)
    assert rh.content(lab, pb.IMPORT) == exported
    assert report['counts']['before']['updates'] == 0 and report['counts']['after']['updates'] == len(rh.catalog(lab, pb.EXPORT))
    receipt = report['receipt']
    assert receipt['last_sequence'] == 1 and receipt['inventory_count'] == len(exported)
    assert rh.tree(lab, rh.RECEIPTS).keys() == {'receipt-1.json', 'receipt-1.json.sig', 'receipt-1.inventory'}
    assert bundle['id'] in report['html'] and receipt['id'] in report['html']
    assert_self_contained(report['html'])

    # The same bundle again: the play ends for the host at step 1 and nothing changes.
    state = rh.import_server_state(lab)
    replay = rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert report['status'] == 'already imported' and [entry['number'] for entry in report['steps']] == ['1', '9']
    assert not any(record.changed for record in replay.records), [r.task for r in replay.records if r.changed]
    assert 'was already imported' in replay.output and rh.import_server_state(lab) == state

    # New updates upstream: the second cycle carries only their files, on the receipt's basis.
    export_wsus = lab.wsus(pb.EXPORT)
    export_wsus.synchronize(new_updates=40)
    export_wsus.finish_downloads()
    new_files = {path: size for path, size in rh.content(lab, pb.EXPORT).items() if path not in exported}
    assert new_files
    rh.run_export(lab)
    report = rh.latest_report(lab, 'export', pb.EXPORT)
    assert report['bundle']['sequence'] == 2 and report['bundle']['basis']['kind'] == 'receipt'
    assert report['metadata']['exported'] is True, 'a synchronization ran since the last export: the metadata must be exported again'
    assert report['moved']['files'] == len(new_files) and report['moved']['bytes'] == sum(new_files.values())
    assert rh.tree(lab, report['bundle']['path'] + '\\volume-01\\WsusContent') == new_files

    rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert report['status'] == 'succeeded' and report['bundle']['sequence'] == 2
    assert report['moved']['files'] == len(new_files) and report['moved']['bytes'] == sum(new_files.values())
    assert rh.catalog(lab, pb.IMPORT) == rh.catalog(lab, pb.EXPORT)
    assert rh.content(lab, pb.IMPORT) == rh.content(lab, pb.EXPORT)


def test_sync_playbook_runs_both_sides_and_keys_stay_out_of_output_and_reports(wsus_lab):
    lab = wsus_lab
    extra = dict(rh.export_vars(lab), **rh.import_vars(lab))
    del extra['export_server_report_dir'], extra['import_server_report_dir']
    run = lab.run_playbook(rh.SYNC_PLAY, extra_vars=extra, verbosity=3)
    assert rh.catalog(lab, pb.IMPORT) == rh.catalog(lab, pb.EXPORT)
    assert rh.content(lab, pb.IMPORT) == rh.content(lab, pb.EXPORT)
    # The collection's own playbooks put the reports beside the inventory.
    folder = os.path.join(os.path.dirname(lab.inventory), 'reports')
    export_report = rh.latest_report(lab, 'export', pb.EXPORT, folder)
    import_report = rh.latest_report(lab, 'import', pb.IMPORT, folder)
    assert import_report['bundle']['id'] == export_report['bundle']['id']
    written = []
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), encoding='utf-8') as handle:
            written.append(handle.read())
    assert rh.KEY not in run.everything
    assert not any(rh.KEY in text for text in written)
    for text in written:
        if text.startswith('{'):
            json.loads(text)
