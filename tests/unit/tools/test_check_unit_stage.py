"""The pytest stage fails on a failing test and on a run that collects nothing."""
from __future__ import annotations

from ansible_collections.airgap.wsus.tests.tools import unit_tests

from ansible_collections.airgap.wsus.tests.unit.tools._trees import CORE, context, write


def _run(root):
    # workers '0' keeps the nested pytest in one process: the point here is the exit code, not speed.
    return unit_tests.run(context(root), core=CORE, suites=('unit', 'integration'), workers='0')


def test_passing_suite_passes(tmp_path):
    write(tmp_path, 'tests/unit/test_ok.py', 'def test_ok():\n    assert 1 + 1 == 2\n')
    assert _run(tmp_path).ok


def test_planted_failing_test_fails_the_stage(tmp_path):
    write(tmp_path, 'tests/unit/test_ok.py', 'def test_ok():\n    assert True\n')
    write(tmp_path, 'tests/integration/test_planted.py', 'def test_planted():\n    assert 1 + 1 == 3\n')
    result = _run(tmp_path)
    assert not result.ok
    assert 'tests failed' in result.note


def test_no_collected_tests_fails_the_stage(tmp_path):
    write(tmp_path, 'tests/unit/helpers.py', 'X = 1\n')
    result = _run(tmp_path)
    assert not result.ok
    assert 'no tests were collected' in result.note


def test_missing_suites_fail_the_stage(tmp_path):
    assert not _run(tmp_path).ok


def test_test_files_with_the_same_name_in_two_folders_both_run(tmp_path):
    write(tmp_path, 'tests/unit/a/test_same.py', 'def test_a():\n    assert True\n')
    write(tmp_path, 'tests/unit/b/test_same.py', 'def test_b():\n    assert True\n')
    ctx = context(tmp_path)
    assert unit_tests.run(ctx, core=CORE, suites=('unit',), workers='0').ok, ctx.out.getvalue()
    assert '2 passed' in ctx.out.getvalue()
