"""``airgap.wsus.content_sync`` against the emulated lab: real robocopy semantics, faults and dropped links.

Every test copies the export host's ``D:\\WSUS\\WsusContent`` (the default lab's catalog: a few
dozen files in hash-named folders) and checks the result in the host's sandbox, where the
emulated drives keep their files.
"""
from __future__ import annotations

import os

from ansible_collections.airgap.wsus.tests.integration import playbook as pb

CONTENT = 'D:\\WSUS\\WsusContent'
DEST = 'E:\\transfer\\WsusContent'


def tree(lab, host, windows_path):
    """``{relative path with /: bytes}`` of a folder on an emulated host."""
    root = lab.sandbox_path(host, windows_path)
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(folder, name)
            with open(full, 'rb') as handle:
                found[os.path.relpath(full, root).replace(os.sep, '/')] = handle.read()
    return found


def copy_task(name, **options):
    lines = [f'        - name: {name}', '          airgap.wsus.content_sync:']
    options.setdefault('poll_interval', 1)
    for key, value in options.items():
        if isinstance(value, list):
            lines.append(f'            {key}:')
            lines += [f'              - {item}' for item in value]
        else:
            lines.append(f'            {key}: {value}')
    return '\n'.join(lines) + '\n'


def play(*tasks, host=pb.EXPORT):
    return f'- hosts: {host}\n  gather_facts: false\n  tasks:\n' + ''.join(tasks)


def robocopy_runs(lab, host=pb.EXPORT):
    """Command lines of the copy runs (not the /L listings) robocopy.exe made on ``host``."""
    procs = lab.hosts[host].host.processes.all()
    return [p.command_line for p in procs if p.name.lower() == 'robocopy.exe' and ' /L ' not in p.command_line + ' ']


def test_tree_copy_keeps_the_structure_and_check_mode_predicts_it(wsus_lab):
    source = tree(wsus_lab, pb.EXPORT, CONTENT)
    assert len(source) > 10 and all('/' in path for path in source)

    planned = wsus_lab.run_playbook(play(copy_task('Plan', dest=DEST)), check=True).result('Plan')
    assert not os.path.exists(wsus_lab.sandbox_path(pb.EXPORT, DEST)), 'check mode must not copy anything'
    assert planned['changed'] is True and planned['files']['copied'] == len(source)

    run = wsus_lab.run_playbook(play(copy_task('Copy', dest=DEST), copy_task('Again', dest=DEST)))
    copied, again = run.result('Copy'), run.result('Again')
    assert tree(wsus_lab, pb.EXPORT, DEST) == source
    assert copied['changed'] is True and copied['rc'] == 1 and copied['errors'] == []
    assert (copied['files']['copied'], copied['bytes']['copied']) == (planned['files']['copied'], planned['bytes']['copied'])
    assert copied['bytes']['copied'] == sum(len(data) for data in source.values())
    assert again['changed'] is False and again['rc'] == 0 and again['files']['skipped'] == len(source)
    assert len(robocopy_runs(wsus_lab)) == 1


def test_a_file_list_copies_exactly_those_files(wsus_lab):
    source = tree(wsus_lab, pb.EXPORT, CONTENT)
    wanted = sorted(source)[::7][:4]
    absent = 'FF/' + '0' * 38 + 'FF.cab'
    result = wsus_lab.run_playbook(play(copy_task('Pick', src=CONTENT, dest=DEST, files=wanted + [absent]))).result('Pick')
    assert tree(wsus_lab, pb.EXPORT, DEST) == {path: source[path] for path in wanted}
    assert result['files']['copied'] == 4 and any('1 of the 5 listed file(s) are not in' in w for w in result['warnings'])


def test_mirror_deletes_extras_and_says_so(wsus_lab):
    fs = wsus_lab.export.host.fs
    fs.write_bytes(DEST + '\\stray.tmp', b'left over', make_parents=True)
    fs.write_bytes(DEST + '\\ZZ\\old.cab', b'superseded', make_parents=True)
    result = wsus_lab.run_playbook(play(copy_task('Mirror', dest=DEST, mode='mirror'))).result('Mirror')
    assert tree(wsus_lab, pb.EXPORT, DEST) == tree(wsus_lab, pb.EXPORT, CONTENT)
    assert result['changed'] and result['files']['extras'] == 1
    assert any('deletes every file' in w for w in result['warnings'])
    assert any('deleted 1 file(s)' in w and '1 folder(s)' in w for w in result['warnings'])


def test_a_locked_file_fails_with_its_path(wsus_lab):
    source = sorted(tree(wsus_lab, pb.EXPORT, CONTENT))
    locked = CONTENT + '\\' + source[0].replace('/', '\\')
    faults = wsus_lab.export.host.faults
    faults.wait_scale = 0.01
    faults.lock_file(locked)
    run = wsus_lab.run_playbook(play(copy_task('Copy', dest=DEST, retries=1, retry_wait=1)), expect_failure=True)
    result = run.result('Copy')
    assert run.status('Copy') == 'failed' and result['rc'] & 8 and result['files']['failed'] == 1
    assert locked in result['msg'] and 'being used by another process' in result['msg']
    assert result['errors'][0]['code'] == 32 and result['errors'][0]['path'] == locked
    assert len(tree(wsus_lab, pb.EXPORT, DEST)) == len(source) - 1


def test_access_denied_is_fatal_and_names_the_folder(wsus_lab):
    wsus_lab.export.host.fs.mkdir(DEST)
    wsus_lab.export.host.faults.deny_access(DEST)
    run = wsus_lab.run_playbook(play(copy_task('Copy', dest=DEST)), expect_failure=True)
    result = run.result('Copy')
    assert run.status('Copy') == 'failed' and result['rc'] == 16
    assert DEST + '\\' in result['msg'] and 'Access is denied.' in result['msg'] and 'Access was denied' in result['msg']


def test_a_dropped_connection_during_the_copy_is_survived_without_starting_over(wsus_lab):
    handle = wsus_lab.export
    handle.host.faults.slow_drive('E:', 12_000)           # about four seconds for the catalog's files
    handle.server.faults.drop_while_process('robocopy.exe')
    result = wsus_lab.run_playbook(play(copy_task('Copy', dest=DEST))).result('Copy')
    assert result['changed'] and result['rc'] == 1
    assert tree(wsus_lab, pb.EXPORT, DEST) == tree(wsus_lab, pb.EXPORT, CONTENT)
    assert handle.server.counters.snapshot()['dropped'] > 0
    assert len(robocopy_runs(wsus_lab)) == 1


def test_a_rerun_reattaches_to_a_copy_left_running(wsus_lab):
    wsus_lab.export.host.faults.slow_drive('E:', 10_000)
    first = wsus_lab.run_playbook(play(copy_task('Copy', dest=DEST, timeout=2, on_timeout='leave')), expect_failure=True)
    assert 'left running' in first.result('Copy')['msg']
    second = wsus_lab.run_playbook(play(copy_task('Copy', dest=DEST))).result('Copy')
    assert second['changed'] and second['job_id'] == first.result('Copy')['job_id']
    assert tree(wsus_lab, pb.EXPORT, DEST) == tree(wsus_lab, pb.EXPORT, CONTENT)
    assert len(robocopy_runs(wsus_lab)) == 1
