"""WsusUtil.exe on emulated hosts: export, import, reset, failures, and the Update Service."""
from __future__ import annotations

import time

import pytest

from ansible_collections.airgap.wsus.tests.lab.exe import wsusutil
from ansible_collections.airgap.wsus.tests.lab.wsus import constants as C

EXPORT = {'wsus': {'deferred_download': False, 'all_languages': True, 'runtime_scale': 0.0},
          'catalog': {'seed': 3, 'updates': 24, 'files': 72, 'declined_ratio': 0}}
IMPORT = {'wsus': {'deferred_download': False, 'all_languages': True, 'runtime_scale': 0.0}}
PACKAGE = r'E:\export.xml.gz'


@pytest.fixture
def pair(wsus_hosts):
    exporter = wsus_hosts.add('wsus-connected', 'export', **EXPORT)
    importer = wsus_hosts.add('wsus-disconnected', 'import', **IMPORT)
    return wsus_hosts, exporter, importer


def _export(hosts, exporter, log=r'C:\Windows\Temp\export.log'):
    code, out, _proc = hosts.wsusutil(exporter, f'export {PACKAGE} {log}')
    return code, out, exporter.fs.read_bytes(log).decode('utf-8')


def test_round_trip_with_content_copied_first(pair):
    hosts, exporter, importer = pair
    assert importer.wsus.update_ids() == [], 'an import server starts with an empty catalog'
    assert hosts.copy_content(exporter, importer) > 0
    code, out, log = _export(hosts, exporter)
    assert code == 0 and 'Successfully exported' in out
    assert log.rstrip().splitlines()[-1].endswith('Successfully exported 24 update revisions.')
    code, out, _proc = hosts.wsusutil(importer, rf'import {PACKAGE} D:\import.log')
    assert code == 0, out
    assert 'Successfully imported' in out
    assert importer.fs.read_bytes(r'D:\import.log').decode('utf-8').rstrip().endswith('Successfully imported 24 update revisions.')
    assert importer.wsus.update_ids() == exporter.wsus.update_ids()
    status = importer.wsus.get_status()
    assert status['UpdateCount'] == 24 and status['UpdatesNeedingFilesCount'] == 0 and status['UpdatesWithServerErrorsCount'] == 0
    assert status['ApprovedUpdateCount'] == 0, 'approvals do not travel'
    assert exporter.services.status(C.SERVICE_NAME) == importer.services.status(C.SERVICE_NAME) == 'Running'


def test_import_before_content_shows_failed_downloads_until_reset(pair):
    hosts, exporter, importer = pair
    assert _export(hosts, exporter)[0] == 0
    code, out, _proc = hosts.wsusutil(importer, rf'import {PACKAGE} D:\import.log')
    assert code == 0, out
    status = importer.wsus.get_status()
    with_files = exporter.wsus.get_status()['UpdateCount'] - exporter.wsus.db.scalar(
        'SELECT COUNT(*) FROM tbRevision r WHERE NOT EXISTS (SELECT 1 FROM tbFileForRevision fr WHERE fr.RevisionID = r.RevisionID)')
    assert status['UpdatesWithServerErrorsCount'] == status['UpdatesNeedingFilesCount'] == with_files
    assert 'failed downloads' in importer.fs.read_bytes(r'D:\import.log').decode('utf-8')
    hosts.copy_content(exporter, importer)
    assert importer.wsus.get_status()['UpdatesWithServerErrorsCount'] == with_files, 'WSUS does not notice copied files by itself'
    code, out, _proc = hosts.wsusutil(importer, 'reset')
    assert code == 0 and 'Content reset started' in out
    assert importer.wsus.wait_for_reset(10)
    assert importer.wsus.get_status()['UpdatesNeedingFilesCount'] == 0


def test_reset_finds_corrupt_and_missing_files(pair):
    hosts, exporter, _importer = pair
    content = exporter.wsus.get_configuration().local_content_cache_path
    files = [info for _names, info in exporter.fs.walk_files(content)]
    exporter.fs.write_bytes(files[0].path, b'corrupted')
    exporter.fs.delete_file(files[1].path)
    assert hosts.wsusutil(exporter, 'reset')[0] == 0
    assert exporter.wsus.wait_for_reset(10)
    assert exporter.wsus.last_reset['needing_files'] == 2
    assert exporter.wsus.get_status()['UpdatesNeedingFilesCount'] >= 1
    exporter.wsus.finish_downloads()
    assert exporter.wsus.get_status()['UpdatesNeedingFilesCount'] == 0


def test_truncated_package_fails_import_with_the_real_message(pair):
    hosts, exporter, importer = pair
    exporter.faults.set('truncate_package', 0.5)
    code, _out, _log = _export(hosts, exporter)
    assert code == 0, 'the export itself claims success'
    code, out, _proc = hosts.wsusutil(importer, rf'import {PACKAGE} D:\import.log')
    assert code != 0
    expected = 'Unexpected end of file has occurred. The following elements are not closed: metadata, update, updates, ExportPackage.'
    assert expected in out
    log = importer.fs.read_bytes(r'D:\import.log').decode('utf-8')
    assert 'Fatal error: ' + expected in log and 'Successfully imported' not in log
    assert 0 < len(importer.wsus.update_ids()) < 24, 'updates before the cut were imported'
    assert importer.services.status(C.SERVICE_NAME) == 'Running'


