"""The collection's shipped PowerShell scripts, as the lab recognizes and reads them.

- :func:`shipped` loads every ``plugins/plugin_utils/powershell/*.ps1`` with its header
  (``# operation:``, ``# input:``, ``# output:``) and its ``param()`` block.
- :func:`find_by_text` tells whether a script text received from a client is byte for byte one
  of them (the lab runs nothing else).
- :func:`is_bootstrap` compares an ``-EncodedCommand`` text with ``bootstrap.ps1`` after the
  normalization Ansible applies before encoding (lines stripped, empty lines dropped).
- :func:`line_of` finds the line of a statement, so a twin can report where the real script
  would have thrown.

``param()`` blocks are read with tree-sitter-powershell when it is installed, else with a
careful scanner; the contract tests check that both agree.
"""
from __future__ import annotations

import dataclasses
import os
import re
import threading
import typing as t

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT_DIR = os.path.join(COLLECTION_ROOT, 'plugins', 'plugin_utils', 'powershell')
BOOTSTRAP = 'bootstrap'
HEADER_MARKER = '# airgap.wsus host script'


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a ``param()`` block, with the attributes that change its binding."""

    name: str
    type: t.Optional[str]         # the type literal without brackets, lower-cased: 'string[]', 'long', None
    mandatory: bool
    has_default: bool
    allow_empty_string: bool = False
    allow_empty_collection: bool = False
    validate_range: t.Optional[t.Tuple[int, int]] = None
    validate_set: t.Optional[t.Tuple[str, ...]] = None


@dataclasses.dataclass(frozen=True)
class Script:
    """One shipped script."""

    name: str
    data: bytes
    text: str
    operation: t.Optional[str]
    inputs: t.Tuple[t.Tuple[str, bool], ...]    # (name, optional)
    outputs: t.Tuple[str, ...]
    params: t.Tuple[Param, ...]
    cmdlet_binding: bool

    def first_lines(self, count: int = 5) -> str:
        return '\n'.join(self.text.splitlines()[:count])


def parse_header(text: str) -> t.Dict[str, str]:
    """The ``# key: value`` lines at the top of a script (after the marker line)."""
    lines = text.lstrip('\ufeff').splitlines()
    fields: t.Dict[str, str] = {}
    if not lines or lines[0].strip() != HEADER_MARKER:
        return fields
    for line in lines[1:]:
        match = re.match(r'^#\s*([a-z_]+):\s*(.*?)\s*$', line)
        if not match:
            break
        fields[match.group(1)] = match.group(2)
    return fields


def split_list(value: str) -> t.List[str]:
    value = (value or '').strip()
    if value in ('', '-', '\u2014', '(none)'):
        return []
    return [part.strip() for part in value.split(',') if part.strip()]


# -- param() blocks ---------------------------------------------------------------------------
_NON_TYPE_ATTRIBUTES = ('parameter', 'allow', 'validate', 'alias', 'cmdletbinding', 'outputtype', 'supportswildcards')


def _attribute_facts(body: str) -> t.Dict[str, t.Any]:
    """What one attribute (the text between its brackets) says about its parameter."""
    name = re.match(r'\s*([\w.]+(?:\[\])?)', body)
    if not name:
        return {}
    word = name.group(1)
    low = word.lower()
    args = body[body.find('(') + 1:body.rfind(')')] if '(' in body else ''
    if low == 'parameter':
        mandatory = re.search(r'(?i)\bmandatory\b', args)
        negative = re.search(r'(?i)\bmandatory\s*=\s*(\$false|0)', args)
        return {'mandatory': bool(mandatory) and not negative}
    if low == 'allowemptystring':
        return {'allow_empty_string': True}
    if low == 'allowemptycollection':
        return {'allow_empty_collection': True}
    if low == 'validaterange':
        bounds = [b.strip() for b in args.split(',')]
        if len(bounds) == 2 and all(re.match(r'^-?\d+$', b) for b in bounds):
            return {'validate_range': (int(bounds[0]), int(bounds[1]))}
        return {}
    if low == 'validateset':
        return {'validate_set': tuple(m.group(2) for m in re.finditer(r"""(['"])(.*?)\1""", args))}
    if '(' in body or any(low.startswith(prefix) for prefix in _NON_TYPE_ATTRIBUTES):
        return {}
    return {'type': low}


def _param(name: str, facts: t.List[t.Dict[str, t.Any]], has_default: bool) -> Param:
    merged: t.Dict[str, t.Any] = {}
    for fact in facts:
        merged.update(fact)
    return Param(name, merged.get('type'), bool(merged.get('mandatory')), has_default,
                 bool(merged.get('allow_empty_string')), bool(merged.get('allow_empty_collection')),
                 merged.get('validate_range'), merged.get('validate_set'))


