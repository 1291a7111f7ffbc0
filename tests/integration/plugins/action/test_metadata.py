"""``airgap.wsus.metadata`` against the emulated lab: the export, copy, import cycle and its failure modes.

Both hosts download every update's files (``deferred_download: false``) and the export host
declines nothing (declines do not travel with the metadata, so the import host would want the
files of updates the export host declined and never downloaded). The export host therefore
holds all the content the import host wants, and metadata imported without its content shows
up as failed downloads in the import host's SUSDB, as on a real server.
"""
from __future__ import annotations

from ansible_collections.airgap.wsus.tests.integration import playbook as pb

PACKAGE = 'E:\\transfer\\export.xml.gz'
STAGING = 'E:\\transfer\\export.partial.xml.gz'
MEDIUM_CONTENT = 'E:\\transfer\\WsusContent'
ALL_FILES = {'wsus': {'deferred_download': False}}
EXPORT_ALL = {'wsus': {'deferred_download': False}, 'catalog': {'declined_ratio': 0}}
FAILED = 2      # tbFileOnServer.ActualState of a download that failed


def task(name, module, **options):
    lines = [f'        - name: {name}', f'          airgap.wsus.{module}:']
    options.setdefault('poll_interval', 1)
    lines += [f'            {key}: {value}' for key, value in options.items()]
    return '\n'.join(lines) + '\n'


def play(host, *tasks, ignore_errors=False):
    text = f'- hosts: {host}\n  gather_facts: false\n  tasks:\n' + ''.join(tasks)
    if ignore_errors:
        text = text.replace('\n        - name:', '\n        - ignore_errors: true\n          name:')
    return text


EXPORT_PLAY = play(pb.EXPORT, task('Stage content', 'content_sync', dest=MEDIUM_CONTENT),
                   task('Export', 'metadata', state='exported', package=PACKAGE))
COPY_IN = task('Copy content in', 'content_sync', src=MEDIUM_CONTENT)


def failed_downloads(lab, host=pb.IMPORT):
    return sorted(name for name, (_desired, actual) in lab.wsus(host).file_states().items() if actual == FAILED)


def updates_with_files(server):
    """UpdateIDs whose latest revision has content files (most of the lab's small catalog has none)."""
    return [row[0] for row in server.db.query(
        'SELECT DISTINCT u.UpdateID FROM tbUpdate u JOIN tbRevision r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1 '
        'JOIN tbFileForRevision f ON f.RevisionID = r.RevisionID ORDER BY u.UpdateID')]


def wsusutil_runs(lab, host, operation):
    procs = lab.hosts[host].host.processes.all()
    return [p for p in procs if p.name.lower() == 'wsusutil.exe' and f' {operation} ' in p.command_line.lower() + ' ']


def test_export_copy_import_gives_the_import_server_the_catalog(wsus_lab_factory):
    lab = wsus_lab_factory(export=EXPORT_ALL, import_=ALL_FILES)
    run = lab.run_playbook(EXPORT_PLAY + play(
        pb.IMPORT, COPY_IN,
        task('Import', 'metadata', state='imported', package=PACKAGE, content_verified='true', reset='true'),
        task('Import again', 'metadata', state='imported', package=PACKAGE, content_verified='true')))
    exported, imported, again = run.result('Export'), run.result('Import'), run.result('Import again')
    assert exported['changed'] and exported['rc'] == 0 and exported['size'] > 1000 and len(exported['sha256']) == 64
    assert lab.export.host.fs.read_bytes(PACKAGE)[:2] == b'\x1f\x8b' and not lab.export.host.fs.exists(STAGING)
    assert imported['changed'] and imported['rc'] == 0 and imported['sha256'] == exported['sha256']
    assert imported['missing_files'] == [] and any('Successfully imported' in line for line in imported['log_tail'])
    assert again['changed'] is False and 'already imported' in again['skipped_reason']
    assert sorted(lab.wsus(pb.IMPORT).update_ids()) == sorted(lab.wsus(pb.EXPORT).update_ids())
    assert failed_downloads(lab) == []
    assert len(wsusutil_runs(lab, pb.IMPORT, 'import')) == 1


