"""Stages that drive external tools, run on tiny planted trees: ansible-lint, the artifact, shellcheck, changelogs."""
from __future__ import annotations

import io
import subprocess
import tarfile

import pytest

from ansible_collections.airgap.wsus.tests.tools import changelog, galaxy, lint, shellcheck

from ansible_collections.airgap.wsus.tests.unit.tools._trees import CORE, context, has_tool, write

PLAYBOOK = '''---
- name: Example
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
'''

MODULE_DOC = '''# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: good
short_description: Documented example
description: An example module with documentation.
author: Example
options:
  path:
    description: A path.
    type: str
    aliases: [dest]
"""
EXAMPLES = r"""
- name: Run it
  airgap.wsus.good:
    path: C:\\x
"""
RETURN = r"""
"""
'''


def _collection(root, modules):
    write(root, 'galaxy.yml', 'namespace: airgap\nname: wsus\nversion: 0.1.0\nreadme: README.md\nauthors: [Example]\n'
                              'build_ignore: [.cache]\n')
    write(root, 'README.md', '# example\n')
    write(root, 'requirements.txt', 'pyodbc\n')
    write(root, 'bindep.txt', 'unixodbc [platform:dpkg]\n')
    write(root, 'meta/execution-environment.yml', 'version: 3\ndependencies:\n  python: requirements.txt\n  system: bindep.txt\n')
    write(root, 'meta/runtime.yml', 'requires_ansible: ">=2.16.0"\n')
    for name, text in modules.items():
        write(root, f'plugins/modules/{name}.py', text)


@pytest.mark.skipif(not has_tool('ansible-lint'), reason='ansible-lint is installed in the newest ansible-core virtualenv only')
def test_lint_passes_a_clean_playbook_and_fails_on_planted_bad_yaml(tmp_path):
    write(tmp_path, 'site.yml', PLAYBOOK)
    assert lint.run(context(tmp_path), core=CORE).ok
    write(tmp_path, 'broken.yml', '---\n- name: Broken\n  hosts: localhost\n  tasks: [\n')
    result = lint.run(context(tmp_path), core=CORE)
    assert not result.ok


def test_artifact_documents_every_module_from_the_install(tmp_path):
    _collection(tmp_path, {'good': MODULE_DOC})
    result = galaxy.run(context(tmp_path), core=CORE)
    assert result.ok, [str(f) for f in result.findings]
    assert result.note.startswith('airgap-wsus-0.1.0.tar.gz')


def test_options_not_in_the_docs_are_findings(tmp_path):
    _collection(tmp_path, {'good': MODULE_DOC.replace('    path: C:', '    pth: C:')})
    write(tmp_path, 'playbooks/site.yml', PLAYBOOK.replace('ansible.builtin.debug:\n        msg: hello',
                                                           'airgap.wsus.good:\n        dest: x\n        force: true'))
    result = galaxy.run(context(tmp_path), core=CORE)
    assert sorted((f.path, f.line) for f in result.findings) == [('playbooks/site.yml', 9), ('plugins/modules/good.py (EXAMPLES)', 4)]


def test_module_without_docs_and_role_without_specs_are_findings(tmp_path):
    _collection(tmp_path, {'good': MODULE_DOC, 'undocumented': 'from __future__ import annotations\n'})
    write(tmp_path, 'roles/bare/tasks/main.yml', '---\n- name: Nothing\n  ansible.builtin.debug:\n    msg: x\n')
    result = galaxy.run(context(tmp_path), core=CORE)
    assert not result.ok
    assert sorted(f.path for f in result.findings) == ['plugins/modules/undocumented.py', 'roles/bare']


def test_tarball_must_keep_dependency_files_and_drop_caches(tmp_path):
    tarball = tmp_path / 'airgap-wsus-0.1.0.tar.gz'
    with tarfile.open(tarball, 'w:gz') as archive:
        for name in ('requirements.txt', 'meta/runtime.yml', '.cache/venv/bin/python'):
            info = tarfile.TarInfo(name)
            archive.addfile(info, io.BytesIO(b''))
    messages = [f.message for f in galaxy.tarball_findings(str(tarball))]
    assert 'bindep.txt is missing from the artifact' in messages
    assert 'meta/execution-environment.yml is missing from the artifact' in messages
    assert any(m.startswith('.cache/venv/bin/python is in the artifact') for m in messages)


def test_doc_finding_on_empty_output_and_errors():
    empty = subprocess.CompletedProcess([], 0, stdout='\n', stderr='[WARNING]: airgap.wsus.x was not found\n')
    failed = subprocess.CompletedProcess([], 1, stdout='', stderr='ERROR! boom\n')
    fine = subprocess.CompletedProcess([], 0, stdout='> MODULE airgap.wsus.x\n', stderr='')
    assert 'printed nothing' in galaxy.doc_finding('module', 'x', empty).message
    assert 'failed (1)' in galaxy.doc_finding('role', 'x', failed).message
    assert galaxy.doc_finding('module', 'x', fine) is None


def test_shell_scripts_are_found_by_extension_and_shebang(tmp_path):
    write(tmp_path, '.ci/run', '#!/usr/bin/env bash\nmake test\n', mode=0o755)
    write(tmp_path, 'tools/x.sh', 'echo hi\n')
    write(tmp_path, 'tools/y.py', '#!/usr/bin/env python3\n')
    assert shellcheck.shell_scripts(str(tmp_path)) == ['.ci/run', 'tools/x.sh']


@pytest.mark.skipif(not shellcheck.shutil.which('shellcheck'), reason='shellcheck is not installed')
def test_shellcheck_fails_on_a_planted_bad_script(tmp_path):
    write(tmp_path, 'run.sh', '#!/usr/bin/env bash\nset -eu\necho "$1"\n')
    assert shellcheck.run(context(tmp_path)).ok
    write(tmp_path, 'bad.sh', '#!/usr/bin/env bash\nfor f in $(ls *.txt); do echo $f; done\n')
    assert not shellcheck.run(context(tmp_path)).ok


@pytest.mark.skipif(not has_tool('antsibull-changelog'), reason='antsibull-changelog is installed in the newest ansible-core virtualenv only')
def test_changelog_lint_fails_on_a_planted_bad_fragment(tmp_path):
    _collection(tmp_path, {})
    write(tmp_path, 'changelogs/config.yaml', 'changes_file: changelog.yaml\nchanges_format: combined\nnotesdir: fragments\n'
                                              'sections:\n- - minor_changes\n  - Minor Changes\ntitle: x\n')
    write(tmp_path, 'changelogs/changelog.yaml', 'ancestor: null\nreleases: {}\n')
    write(tmp_path, 'changelogs/fragments/good.yml', 'minor_changes:\n  - A change.\n')
    assert changelog.run(context(tmp_path), core=CORE).ok
    write(tmp_path, 'changelogs/fragments/bad.yml', 'no_such_section:\n  - A change.\n')
    assert not changelog.run(context(tmp_path), core=CORE).ok