def params_by_scanner(text: str) -> t.Tuple[t.List[Param], bool]:
    """Read the script's ``param()`` block without a parser: (params, has [CmdletBinding()])."""
    code = _strip_comments(text)
    match = re.search(r'(?im)^\s*(\[CmdletBinding\([^)]*\)\]\s*)?param\s*\(', code)
    if not match:
        return [], False
    binding = bool(match.group(1))
    start = match.end()
    depth = 1
    i = start
    quote = None
    while i < len(code) and depth:
        ch = code[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in '\'"':
            quote = ch
        elif ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        i += 1
    body = code[start:i - 1]
    params = []
    for piece in _split_top_level(body):
        var = re.search(r'\$(\w+)\s*(=|$)', piece)
        if not var:
            continue
        facts = [_attribute_facts(attr) for attr in _attributes(piece[:var.start()])]
        params.append(_param(var.group(1), facts, var.group(2) == '='))
    return params, binding


def _strip_comments(text: str) -> str:
    text = re.sub(r'<#.*?#>', '', text, flags=re.S)
    return re.sub(r'(?m)^\s*#.*$', '', text)


def _split_top_level(body: str) -> t.List[str]:
    pieces, buf, depth, quote = [], [], 0, None
    for ch in body:
        if quote:
            if ch == quote:
                quote = None
        elif ch in '\'"':
            quote = ch
        elif ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        elif ch == ',' and depth == 0:
            pieces.append(''.join(buf))
            buf = []
            continue
        buf.append(ch)
    pieces.append(''.join(buf))
    return [p for p in pieces if p.strip()]


def _attributes(text: str) -> t.List[str]:
    out, depth, buf = [], 0, []
    for ch in text:
        if ch == '[':
            depth += 1
            if depth == 1:
                buf = []
                continue
        elif ch == ']':
            depth -= 1
            if depth == 0:
                out.append(''.join(buf))
                continue
        if depth >= 1:
            buf.append(ch)
    return out


def params_by_tree_sitter(text: str) -> t.Optional[t.Tuple[t.List[Param], bool]]:
    """The same as :func:`params_by_scanner`, from tree-sitter-powershell; None when absent."""
    try:
        import tree_sitter  # pylint: disable=import-outside-toplevel
        import tree_sitter_powershell  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    data = text.encode('utf-8')
    tree = parser.parse(data)

    def source(node: t.Any) -> str:
        return data[node.start_byte:node.end_byte].decode('utf-8')

    block = next((c for c in tree.root_node.children if c.type == 'param_block'), None)
    if block is None:
        return [], False
    binding = any(c.type == 'attribute_list' and 'cmdletbinding' in source(c).lower() for c in block.children)
    params = []
    plist = next((c for c in block.children if c.type == 'parameter_list'), None)
    for node in (plist.children if plist is not None else []):
        if node.type != 'script_parameter':
            continue
        name = None
        has_default = False
        facts: t.List[t.Dict[str, t.Any]] = []
        for child in node.children:
            if child.type == 'variable':
                name = source(child).lstrip('$')
            elif child.type == 'script_parameter_default':
                has_default = True
            elif child.type == 'attribute_list':
                for attr in child.children:
                    if attr.type != 'attribute':
                        continue
                    if any(g.type == 'type_literal' for g in attr.children):
                        facts.append({'type': source(attr).strip()[1:-1].strip().lower()})
                    else:
                        facts.append(_attribute_facts(source(attr).strip()[1:-1]))
        if name:
            params.append(_param(name, facts, has_default))
    return params, binding


def read_params(text: str) -> t.Tuple[t.List[Param], bool]:
    found = params_by_tree_sitter(text)
    return found if found is not None else params_by_scanner(text)


# -- the shipped set ----------------------------------------------------------------------------
_CACHE: t.Dict[str, t.Tuple[t.Tuple[int, int], Script]] = {}
_LOCK = threading.Lock()


def _load(name: str) -> Script:
    path = os.path.join(SCRIPT_DIR, name + '.ps1')
    st = os.stat(path)
    stamp = (st.st_mtime_ns, st.st_size)
    with _LOCK:
        cached = _CACHE.get(name)
        if cached and cached[0] == stamp:
            return cached[1]
    with open(path, 'rb') as handle:
        data = handle.read()
    text = data.decode('utf-8-sig')
    header = parse_header(text)
    inputs = tuple((item.rstrip('?'), item.endswith('?')) for item in split_list(header.get('input', '')))
    params, binding = read_params(text) if name != BOOTSTRAP else ([], False)
    script = Script(name, data, text, header.get('operation'), inputs, tuple(split_list(header.get('output', ''))),
                    tuple(params), binding)
    with _LOCK:
        _CACHE[name] = (stamp, script)
    return script


def names() -> t.List[str]:
    """Every shipped script but the bootstrap (without ``.ps1``)."""
    try:
        files = os.listdir(SCRIPT_DIR)
    except FileNotFoundError:
        return []
    return sorted(f[:-4] for f in files if f.endswith('.ps1') and f[:-4] != BOOTSTRAP)


def shipped() -> t.Dict[str, Script]:
    return {name: _load(name) for name in names()}


def get(name: str) -> t.Optional[Script]:
    try:
        return _load(name)
    except FileNotFoundError:
        return None


def find_by_text(text: str) -> t.Optional[Script]:
    """The shipped script whose bytes ``text`` is (a leading BOM may be absent in ``text``)."""
    for script in shipped().values():
        if text == script.text or text == script.data.decode('utf-8'):
            return script
    return None


def normalize_command(text: str) -> str:
    """What Ansible does to a command before ``-EncodedCommand``: strip lines, drop empty ones."""
    return '\n'.join(line.strip() for line in text.splitlines() if line.strip())


def is_bootstrap(decoded: str) -> bool:
    boot = get(BOOTSTRAP)
    return boot is not None and normalize_command(decoded) == normalize_command(boot.text)


def job_launcher() -> t.Optional[str]:
    """The fixed ``-EncodedCommand`` text ``job_start.ps1`` starts its runner with (``$Launcher``)."""
    script = get('job_start')
    if script is None:
        return None
    match = re.search(r"(?m)^\$Launcher\s*=\s*'((?:[^']|'')*)'\s*$", script.text)
    return match.group(1).replace("''", "'") if match else None


def line_of(name: str, needle: str) -> int:
    """1-based line of the first line of script ``name`` that contains ``needle`` (0: none)."""
    script = get(name) if name != BOOTSTRAP else get(BOOTSTRAP)
    if script is None:
        return 0
    for number, line in enumerate(script.text.splitlines(), 1):
        if needle in line:
            return number
    return 0
