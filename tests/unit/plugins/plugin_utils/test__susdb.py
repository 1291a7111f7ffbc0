"""SUSDB queries: portable T-SQL (sqlglot), run on SQLite with SUSDB's table names, both executors."""
from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
import sys
import uuid

import pytest
import sqlglot
from sqlglot import exp

from ansible_collections.airgap.wsus.plugins.plugin_utils import _susdb as s
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import MissingLibraryError, UsageError

QUERIES = s.list_queries()
# The queries the small schema below models. Every query, these included, also runs against the
# lab's full SUSDB in tests/integration/lab/wsus/test_collection_sql.py.
MODELLED = [name for name in QUERIES if not name.startswith(('approval', 'target_', 'update_approvals', 'update_catalog'))]
FORBIDDEN = (r'\bTOP\b', r'\bISNULL\s*\(', r'\bGETDATE\s*\(', r'\bNOLOCK\b', r'\(\s*MAX\s*\)', r'\bSET\s+NOCOUNT\b',
             r'\bCONVERT\s*\(', r'\bLIMIT\b', r'\bIIF\s*\(', r'\w+\.\w+\.\w+\.\w+')

SCHEMA = """
CREATE TABLE tbConfigurationA (ConfigurationID INT PRIMARY KEY, ServerId TEXT, SyncToMU BIT, UpstreamServerName TEXT, HostOnMu BIT);
CREATE TABLE tbConfigurationB (ConfigurationID INT PRIMARY KEY, LocalContentCacheLocation TEXT, ServerSupportsAllLanguages BIT);
CREATE TABLE tbConfigurationC (ConfigurationID INT PRIMARY KEY, LazySync BIT, DownloadExpressPackages BIT, ReplicaMode BIT);
CREATE TABLE tbLanguage (LanguageID INT PRIMARY KEY, ShortLanguage TEXT, Enabled BIT);
CREATE TABLE tbUpdate (LocalUpdateID INTEGER PRIMARY KEY, UpdateID TEXT COLLATE NOCASE);
CREATE TABLE tbRevision (RevisionID INTEGER PRIMARY KEY, LocalUpdateID INT, RevisionNumber INT, IsLatestRevision BIT, State INT);
CREATE TABLE tbFile (FileDigest BLOB PRIMARY KEY, FileName TEXT, Size BIGINT, IsEula BIT);
CREATE TABLE tbFileForRevision (RevisionID INT, FileDigest BLOB);
CREATE TABLE tbEulaProperty (EulaFileDigest BLOB, RevisionID INT, LanguageID INT);
CREATE TABLE tbFileOnServer (FileDigest BLOB PRIMARY KEY, DesiredState INT, ActualState INT);
CREATE TABLE tbDeployment (RevisionID INT, ActionID INT);
CREATE VIEW vUpdate AS SELECT u.UpdateID AS UpdateId, r.RevisionNumber AS RevisionNumber,
    CASE WHEN r.State = 2 THEN 1 ELSE 0 END AS IsDeclined
    FROM tbUpdate u JOIN tbRevision r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1;
CREATE VIEW vUpdateApproval AS SELECT u.UpdateID AS UpdateId, r.RevisionNumber AS RevisionNumber,
    CASE d.ActionID WHEN 0 THEN 'Install' ELSE 'Uninstall' END AS Action
    FROM tbDeployment d JOIN tbRevision r ON r.RevisionID = d.RevisionID JOIN tbUpdate u ON u.LocalUpdateID = r.LocalUpdateID;
"""

GUIDS = {n: str(uuid.UUID(int=n)).upper() for n in range(1, 6)}


def digest(tag: int) -> bytes:
    return bytes([tag] * 19 + [0xA0 + tag])


