"""The performance benchmark of airgap.wsus: ``make bench``, or ``.cache/venv/bin/python benchmarks/run.py [options]``.

It brings up emulated WSUS labs (tests/lab) at several scales, runs whole export -> import cycles
through the collection's playbooks, and measures what docs/performance.md states: bytes written
to the medium against the bytes of content the import server lacks, WinRM round trips per host
at 1,000 and 50,000 content files and at 2,000 and 50,000 updates, the wall time of a rerun with
nothing new, the bytes copied again after a connection drop in the middle of a copy, the
controller-side steps on a million files, and parsing a million-line robocopy log. It prints a
table (figure, goal, measured value, comparison measured in the same run) and writes
``results.json`` and ``results.md`` into the work folder (default ``.cache/bench``). Exit code 1
when a goal is missed. A benchmark, not a test: ``make test`` never runs it, and no timing
decides a test.

    --quick            small labs and a 100,000-file controller run: a smoke run of a few minutes
    --only SECTION...  bytes, roundtrips, interruption, controller, parsing (default: all)
    --repeat N         runs of each timed step; medians are quoted (default 3)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import time
import typing as t

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VENV = os.path.join(REPO, '.cache', 'venv')
REQUIRED_MODULES = ('ansible', 'winrm', 'spnego', 'yaml', 'cryptography')
SECTIONS = ('bytes', 'roundtrips', 'interruption', 'controller', 'parsing')


def say(text: str) -> None:
    print(text, flush=True)


def _missing_modules() -> list:
    missing = []
    for name in REQUIRED_MODULES:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return missing


def collections_path() -> str:
    """A folder holding ``ansible_collections/airgap/wsus`` for this checkout (``tests/tools/collection_path.py``)."""
    tests = os.path.join(REPO, 'tests')
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from tools.collection_path import collections_shim  # pylint: disable=import-error,import-outside-toplevel  # tests/ on sys.path
    return collections_shim(REPO)


def _prepare() -> str:
    """Make the collection importable; re-run under .cache/venv when this interpreter lacks the lab's libraries."""
    if _missing_modules():
        python = os.path.join(VENV, 'bin', 'python')
        if os.path.exists(python) and os.path.realpath(sys.executable) != os.path.realpath(python):
            os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])
        say(f'benchmark: {", ".join(_missing_modules())} not installed for {sys.executable}. Run `make bench`, which builds '
            '.cache/venv with everything the benchmark needs.')
        sys.exit(2)
    path = collections_path()
    if path not in sys.path:
        sys.path.insert(0, path)
    return path


def parse_args(argv: t.Optional[t.Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='benchmarks/run.py', description='Performance benchmark of airgap.wsus on the emulated lab.')
    parser.add_argument('--only', nargs='+', choices=SECTIONS, default=list(SECTIONS), metavar='SECTION',
                        help='sections to run: ' + ', '.join(SECTIONS))
    parser.add_argument('--quick', action='store_true', help='small labs and 100,000 controller files: a smoke run')
    parser.add_argument('--repeat', type=int, default=3, help='runs of each timed step (medians are quoted; default 3)')
    parser.add_argument('--files', type=int, default=None, help='content files of the controller steps (default 1,000,000)')
    parser.add_argument('--lines', type=int, default=1_000_000, help='lines of the robocopy log (default 1,000,000)')
    parser.add_argument('--work-dir', default=os.path.join(REPO, '.cache', 'bench'), help='where labs and results go (emptied first)')
    parser.add_argument('--keep', action='store_true', help='keep the labs\' folders (their logs are always kept)')
    parser.add_argument('--controller-step', help=argparse.SUPPRESS)
    parser.add_argument('--scratch', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error('--repeat must be at least 1')
    if args.files is None:
        args.files = 100_000 if args.quick else 1_000_000
    return args


def run_sections(args: argparse.Namespace, path: str) -> dict:
    from ansible_collections.airgap.wsus.benchmarks import controller, parsing, scenarios  # pylint: disable=import-outside-toplevel

    results: dict = {'started': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), 'quick': args.quick,
                     'repeat': args.repeat, 'cpus': os.cpu_count()}
    labs = os.path.join(args.work_dir, 'labs')
    if 'bytes' in args.only:
        say('bytes on the medium')
        scale = scenarios.QUICK_BYTES_SCALE if args.quick else scenarios.BYTES_SCALE
        results['bytes'] = scenarios.medium_bytes(scale, labs, path, say)
    if 'roundtrips' in args.only:
        say('round trips, at each scale')
        scales = scenarios.QUICK_SCALES if args.quick else scenarios.SCALES
        results['roundtrips'] = {name: scenarios.roundtrips(scale, labs, path, args.repeat, say) for name, scale in scales.items()}
    if 'interruption' in args.only:
        say('a connection drop in the middle of a copy')
        results['interruption'] = scenarios.interruption(labs, path, say)
    if 'controller' in args.only:
        say(f'controller-side steps on {args.files:,} files')
        results['controller_files'] = args.files
        results['controller'] = controller.measure(args.files, args.repeat, os.path.abspath(__file__), say)
    if 'parsing' in args.only:
        say('robocopy log parsing')
        results['parsing'] = parsing.measure(args.lines, max(args.repeat, 5), say)
    return results


def main(argv: t.Optional[t.Sequence[str]] = None) -> int:
    args = parse_args(argv)
    path = _prepare()
    if args.controller_step:
        from ansible_collections.airgap.wsus.benchmarks import controller  # pylint: disable=import-outside-toplevel
        print(json.dumps(controller.child(args.controller_step, args.files, args.scratch)))
        return 0
    from ansible_collections.airgap.wsus.benchmarks import report  # pylint: disable=import-outside-toplevel

    if os.path.isdir(args.work_dir):
        shutil.rmtree(args.work_dir)
    os.makedirs(args.work_dir)
    began = time.monotonic()
    say(f'airgap.wsus benchmark ({"quick" if args.quick else "full"}): {", ".join(args.only)}; work folder {args.work_dir}')
    results = run_sections(args, path)
    results['seconds'] = round(time.monotonic() - began, 1)
    table = report.rows(results)
    with open(os.path.join(args.work_dir, 'results.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
    markdown = [report.markdown_table(table)]
    for name, data in (results.get('roundtrips') or {}).items():
        markdown.append(f'\n{name} lab, incremental cycle, export host:\n\n' + report.operations_table(data['incremental']['export']))
        markdown.append(f'\n{name} lab, incremental cycle, import host:\n\n' + report.operations_table(data['incremental']['import']))
    with open(os.path.join(args.work_dir, 'results.md'), 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(markdown) + '\n')
    if not args.keep:
        # The emulated hosts' drives and databases go; each lab's playbook logs and reports stay.
        labs = os.path.join(args.work_dir, 'labs')
        for name in os.listdir(labs) if os.path.isdir(labs) else []:
            shutil.rmtree(os.path.join(labs, name, 'lab'), ignore_errors=True)
    say('')
    say(report.text_table(table))
    missed = [row for row in table if row.met is False]
    say(f'\n{len(table)} figures, {len(missed)} goal(s) missed; {results["seconds"]:.0f} s. Results: '
        f'{os.path.join(args.work_dir, "results.json")} and results.md')
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main())
