"""Download state: deferred download, files still downloading, approvals Pending then Active."""
from __future__ import annotations

import time

import pytest

from ansible_collections.airgap.wsus.tests.lab.wsus import constants as C
from ansible_collections.airgap.wsus.tests.lab.wsus import errors

SPEC = {'seed': 'deferred', 'updates': 30, 'files': 90, 'approved_ratio': 0.4, 'declined_ratio': 0.1, 'eula_ratio': 0}


def _approved_and_not(server):
    approved = {r[0] for r in server.db.query(
        'SELECT DISTINCT u.UpdateID FROM tbDeployment d JOIN tbRevision r ON r.RevisionID = d.RevisionID JOIN tbUpdate u ON u.LocalUpdateID = r.LocalUpdateID')}
    declined = {r[0] for r in server.db.query(
        'SELECT u.UpdateID FROM tbRevision r JOIN tbUpdate u ON u.LocalUpdateID = r.LocalUpdateID WHERE r.IsLatestRevision = 1 AND r.State = 2')}
    return approved, set(server.update_ids()) - approved - declined


def _names_of(server, update_ids):
    rows = server.db.query('SELECT u.UpdateID, f.FileName FROM tbUpdate u JOIN tbRevision r ON r.LocalUpdateID = u.LocalUpdateID '
                           'JOIN labRevisionFile fr ON fr.RevisionID = r.RevisionID JOIN tbFile f ON f.FileDigest = fr.FileDigest')
    return {name for uid, name in rows if uid in update_ids}


def test_deferred_download_keeps_only_approved_files(wsus_server):
    server = wsus_server(catalog=SPEC, settings={'deferred_download': True, 'languages': 'all'})
    approved, unapproved = _approved_and_not(server)
    assert approved and unapproved
    present = {name for name, (desired, actual) in server.file_states().items() if desired and actual == C.ACTUAL_PRESENT}
    assert _names_of(server, approved) - {n for n in _names_of(server, approved) if n.endswith('.psf')} <= present
    assert _names_of(server, unapproved).isdisjoint(present)
    assert server.get_status()['UpdatesNeedingFilesCount'] == 0


def test_approving_queues_files_until_downloads_finish(wsus_server):
    server = wsus_server(catalog=SPEC, settings={'deferred_download': True, 'languages': 'all'})
    _approved, unapproved = _approved_and_not(server)
    target = next(uid for uid in sorted(unapproved) if _names_of(server, {uid}))
    server.approve(target, C.ALL_COMPUTERS)
    status = server.get_status()
    assert status['UpdatesNeedingFilesCount'] == 1 and status['UpdatesWithServerErrorsCount'] == 0
    assert 'Pending' in server.approval_states().values()
    progress = server.get_content_download_progress()
    assert progress['DownloadedBytes'] < progress['TotalBytesToDownload']
    assert server.finish_downloads() >= 1
    assert server.get_status()['UpdatesNeedingFilesCount'] == 0
    assert set(server.approval_states().values()) == {'Active'}


def test_pending_updates_at_start_finish_in_the_background(wsus_server):
    server = wsus_server(catalog=SPEC, settings={'deferred_download': True, 'languages': 'all'}, pending_updates=3)
    assert server.get_status()['UpdatesNeedingFilesCount'] == 3
    server.start_downloads(files_per_second=200)
    deadline = time.monotonic() + 10
    while server.get_status()['UpdatesNeedingFilesCount'] and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop_downloads()
    assert server.get_status()['UpdatesNeedingFilesCount'] == 0


def test_unapproved_updates_need_files_without_deferred_download(wsus_server):
    server = wsus_server(catalog=SPEC, settings={'languages': 'all'}, pending_updates=2)
    status = server.get_status()
    assert status['UpdatesNeedingFilesCount'] == 2, 'counts updates whatever their approval, declined ones excluded'
    declined = server.db.scalar('SELECT COUNT(*) FROM tbFileOnServer fs JOIN tbFileForRevision fr ON fr.FileDigest = fs.FileDigest '
                                'JOIN tbRevision r ON r.RevisionID = fr.RevisionID WHERE r.State = 2 AND fs.DesiredState = 1')
    assert declined == 0, 'declined updates want no files'


def test_enabling_express_queues_express_files(wsus_server):
    server = wsus_server(catalog={'seed': 'x', 'updates': 20, 'files': 80, 'eula_ratio': 0}, settings={'languages': 'all'})
    assert server.get_status()['UpdatesNeedingFilesCount'] == 0
    cfg = server.get_configuration()
    cfg.download_express_packages = True
    cfg.save()
    assert server.get_status()['UpdatesNeedingFilesCount'] > 0
    server.finish_downloads()
    assert server.get_status()['UpdatesNeedingFilesCount'] == 0
    assert any(name.endswith('.psf') for name, (d, a) in server.file_states().items() if d and a == C.ACTUAL_PRESENT)


def test_files_hosted_on_microsoft_update_are_not_stored(wsus_server):
    server = wsus_server(catalog={'seed': 'mu', 'updates': 20, 'files': 60, 'eula_ratio': 0.5, 'declined_ratio': 0},
                         settings={'languages': 'all', 'host_binaries_on_mu': True})
    kept = {name for name, (desired, _actual) in server.file_states().items() if desired}
    assert kept and all(name.endswith('.txt') for name in kept), 'only EULAs are stored locally'


def test_import_server_created_with_a_catalog_has_its_content(wsus_server):
    server = wsus_server(role='import', catalog={'seed': 'imp', 'updates': 10, 'files': 30})
    status = server.get_status()
    assert status['UpdateCount'] == 10 and status['UpdatesNeedingFilesCount'] == 0 and status['ApprovedUpdateCount'] == 0
    assert not server.connected
    with pytest.raises(errors.WsusInvalidOperationError, match='cannot reach an upstream server'):
        server.synchronize(new_updates=1)


def test_downloads_stop_when_the_content_drive_is_full(wsus_hosts):
    host = wsus_hosts.add('wsus-connected', 'export', wsus={'deferred_download': False, 'all_languages': True},
                          catalog={'seed': 'full', 'updates': 20, 'files': 40, 'pending_updates': 4})
    assert host.wsus.get_status()['UpdatesNeedingFilesCount'] == 4
    host.faults.disk_full_after('D', 10)
    assert host.wsus.finish_downloads() == 0
    assert host.wsus.get_status()['UpdatesNeedingFilesCount'] == 4, 'queued files stay queued'
    host.faults.disk_full_after('D', None)
    assert host.wsus.finish_downloads() > 0
    assert host.wsus.get_status()['UpdatesNeedingFilesCount'] == 0