def seed(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)
    db.execute("INSERT INTO tbConfigurationA VALUES (1, 'ab12cd34-0000-0000-0000-000000000001', 0, 'upstream', 0)")
    db.execute("INSERT INTO tbConfigurationB VALUES (1, 'D:\\WSUS\\WsusContent', 0)")
    db.execute('INSERT INTO tbConfigurationC VALUES (1, 1, 1, 0)')
    db.executemany('INSERT INTO tbLanguage VALUES (?, ?, ?)', [(1, 'en', 1), (2, 'de', 0), (3, 'pt-BR', 1)])
    db.executemany('INSERT INTO tbUpdate VALUES (?, ?)', [(n, GUIDS[n]) for n in range(1, 5)])
    # Update 1 has an old revision (10) with its own file and a latest one (11); update 3 is declined.
    db.executemany('INSERT INTO tbRevision VALUES (?, ?, ?, ?, ?)',
                   [(10, 1, 1, 0, 1), (11, 1, 2, 1, 1), (20, 2, 1, 1, 1), (30, 3, 1, 1, 2), (40, 4, 1, 1, 1)])
    files = [(1, 'a.cab', 100, 0), (2, 'b.psf', 200, 0), (9, 'old.cab', 50, 0), (3, 'c.exe', 300, 0), (4, 'd.msu', 400, 0),
             (5, 'License.txt', 10, 1)]
    db.executemany('INSERT INTO tbFile VALUES (?, ?, ?, ?)', [(digest(t), n, size, e) for t, n, size, e in files])
    db.executemany('INSERT INTO tbFileForRevision VALUES (?, ?)',
                   [(11, digest(1)), (11, digest(2)), (10, digest(9)), (20, digest(3)), (40, digest(4)), (30, digest(9))])
    db.execute('INSERT INTO tbEulaProperty VALUES (?, 20, 1)', (digest(5),))
    db.executemany('INSERT INTO tbFileOnServer VALUES (?, ?, ?)',
                   [(digest(1), 1, 1), (digest(2), 1, 0), (digest(9), 1, 1), (digest(3), 1, 1), (digest(5), 1, 0)])
    # Updates 1, 2 and 4 approved for install (1 twice: two groups); 3 only for uninstall.
    db.executemany('INSERT INTO tbDeployment VALUES (?, ?)', [(11, 0), (11, 0), (20, 0), (40, 0), (30, 1)])
    db.commit()


class SqliteOdbc:
    """The parts of the pyodbc module PyodbcExecutor uses, over sqlite3 with dbo/PUBLIC_VIEWS attached."""

    Error = sqlite3.Error

    def __init__(self, path):
        self.path = path
        self.connects = []

    def connect(self, connection_string, timeout, autocommit, readonly):
        self.connects.append((connection_string, timeout, autocommit, readonly))
        db = sqlite3.connect(':memory:')
        db.execute('ATTACH DATABASE ? AS dbo', (self.path,))
        db.execute('ATTACH DATABASE ? AS PUBLIC_VIEWS', (self.path,))
        return _Connection(db)


class _Connection:
    def __init__(self, db):
        self.db = db
        self.rolled_back = False

    def cursor(self):
        return _Cursor(self.db.cursor())

    def rollback(self):
        self.rolled_back = True
        self.db.rollback()

    def close(self):
        self.db.close()


class _Cursor:
    def __init__(self, cursor):
        self.cursor = cursor

    def execute(self, sql, *params):
        self.cursor.execute(sql, params)

    @property
    def description(self):
        return self.cursor.description

    def fetchall(self):
        return self.cursor.fetchall()


@pytest.fixture(scope='module')
def susdb_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('susdb') / 'susdb.sqlite')
    db = sqlite3.connect(path)
    seed(db)
    db.close()
    return path


@pytest.fixture
def executor(susdb_file):
    return s.PyodbcExecutor(server='sql01', module=SqliteOdbc(susdb_file))


# --------------------------------------------------------------------------- the SQL files

@pytest.mark.parametrize('name', QUERIES)
def test_query_is_one_portable_select(name):
    query = s.load_query(name)
    statements = [st for st in sqlglot.parse(query.sql, read='tsql') if st is not None]
    assert len(statements) == 1 and isinstance(statements[0], exp.Query)
    body = '\n'.join(line for line in query.sql.splitlines() if not line.lstrip().startswith('--'))
    for pattern in FORBIDDEN:
        assert not re.search(pattern, body, re.I), f'{name} uses {pattern}, which SQLite (the lab) does not run'
    for table in statements[0].find_all(exp.Table):
        assert table.db in ('dbo', 'PUBLIC_VIEWS'), f'{name}: {table.sql()} must be schema-qualified'
    assert query.columns, f'{name} header lists no columns'
    # The SQLite ODBC driver splits statements at every ";", comments included.
    assert ';' not in query.sql


