"""Benchmark: how long one emulated WSUS host takes to start with a big catalog.

    python tests/lab/bench_startup.py                       # 20,000 updates, 5,000 files
    python tests/lab/bench_startup.py --updates 2000 --files 500 --role export --repeat 3

Builds the host the way the lab does (``lab.build_backend``: Windows host, then the WSUS
role with its SUSDB, catalog and content files) in a temporary folder, and prints the time
per phase and the catalog it made. The budget is 15 s for the default size; the exit code is
1 when a run exceeds ``--budget``. A benchmark, not a test: run it by hand or from CI.
"""
from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
import time

if __package__ in (None, ''):
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    sys.path.insert(0, os.path.dirname(_HERE))
    from lab import spec as spec_mod  # noqa: E402  # pylint: disable=import-self
    from lab.lab import build_backend  # noqa: E402
else:
    from . import spec as spec_mod
    from .lab import build_backend


def build_once(root: str, role: str, updates: int, files: int, deferred: bool) -> dict:
    """Build one host under ``root``; return timings and counts."""
    normalized = spec_mod.normalize({'hosts': [{'name': 'bench', 'role': role,
                                                'catalog': {'seed': 1, 'updates': updates, 'files': files},
                                                'wsus': {'deferred_download': deferred, 'all_languages': True}}]})
    entry = copy.deepcopy(normalized['hosts'][0])
    media = {}
    for name, settings in normalized['media'].items():
        path = os.path.join(root, 'media', name)
        os.makedirs(path, exist_ok=True)
        media[name] = dict(settings, path=path)
    shared = {'state_dir': root, 'hosts': {}, 'media': media}
    started = time.perf_counter()
    host = build_backend(entry, os.path.join(root, 'hosts', 'bench'), shared)
    elapsed = time.perf_counter() - started
    try:
        status = host.wsus.get_status()
        on_disk = sum(len(names) for _dir, _sub, names in os.walk(host.wsus.content.root))
        return {'seconds': elapsed, 'updates': status['UpdateCount'], 'file_rows': host.wsus.db.scalar('SELECT COUNT(*) FROM tbFile'),
                'content_files': on_disk, 'needing_files': status['UpdatesNeedingFilesCount']}
    finally:
        host.close()
        host.wsus.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--updates', type=int, default=20000)
    parser.add_argument('--files', type=int, default=5000, help='file references in the catalog')
    parser.add_argument('--role', choices=('export', 'import'), default='export')
    parser.add_argument('--deferred', action='store_true', help='deferred download (only approved updates have files)')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--budget', type=float, default=15.0, help='seconds a start may take')
    args = parser.parse_args(argv)
    worst = 0.0
    for run in range(args.repeat):
        root = tempfile.mkdtemp(prefix='airgap-bench-')
        try:
            result = build_once(root, args.role, args.updates, args.files, args.deferred)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        worst = max(worst, result['seconds'])
        print('run %d: %.2f s  updates=%d file_rows=%d content_files=%d needing_files=%d' % (
            run + 1, result['seconds'], result['updates'], result['file_rows'], result['content_files'], result['needing_files']))
    print('worst %.2f s (budget %.1f s): %s' % (worst, args.budget, 'ok' if worst <= args.budget else 'OVER BUDGET'))
    return 0 if worst <= args.budget else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
