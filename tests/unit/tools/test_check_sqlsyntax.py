"""The T-SQL stage parses every shipped query and holds each file to one read-only statement."""
from __future__ import annotations

from ansible_collections.airgap.wsus.tests.tools import sqlsyntax

from ansible_collections.airgap.wsus.tests.unit.tools._trees import context, write

QUERY = '''SELECT u.UpdateId, COALESCE(r.RevisionNumber, 0) AS RevisionNumber
FROM dbo.tbUpdate AS u
JOIN dbo.tbRevision AS r ON r.LocalUpdateID = u.LocalUpdateID
WHERE u.UpdateId = ?
'''


def test_valid_query_passes():
    assert not sqlsyntax.check_text(QUERY, 'q.sql')


def test_parse_error_is_reported_with_position():
    findings = sqlsyntax.check_text('SELECT (u.UpdateId\nFROM dbo.tbUpdate AS u\n', 'bad.sql')
    assert len(findings) == 1
    assert findings[0].line == 2
    assert 'parse error' in findings[0].message


def test_unterminated_string_is_reported():
    assert sqlsyntax.check_text("SELECT 'abc FROM dbo.tbUpdate", 'quote.sql')


def test_each_file_holds_exactly_one_read_only_statement():
    assert 'no SQL statement' in sqlsyntax.check_text('-- nothing here\n', 'empty.sql')[0].message
    assert '2 statements' in sqlsyntax.check_text('SELECT 1; SELECT 2', 'two.sql')[0].message
    assert 'read-only' in sqlsyntax.check_text('UPDATE dbo.tbUpdate SET IsHidden = 1', 'write.sql')[0].message


def test_stage_fails_on_a_planted_broken_query(tmp_path):
    write(tmp_path, 'plugins/plugin_utils/sql/updates.sql', QUERY)
    assert sqlsyntax.run(context(tmp_path)).ok
    write(tmp_path, 'plugins/plugin_utils/sql/broken.sql', 'SELECT FROM WHERE')
    result = sqlsyntax.run(context(tmp_path))
    assert not result.ok
    assert [f.path for f in result.findings] == ['plugins/plugin_utils/sql/broken.sql']
