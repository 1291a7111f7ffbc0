"""Processes of the emulated host: detached ones outlive their shell, shell-bound ones do not."""
from __future__ import annotations

import time

import pytest

from ansible_collections.airgap.wsus.tests.lab.windows.errors import WinError
from ansible_collections.airgap.wsus.tests.lab.windows.processes import NotEmulated


def _sleeper(proc) -> int:
    proc.write('started %s\n' % ' '.join(proc.argv[1:]))
    for _tick in range(30):
        proc.sleep(0.01)
    return 3


def _writer(proc) -> int:
    while True:
        proc.fs.write_bytes('D:\\tick.txt', b'x', append=True)
        proc.sleep(0.005)


def test_detached_process_outlives_the_shell_and_is_pollable(host) -> None:
    host.register_executable('C:\\Tools\\sleeper.exe', _sleeper)
    proc = host.start_process('"C:\\Tools\\sleeper.exe" one "two three"', username='Administrator',
                              stdout_path='D:\\sleeper.out')
    host.shell_closed('any-shell')
    assert proc.running and proc.detached and host.process_running('SLEEPER.EXE') and host.process_running('sleeper')
    assert proc.wait(10)
    assert (proc.exit_code, proc.state, proc.killed) == (3, 'exited', False)
    assert proc.ended_at >= proc.started_at
    assert host.fs.read_bytes('D:\\sleeper.out') == b'started one two three\r\n'
    assert host.processes.output_tail(proc.pid, 7) == 'three\r\n'
    assert not host.process_running('sleeper.exe')


def test_shell_bound_process_dies_with_its_shell(host) -> None:
    host.register_executable('C:\\Tools\\sleeper.exe', _sleeper)
    env = dict(host.environment('Administrator'), Path='C:\\Tools')
    proc = host.processes.start('sleeper.exe', shell_id='S1', env=env)
    child_of_detached = host.start_process('C:\\Tools\\sleeper.exe')
    host.shell_closed('S1')
    assert proc.wait(1) and proc.killed and proc.exit_code == 1
    assert child_of_detached.running
    assert host.process_running('sleeper.exe')       # the detached one
    host.processes.kill(child_of_detached.pid, -1)


def test_a_killed_process_stops_at_its_next_file_operation(host) -> None:
    host.register_executable('C:\\Tools\\writer.exe', _writer)
    proc = host.start_process('C:\\Tools\\writer.exe')
    time.sleep(0.05)
    assert host.processes.kill(proc.pid, -1) == [proc.pid]
    assert proc.exit_code == -1 and proc.state == 'exited'
    time.sleep(0.05)
    size = host.fs.stat('D:\\tick.txt').size
    time.sleep(0.05)
    assert host.fs.stat('D:\\tick.txt').size == size


def test_kill_tree_ends_children_first_seen(host) -> None:
    def parent(proc) -> int:
        child = proc.start_child('C:\\Tools\\sleeper.exe child')
        return proc.wait_child(child)
    host.register_executable('C:\\Tools\\sleeper.exe', _sleeper)
    host.register_executable('C:\\Tools\\parent.exe', parent)
    proc = host.start_process('C:\\Tools\\parent.exe')
    for _tick in range(100):
        if host.processes.children(proc.pid):
            break
        time.sleep(0.01)
    child = host.processes.children(proc.pid)[0]
    assert child.detached and child.ppid == proc.pid
    killed = host.processes.kill(proc.pid, 1, tree=True)
    assert set(killed) == {proc.pid, child.pid}


def test_programs_are_found_on_path_with_pathext(host) -> None:
    env = host.environment('Administrator')
    cwd = host.default_cwd('Administrator')
    assert str(host.processes.find_program('robocopy', cwd, env)) == 'C:\\Windows\\System32\\Robocopy.exe'
    assert str(host.processes.find_program('ROBOCOPY.EXE', cwd, env)) == 'C:\\Windows\\System32\\Robocopy.exe'
    assert host.fs.is_file('C:\\Windows\\System32\\Robocopy.exe')
    assert host.processes.find_program('nosuch', cwd, env) is None
    with pytest.raises(WinError) as info:
        host.start_process('C:\\nope.exe')
    assert info.value.code == 2
    host.fs.write_bytes('C:\\Tools\\real.exe', b'MZ', make_parents=True)
    with pytest.raises(NotEmulated):
        host.start_process('C:\\Tools\\real.exe')


def test_a_crashing_emulation_is_loud(host) -> None:
    def broken(proc) -> int:
        raise RuntimeError('emulation bug')
    host.register_executable('C:\\Tools\\broken.exe', broken)
    proc = host.start_process('C:\\Tools\\broken.exe', stdout_path='D:\\broken.out')
    assert proc.wait(5)
    assert proc.exit_code == -532462766
    assert b'emulation bug' in host.fs.read_bytes('D:\\broken.out')
