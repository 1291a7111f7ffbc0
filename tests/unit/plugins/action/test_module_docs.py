"""Every module's documentation: parses, names its module, and matches its action plugin's argument spec.

Each module of the collection is an action plugin (``plugins/action/<name>.py``) whose
``ActionModule.ARGUMENT_SPEC`` is what Ansible validates; ``plugins/modules/<name>.py`` holds
the documentation users read. They must say the same thing.
"""
from __future__ import annotations

import importlib
import os

import pytest
import yaml

from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils.doc_argspec import assert_doc_matches_spec, documented_options

COLLECTION = 'ansible_collections.airgap.wsus'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules'))
                 if name.endswith('.py') and not name.startswith('_'))


def _doc_module(name):
    return importlib.import_module(f'{COLLECTION}.plugins.modules.{name}')


def _examples(name):
    return yaml.safe_load(_doc_module(name).EXAMPLES) or []


def test_there_are_modules():
    assert {'server_info', 'option_parity'} <= set(MODULES)


@pytest.mark.parametrize('name', MODULES)
def test_documentation_parses_and_names_the_module(name):
    doc = yaml.safe_load(_doc_module(name).DOCUMENTATION)
    assert doc['module'] == name
    assert doc['short_description'] and doc['description']


@pytest.mark.parametrize('name', MODULES)
def test_examples_and_return_parse(name):
    module = _doc_module(name)
    examples = _examples(name)
    assert isinstance(examples, list) and examples, f'{name}: EXAMPLES must be a non-empty list of tasks'
    returned = yaml.safe_load(module.RETURN)
    assert isinstance(returned, dict) and returned, f'{name}: RETURN must document the returned keys'
    for key, entry in returned.items():
        assert entry.get('description') and entry.get('returned') and entry.get('type'), f'{name}: RETURN {key} lacks description/returned/type'


@pytest.mark.parametrize('name', MODULES)
def test_documentation_matches_the_action_plugins_argument_spec(name):
    try:
        action = importlib.import_module(f'{COLLECTION}.plugins.action.{name}')
    except ModuleNotFoundError as exc:
        pytest.fail(f'plugins/modules/{name}.py documents a module, but its action plugin plugins/action/{name}.py '
                    f'does not exist (every module of the collection is an action plugin): {exc}')
    assert_doc_matches_spec(_doc_module(name).DOCUMENTATION, action.ActionModule.ARGUMENT_SPEC)


@pytest.mark.parametrize('name', MODULES)
def test_examples_use_only_documented_options(name):
    options = documented_options(_doc_module(name).DOCUMENTATION)
    for task in _examples(name):
        args = task.get(f'airgap.wsus.{name}')
        if not isinstance(args, dict):
            continue
        unknown = sorted(set(args) - set(options))
        assert not unknown, f'{name}: example "{task.get("name")}" uses undocumented option(s) {unknown}'
        for key, value in args.items():
            subs = options[key].get('suboptions')
            if subs and isinstance(value, dict):
                assert not set(value) - set(subs), f'{name}: example "{task.get("name")}" uses undocumented {key}.{sorted(set(value) - set(subs))}'


def _descriptions(entries: dict, where: str):
    for key, entry in (entries or {}).items():
        description = entry.get('description')
        for index, line in enumerate(description if isinstance(description, list) else [description]):
            yield f'{where}.{key}.description[{index}]', line
        yield from _descriptions(entry.get('suboptions') or entry.get('options') or {}, f'{where}.{key}')
        yield from _descriptions(entry.get('contains') or {}, f'{where}.{key}')


@pytest.mark.parametrize('name', MODULES)
def test_every_description_is_text(name):
    # An unquoted ': ' inside a description line makes YAML read a mapping; ansible-doc then refuses the whole module.
    module = _doc_module(name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    found = list(_descriptions(doc['options'], 'options')) + list(_descriptions(yaml.safe_load(module.RETURN), 'RETURN'))
    found += [(f'description[{i}]', line) for i, line in enumerate(doc['description'])]
    assert found
    bad = [where for where, line in found if not isinstance(line, str)]
    assert not bad, f'{name}: not text (quote the line, or avoid ": " in it): {bad}'
