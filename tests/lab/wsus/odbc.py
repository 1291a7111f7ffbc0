"""ODBC access to the lab's SQLite SUSDB, the way a user reaches a SQL Server-hosted SUSDB.

The connection goes through unixODBC and the SQLite3 ODBC driver (Debian's
``libsqliteodbc``), with pyodbc, so the collection's T-SQL runs unchanged. A small SQLite
extension (``sqlite_ext/susdb_schemas.c``), compiled here at first use and cached, makes
``dbo.`` and ``PUBLIC_VIEWS.`` resolve and, in its read-only build, refuses every write.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sqlite_ext', 'susdb_schemas.c')
DRIVER = 'SQLite3'
# The file names fix the entry points: SQLite derives sqlite3_<letters of the name>_init.
READ_WRITE_NAME = 'susdb.so'
READ_ONLY_NAME = 'susdb_readonly.so'


class OdbcSetupError(RuntimeError):
    """The machine lacks what the lab's ODBC access needs."""


def cache_dir() -> str:
    """Where compiled extensions live: ``$AIRGAP_LAB_CACHE`` or ``<repo>/.cache/lab``."""
    explicit = os.environ.get('AIRGAP_LAB_CACHE')
    if explicit:
        return explicit
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))
    return os.path.join(repo, '.cache', 'lab')


def _compile(target: str, readonly: bool) -> None:
    compiler = shutil.which(os.environ.get('CC', 'gcc')) or shutil.which('cc')
    if not compiler:
        raise OdbcSetupError('No C compiler found to build the lab SUSDB extension: install gcc (apt-get install gcc libsqlite3-dev).')
    fd, tmp = tempfile.mkstemp(prefix='.build-', suffix='.so', dir=os.path.dirname(target))
    os.close(fd)
    cmd = [compiler, '-shared', '-fPIC', '-O2', '-o', tmp, SOURCE]
    if readonly:
        cmd.insert(1, '-DSUSDB_READONLY')
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise OdbcSetupError(
                'Building the lab SUSDB extension failed (is libsqlite3-dev installed? apt-get install libsqlite3-dev):\n'
                + proc.stderr.strip())
        # Rename into place: concurrent test workers may build at the same time.
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def extension_paths() -> tuple[str, str]:
    """Return ``(read_write_so, read_only_so)``, compiling them on first use."""
    with open(SOURCE, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    folder = os.path.join(cache_dir(), 'sqlite_ext', digest)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, readonly in ((READ_WRITE_NAME, False), (READ_ONLY_NAME, True)):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            _compile(path, readonly)
        paths.append(path)
    return paths[0], paths[1]


def _check_value(name: str, value: str) -> str:
    # ODBC connection strings have no escaping the SQLite driver honours for these values.
    if any(ch in value for ch in ';{}='):
        raise OdbcSetupError(f'The lab cannot put {name} {value!r} in an ODBC connection string: it contains ; {{ }} or =. Use a simpler path.')
    return value


def connection_string(database: str, readonly: bool = True, timeout_ms: int = 10000) -> str:
    """ODBC connection string for the SQLite SUSDB file ``database``.

    ``readonly=True`` (the default) gives what the collection gets: reads only, as through
    the ``PublicViewAccess`` role. ``readonly=False`` lets tests write (schema names still
    resolve).
    """
    rw, ro = extension_paths()
    ext = ro if readonly else rw
    return 'DRIVER={%s};Database=%s;Timeout=%d;LoadExt=%s' % (
        DRIVER, _check_value('database path', database), timeout_ms, _check_value('extension path', ext))


def connect(database: str, readonly: bool = True, **kwargs):
    """Open a pyodbc connection to the SUSDB file (pyodbc is imported lazily)."""
    try:
        import pyodbc  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise OdbcSetupError('pyodbc is required for ODBC access to the lab SUSDB: pip install pyodbc (and apt-get install unixodbc libsqliteodbc).') from exc
    try:
        return pyodbc.connect(connection_string(database, readonly=readonly), **kwargs)
    except pyodbc.Error as exc:
        if 'Data source name not found' in str(exc) or "Can't open lib" in str(exc):
            raise OdbcSetupError(
                'The SQLite3 ODBC driver is not registered with unixODBC: apt-get install unixodbc libsqliteodbc. (%s)' % exc) from exc
        raise
