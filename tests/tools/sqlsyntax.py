"""T-SQL check without SQL Server: sqlglot parses every shipped SUSDB query as T-SQL.

The contract (docs/architecture.md) is one read-only statement per file, so besides parse
errors, a file with no statement, several statements, or a statement that is not a query
(sqlglot falls back to an opaque ``Command`` for syntax it does not know) is a finding too.
"""
from __future__ import annotations

import os

from .common import Context, Finding, StageResult, ToolMissing

SQL_DIR = 'plugins/plugin_utils/sql'


def _sqlglot():
    try:
        import sqlglot  # pylint: disable=import-outside-toplevel  # optional until this stage runs
    except ImportError as ex:
        raise ToolMissing(f'sqlglot is needed for the T-SQL check ({ex}): it is in tests/requirements/test.txt, run `make test`') from ex
    return sqlglot


def check_text(text: str, path: str) -> list[Finding]:
    sqlglot = _sqlglot()
    try:
        statements = [s for s in sqlglot.parse(text, read='tsql') if s is not None]
    except sqlglot.errors.ParseError as ex:
        first = ex.errors[0] if ex.errors else {}
        message = first.get('description') or str(ex).splitlines()[0]
        return [Finding(path, f'T-SQL parse error: {message}', line=first.get('line') or 0, col=first.get('col') or 0)]
    except sqlglot.errors.SqlglotError as ex:
        return [Finding(path, f'T-SQL parse error: {str(ex).splitlines()[0]}')]
    if not statements:
        return [Finding(path, 'holds no SQL statement')]
    if len(statements) > 1:
        return [Finding(path, f'holds {len(statements)} statements; each query file must hold exactly one')]
    if not isinstance(statements[0], sqlglot.exp.Query):
        kind = type(statements[0]).__name__
        return [Finding(path, f'is not a read-only query (sqlglot parsed it as {kind}); SUSDB queries must be SELECT statements')]
    return []


def query_files(root: str) -> list[str]:
    folder = os.path.join(root, SQL_DIR)
    if not os.path.isdir(folder):
        return []
    return sorted(f'{SQL_DIR}/{name}' for name in os.listdir(folder) if name.endswith('.sql'))


def findings(root: str) -> tuple[list[Finding], int]:
    paths = query_files(root)
    found: list[Finding] = []
    for rel in paths:
        with open(os.path.join(root, rel), encoding='utf-8-sig') as handle:
            found.extend(check_text(handle.read(), rel))
    return found, len(paths)


def run(ctx: Context) -> StageResult:
    found, count = findings(ctx.root)
    return StageResult.from_findings(found, note=f'{count} queries')
