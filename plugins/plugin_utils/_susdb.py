"""Read-only SUSDB queries, run either from the controller (pyodbc) or on the WSUS host.

The queries live in ``sql/<name>.sql``, one statement each, in the portable subset of T-SQL
that SQL Server and SQLite (the lab) both run: schema-qualified names (``dbo.``,
``PUBLIC_VIEWS.``), positional ``?`` parameters, no ``TOP``/``ISNULL``/``GETDATE()``/``NOLOCK``.
Each file starts with a header::

    -- airgap.wsus SUSDB query
    -- name: update_files
    -- parameters: update_id
    -- columns: FileDigest, FileName, ...

Two executors give the same result shape, ``{name: QueryResult(columns, rows)}``, with binary
values as upper-case hex strings (``FileDigest`` names files on disk; SQL Server's
``CONVERT(varchar(40), FileDigest, 2)`` would do it in SQL but is not portable, so the hex is
made by the executor), GUIDs as upper-case strings and times as ISO 8601 UTC strings:

- :class:`PyodbcExecutor`: SUSDB on a SQL Server the controller reaches over TCP.
- :class:`HostExecutor`: ``susdb_query.ps1`` on the host, for the Windows Internal Database
  (local named pipe only). ``?`` markers become ``@p0, @p1, ...`` bound as SqlParameters.

Passwords never appear in messages: connection strings are redacted in every error.
"""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache

from ._errors import AirgapWsusError, MissingLibraryError, UsageError, connection_string_secrets, redact, redact_connection_string

HEADER_MARKER = '-- airgap.wsus SUSDB query'
DEFAULT_DRIVER = 'ODBC Driver 18 for SQL Server'
DEFAULT_DATABASE = 'SUSDB'
# tbFileOnServer.ActualState value public SUSDB scripts count as "file present".
ACTUAL_STATE_PRESENT = 1
DESIRED_STATE_NOT_NEEDED = 0


class SusdbError(AirgapWsusError):
    """A SUSDB query could not run; the message is free of secrets."""


@dataclass(frozen=True)
class Query:
    """A shipped query: its name, SQL text and the names of its positional parameters."""

    name: str
    sql: str
    parameters: tuple
    columns: tuple

    def bind(self, *values) -> tuple:
        """Return ``(query, values)`` after checking the parameter count."""
        if len(values) != len(self.parameters):
            raise UsageError(f'query {self.name} takes {len(self.parameters)} parameter(s) '
                             f'({", ".join(self.parameters) or "none"}), not {len(values)}')
        return self, tuple(values)


def _sql_dir() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sql')


