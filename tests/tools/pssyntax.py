"""PowerShell syntax check without PowerShell: tree-sitter-powershell parses every script.

Any ERROR or MISSING node in the parse tree is a finding. The grammar rejects a few valid
constructs (unquoted comma lists as command arguments, ``using namespace`` before ``param()``,
several switch clauses on one line, ``[Type+Nested]``, files holding only ``param()`` or only
comments); scripts are written to avoid them rather than allow-listed here.
"""
from __future__ import annotations

import codecs
import os

from .common import Context, Finding, StageResult, ToolMissing, tree_files

SUFFIXES = ('.ps1', '.psm1')


def _parser():
    try:
        import tree_sitter  # pylint: disable=import-outside-toplevel  # optional until this stage runs
        import tree_sitter_powershell  # pylint: disable=import-outside-toplevel
    except ImportError as ex:
        raise ToolMissing(f'tree-sitter and tree-sitter-powershell are needed for the PowerShell syntax check ({ex}): '
                          'they are in tests/requirements/test.txt, run `make test`') from ex
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def _decode(data: bytes) -> str:
    """Text of a script file, without the UTF-8 or UTF-16 byte order mark an editor may have written."""
    for bom, encoding in ((codecs.BOM_UTF8, 'utf-8'), (codecs.BOM_UTF16_LE, 'utf-16-le'), (codecs.BOM_UTF16_BE, 'utf-16-be')):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, 'replace')
    return data.decode('utf-8', 'replace')


def check_text(text: str, path: str, parser=None) -> list[Finding]:
    """Findings for one script's text: the innermost ERROR nodes and every MISSING node."""
    parser = parser or _parser()
    source = text.encode('utf-8')
    tree = parser.parse(source)
    if not tree.root_node.has_error:
        return []
    lines = source.split(b'\n')
    findings = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            findings.append(_finding(path, lines, node, f"missing '{node.type}'"))
            continue
        inner = [child for child in node.children if child.has_error or child.is_missing]
        if node.is_error and not inner:
            snippet = source[node.start_byte:node.end_byte].decode('utf-8', 'replace').strip().splitlines()
            near = snippet[0][:40] if snippet else ''
            findings.append(_finding(path, lines, node, f'syntax error near {near!r}' if near else 'syntax error'))
        stack.extend(reversed(inner))
    return sorted(findings, key=lambda f: (f.line, f.col))


def _finding(path: str, lines: list[bytes], node, message: str) -> Finding:
    row, byte_col = node.start_point[0], node.start_point[1]
    line = lines[row] if row < len(lines) else b''
    col = len(line[:byte_col].decode('utf-8', 'replace')) + 1
    return Finding(path, message, line=row + 1, col=col)


def check_file(root: str, rel_path: str, parser=None) -> list[Finding]:
    with open(os.path.join(root, rel_path), 'rb') as handle:
        return check_text(_decode(handle.read()), rel_path, parser)


def scripts(root: str) -> list[str]:
    return [f for f in tree_files(root) if f.lower().endswith(SUFFIXES)]


def findings(root: str) -> tuple[list[Finding], int]:
    """Findings over every PowerShell script in the tree, and how many scripts were parsed."""
    paths = scripts(root)
    if not paths:
        return [], 0
    parser = _parser()
    found: list[Finding] = []
    for rel in paths:
        found.extend(check_file(root, rel, parser))
    return found, len(paths)


def run(ctx: Context) -> StageResult:
    found, count = findings(ctx.root)
    return StageResult.from_findings(found, note=f'{count} scripts')
