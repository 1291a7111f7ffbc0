"""airgap.wsus.receipt on the lab: written only after the metadata import, idempotent, and read by the export side."""
from __future__ import annotations

import os

from ansible_collections.airgap.wsus.tests.integration.plugins.action.test_bundle import (
    B1, B2, TRANSFER, WORK_DIR, build_first_bundle, build_task, export_metadata_task, import_task, metadata_import_task,
    new_upstream_content, play, receipt_task, run)

BUNDLE = B1
RECEIPTS = 'E:\\plant-a\\receipts'


def deploy_only(lab):
    deploy = dict(import_task('deployed', 'Deploy', BUNDLE), register='deployed')
    return run(lab, [play('wsus-disconnected', [deploy])])


def test_no_receipt_before_the_metadata_is_imported(wsus_lab):
    build_first_bundle(wsus_lab)
    deploy_only(wsus_lab)
    outcome = run(wsus_lab, [play('wsus-disconnected', [dict(receipt_task(BUNDLE), ignore_errors=True)])])
    assert outcome.status('Receipt') == 'failed'
    assert 'was not imported on this server' in outcome.result('Receipt')['msg']
    assert not os.path.exists(wsus_lab.sandbox_path('wsus-disconnected', RECEIPTS))
    assert not os.path.exists(wsus_lab.sandbox_path('wsus-disconnected', WORK_DIR + '\\state\\imports'))


def test_receipt_is_planned_written_once_and_asks_for_missing_files_again(wsus_lab):
    build_first_bundle(wsus_lab)
    deploy = dict(import_task('deployed', 'Deploy', BUNDLE), register='deployed')
    run(wsus_lab, [play('wsus-disconnected', [deploy, metadata_import_task()])])
    missing = sorted(dict(wsus_lab.wsus('wsus-disconnected').content.iter_files()))[0].replace('\\', '/')
    tasks = [dict(receipt_task(BUNDLE, 'Plan', missing=[missing]), check_mode=True), receipt_task(BUNDLE, 'Write', missing=[missing]),
             receipt_task(BUNDLE, 'Again', missing=[missing])]
    outcome = run(wsus_lab, [play('wsus-disconnected', tasks)])
    planned, written, again = outcome.result('Plan'), outcome.result('Write'), outcome.result('Again')
    assert planned['changed'] is True and written['changed'] is True and again['changed'] is False
    assert again['receipt_id'] == written['receipt_id'] and written['missing_count'] == 1
    assert written['receipt_path'] == RECEIPTS + '\\receipt-1.json'
    assert planned['inventory_count'] == written['inventory_count'] == len(list(wsus_lab.wsus('wsus-disconnected').content.iter_files()))
    assert sorted(os.listdir(wsus_lab.sandbox_path('wsus-disconnected', RECEIPTS))) == ['receipt-1.inventory', 'receipt-1.json',
                                                                                        'receipt-1.json.sig']

    # The export side builds on the receipt: nothing new upstream, so only the file reported missing travels.
    built = run(wsus_lab, [play('wsus-connected', [build_task(TRANSFER, receipts=[RECEIPTS])])]).result('Build')
    assert built['plan']['basis']['kind'] == 'receipt' and built['base'] == 1 and built['sequence'] == 2
    assert built['plan']['files'] == 1 and built['bundle_path'] == B2
    carried = os.listdir(wsus_lab.sandbox_path('wsus-connected', B2 + '\\volume-01\\WsusContent\\' + missing.split('/')[0]))
    assert carried == [missing.split('/')[1]]


def test_unsigned_receipt_is_set_aside_by_an_export_side_that_requires_signatures(wsus_lab):
    build_first_bundle(wsus_lab)
    deploy = dict(import_task('deployed', 'Deploy', BUNDLE), register='deployed')
    unsigned = receipt_task(BUNDLE, 'Unsigned', allow_unsigned=True)
    del unsigned['airgap.wsus.receipt']['signing_key']
    outcome = run(wsus_lab, [play('wsus-disconnected', [deploy, metadata_import_task(), unsigned])])
    assert any(w.startswith('UNVERIFIED receipt') for w in outcome.result('Unsigned')['warnings'])
    new_upstream_content(wsus_lab)
    tasks = [export_metadata_task(), build_task(TRANSFER, receipts=[RECEIPTS])]
    built = run(wsus_lab, [play('wsus-connected', tasks)]).result('Build')
    assert built['plan']['basis']['kind'] == 'previous_bundle'
    assert any('receipt-1.json set aside' in w and 'not signed' in w for w in built['warnings'])


def test_a_receipt_whose_inventory_file_was_altered_is_set_aside(wsus_lab):
    build_first_bundle(wsus_lab)
    deploy = dict(import_task('deployed', 'Deploy', BUNDLE), register='deployed')
    run(wsus_lab, [play('wsus-disconnected', [deploy, metadata_import_task(), receipt_task(BUNDLE)])])
    # The digest file beside the signed receipt loses a digest on the way: the export side must not trust it.
    inventory = wsus_lab.sandbox_path('wsus-disconnected', RECEIPTS + '\\receipt-1.inventory')
    with open(inventory, 'rb') as handle:
        data = handle.read()
    with open(inventory, 'wb') as handle:
        handle.write(data[20:])
    new_upstream_content(wsus_lab)
    built = run(wsus_lab, [play('wsus-connected', [export_metadata_task(), build_task(TRANSFER, receipts=[RECEIPTS])])]).result('Build')
    assert built['plan']['basis']['kind'] == 'previous_bundle' and built['base'] == 1
    assert any('receipt-1.json set aside' in w and 'receipt-1.inventory' in w and 'altered' in w for w in built['warnings'])