@pytest.mark.parametrize('name', MODELLED)
def test_query_runs_on_sqlite_with_declared_columns(executor, name):
    query = s.load_query(name)
    args = [GUIDS[1]] * len(query.parameters)
    result = executor.run([query.bind(*args)])[name]
    assert tuple(result.columns) == query.columns


def test_configuration(executor):
    config = s.read_configuration(executor)
    assert config == {
        'server_id': 'AB12CD34-0000-0000-0000-000000000001', 'host_binaries_on_microsoft_update': False,
        'sync_from_microsoft_update': False, 'upstream_server_name': 'upstream', 'all_update_languages_enabled': False,
        'local_content_cache_path': 'D:\\WSUS\\WsusContent', 'download_express_packages': True,
        'download_update_binaries_as_needed': True, 'is_replica_server': False,
    }


def test_languages(executor):
    assert s.read_languages(executor) == {'enabled': ['en', 'pt-br'], 'known': ['de', 'en', 'pt-br']}


def test_counts(executor):
    assert s.read_update_counts(executor) == {'updates': 4, 'declined': 1, 'approved': 3, 'approved_not_present': 1,
                                              'approved_untracked': 1}


def test_approved_files_with_paths_and_presence(executor):
    files = {f['file_name']: f for f in s.read_approved_files(executor)}
    assert sorted(files) == ['License.txt', 'a.cab', 'b.psf', 'c.exe', 'd.msu']   # never the old revision's file
    a = files['a.cab']
    assert a['digest'] == '01' * 19 + 'A1' and a['relpath'] == 'A1\\' + '01' * 19 + 'A1.cab'
    assert a['present'] and a['tracked'] and a['size'] == 100 and not a['is_eula']
    assert not files['b.psf']['present'] and files['b.psf']['tracked']
    assert not files['d.msu']['tracked'] and files['d.msu']['actual_state'] is None
    assert files['License.txt']['is_eula'] and not files['License.txt']['present']
    assert 'License.txt' not in {f['file_name'] for f in s.read_approved_files(executor, include_eulas=False)}


def test_update_files_by_parameter(executor):
    files = s.read_update_files(executor, GUIDS[1].lower())
    assert [f['file_name'] for f in files] == ['a.cab', 'b.psf']
    with pytest.raises(UsageError):
        s.read_update_files(executor, "x' OR 1=1 --")


def test_read_only_and_rolled_back(susdb_file):
    module = SqliteOdbc(susdb_file)
    executor = s.PyodbcExecutor('DRIVER={x};SERVER=y;PWD=secret', module=module)
    s.read_languages(executor)
    assert module.connects[0][1:] == (30, False, True)


# --------------------------------------------------------------------------- parameters, markers, values

def test_markers_are_rewritten_outside_literals_and_comments():
    sql = "SELECT '?', [a?], \"b?\" -- ?\n/* ? */ FROM t WHERE x = ? AND y = 'it''s ?' AND z = ?"
    assert s.count_markers(sql) == 2
    assert s.to_host_sql(sql) == "SELECT '?', [a?], \"b?\" -- ?\n/* ? */ FROM t WHERE x = @p0 AND y = 'it''s ?' AND z = @p1"


def test_query_headers_are_checked():
    with pytest.raises(UsageError, match='does not start'):
        s.parse_query('x', 'SELECT 1')
    with pytest.raises(UsageError, match='must equal'):
        s.parse_query('x', '-- airgap.wsus SUSDB query\n-- name: y\nSELECT 1')
    with pytest.raises(UsageError, match='marker'):
        s.parse_query('x', '-- airgap.wsus SUSDB query\n-- name: x\n-- parameters: a, b\nSELECT ?')
    with pytest.raises(UsageError, match='takes 1'):
        s.load_query('update_files').bind()