def test_empty_package_and_failing_exit_code(pair):
    hosts, exporter, importer = pair
    exporter.faults.set('wsusutil_empty_package', True)
    assert _export(hosts, exporter)[0] == 0
    assert exporter.fs.stat(PACKAGE).size == 0
    code, out, _proc = hosts.wsusutil(importer, rf'import {PACKAGE} D:\import.log')
    assert code != 0 and 'Root element is missing.' in out
    exporter.faults.set('wsusutil_empty_package', False)
    exporter.faults.set('wsusutil_exit_code', {'export': 3})
    code, _out, log = _export(hosts, exporter, r'C:\Windows\Temp\export2.log')
    assert code == 3 and 'Fatal error: Export failed' in log
    importer.faults.set('wsusutil_exit_code', 5)
    exporter.faults.set('wsusutil_exit_code', None)
    assert _export(hosts, exporter, r'C:\Windows\Temp\export3.log')[0] == 0
    code, _out, _proc = hosts.wsusutil(importer, rf'import {PACKAGE} D:\import2.log')
    assert code == 5 and 'Fatal error: Import failed' in importer.fs.read_bytes(r'D:\import2.log').decode('utf-8')


def test_only_administrators_may_run_it(pair):
    hosts, exporter, _importer = pair
    code, out, _proc = hosts.wsusutil(exporter, rf'export {PACKAGE} C:\Windows\Temp\x.log', user='operator')
    assert code != 0 and wsusutil.NOT_ADMIN in out
    assert not exporter.fs.exists(PACKAGE)


def test_replica_server_refuses_import(wsus_hosts):
    exporter = wsus_hosts.add('wsus-connected', 'export', **EXPORT)
    replica = wsus_hosts.add('wsus-replica', 'import', wsus={'upstream': 'wsus-hq', 'replica': True, 'runtime_scale': 0.0})
    assert wsus_hosts.wsusutil(exporter, rf'export {PACKAGE} C:\Windows\Temp\e.log')[0] == 0
    code, out, _proc = wsus_hosts.wsusutil(replica, rf'import {PACKAGE} D:\import.log')
    assert code != 0 and wsusutil.REPLICA_IMPORT in out
    assert replica.wsus.update_ids() == []


@pytest.mark.parametrize('arguments, topic', [('export onlyone', 'export'), ('import a b c', 'import'), ('reset now', 'reset'),
                                              ('frobnicate', None)])
def test_bad_arguments_print_usage(pair, arguments, topic):
    hosts, exporter, _importer = pair
    code, out, _proc = hosts.wsusutil(exporter, arguments)
    assert code != 0
    assert out.startswith('Incomplete or invalid parameters specified.\r\n')
    expected = wsusutil.COMMAND_HELP[topic] if topic else wsusutil.USAGE
    assert expected.replace('\n', '\r\n') in out


def test_update_service_is_stopped_while_it_runs(wsus_hosts):
    exporter = wsus_hosts.add('wsus-connected', 'export', wsus={'runtime_scale': 60.0, 'deferred_download': False},
                              catalog={'seed': 4, 'updates': 20, 'files': 20})
    log = r'C:\Windows\Temp\slow.log'
    _code, _out, proc = wsus_hosts.wsusutil(exporter, rf'export {PACKAGE} {log}', wait=0)
    deadline = time.monotonic() + 10
    while exporter.services.status(C.SERVICE_NAME) != 'Stopped' and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.running and exporter.services.status(C.SERVICE_NAME) == 'Stopped'
    assert exporter.process_running('WsusUtil.exe')
    time.sleep(0.3)
    assert 'Exported' in exporter.fs.read_bytes(log).decode('utf-8'), 'progress shows in the log while it runs'
    assert proc.wait(10) and proc.exit_code == 0
    assert exporter.services.status(C.SERVICE_NAME) == 'Running'


def test_a_killed_wsusutil_leaves_the_service_stopped(wsus_hosts):
    exporter = wsus_hosts.add('wsus-connected', 'export', wsus={'runtime_scale': 200.0}, catalog={'seed': 5, 'updates': 20, 'files': 20})
    _code, _out, proc = wsus_hosts.wsusutil(exporter, rf'export {PACKAGE} C:\Windows\Temp\k.log', wait=0)
    deadline = time.monotonic() + 10
    while exporter.services.status(C.SERVICE_NAME) != 'Stopped' and time.monotonic() < deadline:
        time.sleep(0.01)
    exporter.processes.kill(proc.pid, 1)
    assert proc.wait(5)
    time.sleep(0.1)
    assert exporter.services.status(C.SERVICE_NAME) == 'Stopped'
    assert not exporter.fs.exists(PACKAGE)


def test_export_to_a_full_medium_fails_with_the_windows_message(pair):
    hosts, exporter, _importer = pair
    exporter.faults.disk_full_after('E', 100)
    code, out, _proc = hosts.wsusutil(exporter, rf'export {PACKAGE} C:\Windows\Temp\full.log')
    assert code != 0 and 'There is not enough space on the disk.' in out
    assert 'Fatal error: There is not enough space on the disk.' in exporter.fs.read_bytes(r'C:\Windows\Temp\full.log').decode('utf-8')
    assert exporter.services.status(C.SERVICE_NAME) == 'Running'
