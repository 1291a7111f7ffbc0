"""A failure at each step of the roles stops the chain there, names the step, and a rerun after the fix resumes.

Each test injects one fault at a time into the lab, runs the playbook, checks that the host
failed with "<side> stopped at step 'N. name': ..." and that the report marks that step, checks
what the lab holds (steps before the import leave the import server as it was), removes the
fault and moves on to the next step. The last run succeeds, without redoing the work earlier
runs finished.
"""
from __future__ import annotations

from ansible_collections.airgap.wsus.tests.integration import playbook as pb
from ansible_collections.airgap.wsus.tests.integration.roles import roles_helpers as rh


def assert_stopped(lab, run, kind, number, name, cause):
    """The run failed at step ``number``, named it, quoted the cause, and the report says so."""
    role = f'{kind}_server'
    message = rh.role_task(run, role, 'Stop this host at the step that failed').result['msg']
    assert message.startswith(f"{kind} stopped at step '{number}. {name}': "), message
    assert cause in message, message
    report = rh.latest_report(lab, kind, pb.EXPORT if kind == 'export' else pb.IMPORT)
    assert report['status'] == 'failed' and report['failed_step']['number'] == number and report['failed_step']['name'] == name
    assert rh.step(report, number)['status'] == 'failed'
    assert [entry['number'] for entry in report['steps']][-1] == ('4' if kind == 'export' else '9'), 'the report step is missing'
    assert f'Stopped at step {number}. {name}' in report['html']
    return report


def test_export_stops_at_each_failing_step_and_a_rerun_resumes(wsus_lab_factory):
    lab = wsus_lab_factory(export={'catalog': {'pending_updates': 3}})
    rh.synchronized_earlier(lab)
    host = lab.export.host

    # 1. Approved updates still downloading (deferred download): nothing may move yet.
    run = rh.run_export(lab, expect_failure=True)
    assert_stopped(lab, run, 'export', '1', 'Preflight', 'approved')
    assert rh.tree(lab, 'E:\\') == {}
    lab.wsus(pb.EXPORT).finish_downloads()

    # 2. WsusUtil export fails.
    host.faults.set('wsusutil_exit_code', {'export': 1})
    run = rh.run_export(lab, expect_failure=True)
    assert_stopped(lab, run, 'export', '2', 'Metadata export', 'WsusUtil export failed')
    assert rh.tree(lab, 'E:\\') == {}
    host.faults.pop('wsusutil_exit_code')

    # 3. The medium refuses writes.
    host.faults.deny_access(rh.TRANSFER)
    run = rh.run_export(lab, expect_failure=True)
    report = assert_stopped(lab, run, 'export', '3', 'Bundle', 'denied')
    assert report['metadata']['exported'] is True
    host.faults.allow_access(rh.TRANSFER)

    # The rerun reuses the package step 2 exported (no synchronization since) and builds the bundle.
    rh.run_export(lab)
    report = rh.latest_report(lab, 'export', pb.EXPORT)
    assert report['status'] == 'succeeded' and report['bundle']['sequence'] == 1
    assert report['metadata']['exported'] is False and report['metadata']['skipped_reason']
    assert 'the medium has room' in rh.step(report, '1')['summary']
    assert rh.tree(lab, report['bundle']['path'] + '\\volume-01\\WsusContent') == rh.content(lab, pb.EXPORT)

    # Nothing new since: the export changes nothing and points at the same bundle.
    again = rh.run_export(lab)
    report_again = rh.latest_report(lab, 'export', pb.EXPORT)
    assert report_again['bundle']['id'] == report['bundle']['id']
    assert not any(record.changed for record in again.records), [r.task for r in again.records if r.changed]