@pytest.mark.parametrize('value, expected', [
    (b'\x01\xab', '01AB'), (bytearray(b'\xff'), 'FF'), (memoryview(b'\x00'), '00'),
    (uuid.UUID(int=255), '00000000-0000-0000-0000-0000000000FF'),
    (__import__('datetime').datetime(2024, 3, 5, 10, 15, 32, 123456), '2024-03-05T10:15:32.123Z'),
    (__import__('decimal').Decimal('42'), 42), (__import__('decimal').Decimal('1.5'), 1.5), (True, True), (None, None),
])
def test_values_are_normalised(value, expected):
    assert s.normalize_value(value) == expected


@pytest.mark.parametrize('digest_hex, name, expected', [
    ('0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C0A', 'windows10.0-kb1.cab', '0A\\0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C0A.cab'),
    ('6103d9f6' + '0' * 28 + '42f8', 'x.exe', 'F8\\6103D9F6' + '0' * 28 + '42F8.exe'),
    ('F' * 40, 'noextension', 'FF\\' + 'F' * 40),
])
def test_content_relpath(digest_hex, name, expected):
    assert s.content_relpath(digest_hex, name) == expected


def test_content_relpath_refuses_bad_input():
    with pytest.raises(s.SusdbError):
        s.content_relpath('XYZ', 'a.cab')
    with pytest.raises(s.SusdbError):
        s.content_relpath('F' * 40, 'a.c:b')


# --------------------------------------------------------------------------- executors and secrets

def test_connection_string_from_fields_quotes_values():
    cs = s.build_connection_string('sql01', 'SUSDB', port=1433, username='wsus', password='p;w}d')
    assert 'SERVER=sql01,1433' in cs and 'UID=wsus' in cs and 'PWD={p;w}}d}' in cs and 'Encrypt=yes' in cs
    assert 'ApplicationIntent=ReadOnly' in cs
    assert 'Trusted_Connection=yes' in s.build_connection_string('sql01')
    with pytest.raises(UsageError):
        s.PyodbcExecutor('DRIVER=x', server='y')


class FailingOdbc:
    class Error(Exception):
        pass

    def __init__(self, message):
        self.message = message

    def connect(self, connection_string, **_kwargs):
        raise self.Error(self.message.replace('{cs}', connection_string))


def test_connection_errors_are_redacted():
    executor = s.PyodbcExecutor(server='sql01', username='wsus', password='Sup3r;Secret}',
                                module=FailingOdbc("[08001] login failed for 'wsus' using Sup3r;Secret} in {cs}"))
    with pytest.raises(s.SusdbError) as info:
        s.read_languages(executor)
    message = str(info.value)
    assert 'Sup3r' not in message and 'Secret' not in message
    assert 'PWD=********' in message and 'sql01' in message
    given = s.PyodbcExecutor('Driver={x};Server=db;Password=hunter22;', module=FailingOdbc('bad {cs} hunter22'))
    with pytest.raises(s.SusdbError) as info:
        s.read_languages(given)
    assert 'hunter22' not in str(info.value)
    assert 'hunter22' not in given.describe()


def test_query_errors_are_redacted(susdb_file):
    executor = s.PyodbcExecutor('DRIVER={x};SERVER=y;PWD=topsecret', module=SqliteOdbc(susdb_file))
    bad = s.Query('broken', 'SELECT topsecret FROM dbo.nothing', (), ('x',))
    with pytest.raises(s.SusdbError, match='broken failed') as info:
        executor.run([bad.bind()])
    assert 'topsecret' not in str(info.value)


