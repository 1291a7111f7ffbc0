"""The fault matrix: one test id per fault, injected through the lab, through the roles as a user runs them.

Every row proves three things:

1. the run stops with a message that names the cause and the fix (or, for a dropped link the
   collection survives, the run succeeds and says that it reconnected);
2. the state of both servers and the medium afterwards: a fault before the metadata import
   leaves the import server's catalog, WsusContent and records exactly as they were, and nothing
   verified is deleted;
3. a rerun without the fault succeeds and redoes only what the fault spoiled (robocopy copies
   only what is missing, WsusUtil does not run again for finished work).

The faulted run goes through the role. Reruns go through the modules that do the role's work
(``exports_after_fix``, ``imports_after_fix``), which is what a role rerun does after its checks,
except where the role itself is the point (parity's ``enforce``, re-attaching after a timeout).
Import-side rows start from bundles built once per session (``conftest.bundles``). Each row gets
a fresh lab. ``docs/reliability.md`` lists the rows with what the collection does about each.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import typing as t

import pytest

from ansible_collections.airgap.wsus.tests.integration import playbook as pb
from ansible_collections.airgap.wsus.tests.integration.reliability import reliability_helpers as rel
from ansible_collections.airgap.wsus.tests.integration.roles import roles_helpers as rh

B1 = 'plant-a-000001'
B1_PATH = rel.TRANSFER + '\\' + B1
EXPORTS_RECORD = rel.WORK_DIR + '\\state\\exports\\plant-a.json'
RECONNECTED = 'connection lost during'


@dataclasses.dataclass
class Context:
    """What a row needs: fresh labs, the session's bundles, the control endpoint."""

    factory: t.Callable[..., pb.WsusLab]
    bundles: t.Any
    control: t.Callable[[pb.WsusLab], t.Any]

    def import_lab(self, *names: str, import_: t.Optional[dict] = None) -> pb.WsusLab:
        """A fresh lab with bundles ``names`` (default: the full bundle) on the medium."""
        lab = self.factory(import_=import_)
        self.bundles.put(lab, *(names or (B1,)))
        return lab


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    case: str
    run: t.Callable[[Context], None]


ROWS: list = []


def row(row_id: str, case: str) -> t.Callable:
    def register(function: t.Callable[[Context], None]) -> t.Callable[[Context], None]:
        ROWS.append(Row(row_id, case, function))
        return function
    return register


@pytest.fixture(name='ctx')
def ctx_fixture(wsus_lab_factory, bundles, control) -> Context:
    return Context(wsus_lab_factory, bundles, control)


# --------------------------------------------------------------------------- shared checks

def untouched(lab: pb.WsusLab, before: dict) -> None:
    """The import server is exactly as it was: catalog, WsusContent, the collection's records."""
    after = rel.import_state(lab)
    assert after['catalog'] == before['catalog'], 'the catalog changed'
    assert after['content'] == before['content'], 'WsusContent changed'
    assert after['records'] == before['records'], 'the collection\'s records changed'


def holds(lab: pb.WsusLab, ctx: Context, name: str = B1) -> None:
    """The import server holds bundle ``name``'s catalog and every file of its content, intact."""
    assert rel.catalog(lab) == ctx.bundles.catalogs[name]
    content = rel.tree(lab, pb.IMPORT, rel.CONTENT)
    wanted = ctx.bundles.content(name)
    assert {path: content.get(path) for path in wanted} == wanted, 'WsusContent lacks files of the bundle, or holds them damaged'


def imported(lab: pb.WsusLab, ctx: Context, name: str = B1) -> dict:
    """The last import role run succeeded and the import server holds bundle ``name``; returns its report."""
    report = rel.report(lab, 'import')
    assert report['status'] == 'succeeded', report['failed_step']
    holds(lab, ctx, name)
    return report


