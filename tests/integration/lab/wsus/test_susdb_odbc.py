"""SUSDB through a real ODBC driver: T-SQL with dbo. and PUBLIC_VIEWS. names, read-only access."""
from __future__ import annotations

import threading

import pyodbc
import pytest

from ansible_collections.airgap.wsus.tests.lab.wsus import constants as C


@pytest.fixture
def server(wsus_server):
    return wsus_server(catalog={'seed': 'odbc', 'updates': 30, 'files': 90, 'approved_ratio': 0.5})


def test_plain_tsql_runs_unchanged(server):
    conn = pyodbc.connect(server.odbc_connection_string())
    assert 'sqlite3odbc' in conn.getinfo(pyodbc.SQL_DRIVER_NAME).lower()
    rows = conn.execute(
        'SELECT u.UpdateID, r.RevisionNumber, f.FileDigest, f.FileName, f.Size, fs.ActualState '
        'FROM dbo.tbUpdate u '
        'JOIN dbo.tbRevision r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1 '
        'JOIN [dbo].[tbFileForRevision] fr ON fr.RevisionID = r.RevisionID '
        'JOIN dbo.tbFile f ON f.FileDigest = fr.FileDigest '
        'LEFT JOIN dbo.tbFileOnServer fs ON fs.FileDigest = f.FileDigest '
        'WHERE r.State <> ? ORDER BY f.FileName', C.REVISION_STATE_DECLINED).fetchall()
    assert rows
    for update_id, _rev, digest, name, size, _state in rows:
        assert isinstance(digest, bytes) and len(digest) == 20, 'binary(20) comes back as bytes, as from SQL Server'
        assert name.split('.')[0] == digest.hex().upper()
        assert isinstance(size, int) and len(update_id) == 36
    approvals = conn.execute(
        'SELECT a.UpdateId, a.Action, g.Name FROM PUBLIC_VIEWS.vUpdateApproval a '
        'JOIN PUBLIC_VIEWS.vComputerTargetGroup g ON g.ComputerTargetGroupId = a.ComputerTargetGroupId '
        'JOIN PUBLIC_VIEWS.vUpdate v ON v.UpdateId = a.UpdateId WHERE v.IsDeclined = 0').fetchall()
    assert approvals and {a.Action for a in approvals} == {'Install'}
    assert server.get_status()['ApprovedUpdateCount'] == len({a.UpdateId for a in approvals})
    cfg = conn.execute('SELECT a.ServerId, a.SyncToMU, b.LocalContentCacheLocation, b.ServerSupportsAllLanguages, '
                       'c.DownloadExpressPackages, c.LazySync, c.ReplicaMode FROM dbo.tbConfigurationA a '
                       'JOIN dbo.tbConfigurationB b ON b.ConfigurationID = a.ConfigurationID '
                       'JOIN dbo.tbConfigurationC c ON c.ConfigurationID = a.ConfigurationID').fetchone()
    api = server.get_configuration()
    assert cfg.ServerId.lower() == api.server_id and cfg.LocalContentCacheLocation == api.local_content_cache_path
    assert cfg.DownloadExpressPackages is api.download_express_packages and cfg.ReplicaMode is False
    enabled = [r[0] for r in conn.execute('SELECT ShortLanguage FROM dbo.tbLanguage WHERE Enabled = ?', True)]
    assert enabled == api.get_enabled_update_languages()


def test_guid_and_text_compare_without_case_as_in_sql_server(server):
    conn = pyodbc.connect(server.odbc_connection_string())
    update_id = server.update_ids()[0]
    assert conn.execute('SELECT COUNT(*) FROM PUBLIC_VIEWS.vUpdate WHERE UpdateId = ?', update_id.lower()).fetchone()[0] == 1


def test_collection_connections_are_read_only(server):
    conn = pyodbc.connect(server.odbc_connection_string(), autocommit=True)
    for statement in ('DELETE FROM dbo.tbFileOnServer', "UPDATE dbo.tbConfigurationC SET DownloadExpressPackages = 1",
                      'PRAGMA query_only = 0', 'CREATE TABLE dbo.x (a INT)', "ATTACH DATABASE ':memory:' AS other"):
        with pytest.raises(pyodbc.Error, match='not authorized'):
            conn.execute(statement)
    assert server.db.scalar('SELECT COUNT(*) FROM tbFileOnServer') > 0
    writer = pyodbc.connect(server.odbc_connection_string(readonly=False), autocommit=True)
    writer.execute("UPDATE dbo.labState SET Value = 'x' WHERE Name = 'lab_probe'")


def test_readers_never_see_a_half_written_synchronization(server):
    """WAL: each statement reads one committed state, as READ COMMITTED does on SQL Server."""
    conn = pyodbc.connect(server.odbc_connection_string(), autocommit=True)
    start = server.get_status()['UpdateCount']
    seen = set()

    def grow():
        for _round in range(5):
            server.synchronize(new_updates=4)

    writer = threading.Thread(target=grow)
    writer.start()
    while writer.is_alive() or not seen or max(seen) < start + 20:
        updates, revisions, infos = conn.execute(
            'SELECT (SELECT COUNT(*) FROM dbo.tbUpdate), (SELECT COUNT(*) FROM dbo.tbRevision WHERE IsLatestRevision = 1), '
            '(SELECT COUNT(*) FROM dbo.labUpdateInfo)').fetchone()
        assert updates == revisions == infos
        seen.add(updates)
    writer.join()
    assert seen <= {start + 4 * i for i in range(6)}, 'only whole synchronizations are ever visible'
