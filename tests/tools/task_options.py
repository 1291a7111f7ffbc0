"""Option names used with this collection's modules, checked against their documentation.

ansible-lint validates module options by running a module's ``main()``; it skips modules that
are action plugins, which every module here is. So this check reads each module's documented
options (from ``ansible-doc --json`` on the installed artifact) and reports any option a task,
a ``module_defaults`` entry or a module's own EXAMPLES uses that the module does not document.
Required options are not checked: ``module_defaults`` may supply them where this cannot see.
"""
from __future__ import annotations

import os

import yaml

from .common import Finding

PREFIX = 'airgap.wsus.'
GROUP = 'group/airgap.wsus.wsus'
YAML_SUFFIXES = ('.yml', '.yaml')


def option_names(doc_json: dict) -> dict[str, set[str]]:
    """Module FQCN -> option names and aliases, from ``ansible-doc --json`` output."""
    names: dict[str, set[str]] = {}
    for fqcn, entry in doc_json.items():
        options = ((entry or {}).get('doc') or {}).get('options') or {}
        accepted = set(options)
        for spec in options.values():
            accepted.update((spec or {}).get('aliases') or [])
        names[fqcn] = accepted
    return names


def yaml_findings(text: str, path: str, modules: dict[str, set[str]]) -> list[Finding]:
    """Unknown options in one YAML text; unparsable YAML is left to the linters."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return []
    group = set().union(*modules.values()) if modules else set()
    findings: list[Finding] = []
    stack = [node for node in nodes if node is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        if not isinstance(node, yaml.MappingNode):
            continue
        # A task may give its module's options under `args:` instead.
        args = next((value for key, value in node.value if isinstance(key, yaml.ScalarNode) and key.value == 'args'), None)
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) and isinstance(key.value, str) else ''
            accepted = group if name == GROUP else modules.get(name)
            if accepted is not None:
                options = value if isinstance(value, yaml.MappingNode) else args
                findings.extend(_unknown(options, name, accepted, path))
            stack.append(value)
    return sorted(findings, key=lambda f: (f.path, f.line, f.col))


def _unknown(options, module: str, accepted: set[str], path: str) -> list[Finding]:
    if not isinstance(options, yaml.MappingNode):
        return []
    found = []
    documented = ', '.join(sorted(accepted)) or 'none'
    for key, dummy in options.value:
        option = key.value if isinstance(key, yaml.ScalarNode) else None
        if isinstance(option, str) and option not in accepted:
            found.append(Finding(path, f'{module} has no option {option!r} (documented: {documented})',
                                 line=key.start_mark.line + 1, col=key.start_mark.column + 1))
    return found


def tree_findings(root: str, files: list[str], modules: dict[str, set[str]]) -> list[Finding]:
    """Unknown options in the tree's YAML files (playbooks, roles, integration tests)."""
    found = []
    for rel in files:
        if not rel.endswith(YAML_SUFFIXES) or rel.startswith(('changelogs/', 'meta/')):
            continue
        with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as handle:
            text = handle.read()
        if PREFIX in text:
            found.extend(yaml_findings(text, rel, modules))
    return found


def examples_findings(doc_json: dict, modules: dict[str, set[str]]) -> list[Finding]:
    """Unknown options in each module's EXAMPLES (lines counted inside the EXAMPLES text)."""
    found = []
    for fqcn, entry in sorted(doc_json.items()):
        examples = (entry or {}).get('examples')
        if isinstance(examples, str) and examples.strip():
            path = f'plugins/modules/{fqcn[len(PREFIX):]}.py (EXAMPLES)'
            found.extend(yaml_findings(examples, path, modules))
    return found