def imports_after_fix(lab: pb.WsusLab, ctx: Context, name: str = B1, destination: str = rel.DESTINATION) -> dict:
    """With the fault gone, the next bundle under the transfer folder imports (deploy, WsusUtil import, receipt).

    Returns the deploy step's result (``would_copy`` says how many files it had to copy).
    """
    run = rel.import_with_modules(lab, rel.TRANSFER, destination=destination)
    assert run.result('Deploy 0')['already_imported'] is False and run.result('Import 0')['changed'] is True
    assert run.result('Receipt 0')['last_sequence'] == int(name.rsplit('-', 1)[1])
    holds(lab, ctx, name)
    return run.result('Deploy 0')


def rerun_changes_nothing(lab: pb.WsusLab) -> None:
    """Deploying the same bundle again finds it imported: nothing is copied or imported again, nothing changes."""
    copies, imports = len(rel.robocopy_copies(lab, pb.IMPORT)), len(rel.wsusutil_runs(lab, pb.IMPORT, 'import'))
    state = rel.import_state(lab)
    run = rel.import_with_modules(lab, rel.TRANSFER)
    assert run.result('Deploy 0')['already_imported'] is True and not any(r.changed for r in run.records)
    untouched(lab, state)
    assert len(rel.robocopy_copies(lab, pb.IMPORT)) == copies and len(rel.wsusutil_runs(lab, pb.IMPORT, 'import')) == imports


def exported(lab: pb.WsusLab) -> dict:
    """The last export role run succeeded and its bundle carries exactly the export server's content."""
    report = rel.report(lab, 'export')
    assert report['status'] == 'succeeded', report['failed_step']
    on_medium = rel.tree(lab, pb.EXPORT, report['bundle']['path'] + '\\volume-01\\WsusContent')
    assert on_medium == rel.tree(lab, pb.EXPORT, rel.CONTENT)
    return report


def exports_after_fix(lab: pb.WsusLab, reuse: bool = True) -> dict:
    """With the fault gone, the export completes (the modules' steps 2 and 3): the bundle carries the export server's content."""
    results = rel.export_with_modules(lab, reuse=reuse)
    built = results['bundle']
    assert not built.get('failed') and built['sequence'] == 1, built.get('msg')
    assert rel.tree(lab, pb.EXPORT, built['bundle_path'] + '\\volume-01\\WsusContent') == rel.tree(lab, pb.EXPORT, rel.CONTENT)
    return results


def unsealed(lab: pb.WsusLab) -> None:
    """No bundle was sealed on the medium and the export history did not advance (the next run resumes)."""
    assert not any(path.endswith('manifest.json') for path in rel.medium(lab)), 'a bundle was sealed'
    assert not os.path.exists(lab.sandbox_path(pb.EXPORT, EXPORTS_RECORD)), 'the export history advanced'


def job_ids(command_lines: list) -> list:
    """The job folder of each robocopy run (its log lives there)."""
    ids = []
    for line in command_lines:
        log = next(arg for arg in line.split() if arg.upper().startswith('/LOG'))
        ids.append(log.split('\\jobs\\')[1].split('\\')[0])
    return ids


def medium_path(lab: pb.WsusLab, *parts: str) -> str:
    return os.path.join(lab.sandbox_path(pb.IMPORT, B1_PATH), *parts)


def first_content_file(lab: pb.WsusLab) -> str:
    with open(medium_path(lab, 'volume-01', 'manifest.json'), encoding='ascii') as handle:
        return json.load(handle)['files'][0][0]


def restore(ctx: Context, lab: pb.WsusLab, relpath: str, name: str = B1, target: str = B1_PATH) -> None:
    """Put a file of a cached bundle back onto the medium, as the export side would copy it again."""
    real = os.path.join(lab.sandbox_path(pb.IMPORT, target), *relpath.split('/'))
    os.makedirs(os.path.dirname(real), exist_ok=True)
    shutil.copyfile(os.path.join(ctx.bundles.path(name), *relpath.split('/')), real)
    lab.import_.host.fs.invalidate_usage()


# --------------------------------------------------------------------------- WinRM

