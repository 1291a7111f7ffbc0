"""Runs the quality gates (stages) in order, every one even after a failure, then prints a summary."""
from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
import time
import traceback
import typing as t

from . import changelog, galaxy, lint, meta_checks, pssyntax, sanity, shellcheck, sqlsyntax, unit_tests
from .common import Context, StageResult, ToolMissing

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The virtualenvs `make test` builds: the newest ansible-core in .cache/venv (it also runs the demo), the oldest supported beside it.
DEFAULT_VENVS = {'2.19': '.cache/venv', '2.16': '.cache/venv-2.16'}
SHOWN_FINDINGS = 20


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    func: t.Callable[[Context], StageResult]


STAGES = (
    Stage('meta', 'action group lists every module; artifact keeps its dependency files', meta_checks.run),
    Stage('pssyntax', 'PowerShell syntax of every .ps1 (tree-sitter)', pssyntax.run),
    Stage('sql', 'T-SQL parse of plugins/plugin_utils/sql/*.sql (sqlglot)', sqlsyntax.run),
    Stage('shellcheck', 'shellcheck of shell scripts', shellcheck.run),
    Stage('changelog', 'antsibull-changelog lint', changelog.run),
    Stage('galaxy', 'build, install, ansible-doc every module and role, documented options only', galaxy.run),
    Stage('pytest-2.19', 'pytest tests/unit tests/integration, ansible-core 2.19',
          functools.partial(unit_tests.run, core='2.19', suites=('unit', 'integration'))),
    Stage('pytest-2.16', 'pytest tests/unit, ansible-core 2.16', functools.partial(unit_tests.run, core='2.16', suites=('unit',))),
    Stage('lint', 'ansible-lint, profile production, offline', lint.run),
    Stage('sanity-2.19', 'ansible-test sanity --venv, ansible-core 2.19', functools.partial(sanity.run, core='2.19')),
    Stage('sanity-2.16', 'ansible-test sanity --venv, ansible-core 2.16', functools.partial(sanity.run, core='2.16')),
)


def select(names: list[str]) -> list[Stage]:
    """Stages named (or prefixed: ``sanity`` means both sanity stages), in run order."""
    if not names:
        return list(STAGES)
    wanted = set()
    for name in names:
        matched = [s.name for s in STAGES if s.name == name or s.name.startswith(name + '-')]
        if not matched:
            raise ValueError(f'unknown stage {name!r}; stages: {", ".join(s.name for s in STAGES)}')
        wanted.update(matched)
    return [s for s in STAGES if s.name in wanted]


def run_stage(stage: Stage, ctx: Context) -> StageResult:
    try:
        return stage.func(ctx)
    except ToolMissing as ex:
        return StageResult(ok=False, note=str(ex))
    except Exception as ex:  # pylint: disable=broad-exception-caught  # a crashing stage fails; the others still run
        ctx.say(traceback.format_exc())
        return StageResult(ok=False, note=f'stage crashed: {type(ex).__name__}: {ex}')


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='check.py', description='Run the project\'s quality gates (what `make test` runs).')
    parser.add_argument('--only', nargs='+', default=[], metavar='STAGE',
                        help='run only these stages (names, or prefixes such as "sanity"); also comma separated')
    parser.add_argument('--list', action='store_true', help='list the stages and exit')
    parser.add_argument('--no-cache', action='store_true', help='rerun sanity and lint even when the same tree passed before')
    parser.add_argument('--venv', action='append', default=[], metavar='CORE=PATH',
                        help='virtualenv for an ansible-core version, e.g. 2.16=.cache/venv-2.16')
    parser.add_argument('--root', default=REPO_ROOT, help='tree to check (default: this checkout)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        for stage in STAGES:
            print(f'{stage.name:<12} {stage.summary}')
        return 0
    try:
        stages = select([n for item in args.only for n in item.replace(',', ' ').split()])
    except ValueError as ex:
        print(f'check.py: {ex}', file=sys.stderr)
        return 2
    root = os.path.abspath(args.root)
    venvs = {core: os.path.join(root, path) for core, path in DEFAULT_VENVS.items()}
    for item in args.venv:
        core, sep, path = item.partition('=')
        if not sep or not path:
            print(f'check.py: --venv wants CORE=PATH, got {item!r}', file=sys.stderr)
            return 2
        venvs[core] = os.path.abspath(path)
    ctx = Context(root=root, venvs=venvs, cache_dir=os.path.join(root, '.cache', 'check'), use_cache=not args.no_cache)
    results = []
    for number, stage in enumerate(stages, 1):
        ctx.say(f'\n==> [{number}/{len(stages)}] {stage.name}: {stage.summary}')
        started = time.monotonic()
        result = run_stage(stage, ctx)
        elapsed = time.monotonic() - started
        for finding in result.findings:
            ctx.say(str(finding))
        ctx.say(f'<== {stage.name}: {"PASS" if result.ok else "FAIL"} in {elapsed:.1f}s {result.note}'.rstrip())
        results.append((stage, result, elapsed))
    return summarize(ctx, results)


def summarize(ctx: Context, results: list[tuple[Stage, StageResult, float]]) -> int:
    ctx.say('\n==> summary')
    for stage, result, elapsed in results:
        extra = f'{len(result.findings)} findings' if result.findings else ''
        detail = '; '.join(x for x in (extra, result.note) if x)
        ctx.say(f'{"PASS" if result.ok else "FAIL"}  {stage.name:<12} {elapsed:7.1f}s  {detail}'.rstrip())
    failed = [(stage, result) for stage, result, dummy in results if not result.ok]
    for stage, result in failed:
        for finding in result.findings[:SHOWN_FINDINGS]:
            ctx.say(f'  {stage.name}: {finding}')
        if len(result.findings) > SHOWN_FINDINGS:
            ctx.say(f'  {stage.name}: ... and {len(result.findings) - SHOWN_FINDINGS} more, listed above')
    total = sum(entry[2] for entry in results)
    ctx.say(f'total {total:.0f}s')
    ctx.say(f'check: {len(results) - len(failed)} passed, {len(failed)} failed')
    return 1 if failed else 0