def test_import_stops_at_each_failing_step_leaves_the_server_alone_before_the_import_and_resumes(wsus_lab, monkeypatch):
    lab = wsus_lab
    rh.run_export(lab)
    host = lab.import_.host
    wsus = lab.wsus(pb.IMPORT)
    untouched = rh.import_server_state(lab)

    # 1. The bundle's signature does not match the key this side holds.
    run = rh.run_import(lab, expect_failure=True, import_server_verify_key='another-secret-of-more-than-32-bytes-0123')
    assert_stopped(lab, run, 'import', '1', 'Verify bundle', 'signature')
    assert rh.import_server_state(lab) == untouched

    # 2a. The content drive is full.
    volume = host.fs.drive('D:').volume
    base_used = volume.base_used
    volume.base_used = volume.capacity - (volume.used_bytes() - base_used) - 100
    run = rh.run_import(lab, expect_failure=True)
    assert_stopped(lab, run, 'import', '2', 'Preflight', 'bytes free')
    assert rh.import_server_state(lab) == untouched
    volume.base_used = base_used

    # 2b. The server is a replica, which cannot import.
    config = wsus.get_configuration()
    config.is_replica_server, config.sync_from_microsoft_update, config.upstream_wsus_server_name = True, False, 'wsus-hq'
    config.save()
    run = rh.run_import(lab, expect_failure=True)
    assert_stopped(lab, run, 'import', '2', 'Preflight', 'wsus-hq')
    assert rh.import_server_state(lab) == untouched
    config = wsus.get_configuration()
    config.is_replica_server, config.sync_from_microsoft_update = False, True
    config.save()

    # 3. The import server's languages differ from the export server's (check mode).
    config = wsus.get_configuration()
    config.set_enabled_update_languages(['en', 'de'])
    config.save()
    run = rh.run_import(lab, expect_failure=True)
    assert_stopped(lab, run, 'import', '3', 'Option parity', 'languages')
    assert rh.import_server_state(lab)[:2] == untouched[:2]
    config = wsus.get_configuration()
    config.set_enabled_update_languages(['en'])
    config.save()

    # 4+5. The content drive fills up during the copy: no metadata import.
    host.faults.wait_scale = 0.001
    host.faults.disk_full_after('D:', 2000)
    run = rh.run_import(lab, expect_failure=True)
    assert_stopped(lab, run, 'import', '4+5', 'Deploy content', 'robocopy')
    assert rh.catalog(lab, pb.IMPORT) == untouched[0]
    host.faults.disk_full_after('D:', None)

    # 6. WsusUtil import fails (half the catalog went in, as a real failure can leave it).
    host.faults.set('wsusutil_exit_code', {'import': 1})
    run = rh.run_import(lab, expect_failure=True)
    report = assert_stopped(lab, run, 'import', '6', 'Metadata import', 'WsusUtil import failed')
    assert rh.content(lab, pb.IMPORT) == rh.content(lab, pb.EXPORT), 'the content goes in before the metadata'
    assert rh.step(report, '4+5')['status'] == 'ok'
    host.faults.pop('wsusutil_exit_code')

    # 7. WsusUtil leaves the Update Service stopped after the import.
    services = host.services
    start = services.start
    monkeypatch.setattr(services, 'start', lambda name: None if name.lower() == 'wsusservice' else start(name))
    run = rh.run_import(lab, expect_failure=True)
    assert_stopped(lab, run, 'import', '7', 'Post-import checks', 'Update Service')
    monkeypatch.undo()
    services.start('WsusService')

    # 8. The receipt cannot be written onto the medium.
    host.faults.deny_access(rh.RECEIPTS)
    run = rh.run_import(lab, expect_failure=True)
    assert_stopped(lab, run, 'import', '8', 'Receipt', 'denied')
    host.faults.allow_access(rh.RECEIPTS)

    # The rerun copies nothing and imports nothing again: it only writes the receipt.
    rh.run_import(lab)
    report = rh.latest_report(lab, 'import', pb.IMPORT)
    assert report['status'] == 'succeeded' and report['receipt']['last_sequence'] == 1
    assert report['moved']['files'] == 0 and report['metadata']['imported'] is False and report['metadata']['skipped_reason']
    assert rh.catalog(lab, pb.IMPORT) == rh.catalog(lab, pb.EXPORT)
    assert rh.content(lab, pb.IMPORT) == rh.content(lab, pb.EXPORT)