def test_missing_pyodbc_gives_ansible_message(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pyodbc', None)
    executor = s.PyodbcExecutor(server='sql01')
    with pytest.raises(MissingLibraryError) as info:
        s.read_languages(executor)
    assert 'Failed to import the required Python library (pyodbc)' in str(info.value)
    assert 'SUSDB' in str(info.value)


def test_host_executor_sends_rewritten_sql_and_reads_results():
    sent = []

    def run_script(name, params):
        sent.append((name, params))
        return {'server': 'np:\\\\.\\pipe\\MICROSOFT##WID\\tsql\\query', 'database': 'SUSDB', 'results': {
            'update_files': {'columns': ['FileDigest', 'FileName', 'Size', 'IsEula', 'DesiredState', 'ActualState'],
                             'rows': [['AB' * 20, 'x.cab', 5, False, 1, 1]]}}}

    executor = s.HostExecutor(run_script, database='SUSDB')
    files = s.read_update_files(executor, GUIDS[2])
    name, params = sent[0]
    assert name == 'susdb_query' and params['Database'] == 'SUSDB' and 'Server' not in params
    query = params['Queries'][0]
    assert query['name'] == 'update_files' and query['params'] == [GUIDS[2]]
    assert 'u.UpdateID = @p0' in query['sql'] and '?' not in query['sql'].split('\n', 5)[-1]
    assert files[0]['relpath'] == 'AB\\' + 'AB' * 20 + '.cab' and files[0]['present']
    assert 'MICROSOFT##WID' in executor.describe()


def test_host_executor_missing_result():
    executor = s.HostExecutor(lambda name, params: {'results': {}, 'server': 'x', 'database': 'y'})
    with pytest.raises(s.SusdbError, match='no result'):
        s.read_languages(executor)


def test_both_executors_give_the_same_rows(susdb_file):
    """The host path (rows as JSON) and the controller path agree on the same database."""
    import json  # pylint: disable=import-outside-toplevel

    direct = s.PyodbcExecutor(server='x', module=SqliteOdbc(susdb_file))

    def run_script(_name, params):
        results = {}
        for item in params['Queries']:
            query = s.Query(item['name'], re.sub(r'@p\d+', '?', item['sql']), tuple(item['params']), ())
            result = direct.run([(query, tuple(item['params']))])[item['name']]
            results[item['name']] = {'columns': result.columns, 'rows': json.loads(json.dumps(result.rows))}
        return {'results': results, 'server': 'x', 'database': 'y'}

    via_host = s.HostExecutor(run_script)
    for name in MODELLED:
        query = s.load_query(name)
        call = query.bind(*([GUIDS[1]] * len(query.parameters)))
        assert via_host.run([call])[name] == direct.run([call])[name]


# --------------------------------------------------------------------------- the lab's SUSDB, when present

def _lab_schema():
    try:
        from ansible_collections.airgap.wsus.tests.lab.wsus import schema  # pylint: disable=import-outside-toplevel
    except ImportError:
        pytest.skip('the lab SUSDB schema is not available')
    return schema


def test_queries_run_against_the_lab_schema(tmp_path):
    schema = _lab_schema()
    path = str(tmp_path / 'lab.sqlite')
    db = sqlite3.connect(path)
    db.executescript(schema.TABLES + schema.VIEWS)
    db.close()
    executor = s.PyodbcExecutor(server='x', module=SqliteOdbc(path))
    for name in QUERIES:
        query = s.load_query(name)
        result = executor.run([query.bind(*([GUIDS[1]] * len(query.parameters)))])[name]
        assert tuple(result.columns) == query.columns


def test_queries_run_through_real_odbc_against_the_lab(tmp_path):
    schema = _lab_schema()
    if importlib.util.find_spec('pyodbc') is None:
        pytest.skip('pyodbc is not installed')
    try:
        from ansible_collections.airgap.wsus.tests.lab.wsus import odbc  # pylint: disable=import-outside-toplevel
        path = str(tmp_path / 'lab.sqlite')
        db = sqlite3.connect(path)
        db.executescript(schema.TABLES + schema.VIEWS)
        db.close()
        connection_string = odbc.connection_string(path)
    except Exception as exc:  # pylint: disable=broad-except
        pytest.skip(f'real ODBC access to the lab SUSDB is not available here: {exc}')
    if not os.path.exists(path):
        pytest.skip('no lab database')
    executor = s.PyodbcExecutor(connection_string)
    counts = s.read_update_counts(executor)
    assert counts == {'updates': 0, 'declined': 0, 'approved': 0, 'approved_not_present': 0, 'approved_untracked': 0}
    assert s.read_approved_files(executor) == []
