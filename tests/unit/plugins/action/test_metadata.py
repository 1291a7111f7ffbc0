"""``airgap.wsus.metadata``: export and import decisions, against a fake WSUS host with a file system.

The fake host runs each job step when the job starts: ``WsusUtil.exe`` through a function of
the test (what it writes, its exit code, its log and console text), and ``cmd.exe /c move``
by moving the file in the fake file system. Time is fake too, so timeouts cost nothing.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.airgap.wsus.plugins.action import metadata
from ansible_collections.airgap.wsus.plugins.modules import metadata as doc
from ansible_collections.airgap.wsus.plugins.plugin_utils import _cmdline, _jobs, _metadata, _winpath, _wsusutil
from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils.doc_argspec import assert_doc_matches_spec

PACKAGE = 'E:\\transfer\\export.xml.gz'
STAGING = 'E:\\transfer\\export.partial.xml.gz'
WORK = 'C:\\ProgramData\\airgap.wsus'
GOOD = gzip.compress(b'<ExportPackage>' + b'<update/>' * 500 + b'</ExportPackage>')
LOG_OK = '2026-11-25 12:00:00.000 UTC\tInfo\tWsusUtil.exe\tSuccessfully exported 200 update revisions.\r\n'
ARGS = {'work_dir': WORK, 'poll_interval': 30}
SHA = hashlib.sha256(GOOD).hexdigest()


def wsusutil_ok(host, argv):
    """WsusUtil as it behaves when all is well: writes the package (export), logs success."""
    if argv[0] == 'export':
        host.files[_winpath.fold(argv[1])] = GOOD
        return 0, LOG_OK, 'Successfully exported the update metadata.\r\n'
    if argv[0] == 'import':
        host.imported.append(argv[1])
        return 0, LOG_OK.replace('exported', 'imported'), 'Successfully imported the update metadata.\r\n'
    host.resets += 1
    return 0, '', 'Content reset started.\r\n'


class FakeHost:
    """A WSUS host answering the host scripts the metadata action sends."""

    transport = 'winrm'

    def __init__(self, wsusutil=wsusutil_ok, files=None, is_admin=True, replica=False, free=50 * 1024 ** 3, job_state='exited',
                 approved=None):
        self._shell = SimpleNamespace(tmpdir=None, SHELL_FAMILY='powershell')
        self.wsusutil = wsusutil
        self.files = {_winpath.fold(k): v for k, v in (files or {}).items()}
        self.folders = {_winpath.fold('E:\\transfer')}
        self.is_admin = is_admin
        self.replica = replica
        self.free = free
        self.job_state = job_state
        self.approved = approved or (lambda host: [])
        self.imported = []
        self.executed = []
        self.resets = 0
        self.jobs = {}
        self.sent = []
        self.now = 0.0

    # connection
    def exec_command(self, cmd, in_data=None, sudoable=True):
        payload = json.loads(in_data)
        self.sent.append((payload['name'], payload['params']))
        answer = getattr(self, 'op_' + payload['name'])(payload['params'])
        return 0, ('AIRGAP-WSUS-RESULT:' + json.dumps(answer)).encode(), b''

    def reset(self):
        pass

    def names(self):
        return [name for name, _params in self.sent]

    def steps_started(self):
        """Names of the steps of every job that really started (re-attaching starts nothing)."""
        return list(self.executed)

    def file(self, path):
        return self.files.get(_winpath.fold(path))

    # fake time for the job driver and the action's waits
    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds

    # host scripts
    def op_server_state(self, params):
        return {'computer_name': 'WSUS01', 'account': {'name': 'WSUS01\\admin', 'is_admin': self.is_admin},
                'registry': {'installed': True, 'content_dir': 'D:\\WSUS', 'target_dir': 'C:\\Program Files\\Update Services\\'},
                'service': {}, 'config': {'available': True, 'is_replica_server': self.replica}, 'subscription': None,
                'content_drive': {}, 'status': None}

    def op_path_info(self, params):
        out = []
        for path in params['Paths']:
            data = self.file(path)
            is_dir = _winpath.fold(path) in self.folders
            out.append({'path': path, 'exists': data is not None or is_dir, 'is_dir': is_dir,
                        'size': len(data) if data is not None else None, 'free_bytes': self.free, 'total_bytes': 2 * self.free,
                        'file_system': 'NTFS', 'drive_type': 'fixed'})
        return {'paths': out}

    def op_file_read(self, params):
        data = self.file(params['Path'])
        if data is None:
            return {'path': params['Path'], 'exists': False, 'size': None, 'content_b64': None}
        return {'path': params['Path'], 'exists': True, 'size': len(data),
                'content_b64': base64.b64encode(data[:params.get('MaxBytes', 1048576)]).decode()}

    def op_file_write(self, params):
        self.files[_winpath.fold(params['Path'])] = base64.b64decode(params['ContentB64'])
        return {'path': params['Path'], 'changed': True, 'size': 1}

    def op_file_hash(self, params):
        return {'files': [{'path': p, 'exists': True, 'size': len(self.file(p)), 'sha256': hashlib.sha256(self.file(p)).hexdigest().upper()}
                          for p in params['Paths']]}

    def op_susdb_query(self, params):
        rows = self.approved(self)
        results = {}
        for query in params['Queries']:
            if query['name'] == 'update_counts':
                missing = sum(1 for r in rows if r[5] != 1)
                results['update_counts'] = {'columns': ['Updates', 'Declined', 'Approved', 'ApprovedNotPresent', 'ApprovedUntracked'],
                                            'rows': [[10, 0, len(rows), missing, 0]]}
            elif query['name'] == 'approved_files':
                results['approved_files'] = {'columns': ['FileDigest', 'FileName', 'Size', 'IsEula', 'DesiredState', 'ActualState'],
                                             'rows': rows}
            else:
                results[query['name']] = {'columns': [], 'rows': []}
        return {'results': results, 'server': 'MICROSOFT##WID', 'database': 'SUSDB'}

    def op_job_start(self, params):
        job_id = params['JobId']
        job = self.jobs.get(job_id)
        job_dir = f'{WORK}\\jobs\\{job_id}'
        if job and not job['collected']:
            return {'job_id': job_id, 'job_dir': job_dir, 'state': job['state'], 'attached': True, 'pid': 1, 'started_at': 'x'}
        steps = []
        self.executed.extend(step['name'] for step in params['Steps'])
        for step in params['Steps']:
            if self.job_state == 'running':
                steps.append({'name': step['name'], 'state': 'running', 'exit_code': None, 'max_success_code': 0,
                              'started_at': '2026-11-25T12:00:00.000Z', 'log': '', 'stderr_tail': ''})
                break
            code, log, out = self._run(step)
            self.files[_winpath.fold(job_dir + '\\step0.out')] = out.encode()
            steps.append({'name': step['name'], 'state': 'exited', 'exit_code': code, 'max_success_code': step['max_success_code'],
                          'pid': 2, 'started_at': '2026-11-25T12:00:00.000Z', 'ended_at': '2026-11-25T12:01:30.000Z',
                          'error': None, 'log': log, 'stderr_tail': ''})
        self.jobs[job_id] = {'steps': steps, 'collected': False, 'state': self.job_state}
        return {'job_id': job_id, 'job_dir': job_dir, 'state': self.job_state, 'attached': False, 'pid': 1, 'started_at': 'x'}

    def _run(self, step):
        if step['file'].lower().endswith('cmd.exe'):
            match = re.fullmatch(r'/d /v:off /c move /y "([^"]+)" "([^"]+)"', step['arguments'])
            assert match, step['arguments']
            source, dest = match.groups()
            self.files[_winpath.fold(dest)] = self.files.pop(_winpath.fold(source))
            return 0, '', '        1 file(s) moved.\r\n'
        assert step['file'] == 'C:\\Program Files\\Update Services\\Tools\\WsusUtil.exe'
        return self.wsusutil(self, _cmdline.split_args(step['arguments']))

    def op_job_poll(self, params):
        job = self.jobs[params['JobId']]
        collected = job['collected']
        if params.get('Collect') and job['state'] != 'running':
            job['collected'] = True
        steps = [dict({k: v for k, v in s.items() if k != 'log'}, log_tail=s['log'][-params.get('TailBytes', 4096):]) for s in job['steps']]
        return {'state': job['state'], 'steps': steps, 'free_bytes': self.free, 'now': '2026-11-25T12:02:00.000Z',
                'started_at': 'x', 'ended_at': None, 'error': None, 'collected': collected}

    def op_job_cancel(self, params):
        self.jobs[params['JobId']]['state'] = 'cancelled'
        return {'state': 'cancelled', 'killed': 2}


def make_action(args, host, check_mode=False):
    task = SimpleNamespace(args=dict(ARGS, **args), async_val=0, check_mode=check_mode, action='airgap.wsus.metadata', diff=False)
    action = metadata.ActionModule(task, host, SimpleNamespace(remote_addr='wsus01'), None, None, None)
    action._load_name = 'airgap.wsus.metadata'
    action._clock = host.clock
    action._sleep = host.sleep
    action.job_driver = lambda runner=None: _jobs.JobDriver(runner, clock=host.clock, sleep=host.sleep)
    return action


def run(args, host, check_mode=False):
    return make_action(args, host, check_mode).run(task_vars={})


def export(host, **args):
    return run(dict({'state': 'exported', 'package': PACKAGE}, **args), host)


def import_(host, **args):
    return run(dict({'state': 'imported', 'package': PACKAGE}, **args), host)


def verified(sha=SHA):
    return {f'{WORK}\\state\\verified\\{sha}.json': b'{"bundle_id": "b1"}'}


# --------------------------------------------------------------------------- documentation and pure helpers

def test_documentation_matches_the_argument_spec():
    assert_doc_matches_spec(doc.DOCUMENTATION, metadata.ActionModule.ARGUMENT_SPEC)


def test_import_documents_its_own_on_timeout_default():
    options = yaml.safe_load(doc.DOCUMENTATION)['options']
    assert 'half-imported' in ' '.join(options['on_timeout']['description'])
    assert 'default' not in metadata.ActionModule.ARGUMENT_SPEC['on_timeout']


def test_staging_and_rename():
    assert _metadata.staging_path(PACKAGE) == STAGING
    assert _metadata.staging_path('\\\\srv\\drop\\Meta.CAB') == '\\\\srv\\drop\\Meta.partial.CAB'
    step = _metadata.move_step(STAGING, PACKAGE, _metadata.cmd_path())
    assert step.file == 'C:\\Windows\\System32\\cmd.exe' and step.max_success_code == 0
    assert step.arguments == f'/d /v:off /c move /y "{STAGING}" "{PACKAGE}"'
    with pytest.raises(_metadata.MetadataError, match='expands even inside quotes'):
        _metadata.check_renamable('E:\\100%USERPROFILE%\\export.xml.gz', 'package')
    assert _metadata.move_step('E:\\a & b\\x.xml.gz', 'E:\\a & b\\y.xml.gz', 'C:\\cmd.exe').arguments.endswith('"E:\\a & b\\y.xml.gz"')


def test_paths_are_checked():
    assert _metadata.log_path_for(PACKAGE, None) == PACKAGE + '.log'
    with pytest.raises(_metadata.MetadataError, match='another file'):
        _metadata.log_path_for(PACKAGE, 'e:/transfer/EXPORT.xml.gz')
    with pytest.raises(_metadata.MetadataError, match='must end with .xml.gz'):
        _metadata.package_path('E:\\transfer\\export.zip')
    assert _metadata.verified_record_path(WORK, 'ABCD') == WORK + '\\state\\verified\\abcd.json'


def test_records_survive_damage():
    assert _metadata.parse_records(None, 'imports') == ({}, None)
    entries, warning = _metadata.parse_records(b'{not json', 'imports')
    assert entries == {} and 'damaged' in warning
    assert 'unknown format' in _metadata.parse_records(b'{"schema": "other"}', 'exports')[1]
    data = _metadata.render_records({'abc': {'imported_at': 'x'}}, 'imports')
    assert _metadata.parse_records(data, 'imports') == ({'abc': {'imported_at': 'x'}}, None)


def test_export_freshness():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    entry = {'exported_at': '2026-11-25T11:30:00Z', 'size': 10, 'sha256': 'ab'}
    assert _metadata.export_is_fresh(entry, 3600, 10, 'AB', now)[0]
    assert not _metadata.export_is_fresh(entry, 1800, 10, 'ab', now)[0]
    assert 'changed' in _metadata.export_is_fresh(entry, 3600, 11, 'ab', now)[1]
    assert 'changed' in _metadata.export_is_fresh(entry, 3600, 10, 'cd', now)[1]
    assert not _metadata.export_is_fresh(None, 3600, 10, 'ab', now)[0]
    assert not _metadata.export_is_fresh(entry, 3600, 10, 'ab', now - timedelta(hours=2))[0]   # a clock set back


def test_order_guard():
    assert _metadata.order_guard(True, False, False, 'AB', 'r').error is None
    assert _metadata.order_guard(False, True, False, 'AB', 'r').error is None
    forced = _metadata.order_guard(False, False, True, 'AB', 'r')
    assert forced.error is None and 'failed downloads' in forced.warning
    refused = _metadata.order_guard(False, False, False, 'AB', 'C:\\x\\ab.json')
    assert 'refusing to import' in refused.error and 'C:\\x\\ab.json' in refused.error and 'content_verified' in refused.error


def test_files_on_disk_wait_for_verification_and_absent_ones_are_missing():
    files = [{'relpath': '0A\\A.cab', 'size': 5, 'tracked': True, 'desired_state': 1, 'present': False},
             {'relpath': '0B\\B.cab', 'size': 6, 'tracked': True, 'desired_state': 1, 'present': False},
             {'relpath': '0C\\C.cab', 'size': 7, 'tracked': True, 'desired_state': 1, 'present': False}]
    infos = [{'exists': True, 'size': 5}, {'exists': False}, {'exists': True, 'size': 1}]
    waiting, missing = _metadata.split_waiting(files, infos)
    assert [f['relpath'] for f in waiting] == ['0A\\A.cab']
    assert _metadata.missing_entries(missing) == [{'path': '0B/B.cab', 'size': 6}, {'path': '0C/C.cab', 'size': 7}]


# --------------------------------------------------------------------------- checks before WsusUtil

def test_a_non_administrator_is_refused_before_anything_runs():
    host = FakeHost(is_admin=False)
    result = export(host)
    assert result['failed'] and 'not a member of the local Administrators group' in result['msg']
    assert 'WSUS01\\admin' in result['msg'] and host.names() == ['server_state']


def test_a_replica_cannot_import():
    result = import_(FakeHost(replica=True, files={PACKAGE: GOOD, **verified()}))
    assert result['failed'] and 'replica' in result['msg'] and 'turn replica mode off' in result['msg']


def test_export_needs_free_space():
    host = FakeHost(free=10 * 1024 ** 2)
    result = export(host)
    assert result['failed'] and 'min_free_bytes' in result['msg'] and host.steps_started() == []


@pytest.mark.parametrize('args, message', [
    ({'package': 'E:\\transfer\\100%\\x.xml.gz'}, 'expands even inside quotes'),
    ({'package': 'export.xml.gz'}, 'relative path'),
    ({'force': True}, 'force applies to state=imported only'),
    ({'max_age': -1}, 'max_age must be 0'),
    ({'work_dir': 'C:\\jobs+logs'}, 'may hold only letters'),
])
def test_bad_export_requests(args, message):
    host = FakeHost()
    result = export(host, **args)
    assert result['failed'] and message in result['msg'] and host.sent == []


# --------------------------------------------------------------------------- export

def test_export_writes_a_staging_package_then_renames_it():
    host = FakeHost(files={PACKAGE: b'old package'})
    result = export(host)
    assert not result['failed'] and result['changed'] and result['rc'] == 0
    assert host.steps_started() == ['export', 'rename']
    assert host.file(PACKAGE) == GOOD and host.file(STAGING) is None
    assert result['sha256'] == SHA and result['size'] == len(GOOD) and result['log_path'] == PACKAGE + '.log'
    assert result['log_tail'] == [LOG_OK.strip()] and result['duration'] == 90.0
    record = json.loads(host.file(f'{WORK}\\state\\exports.json'))
    assert record['entries'][_winpath.fold(PACKAGE)]['sha256'] == SHA
    export_args = [p for n, p in host.sent if n == 'job_start'][0]['Steps'][0]['arguments']
    assert _cmdline.split_args(export_args) == ['export', STAGING, PACKAGE + '.log']


def test_an_empty_package_after_exit_code_0_fails_and_keeps_the_previous_package():
    def empty(host, argv):
        host.files[_winpath.fold(argv[1])] = b''
        return 0, LOG_OK, ''
    host = FakeHost(wsusutil=empty, files={PACKAGE: b'previous good package'})
    result = export(host)
    assert result['failed'] and f'WsusUtil exited 0 but the package {STAGING} is empty' in result['msg']
    assert 'The previous package' in result['msg'] and host.file(PACKAGE) == b'previous good package'
    assert host.steps_started() == ['export']


def test_a_package_that_is_not_gzip_fails():
    def junk(host, argv):
        host.files[_winpath.fold(argv[1])] = b'<html>proxy error page</html>'
        return 0, LOG_OK, ''
    result = export(FakeHost(wsusutil=junk))
    assert result['failed'] and 'neither gzip' in result['msg']


def test_a_failed_export_reports_the_log_tail_and_keeps_the_previous_package():
    def fails(host, argv):
        host.files[_winpath.fold(argv[1])] = GOOD[:40]
        return 1, ('Info\tExported 100 of 200 update revisions.\r\nError\tFatal error: Export failed: '
                   'System.Data.SqlClient.SqlException: Timeout expired.\r\n'), 'Export failed.\r\n'
    host = FakeHost(wsusutil=fails, files={PACKAGE: b'previous'})
    result = export(host)
    assert result['failed'] and result['rc'] == 1
    assert 'WsusUtil exited with code 1' in result['msg'] and 'Timeout expired' in result['msg']
    assert 'a SUSDB command timed out' in result['msg'] and 'left as it was' in result['msg']
    assert host.file(PACKAGE) == b'previous' and host.steps_started() == ['export']


def test_max_age_skips_a_recent_unchanged_export():
    host = FakeHost()
    assert export(host)['changed']
    again = export(host, max_age=3600)
    assert again['changed'] is False and 'less than max_age' in again['skipped_reason'] and again['sha256'] == SHA
    assert host.steps_started() == ['export', 'rename']
    host.files[_winpath.fold(PACKAGE)] = GOOD + b'tampered'
    assert export(host, max_age=3600)['changed'] and host.steps_started().count('export') == 2


def test_export_check_mode_runs_no_job():
    host = FakeHost()
    result = run({'state': 'exported', 'package': PACKAGE}, host, check_mode=True)
    assert result['changed'] and 'would export' in result['msg'] and host.steps_started() == []


def test_export_timeout_cancels_by_default():
    host = FakeHost(job_state='running')
    result = export(host, timeout=60)
    assert result['failed'] and 'cancelled' in result['msg'] and 'job_cancel' in host.names()


# --------------------------------------------------------------------------- import

def test_import_is_refused_before_the_content_is_verified():
    host = FakeHost(files={PACKAGE: GOOD})
    result = import_(host)
    assert result['failed'] and 'refusing to import' in result['msg'] and SHA in result['msg']
    assert host.steps_started() == [] and host.imported == []


def test_force_imports_with_a_warning():
    host = FakeHost(files={PACKAGE: GOOD})
    result = import_(host, force=True)
    assert result['changed'] and host.imported == [PACKAGE]
    assert any('not verified' in w and 'failed downloads' in w for w in result['warnings'])


@pytest.mark.parametrize('extra, args', [(verified(), {}), (verified(SHA.upper()), {}), ({}, {'content_verified': True})])
def test_verified_content_lets_the_import_run_once(extra, args):
    host = FakeHost(files={PACKAGE: GOOD, **extra})
    first = import_(host, **args)
    assert first['changed'] and not first['failed'] and first['rc'] == 0 and first['sha256'] == SHA
    # The package may be on a DVD: the import's log goes to its job folder.
    assert first['log_path'] == f'{WORK}\\jobs\\{first["job_id"]}\\wsusutil.log'
    assert 'warnings' not in first
    second = import_(host, **args)
    assert second['changed'] is False and 'already imported' in second['skipped_reason'] and host.imported == [PACKAGE]
    again = import_(host, force=True, **args)
    assert again['changed'] and any('again' in w for w in again['warnings']) and host.imported == [PACKAGE, PACKAGE]


def test_a_failed_import_shows_the_log_and_console_and_is_not_recorded():
    def fails(host, argv):
        return 1, 'Error\tFatal error: Import failed: Unexpected end of file has occurred.\r\n', 'Import failed.\r\nTry again.\r\n'
    host = FakeHost(wsusutil=fails, files={PACKAGE: GOOD, **verified()})
    result = import_(host)
    assert result['failed'] and 'Unexpected end of file' in result['msg'] and 'the package is truncated' in result['msg']
    assert 'Its console output: ' in result['msg'] and 'Try again.' in result['msg']
    assert host.file(f'{WORK}\\state\\imports.json') is None


@pytest.mark.parametrize('data, message', [(b'', 'empty'), (None, 'does not exist'), (b'PK\x03\x04' + b'x' * 40, 'neither gzip')])
def test_a_bad_package_is_refused_before_importing(data, message):
    files = verified()
    if data is not None:
        files[PACKAGE] = data
    host = FakeHost(files=files)
    result = import_(host)
    assert result['failed'] and message in result['msg'] and host.steps_started() == []


def test_import_check_mode_runs_every_check_but_no_job():
    host = FakeHost(files={PACKAGE: GOOD, **verified()})
    result = run({'state': 'imported', 'package': PACKAGE}, host, check_mode=True)
    assert result['changed'] and 'would import' in result['msg'] and host.steps_started() == []
    refused = run({'state': 'imported', 'package': PACKAGE}, FakeHost(files={PACKAGE: GOOD}), check_mode=True)
    assert refused['failed'] and 'refusing to import' in refused['msg']


def test_an_import_that_outlasts_the_timeout_is_left_running():
    host = FakeHost(files={PACKAGE: GOOD, **verified()}, job_state='running')
    result = import_(host, timeout=60)
    assert result['failed'] and 'left running' in result['msg'] and 'half-imported' in result['msg']
    assert 'job_cancel' not in host.names()
    host.job_state = 'exited'
    job = next(iter(host.jobs.values()))
    job.update(state='exited', steps=[dict(job['steps'][0], state='exited', exit_code=0, ended_at='2026-11-25T13:00:00.000Z', log=LOG_OK)])
    resumed = import_(host)
    assert resumed['changed'] and not resumed['failed'] and resumed['job_id'] == result['job_id']
    assert host.steps_started() == ['import']


def file_row(name, size, actual):
    digest = hashlib.sha1(name.encode()).hexdigest().upper()
    return [digest, name, size, False, 1, actual], f'D:\\WSUS\\WsusContent\\{digest[-2:]}\\{digest}.cab'


def test_reset_waits_for_files_on_disk_and_lists_the_missing_ones():
    ready, _p = file_row('ready.cab', 5, 1)
    verifying, on_disk = file_row('verifying.cab', 6, 2)
    absent, _q = file_row('absent.cab', 7, 2)
    polls = []

    def approved(host):
        polls.append(host.now)
        if len(polls) >= 3:        # WSUS has verified the file that is on disk
            verifying[5] = 1
        return [ready, verifying, absent]
    host = FakeHost(files={PACKAGE: GOOD, on_disk: b'x' * 6, **verified()}, approved=approved)
    result = import_(host, reset=True)
    assert result['changed'] and host.resets == 1 and host.steps_started() == ['import', 'reset']
    digest = absent[0]
    assert result['missing_files'] == [{'path': f'{digest[-2:]}/{digest}.cab', 'size': 7}]
    assert any('1 file(s) that approved updates need are missing' in w for w in result['warnings'])
    assert len(polls) == 3 and polls[1] > polls[0]


def test_reset_after_a_skipped_import_runs_only_when_files_are_needed():
    row, _path = file_row('ready.cab', 5, 1)
    host = FakeHost(files={PACKAGE: GOOD, **verified()}, approved=lambda host: [row])
    import_(host)
    result = import_(host, reset=True)
    assert result['changed'] is False and result['missing_files'] == [] and host.resets == 0
    row[5] = 2
    result = import_(host, reset=True)
    assert host.resets == 1 and len(result['missing_files']) == 1


def test_result_keys_are_documented():
    documented = set(yaml.safe_load(doc.RETURN))
    host = FakeHost(files={PACKAGE: GOOD, **verified()})
    for result in (export(FakeHost()), import_(host, reset=True), import_(host)):
        assert set(result) - documented <= {'changed', 'failed', 'msg', 'warnings'}, result


def test_wsusutil_path_comes_from_the_registry():
    assert _wsusutil.wsusutil_path('C:\\Program Files\\Update Services\\') == 'C:\\Program Files\\Update Services\\Tools\\WsusUtil.exe'
