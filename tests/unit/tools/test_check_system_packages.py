"""Which Debian packages `make test` and `make demo` install, read from bindep.txt."""
from __future__ import annotations

import os

from ansible_collections.airgap.wsus.tests.tools import system_packages

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_profiles_and_platforms_select_packages():
    text = ('# comment\n'
            'unixodbc [platform:dpkg]\n'
            'unixODBC [platform:rpm]\n'
            'shellcheck [test platform:dpkg]\n'
            'libsqliteodbc [test demo platform:dpkg]\n'
            'make\n')
    assert system_packages.dpkg_packages(text, 'test') == ['unixodbc', 'shellcheck', 'libsqliteodbc', 'make']
    assert system_packages.dpkg_packages(text, 'demo') == ['unixodbc', 'libsqliteodbc', 'make']


def test_project_bindep_covers_what_the_tests_need():
    with open(os.path.join(REPO_ROOT, 'bindep.txt'), encoding='utf-8') as handle:
        text = handle.read()
    assert {'unixodbc', 'libsqliteodbc', 'shellcheck'} <= set(system_packages.dpkg_packages(text, 'test'))
    assert 'shellcheck' not in system_packages.dpkg_packages(text, 'demo')


def test_unreadable_line_is_an_error():
    try:
        system_packages.dpkg_packages('unixodbc [platform:dpkg\n', 'test')
    except ValueError as ex:
        assert 'unixodbc' in str(ex)
    else:
        raise AssertionError('no error for an unclosed selector')


class _Apt:
    """Records the commands system_packages would run instead of running them."""

    def __init__(self, returncode=0):
        self.commands = []
        self.returncode = returncode

    def __call__(self, argv, **kwargs):
        self.commands.append(list(argv))
        return system_packages.subprocess.CompletedProcess(argv, self.returncode)


def _pretend(monkeypatch, missing, euid):
    monkeypatch.setattr(system_packages.shutil, 'which', lambda name: '/usr/bin/' + name)
    monkeypatch.setattr(system_packages, 'installed', lambda name: name not in missing)
    monkeypatch.setattr(system_packages, 'needs_venv_package', lambda: False)
    monkeypatch.setattr(system_packages.os, 'geteuid', lambda: euid)
    apt = _Apt()
    monkeypatch.setattr(system_packages.subprocess, 'run', apt)
    return apt


def test_non_root_user_gets_the_exact_install_line_and_a_failure(monkeypatch, capsys):
    apt = _pretend(monkeypatch, missing={'shellcheck', 'libsqliteodbc'}, euid=1000)
    assert system_packages.main(['test']) == 1
    assert '    sudo apt-get install -y libsqliteodbc shellcheck\n' in capsys.readouterr().err
    assert not apt.commands


def test_root_installs_what_is_missing_after_refreshing_the_package_lists(monkeypatch):
    apt = _pretend(monkeypatch, missing={'shellcheck'}, euid=0)
    assert system_packages.main(['test']) == 0
    assert apt.commands == [['apt-get', 'update'], ['apt-get', 'install', '-y', 'shellcheck']]


def test_nothing_missing_runs_nothing(monkeypatch):
    apt = _pretend(monkeypatch, missing=set(), euid=1000)
    assert system_packages.main(['demo']) == 0
    assert not apt.commands


def test_failed_install_fails(monkeypatch, capsys):
    apt = _pretend(monkeypatch, missing={'gcc'}, euid=0)
    apt.returncode = 100
    assert system_packages.main(['demo']) == 1
    assert 'apt-get failed to install gcc' in capsys.readouterr().err
