"""Twin of ``susdb_query.ps1``: read-only T-SQL against the host's SUSDB.

The real script connects with ``System.Data.SqlClient`` (the WID named pipe, or the server
in the registry), binds ``@p0, @p1, ...`` as ``SqlParameter`` values and rolls its one
transaction back. The twin runs the same text with the same positional values through ODBC
against the lab's SQLite SUSDB (``wsus/odbc.py``), on a connection that refuses writes.
A ``Server`` other than the registry's fails as SqlClient fails to reach it.

Values come back as JSON-ready data, the encoding both executors must share:

- ``binary``/``varbinary`` (``FileDigest``): upper-case hex, no prefix (the content file name);
- ``uniqueidentifier``: upper-case text, as pyodbc returns it from SQL Server;
- ``datetime``: ISO 8601 UTC, ``YYYY-MM-DDTHH:MM:SS.fffZ`` (SUSDB stores UTC);
- ``bit``: true/false; numbers as numbers; NULL as null.
"""
from __future__ import annotations

import datetime
import decimal
import re
import typing as t
import uuid

from ..wsus import constants as C
from . import HostScriptError
from ..wsus import odbc
from .server_state import computer_name

OPERATION = 'susdb_query'
INPUT = ('Queries', 'Server?', 'Database?')
OUTPUT = ('results', 'server', 'database')

_NETWORK_ERROR = ('A network-related or instance-specific error occurred while establishing a connection to SQL Server. '
                  'The server was not found or was not accessible. Verify that the instance name is correct and that SQL Server '
                  'is configured to allow remote connections. (provider: Named Pipes Provider, error: 40 - Could not open a '
                  'connection to SQL Server)')


def to_json(value: t.Any) -> t.Any:
    """One column value in the shared JSON encoding (see the module doc)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex().upper()
    if isinstance(value, datetime.datetime):
        return value.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
    if isinstance(value, uuid.UUID):
        return str(value).upper()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _same_server(given: str, configured: str, host_name: str) -> bool:
    """Whether ``given`` (a data source as SqlClient takes it) names the server holding SUSDB."""
    def norm(name: str) -> str:
        name = name.strip().lower()
        for prefix in ('np:', 'tcp:', 'lpc:'):
            if name.startswith(prefix):
                name = name[len(prefix):]
        if name in (C.WID_PIPE.lower()[3:], C.WID_SERVER_NAME.lower()):
            return C.WID_SERVER_NAME.lower()
        for local in ('.', '(local)', 'localhost', host_name.lower()):
            if name == local or name.startswith(local + '\\'):
                return host_name.lower() + name[len(local):]
        return name
    return norm(given) == norm(configured)


def run(host: t.Any, params: t.Mapping[str, t.Any], ctx: t.Any) -> t.Dict[str, t.Any]:
    """Run each ``{name, sql, params}`` of ``Queries`` and return ``{name: {columns, rows}}``."""
    setup = host.registry.values(C.SETUP_KEY) if host.registry.key_exists(C.SETUP_KEY) else None
    data_source = str(params.get('Server') or '')
    if not data_source and setup is not None:
        data_source = str(setup.get('SqlServerName') or '')
    if not data_source:
        raise HostScriptError.thrown(OPERATION, "throw 'SUSDB location unknown", 'SUSDB location unknown: the Update Services Setup '
                                     'registry key has no SqlServerName. Is WSUS installed?')
    if data_source == C.WID_SERVER_NAME:
        data_source = C.WID_PIPE
    database = str(params.get('Database') or '')
    if not database and setup is not None:
        database = str(setup.get('SqlDatabaseName') or '')
    database = database or C.DATABASE_NAME

    wsus = getattr(host, 'wsus', None)
    configured = str((setup or {}).get('SqlServerName') or '')
    if wsus is None or not _same_server(data_source, configured, computer_name(host)):
        raise HostScriptError.method(OPERATION, '$connection.Open()', 'Open', 0, _NETWORK_ERROR)
    if database.lower() != str((setup or {}).get('SqlDatabaseName') or C.DATABASE_NAME).lower():
        user = getattr(ctx, 'username', '') or ''
        raise HostScriptError.method(OPERATION, '$connection.Open()', 'Open', 0,
                                     f'Cannot open database "{database}" requested by the login. The login failed.\r\n'
                                     f"Login failed for user '{computer_name(host)}\\{user}'.")
    queries = params.get('Queries') or []
    if isinstance(queries, t.Mapping):
        queries = [queries]
    import pyodbc  # pylint: disable=import-outside-toplevel
    results: t.Dict[str, t.Any] = {}
    conn = odbc.connect(wsus.database_path, readonly=True, autocommit=True)
    try:
        for query in queries:
            name, sql = str(query.get('name') or ''), str(query.get('sql') or '')
            if not name or not sql:
                raise HostScriptError.thrown(OPERATION, "throw 'each query needs a name and sql'", 'each query needs a name and sql')
            given = query.get('params')
            values = [] if given is None else list(given) if isinstance(given, (list, tuple)) else [given]
            cursor = conn.cursor()
            try:
                cursor.execute(strip_comments(sql), *values)
                columns = [col[0] for col in cursor.description or ()]
                rows = [[to_json(v) for v in row] for row in (cursor.fetchall() if cursor.description else [])]
            except pyodbc.Error as exc:
                raise HostScriptError.method(OPERATION, '$command.ExecuteReader()', 'ExecuteReader', 0, _sql_message(exc)) from exc
            finally:
                cursor.close()
            results[name] = {'columns': columns, 'rows': rows}
    finally:
        conn.close()
    return {'results': results, 'server': data_source, 'database': database}


def strip_comments(sql: str) -> str:
    """``sql`` with its ``--`` and ``/* */`` comments blanked (newlines kept).

    SqlClient hands comments to SQL Server, which ignores them; the SQLite ODBC driver counts
    any ``;`` in them as a second statement ("only one SQL statement allowed"). Literals
    (``'...'``) and quoted names (``[...]``, ``"..."``) are left alone.
    """
    out: t.List[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in '\'"[':
            close = ']' if ch == '[' else ch
            j = i + 1
            while j < n:
                if sql[j] == close:
                    if close != ']' and j + 1 < n and sql[j + 1] == close:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith('--', i):
            j = sql.find('\n', i)
            j = n if j < 0 else j
            out.append(' ')
            i = j
        elif sql.startswith('/*', i):
            j = sql.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(' ' + '\n' * sql.count('\n', i, j))
            i = j
        else:
            out.append(ch)
            i += 1
    return ''.join(out)


def _sql_message(exc: Exception) -> str:
    """The driver's message without its ODBC decorations (``[HY000] [SQLite]... (SQLExecDirectW)``)."""
    text = exc.args[1] if len(exc.args) > 1 else str(exc)
    text = re.sub(r'^(\[[^\]]*\]\s*)+', '', str(text))
    return re.sub(r'\s*\(\d+\)\s*(\(\d+\)\s*)?\(SQL\w+\)$', '', text).strip()
