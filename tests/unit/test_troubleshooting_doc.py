"""docs/troubleshooting.md keeps up with the code: every module and every role step has its section.

A module added to ``plugins/modules/``, a step added to a role, a new ``ansible.builtin.fail`` in a
step, or a module a step starts using fails these tests until the troubleshooting guide says what
its messages mean. The role steps are read from the roles' task files, where each step begins
with ``set_fact`` of ``<role>__step: {number, name}``.
"""
from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, 'docs')
GUIDE = os.path.join(DOCS, 'troubleshooting.md')
ROLES = ('export_server', 'import_server')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
LINK = re.compile(r'\]\(([^)\s]+)\)')
ANCHOR = re.compile(r'<a\s+id="([^"]+)"')
FENCE = re.compile(r'^\s*(```|~~~)')


def read(path: str) -> str:
    """The text of a file of the repository."""
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def prose_lines(text: str) -> list[str]:
    """The lines of a markdown text outside fenced code blocks (a ``# comment`` there is no heading)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def sections(text: str) -> dict[str, str]:
    """Each heading's text mapped to the body under it, up to the next heading of the same or a higher level."""
    lines = prose_lines(text)
    found = {}
    for index, line in enumerate(lines):
        match = HEADING.match(line)
        if not match:
            continue
        level, title = len(match.group(1)), match.group(2)
        body = []
        for following in lines[index + 1:]:
            other = HEADING.match(following)
            if other and len(other.group(1)) <= level:
                break
            body.append(following)
        found[title] = '\n'.join(body)
    return found


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation other than ``-`` and ``_`` dropped, spaces as ``-``."""
    title = re.sub(r'`', '', title.strip().lower())
    return re.sub(r'[^\w\- ]', '', title).replace(' ', '-')


def anchors(text: str) -> set[str]:
    """The anchors a markdown page offers: its headings' slugs and explicit ``<a id>`` tags."""
    found = {slug(HEADING.match(line).group(2)) for line in prose_lines(text) if HEADING.match(line)}
    return found | set(ANCHOR.findall(text))


def walk_tasks(tasks):
    """Every task of a task list, those inside blocks included."""
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ('block', 'rescue', 'always'):
            yield from walk_tasks(task.get(key))


def role_steps() -> list[dict]:
    """Each step of each role: ``{role, number, name, file, fails, modules}``, plus one entry per task file without a step."""
    steps = []
    for role in ROLES:
        for path in sorted(glob.glob(os.path.join(ROOT, 'roles', role, 'tasks', '*.yml'))):
            entry = {'role': role, 'number': None, 'name': None, 'file': os.path.relpath(path, ROOT), 'fails': [], 'modules': set()}
            for task in walk_tasks(yaml.safe_load(read(path))):
                fact = task.get('ansible.builtin.set_fact') or task.get('set_fact')
                step = fact.get(f'{role}__step') if isinstance(fact, dict) else None
                if isinstance(step, dict) and step.get('number') and entry['number'] is None:
                    entry['number'], entry['name'] = str(step['number']), str(step['name'])
                if 'ansible.builtin.fail' in task or 'fail' in task:
                    entry['fails'].append(task.get('name'))
                entry['modules'].update(key for key in task if key.startswith('airgap.wsus.'))
            steps.append(entry)
    return steps


def module_names() -> list[str]:
    """The collection's modules, from ``plugins/modules``."""
    return sorted(os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
                  if not os.path.basename(path).startswith('_'))


GUIDE_TEXT = read(GUIDE)
GUIDE_SECTIONS = sections(GUIDE_TEXT)
STEPS = [step for step in role_steps() if step['number'] is not None]
UNSTEPPED = [step for step in role_steps() if step['number'] is None]


def test_the_roles_and_modules_are_found():
    """A parsing change must not make the other tests pass vacuously."""
    assert len(module_names()) >= 8
    assert {step['role'] for step in STEPS} == set(ROLES)
    assert any(step['fails'] for step in STEPS)


@pytest.mark.parametrize('module', module_names())
def test_every_module_has_a_section_with_messages(module):
    title = f'airgap.wsus.{module}'
    assert title in GUIDE_SECTIONS, f'docs/troubleshooting.md has no heading "{title}": list the messages of plugins/modules/{module}.py'
    assert re.search(r'^- `', GUIDE_SECTIONS[title], re.MULTILINE), f'the section "{title}" lists no message (a "- `message`" item)'


@pytest.mark.parametrize('step', STEPS, ids=lambda step: f'{step["role"]} step {step["number"]}')
def test_every_role_step_has_a_section(step):
    title = f'{step["role"]} step {step["number"]}: {step["name"]}'
    assert title in GUIDE_SECTIONS, f'docs/troubleshooting.md has no heading "{title}" for {step["file"]}'


@pytest.mark.parametrize('step', STEPS, ids=lambda step: f'{step["role"]} step {step["number"]}')
def test_each_step_section_names_its_failures_and_modules(step):
    body = GUIDE_SECTIONS.get(f'{step["role"]} step {step["number"]}: {step["name"]}', '')
    for name in step['fails']:
        assert f'"{name}"' in body, f'the section of {step["role"]} step {step["number"]} does not explain the failing task "{name}" ({step["file"]})'
    for module in sorted(step['modules']):
        assert module in body, f'the section of {step["role"]} step {step["number"]} does not point to {module}, which {step["file"]} runs'


def test_failures_outside_steps_are_explained():
    for entry in UNSTEPPED:
        for name in entry['fails']:
            assert f'"{name}"' in GUIDE_TEXT, f'docs/troubleshooting.md does not explain the failing task "{name}" ({entry["file"]})'


def test_links_resolve():
    """Every relative link of the guide points at an existing page, and at a heading that exists there."""
    broken = []
    for target in LINK.findall(GUIDE_TEXT):
        if re.match(r'^[a-z]+:', target):
            continue
        page, _sep, fragment = target.partition('#')
        path = os.path.join(DOCS, page) if page else GUIDE
        if not os.path.isfile(path):
            broken.append(f'{target}: no such page')
        elif fragment and fragment not in anchors(read(path)):
            broken.append(f'{target}: no such heading')
    assert not broken, 'broken links in docs/troubleshooting.md: ' + '; '.join(broken)