def test_import_before_the_content_is_refused_and_force_warns(wsus_lab_factory):
    lab = wsus_lab_factory(export=EXPORT_ALL, import_=ALL_FILES)
    run = lab.run_playbook(EXPORT_PLAY + play(
        pb.IMPORT,
        task('Too early', 'metadata', state='imported', package=PACKAGE),
        task('Forced', 'metadata', state='imported', package=PACKAGE, force='true'),
        ignore_errors=True))
    refused = run.result('Too early')
    assert run.status('Too early') == 'failed' and 'refusing to import' in refused['msg'] and 'content_verified' in refused['msg']
    forced = run.result('Forced')
    assert run.status('Forced') == 'ok' and forced['changed']
    assert any('not verified' in w and 'failed downloads' in w for w in forced['warnings'])
    # What the guard protects against: the console now shows failed downloads.
    assert failed_downloads(lab)
    assert len(wsusutil_runs(lab, pb.IMPORT, 'import')) == 1

    # Copying the content in and re-checking it (reset) clears them, once updates are approved.
    server = lab.wsus(pb.IMPORT)
    for update_id in updates_with_files(server)[:5]:
        server.approve(update_id)
    run = lab.run_playbook(play(pb.IMPORT, COPY_IN, task('Recheck', 'metadata', state='imported', package=PACKAGE,
                                                         content_verified='true', reset='true')))
    recheck = run.result('Recheck')
    assert recheck['changed'] is False and recheck['missing_files'] == []
    assert len(wsusutil_runs(lab, pb.IMPORT, 'reset')) == 1
    assert failed_downloads(lab) == []


def test_a_dropped_connection_during_the_import_is_survived_without_importing_twice(wsus_lab_factory):
    lab = wsus_lab_factory(import_={'wsus': {'deferred_download': False, 'runtime_scale': 20}})
    lab.run_playbook(EXPORT_PLAY)
    lab.import_.server.faults.drop_while_process('WsusUtil.exe')
    run = lab.run_playbook(play(pb.IMPORT, task('Import', 'metadata', state='imported', package=PACKAGE,
                                                content_verified='true')))
    assert run.result('Import')['changed'] and run.result('Import')['rc'] == 0
    assert lab.import_.server.counters.snapshot()['dropped'] > 0
    assert len(wsusutil_runs(lab, pb.IMPORT, 'import')) == 1
    assert sorted(lab.wsus(pb.IMPORT).update_ids()) == sorted(lab.wsus(pb.EXPORT).update_ids())


def test_an_account_that_is_not_an_administrator_is_refused(wsus_lab):
    wsus_lab.export.host.fs.mkdir('E:\\transfer')
    run = wsus_lab.run_playbook(play(pb.EXPORT, task('Export', 'metadata', state='exported', package=PACKAGE)),
                                extra_vars=wsus_lab.credentials('operator'), expect_failure=True)
    assert run.status('Export') == 'failed'
    assert 'operator' in run.result('Export')['msg'] and 'not a member of the local Administrators group' in run.result('Export')['msg']
    assert wsusutil_runs(wsus_lab, pb.EXPORT, 'export') == []


def test_failed_exports_keep_the_previous_package(wsus_lab):
    export = play(pb.EXPORT, task('Export', 'metadata', state='exported', package=PACKAGE))
    fs, faults = wsus_lab.export.host.fs, wsus_lab.export.host.faults
    fs.mkdir('E:\\transfer')
    good = wsus_lab.run_playbook(export).result('Export')
    previous = fs.read_bytes(PACKAGE)

    faults.set('wsusutil_empty_package', True)
    run = wsus_lab.run_playbook(export, expect_failure=True)
    assert f'WsusUtil exited 0 but the package {STAGING} is empty' in run.result('Export')['msg']
    assert 'previous package' in run.result('Export')['msg'] and fs.read_bytes(PACKAGE) == previous

    faults.pop('wsusutil_empty_package')
    faults.set('wsusutil_exit_code', {'export': 3})
    run = wsus_lab.run_playbook(export, expect_failure=True)
    failed = run.result('Export')
    assert failed['rc'] == 3 and 'WsusUtil exited with code 3' in failed['msg']
    assert 'Timeout expired' in failed['msg'] and any('Export failed' in line for line in failed['log_tail'])
    assert fs.read_bytes(PACKAGE) == previous

    faults.pop('wsusutil_exit_code')
    fresh = play(pb.EXPORT, task('Export', 'metadata', state='exported', package=PACKAGE, max_age=3600))
    skipped = wsus_lab.run_playbook(fresh).result('Export')
    assert skipped['changed'] is False and skipped['sha256'] == good['sha256'] and 'max_age' in skipped['skipped_reason']