@row('winrm-drop-copy-to-medium', 'WinRM connection dropped during the content copy to the medium')
def _drop_copy_to_medium(ctx: Context) -> None:
    lab = ctx.factory()
    rh.synchronized_earlier(lab)
    lab.export.host.faults.slow_drive('E:', 15_000)
    lab.export.server.faults.drop_while_process('robocopy.exe')
    run = rel.run_export(lab, verbosity=2)
    assert RECONNECTED in run.stdout and 'reconnecting' in run.stdout
    assert lab.export.server.counters.snapshot()['dropped'] > 0
    report = exported(lab)
    copies = rel.robocopy_copies(lab, pb.EXPORT)
    assert len(set(job_ids(copies))) == len(copies), 'a copy job ran twice'

    lab.export.server.faults.clear()
    lab.export.host.faults.slow_drive('E:', None)
    again = exports_after_fix(lab)
    assert again['bundle']['bundle_id'] == report['bundle']['id'] and not again['bundle']['changed'] and not again['metadata']['changed']
    assert rel.robocopy_copies(lab, pb.EXPORT) == copies and len(rel.wsusutil_runs(lab, pb.EXPORT, 'export')) == 1


@row('winrm-drop-copy-into-wsuscontent', 'WinRM connection dropped during the content copy on the import side')
def _drop_copy_on_import(ctx: Context) -> None:
    lab = ctx.import_lab()
    lab.import_.host.faults.slow_drive('D:', 15_000)
    lab.import_.server.faults.drop_while_process('robocopy.exe')
    run = rel.run_import(lab, verbosity=2)
    assert RECONNECTED in run.stdout and lab.import_.server.counters.snapshot()['dropped'] > 0
    imported(lab, ctx)
    assert len(rel.robocopy_copies(lab, pb.IMPORT)) == 1 and len(rel.wsusutil_runs(lab, pb.IMPORT, 'import')) == 1
    lab.import_.server.faults.clear()
    rerun_changes_nothing(lab)


@row('winrm-drop-metadata-export', 'WinRM connection dropped during the metadata export')
def _drop_metadata_export(ctx: Context) -> None:
    lab = ctx.factory(export={'wsus': {'runtime_scale': 20}})
    rh.synchronized_earlier(lab)
    lab.export.server.faults.drop_while_process('WsusUtil.exe')
    run = rel.run_export(lab, verbosity=2)
    assert RECONNECTED in run.stdout and lab.export.server.counters.snapshot()['dropped'] > 0
    report = exported(lab)
    assert len(rel.wsusutil_runs(lab, pb.EXPORT, 'export')) == 1 and report['metadata']['exported'] is True

    lab.export.server.faults.clear()
    again = exports_after_fix(lab)
    assert again['bundle']['bundle_id'] == report['bundle']['id'] and not again['bundle']['changed'] and not again['metadata']['changed']
    assert len(rel.wsusutil_runs(lab, pb.EXPORT, 'export')) == 1


@row('winrm-drop-metadata-import', 'WinRM connection dropped during the metadata import')
def _drop_metadata_import(ctx: Context) -> None:
    lab = ctx.import_lab(import_={'wsus': {'runtime_scale': 20}})
    lab.import_.server.faults.drop_while_process('WsusUtil.exe')
    run = rel.run_import(lab, verbosity=2)
    assert RECONNECTED in run.stdout and lab.import_.server.counters.snapshot()['dropped'] > 0
    imported(lab, ctx)
    assert len(rel.wsusutil_runs(lab, pb.IMPORT, 'import')) == 1, 'WsusUtil import ran twice'
    lab.import_.server.faults.clear()
    rerun_changes_nothing(lab)


@row('winrm-drop-between-steps', 'WinRM connection dropped between steps (as step 6 begins)')
def _drop_between_steps(ctx: Context) -> None:
    lab = ctx.import_lab()
    env = rel.fault_at_task_env(ctx.control(lab), pb.IMPORT, 'Import the metadata with WsusUtil', {'drop_next': 3})
    run = rel.run_import(lab, verbosity=2, env=env)
    assert RECONNECTED in run.stdout and lab.import_.server.counters.snapshot()['dropped'] == 3
    imported(lab, ctx)
    assert len(rel.robocopy_copies(lab, pb.IMPORT)) == 1 and len(rel.wsusutil_runs(lab, pb.IMPORT, 'import')) == 1
    rerun_changes_nothing(lab)