def parse_query(name: str, text: str) -> Query:
    """Parse a query file's header; raise :class:`UsageError` if it is malformed."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != HEADER_MARKER:
        raise UsageError(f'{name}.sql does not start with "{HEADER_MARKER}"')
    fields = {}
    for line in lines[1:]:
        match = re.match(r'^--\s*([a-z_]+):\s*(.*?)\s*$', line)
        if not match:
            break
        fields[match.group(1)] = match.group(2)
    if fields.get('name') != name:
        raise UsageError(f'{name}.sql declares name {fields.get("name")!r}; it must equal the file name')
    params = () if fields.get('parameters', 'none') in ('', 'none') else tuple(p.strip() for p in fields['parameters'].split(','))
    markers = count_markers(text)
    if markers != len(params):
        raise UsageError(f'{name}.sql declares {len(params)} parameter(s) but has {markers} ? marker(s)')
    columns = tuple(c.strip() for c in fields.get('columns', '').split(',') if c.strip())
    return Query(name=name, sql=text, parameters=params, columns=columns)


@lru_cache(maxsize=None)
def load_query(name: str) -> Query:
    """Return shipped query ``name``."""
    if not re.match(r'^[a-z][a-z0-9_]*$', name or ''):
        raise UsageError(f'{name!r} is not a query name')
    path = os.path.join(_sql_dir(), f'{name}.sql')
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except OSError:
        raise UsageError(f'the collection is incomplete: sql/{name}.sql is missing') from None
    return parse_query(name, text)


def list_queries() -> list[str]:
    """Names of all shipped queries."""
    return sorted(f[:-4] for f in os.listdir(_sql_dir()) if f.endswith('.sql'))


def _scan(sql: str, on_marker: Callable[[int], str]) -> str:
    """Copy ``sql``, replacing each ``?`` outside literals, quoted names and comments."""
    out = []
    i, n = 0, len(sql)
    index = 0
    while i < n:
        ch = sql[i]
        if ch == "'":
            end = i + 1
            while end < n:
                if sql[end] == "'":
                    if end + 1 < n and sql[end + 1] == "'":
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i:end + 1])
            i = end + 1
        elif ch in '"[':
            close = '"' if ch == '"' else ']'
            end = sql.find(close, i + 1)
            end = n - 1 if end < 0 else end
            out.append(sql[i:end + 1])
            i = end + 1
        elif sql.startswith('--', i):
            end = sql.find('\n', i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif sql.startswith('/*', i):
            end = sql.find('*/', i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end])
            i = end
        elif ch == '?':
            out.append(on_marker(index))
            index += 1
            i += 1
        else:
            out.append(ch)
            i += 1
    return ''.join(out)


def count_markers(sql: str) -> int:
    """Number of ``?`` parameter markers (outside literals and comments)."""
    found = []
    _scan(sql, lambda index: found.append(index) or '?')
    return len(found)


def to_host_sql(sql: str) -> str:
    """Rewrite positional ``?`` markers to ``@p0, @p1, ...`` for SqlClient."""
    return _scan(sql, lambda index: f'@p{index}')


def normalize_value(value):
    """Return a database value in the executors' common form (hex, upper-case GUIDs, ISO UTC)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex().upper()
    if isinstance(value, uuid.UUID):
        return str(value).upper()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + f'{value.microsecond // 1000:03d}Z'
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass
class QueryResult:
    """Column names and rows (lists) of one query."""

    columns: list
    rows: list

    def as_dicts(self) -> list:
        """Rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row)) for row in self.rows]


# --------------------------------------------------------------------------- executors

def _odbc_value(value) -> str:
    """Quote an ODBC connection-string value when it needs it (braces, ``}`` doubled)."""
    text = str(value)
    if not text or any(ch in text for ch in ';{}=') or text != text.strip():
        return '{' + text.replace('}', '}}') + '}'
    return text


def check_no_nul(value, what: str) -> None:
    """Refuse a NUL character: ODBC reads a connection string as a C string and would silently drop everything after it
    (``Encrypt=yes``, the credentials...)."""
    if isinstance(value, str) and '\0' in value:
        raise SusdbError(f'{what} contains a NUL character, which ends an ODBC connection string early and would drop the '
                         'settings after it; remove it')


def build_connection_string(server: str, database: str = DEFAULT_DATABASE, driver: str = DEFAULT_DRIVER,
                            port: int | None = None, username: str | None = None, password: str | None = None,
                            encrypt: bool = True, trust_server_certificate: bool = False) -> str:
    """Return an ODBC connection string for SQL Server from discrete fields.

    Without ``username`` the connection uses the controller's Kerberos identity
    (``Trusted_Connection=yes``; run ``kinit`` first on Linux).
    """
    if not server:
        raise UsageError('server is required to build a SUSDB connection string')
    for name, value in (('server', server), ('database', database), ('driver', driver), ('username', username), ('password', password)):
        check_no_nul(value, f'susdb.{name}')
    host = f'{server},{int(port)}' if port else server
    parts = [f'DRIVER={_odbc_value(driver)}', f'SERVER={_odbc_value(host)}', f'DATABASE={_odbc_value(database or DEFAULT_DATABASE)}',
             f'Encrypt={"yes" if encrypt else "no"}', f'TrustServerCertificate={"yes" if trust_server_certificate else "no"}',
             'ApplicationIntent=ReadOnly', 'APP=airgap.wsus']
    if username:
        parts += [f'UID={_odbc_value(username)}', f'PWD={_odbc_value(password or "")}']
    else:
        parts.append('Trusted_Connection=yes')
    return ';'.join(parts)


class PyodbcExecutor:
    """Runs queries from the controller with pyodbc, read-only, rolled back at the end.

    Give either ``connection_string`` or discrete fields (``server``, ``database``, ...).
    ``module`` replaces the ``pyodbc`` module (tests).
    """

    def __init__(self, connection_string: str | None = None, *, server: str | None = None, port: int | None = None,
                 database: str | None = None, driver: str | None = None, username: str | None = None,
                 password: str | None = None, encrypt: bool = True, trust_server_certificate: bool = False,
                 timeout: int = 30, module=None) -> None:
        if connection_string and server:
            raise UsageError('give SUSDB either a connection string or a server, not both')
        if not connection_string:
            connection_string = build_connection_string(server or '', database or DEFAULT_DATABASE, driver or DEFAULT_DRIVER,
                                                        port, username, password, encrypt, trust_server_certificate)
        check_no_nul(connection_string, 'susdb.connection_string')
        self._connection_string = connection_string
        self._secrets = [s for s in [password, *connection_string_secrets(connection_string)] if s]
        self.timeout = timeout
        self._module = module

    def describe(self) -> str:
        """The connection, redacted, for messages."""
        return redact_connection_string(self._connection_string)

    def _clean(self, text: str) -> str:
        return redact(redact_connection_string(text.replace(self._connection_string, self.describe())), self._secrets)

    def _pyodbc(self):
        if self._module is not None:
            return self._module
        try:
            import pyodbc  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise MissingLibraryError('pyodbc', 'to query SUSDB from the controller (the susdb option); '
                                      'also install an ODBC driver for SQL Server') from None
        return pyodbc

    def run(self, calls: Sequence[tuple]) -> dict:
        """Run ``[(Query, params), ...]`` and return ``{name: QueryResult}``."""
        pyodbc = self._pyodbc()
        error_type = getattr(pyodbc, 'Error', Exception)
        results = {}
        try:
            connection = pyodbc.connect(self._connection_string, timeout=self.timeout, autocommit=False, readonly=True)
        except error_type as exc:
            raise SusdbError(f'cannot connect to SUSDB ({self.describe()}): {self._clean(str(exc))}. '
                             'Check the server name, port, credentials and ODBC driver.') from None
        try:
            cursor = connection.cursor()
            for query, params in calls:
                try:
                    cursor.execute(query.sql, *params)
                    columns = [d[0] for d in cursor.description or []]
                    rows = [[normalize_value(v) for v in row] for row in cursor.fetchall()]
                except error_type as exc:
                    raise SusdbError(f'SUSDB query {query.name} failed: {self._clean(str(exc))}') from None
                results[query.name] = QueryResult(columns, rows)
        finally:
            try:
                connection.rollback()
            finally:
                connection.close()
        return results


class HostExecutor:
    """Runs queries on the WSUS host through ``susdb_query.ps1``.

    ``run_script`` is ``runner.run_retrying`` (or ``run``) of a ``HostScriptRunner``: it is
    called as ``run_script('susdb_query', params)``. ``server``/``database`` override what the
    host's registry says (integrated security only).
    """

    def __init__(self, run_script: Callable[[str, dict], dict], server: str | None = None, database: str | None = None) -> None:
        self._run_script = run_script
        self.server = server
        self.database = database
        self.last_server = None
        self.last_database = None

    def describe(self) -> str:
        """Where the queries run, for messages."""
        return f'SUSDB on the WSUS host ({self.last_server or self.server or "from the registry"})'

    def run(self, calls: Sequence[tuple]) -> dict:
        """Run ``[(Query, params), ...]`` in one host call and return ``{name: QueryResult}``."""
        params = {'Queries': [{'name': q.name, 'sql': to_host_sql(q.sql), 'params': [normalize_param(v) for v in values]}
                              for q, values in calls]}
        if self.server:
            params['Server'] = self.server
        if self.database:
            params['Database'] = self.database
        answer = self._run_script('susdb_query', params)
        self.last_server = answer.get('server')
        self.last_database = answer.get('database')
        results = {}
        raw = answer.get('results') or {}
        for query, _values in calls:
            item = raw.get(query.name)
            if not isinstance(item, Mapping):
                raise SusdbError(f'SUSDB query {query.name} returned no result from the host')
            rows = [[normalize_value(v) for v in (row if isinstance(row, list) else [row])] for row in item.get('rows') or []]
            results[query.name] = QueryResult(list(item.get('columns') or []), rows)
        return results


def normalize_param(value):
    """Parameters travel as JSON: GUIDs as strings, nothing binary."""
    if isinstance(value, uuid.UUID):
        return str(value).upper()
    if isinstance(value, (bytes, bytearray)):
        raise UsageError('binary query parameters are not supported; pass hex text and convert in SQL')
    return value


# --------------------------------------------------------------------------- typed readers

def _bool(value) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ('1', 'true', 'yes')
    return bool(value)


def _int(value) -> int | None:
    return None if value is None else int(value)


def fetch(executor, *names: str) -> dict:
    """Run the parameterless queries ``names`` in one call (one host round trip)."""
    return executor.run([load_query(name).bind() for name in names])


def configuration_from(result: QueryResult) -> dict:
    """Typed configuration from the ``configuration`` query."""
    rows = result.as_dicts()
    if not rows:
        raise SusdbError('SUSDB has no configuration row (tbConfigurationA/B/C are empty): is this a WSUS database?')
    row = rows[0]
    return {
        'server_id': str(row['ServerId']).upper() if row.get('ServerId') is not None else None,
        'host_binaries_on_microsoft_update': _bool(row.get('HostOnMu')),
        'sync_from_microsoft_update': _bool(row.get('SyncToMU')),
        'upstream_server_name': row.get('UpstreamServerName') or None,
        'all_update_languages_enabled': _bool(row.get('ServerSupportsAllLanguages')),
        'local_content_cache_path': row.get('LocalContentCacheLocation'),
        'download_express_packages': _bool(row.get('DownloadExpressPackages')),
        'download_update_binaries_as_needed': _bool(row.get('LazySync')),
        'is_replica_server': _bool(row.get('ReplicaMode')),
    }


def languages_from(result: QueryResult) -> dict:
    """``{'enabled': [...], 'known': [...]}``, lower-case codes, sorted."""
    known, enabled = [], []
    for row in result.as_dicts():
        code = str(row['ShortLanguage']).strip().lower()
        known.append(code)
        if _bool(row.get('Enabled')):
            enabled.append(code)
    return {'enabled': sorted(enabled), 'known': sorted(known)}


def counts_from(result: QueryResult) -> dict:
    """Typed counts from the ``update_counts`` query."""
    row = result.as_dicts()[0]
    return {
        'updates': _int(row['Updates']),
        'declined': _int(row['Declined']),
        'approved': _int(row['Approved']),
        'approved_not_present': _int(row['ApprovedNotPresent']),
        'approved_untracked': _int(row['ApprovedUntracked']),
    }


def content_relpath(digest_hex: str, file_name: str) -> str:
    """Where a file lives under WsusContent: ``<last byte>\\<SHA-1 hex><extension>``."""
    digest = (digest_hex or '').strip().upper()
    if not re.match(r'^[0-9A-F]{40}$', digest):
        raise SusdbError(f'{digest_hex!r} is not a SHA-1 digest (40 hex digits)')
    ext = ''
    base = (file_name or '').replace('/', '\\').rsplit('\\', 1)[-1]
    if '.' in base:
        ext = '.' + base.rsplit('.', 1)[1]
        if not re.match(r'^\.[A-Za-z0-9_-]{1,32}$', ext):
            raise SusdbError(f'the file name {file_name!r} has an extension WSUS would not use on disk')
    return f'{digest[-2:]}\\{digest}{ext}'


def files_from(result: QueryResult) -> list:
    """Typed file records (with their on-disk relative path) from a file-list query."""
    files = []
    for row in result.as_dicts():
        digest = str(row['FileDigest']).upper()
        desired, actual = _int(row.get('DesiredState')), _int(row.get('ActualState'))
        files.append({
            'digest': digest,
            'file_name': row.get('FileName'),
            'size': _int(row.get('Size')),
            'is_eula': bool(_bool(row.get('IsEula'))),
            'relpath': content_relpath(digest, row.get('FileName') or ''),
            'desired_state': desired,
            'actual_state': actual,
            'tracked': actual is not None,
            'present': actual == ACTUAL_STATE_PRESENT,
        })
    return files


def read_configuration(executor) -> dict:
    """The server's options from SUSDB."""
    return configuration_from(fetch(executor, 'configuration')['configuration'])


def read_languages(executor) -> dict:
    """Enabled and known update languages."""
    return languages_from(fetch(executor, 'languages')['languages'])


def read_update_counts(executor) -> dict:
    """Update, approval and missing-content counts."""
    return counts_from(fetch(executor, 'update_counts')['update_counts'])


def read_approved_files(executor, include_eulas: bool = True) -> list:
    """Files approved updates need, de-duplicated by digest, in file-name order.

    License files (linked through ``tbEulaProperty``) are included unless ``include_eulas`` is
    false: WSUS will not approve an update whose license file is missing.
    """
    names = ['approved_files'] + (['approved_eula_files'] if include_eulas else [])
    results = fetch(executor, *names)
    seen, files = set(), []
    for name in names:
        for record in files_from(results[name]):
            if record['digest'] not in seen:
                seen.add(record['digest'])
                files.append(record)
    return files


def read_update_files(executor, update_id: str) -> list:
    """Files of the latest revision of one update."""
    try:
        guid = str(uuid.UUID(str(update_id))).upper()
    except ValueError:
        raise UsageError(f'{update_id!r} is not an update id (a GUID)') from None
    query = load_query('update_files')
    return files_from(executor.run([query.bind(guid)])['update_files'])
