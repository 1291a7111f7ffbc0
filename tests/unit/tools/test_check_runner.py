"""The runner runs every selected stage, even after a failure, and exits non-zero when one failed."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import time

import pytest

from ansible_collections.airgap.wsus.tests.tools import common, runner

from ansible_collections.airgap.wsus.tests.unit.tools._trees import context, write


def test_stage_selection_by_name_and_prefix():
    assert [s.name for s in runner.select(['lint', 'pssyntax'])] == ['pssyntax', 'lint']
    assert [s.name for s in runner.select(['sanity'])] == ['sanity-2.19', 'sanity-2.16']
    assert len(runner.select([])) == len(runner.STAGES)
    with pytest.raises(ValueError, match='unknown stage'):
        runner.select(['nosuchstage'])


def test_all_stages_run_and_a_failure_makes_the_exit_code_non_zero(tmp_path, capsys):
    write(tmp_path, 'meta/runtime.yml', 'action_groups:\n  wsus: []\n')
    write(tmp_path, 'plugins/modules/orphan.py', '')
    write(tmp_path, 'plugins/plugin_utils/sql/q.sql', 'SELECT 1 AS one\n')
    code = runner.main(['--root', str(tmp_path), '--only', 'meta,sql'])
    out = capsys.readouterr().out
    assert code == 1
    assert 'FAIL  meta' in out and 'PASS  sql' in out
    assert 'plugins/modules/orphan.py: module orphan is missing from action_groups.wsus' in out
    assert out.rstrip().endswith('check: 1 passed, 1 failed')


def test_unknown_stage_is_a_usage_error(tmp_path, capsys):
    assert runner.main(['--root', str(tmp_path), '--only', 'bogus']) == 2
    assert 'unknown stage' in capsys.readouterr().err


def test_crashing_stage_or_missing_tool_is_a_failure_not_a_crash(tmp_path):
    def crash(ctx):
        raise RuntimeError('boom')

    def missing(ctx):
        return ctx.tool('nope', 'ansible-test')

    ctx = context(tmp_path)
    crashed = runner.run_stage(runner.Stage('x', 'x', crash), ctx)
    assert not crashed.ok and 'RuntimeError: boom' in crashed.note
    absent = runner.run_stage(runner.Stage('y', 'y', missing), ctx)
    assert not absent.ok and 'no virtualenv for ansible-core nope' in absent.note


def test_tree_files_without_git_skip_caches(tmp_path):
    for rel in ('a.py', '.cache/venv/x.py', 'tests/output/y.txt', 'pkg/__pycache__/z.pyc', 'airgap-wsus-0.1.0.tar.gz', 'tests/unit/t.py'):
        write(tmp_path, rel, '')
    assert common.tree_files(str(tmp_path)) == ['a.py', 'tests/unit/t.py']


@pytest.mark.skipif(not shutil.which('git'), reason='git is not installed')
def test_tree_files_in_git_follow_gitignore_and_include_untracked_work(tmp_path):
    subprocess.run(['git', 'init', '-q', str(tmp_path)], check=True)
    write(tmp_path, '.gitignore', 'ignored/\n')
    write(tmp_path, 'ignored/secret.txt', '')
    write(tmp_path, 'new_module.py', '')
    write(tmp_path, '.cache/x.py', '')
    assert common.tree_files(str(tmp_path)) == ['.gitignore', 'new_module.py']


def test_pass_cache_remembers_only_passes(tmp_path):
    ctx = context(tmp_path)
    ctx.use_cache = True
    digest = common.tree_digest(str(tmp_path), [], 'v1')
    cache = common.PassCache(ctx, 'lint', digest)
    assert not cache.hit()
    cache.record(common.StageResult(ok=False))
    assert not cache.hit()
    cache.record(common.StageResult(ok=True))
    assert cache.hit()
    assert not common.PassCache(ctx, 'lint', common.tree_digest(str(tmp_path), [], 'v2')).hit()


def test_digest_changes_with_content_and_executable_bit(tmp_path):
    write(tmp_path, 'a.sh', 'echo 1\n')
    first = common.tree_digest(str(tmp_path), ['a.sh'])
    os.chmod(tmp_path / 'a.sh', 0o755)
    second = common.tree_digest(str(tmp_path), ['a.sh'])
    write(tmp_path, 'a.sh', 'echo 2\n', mode=0o755)
    assert len({first, second, common.tree_digest(str(tmp_path), ['a.sh'])}) == 3


def test_streamed_tool_output_reaches_the_console(tmp_path):
    ctx = context(tmp_path)
    assert common.run_tool(ctx, ['sh', '-c', 'echo out; echo err >&2; exit 3']) == 3
    assert isinstance(ctx.out, io.StringIO)
    assert 'out\n' in ctx.out.getvalue() and 'err\n' in ctx.out.getvalue()


def test_a_hung_tool_is_stopped_with_what_it_started(tmp_path):
    ctx = context(tmp_path)
    marker = tmp_path / 'child-still-running'
    script = f'(sleep 3; touch {marker}) & echo started; sleep 30'
    assert common.run_tool(ctx, ['sh', '-c', script], timeout=1) == 124
    assert 'started\n' in ctx.out.getvalue() and 'timed out after 1s' in ctx.out.getvalue()
    time.sleep(3)
    assert not marker.exists()