@row('winrm-quota-exceeded', 'WinRM shell operations quota exceeded mid-run (0x803381A6)')
def _quota_exceeded(ctx: Context) -> None:
    lab = ctx.import_lab()
    task = "Copy the bundle's content into WsusContent and verify it there"
    env = rel.fault_at_task_env(ctx.control(lab), pb.IMPORT, task, {'quota_exceeded': 3})
    before = lab.import_.server.counters.snapshot()
    rel.run_import(lab, env=env)
    after = lab.import_.server.counters.snapshot()
    # Ansible's winrm plugin answers the quota fault by opening a new shell; the step goes on.
    assert after['faults'] - before['faults'] >= 3
    imported(lab, ctx)
    assert len(rel.robocopy_copies(lab, pb.IMPORT)) == 1 and len(rel.wsusutil_runs(lab, pb.IMPORT, 'import')) == 1
    rerun_changes_nothing(lab)


@row('winrm-wrong-credentials', 'wrong credentials (the password changed)')
def _wrong_credentials(ctx: Context) -> None:
    lab = ctx.import_lab()
    before = rel.import_state(lab)
    lab.import_.server.faults.reject_password(None)
    run = rel.run_import(lab, expect_failure=True)
    rel.assert_stopped(run, 'import', '1. Verify bundle', 'refused the credentials of the account Administrator',
                       'Check ansible_user and ansible_password')
    assert rel.report(lab, 'import')['failed_step']['number'] == '1'
    untouched(lab, before)
    lab.import_.server.faults.clear()
    imports_after_fix(lab, ctx)


@row('winrm-not-an-administrator', 'an account that is not a local administrator')
def _not_admin(ctx: Context) -> None:
    lab = ctx.import_lab()
    before = rel.import_state(lab)
    run = rel.run_import(lab, expect_failure=True, extra=lab.credentials('operator', pb.IMPORT))
    rel.assert_stopped(run, 'import', '2. Preflight', 'operator is not a member of the local Administrators group',
                       'Connect as an administrator')
    untouched(lab, before)
    assert rel.wsusutil_runs(lab, pb.IMPORT, 'import') == []
    imports_after_fix(lab, ctx)


# --------------------------------------------------------------------------- robocopy and full disks

@row('robocopy-rc8-locked-file', 'robocopy exit code 8: a content file locked on the export server')
def _locked_file(ctx: Context) -> None:
    lab = ctx.factory()
    rh.synchronized_earlier(lab)
    victim = sorted(rh.content(lab, pb.EXPORT))[0]
    locked = rel.CONTENT + '\\' + victim.replace('/', '\\')
    faults = lab.export.host.faults
    faults.wait_scale = 0.001
    faults.lock_file(locked)
    run = rel.run_export(lab, expect_failure=True)
    rel.assert_stopped(run, 'export', '3. Bundle', 'exit code 9', locked, 'being used by another process',
                       'stop it', 'running the task again copies only what is still missing')
    unsealed(lab)
    faults.unlock_file()
    again = exports_after_fix(lab)
    package = again['metadata']['size']
    assert again['bundle']['copy']['bytes']['copied'] == rh.content(lab, pb.EXPORT)[victim] + package, 'the rerun copied files already there'
    assert len(rel.wsusutil_runs(lab, pb.EXPORT, 'export')) == 1


@row('robocopy-rc16-access-denied', 'robocopy exit code 16: access to WsusContent denied on the import server')
def _access_denied(ctx: Context) -> None:
    lab = ctx.import_lab()
    before = rel.import_state(lab)
    lab.import_.host.faults.deny_access(rel.CONTENT)
    run = rel.run_import(lab, expect_failure=True)
    rel.assert_stopped(run, 'import', '4+5. Deploy content', 'exit code 16', 'Access is denied',
                       'run as an account that may read src and write dest')
    lab.import_.host.faults.allow_access()
    untouched(lab, before)
    deployed = imports_after_fix(lab, ctx)
    assert deployed['would_copy']['files'] == len(ctx.bundles.content(B1))


