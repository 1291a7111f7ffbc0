"""The PowerShell syntax stage reports broken scripts by file, line and column."""
from __future__ import annotations

import codecs

from ansible_collections.airgap.wsus.tests.tools import pssyntax

from ansible_collections.airgap.wsus.tests.unit.tools._trees import context, write

GOOD = '''# airgap.wsus host script
# operation: example
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [int]$MaxBytes = 1024
)
$ErrorActionPreference = 'Stop'
$item = Get-Item -LiteralPath $Path
if ($item.Length -gt $MaxBytes) {
    throw "too large: $($item.Length)"
}
@{ path = $item.FullName; size = $item.Length }
'''


def test_valid_script_has_no_findings():
    assert not pssyntax.check_text(GOOD, 'good.ps1')


def test_missing_parenthesis_is_reported_at_its_line():
    broken = GOOD.replace('if ($item.Length -gt $MaxBytes) {', 'if ($item.Length -gt $MaxBytes {')
    findings = pssyntax.check_text(broken, 'broken.ps1')
    assert findings
    assert all(f.path == 'broken.ps1' for f in findings)
    assert any(f.line == 9 for f in findings), [str(f) for f in findings]
    assert all(f.col >= 1 for f in findings)


def test_unterminated_string_is_reported():
    findings = pssyntax.check_text(GOOD.replace("'Stop'", "'Stop"), 'quote.ps1')
    assert findings
    assert min(f.line for f in findings) == 7


def test_unclosed_brace_is_reported():
    assert pssyntax.check_text(GOOD.replace('    throw "too large: $($item.Length)"\n}\n', '    throw "x"\n'), 'brace.ps1')


def test_byte_order_mark_is_not_an_error(tmp_path):
    (tmp_path / 'bom.ps1').write_bytes(codecs.BOM_UTF8 + GOOD.encode())
    (tmp_path / 'utf16.ps1').write_bytes(codecs.BOM_UTF16_LE + GOOD.encode('utf-16-le'))
    assert not pssyntax.check_file(str(tmp_path), 'bom.ps1')
    assert not pssyntax.check_file(str(tmp_path), 'utf16.ps1')


def test_stage_fails_on_a_planted_broken_script_and_skips_caches(tmp_path):
    write(tmp_path, 'plugins/plugin_utils/powershell/good.ps1', GOOD)
    write(tmp_path, '.cache/venv/ignored.ps1', 'if ( {')
    write(tmp_path, 'tests/output/ignored.ps1', 'if ( {')
    result = pssyntax.run(context(tmp_path))
    assert result.ok, [str(f) for f in result.findings]
    assert result.note == '1 scripts'

    write(tmp_path, 'roles/x/files/broken.ps1', 'function F {\n    Write-Output ("x"\n}\n')
    result = pssyntax.run(context(tmp_path))
    assert not result.ok
    assert {f.path for f in result.findings} == {'roles/x/files/broken.ps1'}
    assert str(result.findings[0]).startswith('roles/x/files/broken.ps1:')
