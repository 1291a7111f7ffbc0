"""The SQLite file that holds one emulated WSUS server's whole state.

The lab's own code talks to it through Python's ``sqlite3`` (fast bulk writes); the
collection and the ``susdb_query`` twin go through ODBC (``odbc.py``). WAL mode lets ODBC
readers see a consistent snapshot while the lab writes.
"""
from __future__ import annotations

import contextlib
import datetime
import os
import sqlite3
import threading
import typing as t

from . import schema

# SQL Server refreshes a table's statistics once about a fifth of its rows changed; SQLite keeps
# none until ANALYZE runs, and without them it plans the shipped queries' joins over 50,000
# updates as nested scans (minutes instead of a second). A bulk write of this many rows
# refreshes them, as SQL Server's automatic statistics would.
STATISTICS_AFTER_CHANGES = 500


def sql_time(value: datetime.datetime) -> str:
    """A DATETIME value as stored: what the ODBC driver parses back into a ``datetime``."""
    return value.strftime('%Y-%m-%d %H:%M:%S.') + '%03d' % (value.microsecond // 1000)


def utcnow() -> datetime.datetime:
    """Naive UTC now (SUSDB stores UTC without a zone)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Susdb:
    """A locked connection to one SUSDB file; every method is safe across threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        existed = os.path.exists(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute('PRAGMA journal_mode = WAL')
        self._conn.execute('PRAGMA synchronous = NORMAL')
        self._conn.execute('PRAGMA foreign_keys = OFF')
        self.created = not existed or not self._has_schema()
        if self.created:
            # executescript commits on its own, so the transaction is part of the script.
            self._conn.executescript('BEGIN IMMEDIATE;\n' + schema.TABLES + schema.VIEWS + '\nCOMMIT;')
            self.set_state('schema_version', schema.SCHEMA_VERSION)

    def _has_schema(self) -> bool:
        row = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'labState'").fetchone()
        return row is not None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextlib.contextmanager
    def transaction(self) -> t.Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error); re-entrant."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            self._conn.execute('BEGIN IMMEDIATE')
            before = self._conn.total_changes
            try:
                yield self._conn
            except BaseException:
                self._conn.execute('ROLLBACK')
                raise
            self._conn.execute('COMMIT')
            if self._conn.total_changes - before >= STATISTICS_AFTER_CHANGES:
                self._conn.execute('ANALYZE')

    def query(self, sql: str, params: t.Sequence[t.Any] = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: t.Sequence[t.Any] = ()) -> t.Optional[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: t.Sequence[t.Any] = ()) -> t.Any:
        row = self.query_one(sql, params)
        return None if row is None else row[0]

    def execute(self, sql: str, params: t.Sequence[t.Any] = ()) -> int:
        """Run one write statement in its own (or the current) transaction; return rowcount."""
        with self.transaction() as conn:
            return conn.execute(sql, params).rowcount

    def get_state(self, name: str, default: t.Optional[str] = None) -> t.Optional[str]:
        value = self.scalar('SELECT Value FROM labState WHERE Name = ?', (name,))
        return default if value is None else value

    def set_state(self, name: str, value: t.Any) -> None:
        self.execute('INSERT INTO labState (Name, Value) VALUES (?, ?) ON CONFLICT (Name) DO UPDATE SET Value = excluded.Value',
                     (name, None if value is None else str(value)))