@row('disk-full-medium', 'the medium fills up while the bundle is written')
def _medium_full(ctx: Context) -> None:
    lab = ctx.factory()
    rh.synchronized_earlier(lab)
    lab.export.host.faults.wait_scale = 0.001
    lab.export.host.faults.disk_full_after('E:', 20_000)
    run = rel.run_export(lab, expect_failure=True)
    rel.assert_stopped(run, 'export', '3. Bundle', 'There is not enough space on the disk', 'free space or use a larger medium')
    unsealed(lab)
    sizes = rh.content(lab, pb.EXPORT)
    partial = rh.tree(lab, rel.TRANSFER + '\\plant-a-000001\\volume-01\\WsusContent')
    intact = {path for path, size in partial.items() if sizes.get(path) == size}
    assert intact and len(intact) < len(sizes)
    lab.export.host.faults.disk_full_after('E:', None)
    again = exports_after_fix(lab)
    missing = sum(size for path, size in sizes.items() if path not in intact)
    assert again['bundle']['copy']['bytes']['copied'] == missing + again['metadata']['size'], 'the rerun copied files already on the medium'
    assert len(rel.wsusutil_runs(lab, pb.EXPORT, 'export')) == 1


@row('disk-full-import-server', 'the import server\'s content drive fills up during the copy')
def _import_full(ctx: Context) -> None:
    lab = ctx.import_lab()
    before = rel.import_state(lab)
    lab.import_.host.faults.wait_scale = 0.001
    lab.import_.host.faults.disk_full_after('D:', 20_000)
    run = rel.run_import(lab, expect_failure=True)
    rel.assert_stopped(run, 'import', '4+5. Deploy content', 'There is not enough space on the disk', 'free space')
    after = rel.import_state(lab)
    assert after['catalog'] == before['catalog'] and after['records'] == before['records'], 'the metadata import ran'
    wanted = ctx.bundles.content(B1)
    intact = {path for path, digest in after['content'].items() if wanted.get(path) == digest}
    assert intact and len(intact) < len(wanted)
    lab.import_.host.faults.disk_full_after('D:', None)
    deployed = imports_after_fix(lab, ctx)
    assert deployed['would_copy']['files'] == len(wanted) - len(intact), 'the rerun copied files already in WsusContent'
    assert len(rel.wsusutil_runs(lab, pb.IMPORT, 'import')) == 1


# --------------------------------------------------------------------------- WsusUtil and the package

@row('wsusutil-export-exit-code', 'WsusUtil export exits non-zero')
def _export_exit_code(ctx: Context) -> None:
    lab = ctx.factory()
    lab.export.host.faults.set('wsusutil_exit_code', {'export': 2})
    run = rel.run_export(lab, expect_failure=True)
    rel.assert_stopped(run, 'export', '2. Metadata export', 'WsusUtil export failed', 'exited with code 2',
                       'Fix the cause the log names', 'run the task again')
    assert not os.path.exists(lab.sandbox_path(pb.EXPORT, rel.STAGED_PACKAGE)) and rel.medium(lab) == {}
    lab.export.host.faults.pop('wsusutil_exit_code')
    again = exports_after_fix(lab)
    assert again['metadata']['changed'] and len(rel.wsusutil_runs(lab, pb.EXPORT, 'export')) == 2


@row('wsusutil-export-empty-package', 'WsusUtil export exits 0 but leaves a zero-size package')
def _export_empty(ctx: Context) -> None:
    lab = ctx.factory()
    lab.export.host.faults.set('wsusutil_empty_package', True)
    run = rel.run_export(lab, expect_failure=True)
    rel.assert_stopped(run, 'export', '2. Metadata export', 'is empty (0 bytes)', 'then export again')
    assert not os.path.exists(lab.sandbox_path(pb.EXPORT, rel.STAGED_PACKAGE)) and rel.medium(lab) == {}
    lab.export.host.faults.pop('wsusutil_empty_package')
    again = exports_after_fix(lab)
    assert again['metadata']['size'] > 0 and len(rel.wsusutil_runs(lab, pb.EXPORT, 'export')) == 2


