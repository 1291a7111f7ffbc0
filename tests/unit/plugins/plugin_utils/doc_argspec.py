"""Test helper: a module's DOCUMENTATION options must equal its argument spec.

Usage in a module's unit test::

    from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils.doc_argspec import assert_doc_matches_spec
    from ansible_collections.airgap.wsus.plugins.modules import wsus_export as doc
    from ansible_collections.airgap.wsus.plugins.action.wsus_export import ActionModule

    def test_documentation_matches_spec():
        assert_doc_matches_spec(doc.DOCUMENTATION, ActionModule.ARGUMENT_SPEC)

Fragments named in ``extends_documentation_fragment`` are merged the way Ansible merges
them (a module's own entry for an option overrides the fragment's keys), ``airgap.wsus.*``
fragments from this checkout and others through Ansible's fragment loader.
"""
from __future__ import annotations

import importlib

import yaml

_COMPARED = ('type', 'required', 'default', 'choices', 'elements', 'aliases')


_PACKAGES = {
    'airgap.wsus.': 'ansible_collections.airgap.wsus.plugins.doc_fragments',
    # ansible-core's own fragments, imported directly: the collection loader that resolves
    # "ansible.builtin." names is not installed in a plain pytest run.
    'ansible.builtin.': 'ansible.plugins.doc_fragments',
}


def _fragment(slug: str) -> dict:
    for prefix, package in _PACKAGES.items():
        if slug.startswith(prefix):
            module_name, _dot, maybe_var = slug[len(prefix):].partition('.')
            module = importlib.import_module(f'{package}.{module_name}')
            return yaml.safe_load(getattr(module.ModuleDocFragment, maybe_var.upper() if maybe_var else 'DOCUMENTATION'))
    from ansible.plugins.loader import fragment_loader  # pylint: disable=import-outside-toplevel

    name, var = slug, 'DOCUMENTATION'
    fragment = fragment_loader.get(name)
    if fragment is None and '.' in slug:
        name, var = slug.rsplit('.', 1)
        var = var.upper()
        fragment = fragment_loader.get(name)
    if fragment is None:
        raise AssertionError(f'documentation fragment {slug} not found')
    return yaml.safe_load(getattr(fragment, var))


def documented_options(documentation: str) -> dict:
    """The module's options after merging its documentation fragments."""
    doc = yaml.safe_load(documentation)
    options = dict(doc.get('options') or {})
    fragments = doc.get('extends_documentation_fragment') or []
    if isinstance(fragments, str):
        fragments = [f.strip() for f in fragments.split(',')]
    for slug in fragments:
        for name, spec in (_fragment(slug).get('options') or {}).items():
            merged = dict(spec)
            merged.update(options.get(name) or {})
            options[name] = merged
    return options


def _normalise(option: dict, from_doc: bool) -> dict:
    facts = {
        'type': option.get('type', 'str'),
        'required': bool(option.get('required', False)),
        'default': option.get('default'),
        'choices': list(option.get('choices')) if option.get('choices') is not None else None,
        'elements': option.get('elements'),
        'aliases': sorted(option.get('aliases') or []),
    }
    if facts['type'] == 'list' and facts['default'] is not None:
        facts['default'] = list(facts['default'])
    subs = option.get('suboptions' if from_doc else 'options')
    facts['suboptions'] = subs
    return facts


def compare(doc_options: dict, spec: dict, path: str = '') -> list[str]:
    """Differences between documented options and an argument spec (empty when they agree)."""
    problems = []
    for name in sorted(set(doc_options) - set(spec)):
        problems.append(f'{path}{name}: documented but not in the argument spec')
    for name in sorted(set(spec) - set(doc_options)):
        problems.append(f'{path}{name}: in the argument spec but not documented')
    for name in sorted(set(doc_options) & set(spec)):
        doc = _normalise(doc_options[name] or {}, True)
        arg = _normalise(spec[name] or {}, False)
        for key in _COMPARED:
            if doc[key] != arg[key]:
                problems.append(f'{path}{name}: {key} is {doc[key]!r} in the documentation but {arg[key]!r} in the spec')
        if doc['suboptions'] or arg['suboptions']:
            problems.extend(compare(doc['suboptions'] or {}, arg['suboptions'] or {}, f'{path}{name}.'))
    return problems


def assert_doc_matches_spec(documentation: str, spec: dict) -> None:
    """Fail with every difference between ``documentation``'s options and ``spec``."""
    problems = compare(documented_options(documentation), spec)
    assert not problems, 'DOCUMENTATION and argument spec disagree:\n' + '\n'.join(problems)
