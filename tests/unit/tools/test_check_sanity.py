"""ansible-test sanity helpers: the offline get-pip stand-in, ignore files, the mirrored copy."""
from __future__ import annotations

import importlib.util
import os
import re

from ansible_collections.airgap.wsus.tests.tools import sanity

from ansible_collections.airgap.wsus.tests.unit.tools._trees import write

REQUIREMENTS = '''
def get_venv_packages(python):
    default_packages = dict(
        pip='23.1.2',
        setuptools='67.7.2',
    )
    override_packages = {
        '2.7': dict(pip='20.3.4', setuptools='44.1.1'),
        '3.6': dict(pip='21.3.1', wheel=None),
    }
    return override_packages.get(python.version, default_packages)
'''


def test_pip_version_is_read_per_python(tmp_path):
    path = write(tmp_path, 'python_requirements.py', REQUIREMENTS)
    assert sanity.pip_version(path, '3.11') == '23.1.2'
    assert sanity.pip_version(path, '3.6') == '21.3.1'


def test_pip_version_of_the_installed_ansible_test():
    spec = importlib.util.find_spec('ansible_test')
    path = os.path.join(os.path.dirname(spec.origin), '_internal', 'python_requirements.py')
    assert re.fullmatch(r'\d+(\.\d+)+', sanity.pip_version(path, '3.11'))


def test_pip_version_fails_loudly_when_the_layout_changes(tmp_path):
    path = write(tmp_path, 'python_requirements.py', 'PIP = "24.2"\n')
    try:
        sanity.pip_version(path, '3.11')
    except ValueError as ex:
        assert 'update tests/tools/sanity.py' in str(ex)
    else:
        raise AssertionError('no error for a file without default_packages')


def test_get_pip_stand_in_is_written_once_and_never_replaces_a_real_download(tmp_path):
    path = sanity.write_get_pip(str(tmp_path), '24.2')
    assert os.path.basename(path) == 'get_pip_24_2.py'
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    compile(text, path, 'exec')
    assert 'ensurepip' in text and "'--no-setuptools'" in text
    real = write(tmp_path, 'get_pip_23_1_2.py', '# the real get-pip.py\n')
    sanity.write_get_pip(str(tmp_path), '23.1.2')
    with open(real, encoding='utf-8') as handle:
        assert handle.read() == '# the real get-pip.py\n'


def test_ignore_entries_are_findings(tmp_path):
    write(tmp_path, 'tests/sanity/ignore-2.16.txt', '\n')
    assert not sanity.ignore_findings(str(tmp_path))
    write(tmp_path, 'tests/sanity/ignore-2.19.txt', 'plugins/modules/x.py validate-modules:missing-gplv3-license\n')
    findings = sanity.ignore_findings(str(tmp_path))
    assert [(f.path, f.line) for f in findings] == [('tests/sanity/ignore-2.19.txt', 1)]


def test_mirror_copies_changes_removes_stale_files_and_keeps_ansible_test_output(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    write(src, 'plugins/modules/a.py', 'A = 1\n')
    write(src, '.ci/run', '#!/usr/bin/env bash\n', mode=0o755)
    sanity.mirror(str(src), ['plugins/modules/a.py', '.ci/run'], str(dest))
    write(dest, 'tests/output/.tmp/delegation/marker.txt', '')
    write(dest, 'plugins/modules/stale.py', '')
    write(src, 'plugins/modules/a.py', 'A = 2\n')
    sanity.mirror(str(src), ['plugins/modules/a.py', '.ci/run'], str(dest))
    assert (dest / 'plugins/modules/a.py').read_text() == 'A = 2\n'
    assert not (dest / 'plugins/modules/stale.py').exists()
    assert os.access(dest / '.ci/run', os.X_OK)
    assert (dest / 'tests/output/.tmp/delegation/marker.txt').exists()


def test_mirror_keeps_symlinks_as_symlinks(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    write(src, 'docs/real.md', 'text\n')
    os.symlink('real.md', src / 'docs/link.md')
    sanity.mirror(str(src), ['docs/link.md', 'docs/real.md'], str(dest))
    assert os.readlink(dest / 'docs/link.md') == 'real.md'
    sanity.mirror(str(src), ['docs/link.md', 'docs/real.md'], str(dest))
    assert (dest / 'docs/link.md').read_text() == 'text\n'


def test_work_dir_is_a_real_collection_path_outside_the_checkout(tmp_path):
    path = sanity.work_dir(str(tmp_path), '2.19')
    assert path.endswith(os.path.join('ansible_collections', 'airgap', 'wsus'))
    assert not path.startswith(str(tmp_path))