@row('package-truncated-on-medium', 'the metadata package truncated in transit (on the medium)')
def _package_truncated(ctx: Context) -> None:
    lab = ctx.import_lab()
    before = rel.import_state(lab)
    folder = medium_path(lab, 'volume-01', 'metadata')
    package = os.path.join(folder, os.listdir(folder)[0])
    with open(package, 'r+b') as handle:
        handle.truncate(os.path.getsize(package) // 2)
    run = rel.run_import(lab, expect_failure=True)
    rel.assert_stopped(run, 'import', '1. Verify bundle', 'metadata/airgap-wsus-export.xml.gz', 'the manifest says',
                       'Copy the named files onto the medium again')
    untouched(lab, before)
    assert rel.wsusutil_runs(lab, pb.IMPORT, 'import') == []
    restore(ctx, lab, 'volume-01/metadata/' + os.path.basename(package))
    imports_after_fix(lab, ctx)


@row('wsusutil-import-exit-code', 'WsusUtil import exits non-zero')
def _import_exit_code(ctx: Context) -> None:
    lab = ctx.import_lab()
    lab.import_.host.faults.set('wsusutil_exit_code', {'import': 1})
    run = rel.run_import(lab, expect_failure=True)
    rel.assert_stopped(run, 'import', '6. Metadata import', 'WsusUtil import failed', 'exited with code 1',
                       'the content stays in place and WsusUtil imports the whole package again')
    # Content goes in before the metadata; WsusUtil itself may have added part of the catalog.
    assert rel.tree(lab, pb.IMPORT, rel.CONTENT) == ctx.bundles.content(B1)
    assert rel.catalog(lab) < ctx.bundles.catalogs[B1]
    lab.import_.host.faults.pop('wsusutil_exit_code')
    deployed = imports_after_fix(lab, ctx)
    assert deployed['would_copy']['files'] == 0 and 'copy' not in deployed, 'the rerun copied the content again'
    assert len(rel.wsusutil_runs(lab, pb.IMPORT, 'import')) == 2 and len(rel.robocopy_copies(lab, pb.IMPORT)) == 1


# --------------------------------------------------------------------------- the medium

def refused_at_verify(ctx: Context, lab: pb.WsusLab, *needles: str, **overrides: t.Any) -> None:
    """Step 1 refuses the bundle with ``needles`` in the message and the import server stays as it was."""
    before = rel.import_state(lab)
    copies, imports = rel.robocopy_copies(lab, pb.IMPORT), rel.wsusutil_runs(lab, pb.IMPORT, 'import')
    run = rel.run_import(lab, expect_failure=True, **overrides)
    rel.assert_stopped(run, 'import', '1. Verify bundle', *needles)
    untouched(lab, before)
    assert rel.robocopy_copies(lab, pb.IMPORT) == copies and rel.wsusutil_runs(lab, pb.IMPORT, 'import') == imports


@row('medium-file-missing', 'a content file missing from the medium')
def _file_missing(ctx: Context) -> None:
    lab = ctx.import_lab()
    victim = first_content_file(lab)
    os.unlink(medium_path(lab, 'volume-01', 'WsusContent', *victim.split('/')))
    refused_at_verify(ctx, lab, victim, 'missing', 'Copy the named files onto the medium again')
    restore(ctx, lab, 'volume-01/WsusContent/' + victim)
    imports_after_fix(lab, ctx)


@row('medium-file-corrupted', 'a content file corrupted on the medium (same size, different bytes)')
def _file_corrupted(ctx: Context) -> None:
    lab = ctx.import_lab()
    victim = first_content_file(lab)
    with open(medium_path(lab, 'volume-01', 'WsusContent', *victim.split('/')), 'r+b') as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))
    refused_at_verify(ctx, lab, victim, 'sha256 differs', 'Copy the named files onto the medium again')
    restore(ctx, lab, 'volume-01/WsusContent/' + victim)
    imports_after_fix(lab, ctx)


@row('medium-manifest-edited', 'the manifest edited on the medium')
def _manifest_edited(ctx: Context) -> None:
    from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest  # pylint: disable=import-outside-toplevel

    lab = ctx.import_lab()
    path = medium_path(lab, 'volume-01', 'manifest.json')
    with open(path, encoding='ascii') as handle:
        manifest = json.load(handle)
    # A plausible forgery: one file's recorded hash replaced, everything else consistent.
    manifest['files'][0][2] = '0' * 64
    with open(path, 'wb') as handle:
        handle.write(_manifest.canonical_bytes(manifest))
    refused_at_verify(ctx, lab, 'the signature does not match', 'Do not import it; build and carry the bundle again')
    restore(ctx, lab, 'volume-01/manifest.json')
    imports_after_fix(lab, ctx)


