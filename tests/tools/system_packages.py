"""Install the Debian packages a make target needs, as listed in bindep.txt; standard library only.

``make test`` and ``make demo`` run this with the system's python3 before any virtualenv
exists. As root, missing packages are installed with apt-get; otherwise the exact
``sudo apt-get install -y ...`` line is printed and the command fails.

Usage: python3 tests/tools/system_packages.py PROFILE   (PROFILE: test or demo)
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

BINDEP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'bindep.txt')
LINE = re.compile(r'^(?P<name>[A-Za-z0-9][A-Za-z0-9.+_-]*)\s*(?:\[(?P<selectors>[^\]]*)\])?\s*$')


def dpkg_packages(text: str, profile: str) -> list[str]:
    """Packages of bindep.txt that apply to a dpkg platform under ``profile``.

    Follows bindep's rules for the selectors used here: ``platform:X`` entries must include
    ``platform:dpkg`` when any platform is named, and other words are profiles: a package
    that names profiles is needed only under one of them; one that names none always is.
    """
    names = []
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        match = LINE.match(line)
        if not match:
            raise ValueError(f'bindep.txt: cannot read {raw!r}')
        selectors = (match.group('selectors') or '').split()
        platforms = [s[len('platform:'):] for s in selectors if s.startswith('platform:')]
        profiles = [s for s in selectors if not s.startswith('platform:') and not s.startswith('!')]
        if platforms and 'dpkg' not in platforms:
            continue
        if profiles and profile not in profiles:
            continue
        names.append(match.group('name'))
    return names


def installed(package: str) -> bool:
    proc = subprocess.run(['dpkg-query', '-W', '-f', '${Status}', package], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          check=False, text=True)
    return proc.returncode == 0 and proc.stdout.strip().endswith('install ok installed')


def needs_venv_package() -> bool:
    """Debian's own python3 makes virtualenvs only once python3-venv (ensurepip's wheels) is installed."""
    if not os.path.realpath(sys.executable).startswith('/usr/bin/'):
        return False
    return not installed('python3-venv') and not installed(f'python3.{sys.version_info[1]}-venv')


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ('test', 'demo'):
        sys.stderr.write('usage: system_packages.py test|demo\n')
        return 2
    if not shutil.which('dpkg-query'):
        sys.stderr.write('Not a Debian system: install the packages bindep.txt lists for your platform yourself '
                         '(`bindep -b ' + argv[0] + '` lists the missing ones). Continuing.\n')
        return 0
    with open(BINDEP, encoding='utf-8') as handle:
        wanted = dpkg_packages(handle.read(), argv[0])
    if needs_venv_package():
        wanted.append('python3-venv')
    missing = [name for name in wanted if not installed(name)]
    if not missing:
        return 0
    command = ['apt-get', 'install', '-y'] + missing
    if os.geteuid() != 0:
        sys.stderr.write(f'Missing Debian packages: {" ".join(missing)}. Install them, then run make again:\n'
                         f'    sudo {" ".join(command)}\n')
        return 1
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    print(f'Installing Debian packages: {" ".join(missing)}', flush=True)
    # A fresh machine has no package lists yet; without them apt-get cannot find anything.
    if subprocess.run(['apt-get', 'update'], env=env, check=False).returncode != 0 or \
            subprocess.run(command, env=env, check=False).returncode != 0:
        sys.stderr.write(f'apt-get failed to install {" ".join(missing)}; see its output above.\n')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