@row('medium-signature-removed', 'the manifest\'s signature removed')
def _signature_removed(ctx: Context) -> None:
    lab = ctx.import_lab()
    os.unlink(medium_path(lab, 'volume-01', 'manifest.json.sig'))
    refused_at_verify(ctx, lab, 'the document is not signed', 'sign bundles on the export side')
    restore(ctx, lab, 'volume-01/manifest.json.sig')
    imports_after_fix(lab, ctx)


@row('medium-volume-missing', 'a volume missing from a multi-volume bundle')
def _volume_missing(ctx: Context) -> None:
    name = 'plant-v-000001'
    lab = ctx.import_lab(name)
    bundle = rel.TRANSFER + '\\' + name
    shutil.rmtree(os.path.join(lab.sandbox_path(pb.IMPORT, bundle), 'volume-02'))
    refused_at_verify(ctx, lab, 'volume 2 of', '(volume-02) is missing', 'bring every volume', import_server_destination='plant-v')
    shutil.copytree(os.path.join(ctx.bundles.path(name), 'volume-02'), os.path.join(lab.sandbox_path(pb.IMPORT, bundle), 'volume-02'))
    lab.import_.host.fs.invalidate_usage()
    imports_after_fix(lab, ctx, name, destination='plant-v')


# --------------------------------------------------------------------------- sequence

@row('sequence-replay-old-bundle', 'replay of an old bundle')
def _replay(ctx: Context) -> None:
    lab = ctx.import_lab(B1, 'plant-a-000002', 'plant-a-000003')
    rel.import_with_modules(lab, B1_PATH, rel.TRANSFER + '\\plant-a-000002')
    refused_at_verify(ctx, lab, 'sequence 1', 'sequence 2', import_server_bundle_path=B1_PATH)
    # The fix is to import the next bundle instead: the transfer folder's next one is sequence 3.
    imports_after_fix(lab, ctx, 'plant-a-000003')


@row('sequence-missing-base', 'an incremental bundle whose base never arrived')
def _missing_base(ctx: Context) -> None:
    lab = ctx.import_lab(B1, 'plant-a-000003')
    rel.import_with_modules(lab, B1_PATH)
    refused_at_verify(ctx, lab, 'sequence 3', 'never arrived', 'receipt (sequence 1)')
    ctx.bundles.put(lab, 'plant-a-000002')
    run = rel.import_with_modules(lab, rel.TRANSFER, rel.TRANSFER)
    assert [run.result(f'Receipt {index}')['last_sequence'] for index in (0, 1)] == [2, 3]
    holds(lab, ctx, 'plant-a-000003')


@row('sequence-other-destination', 'a bundle built for another destination')
def _other_destination(ctx: Context) -> None:
    lab = ctx.import_lab('plant-b-000001')
    refused_at_verify(ctx, lab, 'destination plant-b', 'this import server is destination plant-a', 'bring the bundle built for plant-a',
                      import_server_bundle_path=rel.TRANSFER + '\\plant-b-000001')
    ctx.bundles.put(lab, B1)
    imports_after_fix(lab, ctx)


# --------------------------------------------------------------------------- the servers

@row('server-import-is-replica', 'the import server is a replica')
def _replica(ctx: Context) -> None:
    lab = ctx.import_lab(import_={'wsus': {'replica': True, 'upstream': 'wsus-hq'}})
    before = rel.import_state(lab)
    run = rel.run_import(lab, expect_failure=True)
    rel.assert_stopped(run, 'import', '2. Preflight', 'is a replica server (centrally managed by wsus-hq)', 'Turn replica mode off')
    untouched(lab, before)
    config = lab.wsus(pb.IMPORT).get_configuration()
    config.is_replica_server, config.sync_from_microsoft_update = False, True
    config.save()
    imports_after_fix(lab, ctx)


@row('server-parity-mismatch', 'express files and languages differ between the servers')
def _parity(ctx: Context) -> None:
    lab = ctx.import_lab(import_={'wsus': {'languages': ['en', 'de'], 'download_express_packages': True}})
    before = rel.import_state(lab)
    run = rel.run_import(lab, expect_failure=True)
    rel.assert_stopped(run, 'import', '3. Option parity', 'express installation files', 'update languages', 'mode=enforce')
    untouched(lab, before)
    rel.run_import(lab, import_server_parity_mode='enforce')
    imported(lab, ctx)
    config = lab.wsus(pb.IMPORT).get_configuration()
    assert config.enabled_languages == ['en'] and config.download_express_packages is False


@row('server-export-downloads-pending', 'deferred download: approved updates not downloaded yet on the export server')
def _downloads_pending(ctx: Context) -> None:
    lab = ctx.factory(export={'catalog': {'pending_updates': 3}})
    run = rel.run_export(lab, expect_failure=True)
    rel.assert_stopped(run, 'export', '1. Preflight', '3 approved update(s) still need their files', 'wait for the downloads to finish')
    assert rel.medium(lab) == {} and rel.wsusutil_runs(lab, pb.EXPORT, 'export') == []
    lab.wsus(pb.EXPORT).finish_downloads()
    exports_after_fix(lab)


# --------------------------------------------------------------------------- timeouts

@row('timeout-robocopy-cancelled', 'the copy reaches timeout: robocopy is cancelled, the rerun copies the rest')
def _robocopy_timeout(ctx: Context) -> None:
    lab = ctx.import_lab()
    before = rel.import_state(lab)
    # About 11 s of copying at this speed: the 6 s timeout falls in the middle of it, however slow the steps before it are.
    lab.import_.host.faults.slow_drive('D:', 4_000)
    run = rel.run_import(lab, expect_failure=True, import_server_timeout=6)
    rel.assert_stopped(run, 'import', '4+5. Deploy content', 'did not finish within the timeout and was cancelled',
                       'raise timeout (0 means no limit) and run the task again')
    assert not lab.import_.host.process_running('robocopy.exe'), 'the cancelled copy still runs'
    after = rel.import_state(lab)
    assert after['catalog'] == before['catalog'] and after['records'] == before['records']
    wanted = ctx.bundles.content(B1)
    intact = {path for path, digest in after['content'].items() if wanted.get(path) == digest}
    assert len(intact) < len(wanted)
    lab.import_.host.faults.slow_drive('D:', None)
    deployed = imports_after_fix(lab, ctx)
    assert deployed['would_copy']['files'] == len(wanted) - len(intact), 'the rerun copied files already in WsusContent'


@row('timeout-wsusutil-import-left-running', 'the metadata import reaches timeout: WsusUtil is left running, the rerun re-attaches')
def _import_timeout(ctx: Context) -> None:
    lab = ctx.import_lab(import_={'wsus': {'runtime_scale': 40}})
    # The content goes in first (a run that stopped after step 4+5), so the timeout, which the role applies to every
    # step, meets only WsusUtil's 8 s of work.
    deployed = rel.deploy_with_module(lab)
    assert deployed['verified_record']
    run = rel.run_import(lab, expect_failure=True, import_server_timeout=4)
    rel.assert_stopped(run, 'import', '6. Metadata import', 'still running after the timeout and was left running',
                       'run the task again to re-attach', 'could leave SUSDB half-imported')
    runs = [p for p in lab.import_.host.processes.all() if p.name.lower() == 'wsusutil.exe']
    assert len(runs) == 1 and not runs[0].killed, 'WsusUtil was stopped half-way'
    rel.run_import(lab)
    imported(lab, ctx)
    assert len(rel.wsusutil_runs(lab, pb.IMPORT, 'import')) == 1, 'the rerun started a second import instead of re-attaching'


# The table is complete only here, after every row above registered itself.
@pytest.mark.parametrize('case', ROWS, ids=[r.id for r in ROWS])
def test_fault(case: Row, ctx: Context) -> None:
    """One row of the fault matrix: the message, the state afterwards, and the rerun."""
    case.run(ctx)
