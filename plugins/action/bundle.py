# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``airgap.wsus.bundle``: build, verify and deploy a signed transfer bundle.

The rules are the pure modules' (``_manifest``, ``_signing``, ``_delta``, ``_volumes``,
``_sequence``, ``_receipt``, ``_bundle_records``, ``_bundle_verify``); this plugin does the host
I/O around them. Round trips do not grow with the number of files: one ``content_inventory``
of WsusContent, one ``file_hash`` (parallel, on the host) and one detached robocopy job per
volume (content_sync's engine, ``_content_sync``), and a few small reads and writes.

``state: built`` (export host)
    server_state, path_info, the export history, receipts (read and verified), the plan
    (``_sequence.plan_next``, ``_delta.compute_delta``, ``_volumes.pack``), the free-space
    check, then per volume: robocopy job, file_hash, manifest + signature; the export history
    last, so a failed build never advances the baseline. A sealed bundle already at ``path``
    is left alone; an unsealed one is resumed (robocopy skips what is there). With nothing
    new, the last bundle's manifests are hashed on the host and checked against the sealed
    record (``_bundle_records``) instead of being read back: a manifest grows with the files.

``state: verified`` / ``deployed`` (import host)
    the volume folders (one path_info probe), each volume's manifest and signature (refused
    before anything else when altered, unsigned or unsafe), the volume set, the sequence
    against the import record, then presence, size and hashes per volume. ``deployed`` then
    copies each volume's files into WsusContent (robocopy job per volume, never deleting),
    checks them there and writes the verified-content record the metadata module's order
    guard reads, and the sealed record of what it deployed. Given the bundle imported last,
    its manifests are hashed on the host and checked against that record instead of read.

Hashing a volume is one ``file_hash`` call (the host hashes in parallel). A volume is bounded
by its medium, so this stays within what one WinRM command can carry; it is not run as a
detached job.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field

from ansible_collections.airgap.wsus.plugins.action.server_info import CONTENT_FOLDER, unavailable_message
from ansible_collections.airgap.wsus.plugins.plugin_utils import (_argspec, _bundle_layout, _bundle_records, _bundle_verify, _content_sync, _delta,
                                                                  _jobs, _manifest, _parity, _receipt, _robocopy, _sequence, _signing,
                                                                  _sizes, _volumes, _winpath)
from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _approvals_summary, _bundle_approvals
from ansible_collections.airgap.wsus.plugins.plugin_utils._action import AirgapWsusAction
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

MANIFEST = 'manifest.json'
SIGNATURE = 'manifest.json.sig'
METADATA_FOLDER = 'metadata'
# file_read's limit: manifests, receipts and records larger than this cannot be read from the host.
MAX_READ_BYTES = 64 * 1024 * 1024
# Volume folders looked for under a bundle folder in one path_info call; more are probed once a
# manifest says the bundle has more.
PROBED_VOLUMES = 99
HASHES = ['sha1', 'sha256']
_RECEIPT_NAME_RE = re.compile(r'receipt-([0-9]{1,9})\.json', re.IGNORECASE)

KEY_OPTIONS = {
    'key_id': {'type': 'str', 'required': True, 'no_log': False},
    'algorithm': {'type': 'str', 'choices': list(_signing.ALGORITHMS), 'required': True},
    'key': {'type': 'str', 'required': True, 'no_log': True},
}

OPTIONS = {
    'state': {'type': 'str', 'choices': ['built', 'verified', 'deployed'], 'required': True},
    'path': {'type': 'str'},
    'volumes': {'type': 'list', 'elements': 'str'},
    'destination': {'type': 'str', 'required': True},
    'package': {'type': 'str'},
    'approvals': {'type': 'str'},
    'content_dir': {'type': 'str'},
    'receipts': {'type': 'list', 'elements': 'str', 'default': []},
    'full': {'type': 'bool', 'default': False},
    'package_pending': {'type': 'bool', 'default': False},
    'volume_size': {'type': 'str'},
    'signing_key': {'type': 'dict', 'options': KEY_OPTIONS, 'no_log': False},
    'verify_keys': {'type': 'list', 'elements': 'dict', 'options': KEY_OPTIONS, 'default': [], 'no_log': False},
    'allow_unsigned': {'type': 'bool', 'default': False},
    'verify_hashes': {'type': 'bool', 'default': True},
    'threads': {'type': 'int', 'default': _robocopy.DEFAULT_THREADS},
}


class BundleRefused(AirgapWsusError):
    """The bundle must not touch the import server: altered, unsigned, unsafe, incomplete or out of order."""


def receipt_number(path: str) -> int | None:
    """The sequence in a receipt's file name as the import side writes it (``receipt-<sequence>.json``), else ``None``."""
    match = _RECEIPT_NAME_RE.fullmatch(_winpath.basename(path))
    return int(match.group(1)) if match else None


def now_text() -> str:
    """The current UTC time as manifests write it."""
    return _manifest.timestamp(datetime.datetime.now(datetime.timezone.utc))


def win_path(value: str, what: str, allow_unc: bool = True) -> str:
    """``value`` as a normalised absolute Windows path, or an error naming the option."""
    try:
        return _winpath.normalize(value, what, allow_unc=allow_unc)
    except _winpath.WinPathError as exc:
        raise AirgapWsusError(exc.message) from None


def destination_of(args: dict) -> str:
    """The ``destination`` option, checked as manifests and record file names need it."""
    try:
        destination = _bundle_records.check_destination(args['destination'])
    except (_manifest.ManifestError, _bundle_records.RecordError) as exc:
        raise AirgapWsusError(f'destination: {exc}') from None
    return destination


def load_signing_key(args: dict):
    """The signing key, loaded now so a bad key fails before any round trip; ``None`` without one."""
    spec = args.get('signing_key')
    if not spec:
        if not args.get('allow_unsigned'):
            raise AirgapWsusError('signing_key is required: the import side refuses unsigned documents. Give the key (from Ansible '
                                  'Vault), or set allow_unsigned: true for a site that does not sign yet')
        return None
    try:
        return _signing.load_key(spec, 'sign')
    except _signing.SignatureError as exc:
        raise AirgapWsusError(f'signing_key: {exc}') from None


def verify_keys_of(args: dict) -> list:
    """The verification keys, loaded now so a bad key fails before any round trip."""
    try:
        return [_signing.load_key(spec, 'verify') for spec in args.get('verify_keys') or []]
    except _signing.SignatureError as exc:
        raise AirgapWsusError(f'verify_keys: {exc}') from None


# --------------------------------------------------------------------------- host I/O helpers

def read_file(runner, path: str, what: str, max_bytes: int = MAX_READ_BYTES) -> bytes | None:
    """The bytes of file ``path`` on the host, or ``None`` when it does not exist."""
    answer = runner.run_retrying('file_read', {'Path': path, 'MaxBytes': max_bytes})
    if not answer.get('exists'):
        return None
    data = base64.b64decode(answer.get('content_b64') or '')
    size = answer.get('size')
    if isinstance(size, int) and size > len(data):
        raise AirgapWsusError(f'{what} {path} is {size} bytes, more than the {max_bytes} bytes this collection reads from a host '
                              'in one piece; it is not a file this collection wrote, or the bundle is too large for one volume: '
                              'build it again with a smaller volume_size')
    return data


def write_file(runner, path: str, data: bytes) -> bool:
    """Write ``data`` to ``path`` on the host atomically; whether the file changed."""
    return bool(runner.run_retrying('file_write', {'Path': path, 'ContentB64': base64.b64encode(data).decode('ascii')}).get('changed'))


def path_infos(runner, paths: list) -> list:
    """``path_info`` of ``paths``, in order."""
    if not paths:
        return []
    return list(runner.run_retrying('path_info', {'Paths': list(paths)})['paths'])


def hash_files(runner, paths: list) -> list:
    """SHA-1 and SHA-256 of ``paths`` (hashed on the host in parallel), as ``_bundle_verify.compare`` reads them."""
    if not paths:
        return []
    answer = runner.run_retrying('file_hash', {'Paths': list(paths), 'Algorithms': HASHES})['files']
    return [{'exists': bool(entry.get('exists')), 'size': entry.get('size'), 'sha1': entry.get('sha1'), 'sha256': entry.get('sha256'),
             'error': entry.get('error')} for entry in answer]


def read_server(runner) -> dict:
    """``server_state``, failing with the cause and the fix when the WSUS API is unavailable."""
    state = runner.run_retrying('server_state')
    if not (state.get('config') or {}).get('available'):
        raise AirgapWsusError(unavailable_message(state))
    return state


def content_folder(state: dict, args: dict) -> str:
    """``content_dir``, or the server's WsusContent folder."""
    if args.get('content_dir'):
        return win_path(args['content_dir'], 'content_dir')
    config = state.get('config') or {}
    registry = state.get('registry') or {}
    folder = config.get('local_content_cache_path')
    if not folder and registry.get('content_dir'):
        folder = registry['content_dir'].rstrip('\\') + '\\' + CONTENT_FOLDER
    if not folder:
        raise AirgapWsusError(f'the WSUS content folder of {state.get("computer_name") or "the host"} is unknown (no ContentDir in the '
                              'registry); give content_dir')
    return win_path(folder, 'the WSUS content folder')


def probe_volumes(runner, root: str, count: int = PROBED_VOLUMES) -> list:
    """The ``volume-NN`` folders under bundle folder ``root``: ``[(index, folder)]``. Fails when ``root`` is not a folder."""
    folders = [_winpath.join(root, _manifest.volume_folder(index)) for index in range(1, count + 1)]
    infos = path_infos(runner, [root] + folders)
    if not infos[0].get('exists') or not infos[0].get('is_dir'):
        what = 'is a file' if infos[0].get('exists') else 'does not exist'
        raise AirgapWsusError(f'the bundle folder {root} {what} on the host; give the folder that holds volume-01, volume-02, ...')
    return [(index, folder) for index, (folder, info) in enumerate(zip(folders, infos[1:]), start=1)
            if info.get('exists') and info.get('is_dir')]


@dataclass
class Volume:
    """One volume as read from the host: its folder, manifest, the files its name cannot vouch for, and its signature check."""

    folder: str
    manifest: dict
    unverifiable: list
    signed: bool
    warning: str | None = None
    files: list = field(default_factory=list)
    """``[name, sha256, size]`` of the manifest and signature as read (for the sealed records)."""
    key_id: str | None = None
    """The id of the key that verified the signature, when one did."""

    @property
    def label(self) -> str:
        return self.manifest['volume']['label']


def read_volume(runner, folder: str, keys, allow_unsigned: bool) -> Volume | None:
    """Read, verify and parse one volume's manifest; ``None`` when it has no manifest.

    The signature is checked on the exact bytes first; then the manifest is parsed and every
    field and path validated (a path that could leave WsusContent is refused as tampering,
    even in a correctly signed manifest). Raises :class:`BundleRefused`.
    """
    data = read_file(runner, _winpath.join(folder, MANIFEST), 'the manifest')
    if data is None:
        return None
    signature = read_file(runner, _winpath.join(folder, SIGNATURE), 'the signature', max_bytes=_signing.MAX_SIGNATURE_FILE_BYTES + 1)
    try:
        check = _signing.verify_document(data, signature, keys, allow_unsigned=allow_unsigned, what=f'manifest {folder}\\{MANIFEST}')
    except _signing.SignatureError as exc:
        raise BundleRefused(f'bundle refused: the manifest of {folder}: {exc}') from None
    try:
        manifest, unverifiable = _manifest.parse_manifest(data)
    except _manifest.ManifestError as exc:
        raise BundleRefused(f'bundle refused: {folder}\\{MANIFEST}: {exc}') from None
    files = [[MANIFEST, hashlib.sha256(data).hexdigest(), len(data)]]
    if signature is not None:
        files.append([SIGNATURE, hashlib.sha256(signature).hexdigest(), len(signature)])
    return Volume(folder, manifest, unverifiable, check['signed'], check['warning'], files, check.get('key_id'))


def read_bundle(runner, args: dict, keys, require_all: bool):
    """Every volume of the bundle (``path`` or ``volumes``), read and checked; returns ``(volumes, summary)``.

    Raises :class:`BundleRefused` for a volume without a manifest, a volume set that is mixed
    or (with ``require_all``) incomplete.
    """
    allow_unsigned = args['allow_unsigned']
    if args.get('volumes'):
        folders = [win_path(folder, f'volumes[{index}]') for index, folder in enumerate(args['volumes'])]
        infos = path_infos(runner, folders)
        for folder, info in zip(folders, infos):
            if not info.get('exists') or not info.get('is_dir'):
                raise AirgapWsusError(f'the volume folder {folder} does not exist on the host; insert the medium or correct volumes')
    else:
        root = win_path(args['path'], 'path')
        found = probe_volumes(runner, root)
        if not found:
            raise BundleRefused(f'{root} holds no volume folder (volume-01, ...): it is not a bundle, or the medium is not inserted')
        folders = [folder for _index, folder in found]
    volumes = []
    for folder in folders:
        volume = read_volume(runner, folder, keys, allow_unsigned)
        if volume is None:
            raise BundleRefused(f'bundle refused: {folder} has no {MANIFEST}; the bundle was not sealed (its build did not finish) '
                                'or the volume was damaged. Build it again on the export side')
        volumes.append(volume)
    count = volumes[0].manifest['volume']['count']
    if not args.get('volumes') and count > PROBED_VOLUMES:
        root = win_path(args['path'], 'path')
        for index, folder in probe_volumes(runner, root, count):
            if index > PROBED_VOLUMES:
                volume = read_volume(runner, folder, keys, allow_unsigned)
                if volume is None:
                    raise BundleRefused(f'bundle refused: {folder} has no {MANIFEST}; the bundle was not sealed or the volume was damaged')
                volumes.append(volume)
    try:
        summary = _bundle_verify.check_volumes([v.manifest for v in volumes], [v.folder for v in volumes], require_all=require_all)
    except _manifest.ManifestError as exc:
        raise BundleRefused(f'bundle refused: {exc}') from None
    return volumes, summary


def read_import_state(runner, work_dir: str, destination: str) -> dict | None:
    """The import host's record of its last imported bundle for ``destination``, or ``None``."""
    path = _bundle_records.import_record_path(work_dir, destination)
    data = read_file(runner, path, 'the import record', max_bytes=_bundle_records.MAX_SMALL_RECORD_BYTES)
    if data is None:
        return None
    try:
        return _bundle_records.parse_import_record(data, path)
    except _bundle_records.RecordError as exc:
        raise AirgapWsusError(exc.message) from None


def package_location(volumes, summary) -> str | None:
    """The package's path on the host (in the volume that holds it), when that volume was given."""
    for volume in volumes:
        if volume.manifest['volume']['index'] == summary['package']['volume']:
            return _winpath.join(volume.folder, summary['package']['path'].replace('/', '\\'))
    return None


def facts_of(volumes, summary) -> dict:
    """The result keys every state returns about a bundle."""
    return {
        'bundle_id': summary['bundle_id'], 'sequence': summary['sequence'], 'base': summary['base'],
        'settings': dict(summary['settings']),
        'volumes': [{'folder': v.folder, 'label': v.label, 'files': v.manifest['totals']['volume_files'],
                     'bytes': v.manifest['totals']['volume_bytes'], 'package': v.manifest['package']['volume'] == v.manifest['volume']['index']}
                    for v in sorted(volumes, key=lambda v: v.manifest['volume']['index'])],
        'package_path': package_location(volumes, summary), 'package_sha256': summary['package']['sha256'],
        **approvals_facts(volumes),
    }


def approvals_facts(volumes) -> dict:
    """``approvals`` (the manifest's section, or None) and ``approvals_path`` (the document on the host, when volume 1 was given)."""
    doc = volumes[0].manifest['approvals']
    folder = next((v.folder for v in volumes if _bundle_approvals.on_volume(v.manifest)), None)
    return {'approvals': doc, 'approvals_path': _bundle_approvals.host_path(folder, doc) if doc and folder else None}


def copy_args(args: dict, work_dir: str, files: list) -> dict:
    """The content_sync options for copying exactly ``files``: incremental, never deleting."""
    return {'mode': 'incremental', 'work_dir': work_dir, 'files': list(files), 'threads': args['threads'],
            'retries': _robocopy.DEFAULT_RETRIES, 'retry_wait': _robocopy.DEFAULT_WAIT, 'restartable': False, 'unbuffered': True}


@dataclass
class CopyRun:
    """One content_sync copy to run: its plan and job."""

    plan: _content_sync.CopyPlan
    spec: _jobs.JobSpec
    total_bytes: int | None = None


@dataclass
class Copies:
    """The outcome of all copies of a task, added up like content_sync's (``judge`` over every run's steps)."""

    steps: list = field(default_factory=list)
    jobs: list = field(default_factory=list)

    def outcome(self):
        return _content_sync.judge(self.steps) if self.steps else None

    def result(self) -> dict | None:
        outcome = self.outcome()
        if outcome is None:
            return None
        result = outcome.result_keys()
        result['job_ids'] = list(self.jobs)
        return result


class BundleAction(AirgapWsusAction):
    """Copies for the bundle action, through content_sync's engine (``_content_sync``: its plan, robocopy job and judgement)."""

    def plan_copy(self, src: str, dest: str, files: list, args: dict, work_dir: str, file_systems) -> CopyRun:
        """A content_sync copy of exactly ``files`` from ``src`` to ``dest``."""
        fft = _content_sync.fat_times('auto', file_systems)
        try:
            plan = _content_sync.make_plan(src, dest, copy_args(args, work_dir, files), fft)
        except _content_sync.ContentSyncError as exc:
            raise AirgapWsusError(exc.message) from None
        spec, _logs = _content_sync.build_job(plan, False, _robocopy.robocopy_path())
        return CopyRun(plan, spec)

    def run_copy(self, driver, run: CopyRun, args: dict, deadline: float | None, copies: Copies) -> None:
        """Run one copy job to its end (re-attaching to it when it already runs); fail on any robocopy error."""
        remaining = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AirgapWsusError('the timeout expired before every copy could start; raise timeout (0 means no limit) and run '
                                      'the task again: the copies are incremental and resume')
        job = driver.run(run.spec, timeout=remaining, poll_interval=float(args['poll_interval']), on_timeout=args['on_timeout'],
                         progress=self.show_progress, space_path=run.plan.dest, total_bytes=run.total_bytes,
                         tail_bytes=_content_sync.TAIL_BYTES)
        copies.steps.extend(job.steps)
        copies.jobs.append(run.spec.job_id)
        outcome = _content_sync.judge(job.steps)
        if not job.succeeded and (job.timed_out or job.state != 'exited' or job.error):
            raise AirgapWsusError(f'{job.summary()} (copying {run.plan.src} to {run.plan.dest})')
        if not outcome.ok:
            raise AirgapWsusError(_content_sync.failure_message(outcome, run.plan))

    @staticmethod
    def deadline(args: dict) -> float | None:
        timeout = args.get('timeout')
        return None if not timeout else time.monotonic() + float(timeout)


# --------------------------------------------------------------------------- planning (pure)

def import_bytes(files, cluster_size: int = _volumes.DEFAULT_CLUSTER_SIZE) -> int:
    """Space the content needs on the import server: each file rounded up to whole clusters."""
    return sum(-(-size // cluster_size) * cluster_size for _path, size in files)


def plan_result(basis: dict, delta: dict, packing: dict) -> dict:
    """The ``plan`` result key."""
    return {
        'basis': dict(basis), 'files': delta['count'], 'bytes': delta['bytes'], 'volumes': packing['count'],
        'medium_bytes_needed': packing['allocated'], 'import_bytes_needed': import_bytes(delta['files']),
        'held': dict(delta['held']), 'unhashed': list(delta['unhashed']), 'missing_unavailable': list(delta['missing_unavailable']),
    }


def plan_from_manifests(volumes) -> dict:
    """The ``plan`` of a bundle already sealed, recomputed from its manifests (the same estimate ``_volumes.pack`` made)."""
    first = volumes[0].manifest
    allocated = 0
    files = []
    for volume in volumes:
        entries = [(path, size) for path, size, _digest in volume.manifest['files']]
        files.extend(entries)
        has_package = volume.manifest['package']['volume'] == volume.manifest['volume']['index']
        allocated += _volumes.volume_usage(entries, first['package']['size'] if has_package else None)
    return {'basis': dict(first['basis']), 'files': first['totals']['files'], 'bytes': first['totals']['bytes'],
            'volumes': first['volume']['count'], 'medium_bytes_needed': allocated, 'import_bytes_needed': import_bytes(files),
            'held': None, 'unhashed': [], 'missing_unavailable': []}


def same_plan(summary: dict, volumes, sequence: int, base, package_sha256: str, delta: dict) -> bool:
    """Whether the sealed bundle ``summary`` is what this run would build (the same sequence, base, package and files)."""
    if summary['sequence'] != sequence or summary['base'] != base or summary['package']['sha256'] != package_sha256:
        return False
    sealed = sorted(entry[0].lower() for volume in volumes for entry in volume.manifest['files'])
    return sealed == sorted(path.lower() for path, _size in delta['files'])


def present_bytes(listing, packing: dict) -> int:
    """Bytes of planned files already in the bundle folder with the planned size (an interrupted build's work)."""
    sizes = {_winpath.fold(str(entry[0])): entry[1] for entry in listing}
    total = 0
    for volume in packing['volumes']:
        prefix = _manifest.volume_folder(volume['index']) + '\\' + CONTENT_FOLDER + '\\'
        for relpath, size in volume['files']:
            if sizes.get(_winpath.fold(prefix + relpath.replace('/', '\\'))) == size:
                total += size
    return total


class ActionModule(BundleAction):
    """Build, verify or deploy a bundle; see the module's documentation."""

    ARGUMENT_SPEC = _argspec.merge_specs(OPTIONS, _argspec.JOB_SPEC)
    REQUIRED_IF = [['state', 'built', ['path', 'package']]]
    MUTUALLY_EXCLUSIVE = [['path', 'volumes']]

    def execute(self, args: dict, task_vars: dict) -> dict:
        problems = _argspec.check_job_values(args)
        if not 1 <= args['threads'] <= 128:
            problems.append(f'threads must be between 1 and 128 (robocopy /MT), not {args["threads"]}')
        if problems:
            raise AirgapWsusError('; '.join(problems))
        destination = destination_of(args)
        try:
            work_dir = _content_sync.check_work_dir(args['work_dir'])
        except _content_sync.ContentSyncError as exc:
            raise AirgapWsusError(exc.message) from None
        if args['state'] == 'built':
            if args.get('volumes'):
                raise AirgapWsusError('volumes is for state=verified and state=deployed; with state=built give path')
            return Builder(self, args, destination, work_dir).run()
        if not args.get('path') and not args.get('volumes'):
            raise AirgapWsusError(f'state={args["state"]} needs the bundle: give path (the bundle folder) or volumes (its volume folders)')
        for option in ('package', 'approvals', 'volume_size', 'signing_key', 'package_pending'):
            if args.get(option):
                raise AirgapWsusError(f'{option} is for state=built only; on the import side give path or volumes, and verify_keys')
        return Importer(self, args, destination, work_dir).run()


# --------------------------------------------------------------------------- state: built

class Builder:
    """``state: built`` on the export host."""

    def __init__(self, action: ActionModule, args: dict, destination: str, work_dir: str) -> None:
        self.action = action
        self.args = args
        self.destination = destination
        self.work_dir = work_dir
        self.runner = action.host_runner()
        self.warnings: list = []
        self.check_mode = action.check_mode
        # The approvals document to carry (read_approvals), or None.
        self.approvals: dict | None = None

    def run(self) -> dict:
        args = self.args
        root = win_path(args['path'], 'path')
        package = win_path(args['package'], 'package')
        # A plan made before the metadata export: the content is planned, the package is not there yet.
        pending = bool(args['package_pending'])
        if pending and not self.check_mode:
            raise AirgapWsusError('package_pending is for check mode only (a plan made before the metadata export writes the package); '
                                  'export the package first (airgap.wsus.metadata state=exported) and leave package_pending out')
        signing_key = load_signing_key(args)
        keys = verify_keys_of(args)
        volume_size = None
        if args.get('volume_size'):
            try:
                volume_size = _sizes.parse_size(args['volume_size'], 'volume_size')
            except _sizes.SizeError as exc:
                raise AirgapWsusError(exc.message) from None
        package_name = _winpath.basename(package)
        package_rel = f'{METADATA_FOLDER}/{package_name}'
        try:
            _manifest.validate_content_relpath(package_rel, 'package file name')
            _robocopy.job_file_text([package_name])
        except (_manifest.ManifestError, _robocopy.RobocopyError) as exc:
            raise AirgapWsusError(f'package: {exc}; rename the package to a plain name such as export.xml.gz') from None
        if _winpath.is_within(package, root):
            raise AirgapWsusError(f'package {package} lies inside the transfer folder {root}; export the package elsewhere (it is copied in)')
        if args.get('approvals'):
            self.approvals = self.read_approvals(win_path(args['approvals'], 'approvals'))

        state = read_server(self.runner)
        config = state['config']
        settings = _parity.fingerprint(state)
        source = {'server_id': str(config.get('server_id') or ''), 'name': str(state.get('computer_name') or ''),
                  'wsus_version': str(config.get('version') or '')}
        content_dir = content_folder(state, args)
        content_info, package_info, root_info = path_infos(self.runner, [content_dir, package, root])
        if not content_info.get('exists') or not content_info.get('is_dir'):
            raise AirgapWsusError(f'the content folder {content_dir} does not exist on the host; give content_dir')
        if pending:
            package_info = {'size': 0}
            self.warnings.append(f'the plan leaves out the metadata package {package}, which the metadata export writes first: the bundle '
                                 'needs its size more on the medium (the last package is a good estimate)')
        elif not package_info.get('exists') or package_info.get('is_dir'):
            raise AirgapWsusError(f'the package {package} does not exist on the host; export it first (airgap.wsus.metadata state=exported)')
        elif not package_info.get('size'):
            raise AirgapWsusError(f'the package {package} is empty: WsusUtil failed; export it again')
        if root_info.get('exists') and not root_info.get('is_dir'):
            raise AirgapWsusError(f'path {root} is a file on the host; give the transfer folder the bundles go in')
        package_size = int(package_info['size'])

        history, sent = self.read_history()
        candidates = self.read_receipts(keys)
        set_aside: dict = {}
        while True:
            choice = _receipt.choose_newest([c for c in candidates if c['name'] not in set_aside], self.destination, keys=keys,
                                            allow_unsigned=self.args['allow_unsigned'])
            try:
                plan = _sequence.plan_next(self.destination, history, choice['receipt'], full=args['full'])
            except _sequence.SequenceError as exc:
                raise AirgapWsusError(exc.message) from None
            basis_summary = dict(plan['basis'])
            if plan['basis']['kind'] == 'receipt':
                basis = _receipt.receipt_basis(choice['receipt'], plan['basis']['reason'], choice['name'])
            elif plan['basis']['kind'] == 'previous_bundle':
                if sent is None:
                    basis_summary = {'kind': 'full', 'reason': f'no receipt from {self.destination}, and the record of what bundle '
                                                               f'{history["bundle_id"]} (sequence {history["last_sequence"]}) sent is missing '
                                                               'or damaged: every file travels'}
                    plan['base'] = 'full'
                    self.warnings.append(basis_summary['reason'])
                    basis = None
                else:
                    basis = _delta.previous_bundle_basis(sent, plan['basis']['reason'], self.sent_inventory_path(sent))
            else:
                basis = None
            delta, problem = self.content_delta(content_dir, basis)
            if problem is None:
                break
            # The digest file the basis rests on is not the one its record vouches for: plan again without it.
            if basis['kind'] == 'receipt':
                set_aside[choice['name']] = f'its inventory {basis["path"]}: {problem}'
            else:
                self.warnings.append(f'the record of what bundle {history["bundle_id"]} sent is unusable, its inventory {basis["path"]}: '
                                     f'{problem}')
                sent = None
        self.warnings += plan['warnings']
        self.warnings += [f'receipt {item["name"]} set aside: {item["reason"]}' for item in choice['rejected']]
        self.warnings += [f'receipt {name} set aside: {reason}' for name, reason in set_aside.items()]
        self.warnings += choice['warnings']
        if basis is None:
            delta['basis'] = basis_summary
        package_sha256 = None if pending else self.package_sha256(package, package_size)

        unchanged = self.unchanged_bundle(history, package_sha256, delta, signing_key, keys)
        if unchanged is not None:
            return self.finish(unchanged)
        path = _winpath.join(root, _bundle_layout.bundle_folder_name(self.destination, plan['sequence']))
        path_info = path_infos(self.runner, [path])[0]
        if path_info.get('exists') and not path_info.get('is_dir'):
            raise AirgapWsusError(f'{path} is a file on the host, where bundle sequence {plan["sequence"]} goes; move it away')
        found = probe_volumes(self.runner, path) if path_info.get('exists') else []
        existing = self.existing_bundle(found, signing_key, keys)
        if existing is not None:
            return self.sealed(existing, history, plan, basis, delta, package_sha256, package_size, path)
        try:
            packing = _volumes.pack(delta['files'], volume_size, package_size, file_system=path_info.get('file_system'),
                                    header_bytes=_volumes.MANIFEST_HEADER_BYTES + (self.approvals['space'] if self.approvals else 0))
        except _volumes.VolumeError as exc:
            raise AirgapWsusError(exc.message) from None
        result = {'changed': True, 'bundle_id': None, 'bundle_path': path, 'sequence': plan['sequence'], 'base': plan['base'], 'settings': settings,
                  'plan': plan_result(basis_summary, delta, packing), 'package_sha256': package_sha256,
                  'volumes': [{'folder': _winpath.join(path, _manifest.volume_folder(v['index'])),
                               'label': _manifest.volume_label(v['index'], packing['count']), 'files': v['file_count'], 'bytes': v['bytes'],
                               'package': v['package']} for v in packing['volumes']],
                  'package_path': _winpath.join(path, _manifest.volume_folder(packing['package_volume']), METADATA_FOLDER, package_name),
                  'approvals': self.approvals_section(), 'approvals_path': self.approvals_target(path)}
        stale = [folder for index, folder in found if index > packing['count']]
        if stale:
            self.warnings.append(f'{path} holds {", ".join(stale)} beyond this bundle\'s {packing["count"]} volume(s), left by an '
                                 'interrupted build of another plan; delete them before carrying the bundle, or the import side '
                                 'refuses it as mixed')
        already = 0
        if found:
            listing = self.runner.run_retrying('content_inventory', {'Root': path}).get('files') or []
            already = present_bytes(listing, packing)
        free = path_info.get('free_bytes')
        needed = packing['allocated'] - already
        if free is not None and needed > free:
            raise AirgapWsusError(f'the medium at {path} has {_sizes.format_size(int(free))} free, but the bundle needs about '
                                  f'{_sizes.format_size(needed)} ({delta["count"]} files, {_sizes.format_size(delta["bytes"])} of content, '
                                  f'{packing["count"]} volume(s)); nothing was written. Free space on the medium or use a larger one')
        if self.check_mode:
            result['msg'] = (f'would build bundle sequence {plan["sequence"]} for {self.destination} ({basis_summary["kind"]} basis): '
                             f'{delta["count"]} files, {_sizes.format_size(delta["bytes"])}, {packing["count"]} volume(s)'
                             + (', and the metadata package still to be exported' if pending else ''))
            return self.finish(result)

        copies = self.copy(packing, content_dir, package, path, content_info, path_info)
        entries = self.hash_copies(packing, path, package_rel, package_sha256, package_size)
        self.put_approvals(path)
        bundle_id = str(uuid.uuid4())
        created = now_text()
        package_doc = {'path': package_rel, 'size': package_size, 'sha256': package_sha256, 'volume': packing['package_volume']}
        try:
            manifests = _manifest.build_manifests(bundle_id=bundle_id, created=created, source=source, settings=settings,
                                                  destination=self.destination, sequence=plan['sequence'], base=plan['base'],
                                                  basis=basis_summary, package=package_doc, volumes=entries, approvals=self.approvals_section())
        except _manifest.ManifestError as exc:
            raise AirgapWsusError(f'the bundle could not be described: {exc}') from None
        written = []
        for volume, manifest in zip(packing['volumes'], manifests):
            folder = _winpath.join(path, _manifest.volume_folder(volume['index']))
            data = _manifest.canonical_bytes(manifest)
            signature = None
            if signing_key is not None:
                signature = _signing.signature_bytes(_signing.sign(data, signing_key))
                write_file(self.runner, _winpath.join(folder, SIGNATURE), signature)
            write_file(self.runner, _winpath.join(folder, MANIFEST), data)
            written.append((Volume(folder, manifest, [], signing_key is not None), data, signature))
        if signing_key is None:
            self.warnings.append(f'UNVERIFIED bundle: {path} was written without signatures because no signing_key was given; the import '
                                 'side accepts it only with allow_unsigned, and nothing proves it was not altered on the way')
        self.record(bundle_id, created, plan, basis, delta, package_sha256, path, basis_summary)
        self.record_sealed(bundle_id, path, written, signing_key)
        result.update(bundle_id=bundle_id, copy=copies.result(),
                      msg=f'built bundle {bundle_id} (sequence {plan["sequence"]} for {self.destination}, {basis_summary["kind"]} basis): '
                          f'{delta["count"]} files, {_sizes.format_size(delta["bytes"])}, {packing["count"]} volume(s)')
        return self.finish(result)

    def finish(self, result: dict) -> dict:
        if self.warnings:
            result['warnings'] = list(dict.fromkeys(self.warnings))
        return result

    # -- inputs

    def read_history(self):
        """The export history for the destination and the sent record that belongs to it (each ``None`` when absent)."""
        path = _bundle_records.export_history_path(self.work_dir, self.destination)
        data = read_file(self.runner, path, 'the export history', max_bytes=_bundle_records.MAX_SMALL_RECORD_BYTES)
        if data is None:
            return None, None
        try:
            history = _bundle_records.parse_export_history(data, path, self.destination)
        except _bundle_records.RecordError as exc:
            raise AirgapWsusError(exc.message) from None
        sent_path = _bundle_records.export_sent_path(self.work_dir, self.destination)
        sent_data = read_file(self.runner, sent_path, 'the sent record', max_bytes=_bundle_records.MAX_RECORD_BYTES)
        sent = None
        if sent_data is not None:
            try:
                sent = _bundle_records.parse_sent_record(sent_data, sent_path, history)
            except _bundle_records.RecordError as exc:
                self.warnings.append(exc.message)
        return history, sent

    def sent_inventory_path(self, sent: dict) -> str | None:
        """Where the digest file of a ``sha1-sorted-file`` sent record lies: beside the record."""
        if not _delta.is_file_inventory(sent):
            return None
        return _winpath.join(_winpath.parent(_bundle_records.export_sent_path(self.work_dir, self.destination)), sent['file'])

    def read_receipts(self, keys) -> list:
        """The receipts worth reading among the ``receipts`` files and folders: ``[{name, data, signature}]``.

        A folder is listed (its own files only). The files the import side names
        ``receipt-<sequence>.json`` are read newest first, and reading stops once a valid one for
        the destination is found that no remaining name can beat: a folder that collects a
        receipt per cycle costs the same few reads in its hundredth cycle as in its first. Other
        ``.json`` files are always read.
        """
        paths = [win_path(p, f'receipts[{i}]') for i, p in enumerate(self.args.get('receipts') or [])]
        candidates_paths = []
        for path, info in zip(paths, path_infos(self.runner, paths)):
            if not info.get('exists'):
                self.warnings.append(f'receipts: {path} does not exist on the host; it was skipped')
            elif info.get('is_dir'):
                listing = self.runner.run_retrying('dir_list', {'Path': path}).get('entries') or []
                names = sorted(str(entry[0]) for entry in listing if not entry[1] and str(entry[0]).lower().endswith('.json'))
                candidates_paths += [_winpath.join(path, name) for name in names]
            else:
                candidates_paths.append(path)
        numbered = sorted((item for item in candidates_paths if receipt_number(item) is not None), key=receipt_number, reverse=True)
        ordered = numbered + [item for item in candidates_paths if receipt_number(item) is None]
        candidates = []
        newest = None
        for path in ordered:
            number = receipt_number(path)
            if newest is not None and number is not None and number < newest:
                continue
            try:
                data = read_file(self.runner, path, 'the receipt')
            except AirgapWsusError as exc:
                self.warnings.append(f'receipt {path} set aside: {exc.message}')
                continue
            if data is None:
                continue
            signature = read_file(self.runner, path + '.sig', 'the receipt signature', max_bytes=_signing.MAX_SIGNATURE_FILE_BYTES + 1)
            candidate = {'name': path, 'data': data, 'signature': signature}
            candidates.append(candidate)
            found = _receipt.choose_newest([candidate], self.destination, keys=keys, allow_unsigned=self.args['allow_unsigned'])['receipt']
            if found is not None and (newest is None or found['last_sequence'] > newest):
                newest = found['last_sequence']
        return candidates

    def content_delta(self, content_dir: str, basis):
        """``(delta, None)`` for ``basis``, the host leaving out what a digest-file basis holds; ``(None, problem)`` when the
        digest file the host read is not the one the basis's record vouches for."""
        params = {'Root': content_dir}
        if basis is not None and basis.get('inventory') is not None:
            params.update(Held=[basis['path']], Include=[path.replace('/', '\\') for path in basis.get('missing') or []])
        answer = self.runner.run_retrying('content_delta', params)
        if 'Held' in params:
            problem = _delta.source_problem((answer.get('sources') or [None])[0], basis['inventory'])
            if problem is not None:
                return None, problem
        for error in answer.get('errors') or []:
            self.warnings.append(f'{error.get("path")} could not be read on the export server ({error.get("error")}); its files are not in the bundle')
        held = {'count': answer.get('held_count') or 0, 'bytes': answer.get('held_bytes') or 0}
        return _delta.compute_delta(answer.get('files') or [], basis, held=held), None

    def package_sha256(self, package: str, size: int) -> str:
        entry = hash_files(self.runner, [package])[0]
        if entry.get('error') or not entry.get('sha256'):
            raise AirgapWsusError(f'the package {package} could not be read: {entry.get("error") or "no hash"}')
        if entry.get('size') != size:
            raise AirgapWsusError(f'the package {package} changed while it was read (WsusUtil still writing it?); run the task again')
        return str(entry['sha256']).lower()

    # -- a bundle already built

    def unchanged_bundle(self, history, package_sha256: str, delta: dict, signing_key, keys) -> dict | None:
        """The last bundle built for the destination, when nothing changed since (same package, no file to send): the no-op result."""
        if history is None or history['package_sha256'] != package_sha256 or delta['count'] or delta['missing_unavailable']:
            return None
        facts = self.sealed_facts(history, signing_key)
        if facts is not None:
            if self.approvals is not None and facts['approvals'] != self.approvals_section():
                return None
            return dict(facts, changed=False, bundle_path=history['path'],
                        msg=f'nothing new for {self.destination} since bundle {facts["bundle_id"]} (sequence {facts["sequence"]}) at '
                            f'{history["path"]}: the same package and no content it lacks; no bundle was built')
        found = probe_volumes(self.runner, history['path']) if path_infos(self.runner, [history['path']])[0].get('is_dir') else []
        existing = self.existing_bundle(found, signing_key, keys)
        if existing is None or existing[1]['bundle_id'] != history['bundle_id']:
            # The medium no longer holds it (carried away, or a fresh medium): build the next one.
            return None
        if self.approvals is not None and existing[0][0].manifest['approvals'] != self.approvals_section():
            # Approvals or declines changed on their own: they travel in a bundle of their own.
            return None
        volumes, summary = existing
        facts = facts_of(volumes, summary)
        facts.update(changed=False, bundle_path=history['path'], plan=plan_from_manifests(volumes),
                     msg=f'nothing new for {self.destination} since bundle {summary["bundle_id"]} (sequence {summary["sequence"]}) at '
                         f'{history["path"]}: the same package and no content it lacks; no bundle was built')
        return facts

    def record_sealed(self, bundle_id: str, path: str, written: list, signing_key) -> None:
        """Write the sealed record (``_bundle_records``): the manifests' hashes and the facts a later no-op run returns."""
        volumes = [volume for volume, _data, _signature in written]
        try:
            summary = _manifest.check_volume_set([v.manifest for v in volumes], [v.folder for v in volumes])
        except _manifest.ManifestError:
            return
        facts = facts_of(volumes, summary)
        facts['plan'] = plan_from_manifests(volumes)
        files = []
        for volume, data, signature in written:
            folder = _manifest.volume_folder(volume.manifest['volume']['index'])
            files.append([f'{folder}\\{MANIFEST}', hashlib.sha256(data).hexdigest(), len(data)])
            if signature is not None:
                files.append([f'{folder}\\{SIGNATURE}', hashlib.sha256(signature).hexdigest(), len(signature)])
        record = _bundle_records.build_sealed_record(destination=self.destination, bundle_id=bundle_id, path=path, files=files, facts=facts)
        if signing_key is not None:
            record['signature'] = _signing.sign(_bundle_records.sealed_signed_bytes(record), signing_key)
        write_file(self.runner, _bundle_records.export_sealed_path(self.work_dir, self.destination), _bundle_records.record_bytes(record))

    def sealed_facts(self, history, signing_key) -> dict | None:
        """The facts of the last bundle from its sealed record, when its manifests on the medium are still the bytes sealed.

        One read of the record and one ``file_hash`` of the manifests, whatever the number of
        files. ``None`` (read the manifests instead) when the record is absent, damaged, for another
        bundle, not signed by ``signing_key`` (or signed when the task signs nothing), or when a
        manifest or signature on the medium differs from what was sealed.
        """
        path = _bundle_records.export_sealed_path(self.work_dir, self.destination)
        data = read_file(self.runner, path, 'the sealed record', max_bytes=_bundle_records.MAX_SMALL_RECORD_BYTES)
        record = _bundle_records.parse_sealed_record(data, path, history) if data is not None else None
        if record is None:
            return None
        if (record['signature'] is None) != (signing_key is None):
            return None
        if signing_key is not None:
            try:
                _signing.verify(_bundle_records.sealed_signed_bytes(record), record['signature'], [signing_key])
            except _signing.SignatureError:
                return None
        observed = hash_files(self.runner, [_winpath.join(history['path'], rel) for rel, _digest, _size in record['files']])
        for (_rel, digest, size), entry in zip(record['files'], observed):
            if entry.get('error') or not entry.get('exists') or entry.get('size') != size or str(entry.get('sha256') or '').lower() != digest:
                return None
        return record['facts']

    def existing_bundle(self, found, signing_key, keys):
        """The sealed bundle at ``path`` (every volume has its manifest), or ``None`` (nothing there, or an unsealed build)."""
        if not found:
            return None
        own = keys + ([signing_key] if signing_key is not None else [])
        volumes = []
        for _index, folder in found:
            try:
                volume = read_volume(self.runner, folder, own, allow_unsigned=signing_key is None or self.args['allow_unsigned'])
            except BundleRefused as exc:
                raise AirgapWsusError(f'path already holds a bundle that this task cannot trust ({exc.message}); give a new path, or '
                                      'delete that folder if it was never carried to the import side') from None
            if volume is None:
                return None
            volumes.append(volume)
        try:
            summary = _manifest.check_volume_set([v.manifest for v in volumes], [v.folder for v in volumes])
        except _manifest.ManifestError:
            return None
        return volumes, summary

    def sealed(self, existing, history, plan, basis, delta, package_sha256, package_size, path) -> dict:
        """Leave a sealed bundle alone, adopt it as this run's, or refuse to overwrite it."""
        volumes, summary = existing
        facts = facts_of(volumes, summary)
        facts['plan'] = plan_from_manifests(volumes)
        if summary['destination'] != self.destination:
            raise AirgapWsusError(f'path {path} already holds bundle {summary["bundle_id"]} for destination {summary["destination"]}; '
                                  'give a new path')
        if history is not None and summary['bundle_id'] == history['bundle_id'] and summary['package']['sha256'] == package_sha256:
            facts.update(changed=False, msg=f'{path} already holds bundle {summary["bundle_id"]} (sequence {summary["sequence"]}), '
                                            'sealed and recorded; nothing to do')
            return facts
        if history is not None and summary['bundle_id'] == history['bundle_id']:
            raise AirgapWsusError(f'path {path} holds bundle {summary["bundle_id"]} (sequence {summary["sequence"]}), built from another '
                                  'package than the one given now; give a new path for the next bundle')
        if same_plan(summary, volumes, plan['sequence'], plan['base'], package_sha256, delta) and summary['package']['size'] == package_size \
                and volumes[0].manifest['approvals'] == self.approvals_section():
            # The build sealed the bundle but stopped before it recorded it: record it now.
            facts['changed'] = True
            if not self.check_mode:
                self.record(summary['bundle_id'], summary['created'], plan, basis, delta, package_sha256, path, summary['basis'])
            verb = 'would record it' if self.check_mode else 'recorded it'
            facts['msg'] = f'{path} holds bundle {summary["bundle_id"]}, sealed by an interrupted run of this task; {verb}'
            return self.finish(facts)
        raise AirgapWsusError(f'path {path} already holds bundle {summary["bundle_id"]} (sequence {summary["sequence"]}, destination '
                              f'{summary["destination"]}), sealed; give a new path for the next bundle (or delete that folder if it was '
                              'never carried to the import side)')

    # -- approvals

    def read_approvals(self, document: str) -> dict:
        """The approvals document at ``document`` on the host, with the manifest's section for it.

        The document and its signature are hashed on the host; when the summary the approvals
        module wrote beside it (``_approvals_summary``) describes those bytes, the section comes
        from it and the document is never read over the connection (it is copied on the host).
        Otherwise it is read and parsed as the import side will, so a damaged or foreign file
        fails the build, and (outside check mode) its summary is written for the next run.
        """
        signature_path = document + _bundle_approvals.SIGNATURE_SUFFIX
        found, signed = self.runner.run_retrying('file_hash', {'Paths': [document, signature_path], 'Algorithms': ['sha256']})['files']
        if not found.get('exists') or found.get('error'):
            raise AirgapWsusError(f'the approvals document {document} does not exist on the host; export it first '
                                  '(airgap.wsus.approvals state=exported), or leave approvals out')
        signature_size = signed.get('size') if signed.get('exists') and not signed.get('error') else None
        summary_path = _approvals_summary.path_for(document)
        summary = _approvals_summary.parse(read_file(self.runner, summary_path, 'the approvals summary', max_bytes=_approvals_summary.MAX_BYTES))
        if _approvals_summary.describes(summary, found.get('sha256'), found.get('size')):
            section = _approvals_summary.section(summary)
        else:
            data = read_file(self.runner, document, 'the approvals document')
            try:
                section = _bundle_approvals.section(data or b'')
            except _approvals.ApprovalsError as exc:
                raise AirgapWsusError(f'approvals: {document} is not an approvals document this collection wrote ({exc}); export it again '
                                      '(airgap.wsus.approvals state=exported)') from None
            if not self.check_mode:
                write_file(self.runner, summary_path,
                           _approvals_summary.summary_bytes(_approvals_summary.build(_approvals.parse_document(data).raw, data)))
        return {'section': section, 'source': document, 'signature': signature_path if signature_size is not None else None,
                'space': _bundle_approvals.space(section['size'], signature_size)}

    def approvals_section(self) -> dict | None:
        return self.approvals['section'] if self.approvals else None

    def approvals_target(self, path: str) -> str | None:
        """Where the approvals document goes in bundle ``path`` (volume 1), or None without one."""
        if self.approvals is None:
            return None
        return _bundle_approvals.host_path(_winpath.join(path, _manifest.volume_folder(_bundle_approvals.VOLUME)), self.approvals['section'])

    def put_approvals(self, path: str) -> None:
        """Write the approvals document and its signature into volume 1 of bundle ``path``, and check the copy on the medium."""
        if self.approvals is None:
            return
        target = self.approvals_target(path)
        # Copied on the host: the document never crosses the connection to reach the medium.
        seen = self.runner.run_retrying('file_copy', {'Source': self.approvals['source'], 'Destination': target})
        if self.approvals['signature'] is not None:
            self.runner.run_retrying('file_copy', {'Source': self.approvals['signature'],
                                                   'Destination': target + _bundle_approvals.SIGNATURE_SUFFIX})
        if seen.get('size') != self.approvals['section']['size'] or str(seen.get('sha256') or '').lower() != self.approvals['section']['sha256']:
            raise AirgapWsusError(f'the bundle was not sealed: {target} differs from the approvals document after it was written; check the '
                                  'medium and run the task again. The export history was not changed')

    # -- work

    def copy(self, packing, content_dir, package, path, content_info, path_info) -> Copies:
        """Copy each volume's files, then the package, with content_sync's engine: one robocopy job per volume."""
        driver = self.action.job_driver(self.runner)
        deadline = BundleAction.deadline(self.args)
        copies = Copies()
        file_systems = [content_info.get('file_system'), path_info.get('file_system')]
        for volume in packing['volumes']:
            folder = _winpath.join(path, _manifest.volume_folder(volume['index']))
            if volume['files']:
                run = self.action.plan_copy(content_dir, _winpath.join(folder, CONTENT_FOLDER), [p for p, _s in volume['files']],
                                            self.args, self.work_dir, file_systems)
                run.total_bytes = volume['bytes']
                self.action.run_copy(driver, run, self.args, deadline, copies)
            if volume['package']:
                run = self.action.plan_copy(_winpath.parent(package), _winpath.join(folder, METADATA_FOLDER), [_winpath.basename(package)],
                                            self.args, self.work_dir, file_systems)
                self.action.run_copy(driver, run, self.args, deadline, copies)
        return copies

    def hash_copies(self, packing, path, package_rel, package_sha256, package_size) -> list:
        """Hash each volume's copies on the host; return the manifests' file entries. Fails on a file that is not what was planned."""
        entries = []
        problems = []
        for volume in packing['volumes']:
            folder = _winpath.join(path, _manifest.volume_folder(volume['index']))
            paths = [_winpath.join(folder, CONTENT_FOLDER, relpath.replace('/', '\\')) for relpath, _size in volume['files']]
            if volume['package']:
                paths.append(_winpath.join(folder, package_rel.replace('/', '\\')))
            hashed = hash_files(self.runner, paths)
            files = []
            for (relpath, size), seen in zip(volume['files'], hashed):
                sha1 = _manifest.content_sha1(relpath)
                if not seen['exists'] or seen.get('error') or not seen.get('sha256'):
                    problems.append(f'{relpath}: {seen.get("error") or "missing on the medium after the copy"}')
                elif seen['size'] != size:
                    problems.append(f'{relpath}: {seen["size"]} bytes on the medium but {size} in WsusContent (it changed during the build)')
                elif sha1 is not None and str(seen['sha1']).upper() != sha1:
                    problems.append(f'{relpath}: its SHA-1 does not match its name, so the export server\'s copy is corrupt; run '
                                    '"wsusutil reset" on the export server so WSUS downloads it again, then build again')
                else:
                    files.append((relpath, size, str(seen['sha256']).lower()))
            if volume['package']:
                seen = hashed[-1]
                if seen.get('size') != package_size or str(seen.get('sha256') or '').lower() != package_sha256:
                    problems.append(f'{package_rel}: the copy on the medium differs from the package')
            entries.append(files)
        if problems:
            raise AirgapWsusError(f'the bundle was not sealed: {len(problems)} file(s) are not right on the medium: '
                                  + '; '.join(problems[:10]) + ('; ...' if len(problems) > 10 else '')
                                  + '. The export history was not changed')
        return entries

    def record(self, bundle_id, created, plan, basis, delta, package_sha256, path, basis_summary) -> None:
        """Write the sent record, then the export history: the new baseline for the next bundle.

        The sent record is what the destination holds once this bundle is imported: the
        basis's digests (none for a full bundle) and every hash-named file the bundle carries.
        The host writes its digest file (``digest_write``) from the basis's digest file and the
        bundle's digests, so only the bundle's digests cross the connection.
        """
        params = {'Path': _bundle_records.export_sent_inventory_path(self.work_dir, self.destination),
                  'Digests': sorted(_delta.digests_of_paths(relpath for relpath, _size in delta['files']))}
        params['Digests'] = [digest.hex() for digest in params['Digests']]
        if basis and basis.get('inventory') is not None:
            params['Sources'] = [basis['path']]
        elif basis and basis.get('digests'):
            # A basis of an earlier version's inline record: its digests are on the controller.
            params['Digests'] = sorted(set(params['Digests']) | {digest.hex() for digest in basis['digests']})
        answer = self.runner.run_retrying('digest_write', params)
        if 'Sources' in params:
            problem = _delta.source_problem((answer.get('sources') or [None])[0], basis['inventory'])
            if problem is not None:
                raise AirgapWsusError(f'the bundle at {path} was sealed, but the inventory it was planned on, {basis["path"]}, changed '
                                      f'during the build ({problem}), so what the destination will hold is unknown; the export history '
                                      'was not changed. Run the task again')
        inventory = _delta.file_inventory(count=answer['count'], file=_bundle_records.export_sent_inventory_name(self.destination),
                                          size=answer['size'], sha256=answer['sha256'])
        sent = _bundle_records.build_sent_record(destination=self.destination, sequence=plan['sequence'], bundle_id=bundle_id,
                                                 inventory=inventory)
        write_file(self.runner, _bundle_records.export_sent_path(self.work_dir, self.destination), _bundle_records.record_bytes(sent))
        history = _bundle_records.build_export_history(destination=self.destination, sequence=plan['sequence'], bundle_id=bundle_id,
                                                       created=created, package_sha256=package_sha256, base=plan['base'],
                                                       basis=basis_summary['kind'], files=delta['count'], size=delta['bytes'], path=path)
        write_file(self.runner, _bundle_records.export_history_path(self.work_dir, self.destination), _bundle_records.record_bytes(history))


# --------------------------------------------------------------------------- state: verified / deployed

class Importer:
    """``state: verified`` and ``state: deployed`` on the import host."""

    def __init__(self, action: ActionModule, args: dict, destination: str, work_dir: str) -> None:
        self.action = action
        self.args = args
        self.destination = destination
        self.work_dir = work_dir
        self.runner = action.host_runner()
        self.warnings: list = []
        self.deploy = args['state'] == 'deployed'
        # The verification keys, loaded in run() so a bad key fails before any round trip.
        self.keys: list = []

    def run(self) -> dict:
        args = self.args
        keys = self.keys = verify_keys_of(args)
        if not keys and not args['allow_unsigned']:
            raise AirgapWsusError('verify_keys is required to check the bundle\'s signatures (the HMAC secret, or the export side\'s '
                                  'Ed25519 public key); set allow_unsigned: true only for a site that does not sign yet')
        state = read_server(self.runner) if self.deploy else None
        import_state = read_import_state(self.runner, self.work_dir, self.destination)
        if args.get('path'):
            args = self.args = self.locate(win_path(args['path'], 'path'), import_state)
            imported = self.imported_again(args['path'], import_state, keys)
            if imported is not None:
                return self.finish(imported)
        volumes, summary = read_bundle(self.runner, args, keys, require_all=self.deploy or not args.get('volumes'))
        signed = all(v.signed for v in volumes)
        self.warnings += [v.warning for v in volumes if v.warning]
        result = facts_of(volumes, summary)
        result.update(changed=False, signed=signed, problems=[], already_imported=False)
        result['bundle_path'] = args.get('path') or _winpath.parent(volumes[0].folder)
        if summary['missing']:
            result['volumes_missing'] = list(summary['missing'])
        try:
            decision = _sequence.check_import(summary, import_state, destination=self.destination)
        except _sequence.SequenceError as exc:
            raise BundleRefused(f'bundle refused: {exc.message}') from None
        if decision['action'] == 'noop':
            result.update(already_imported=True, msg=decision['reason'])
            return self.finish(result)
        if state is not None:
            self.parity_warning(state, summary)
        result['problems'] = self.verify_volumes(volumes)
        if result['problems']:
            result.update(failed=True, msg=f'bundle {summary["bundle_id"]} failed verification, {len(result["problems"])} problem(s); '
                                           f'nothing was copied: {_bundle_verify.describe(result["problems"])}. Copy the named files '
                                           'onto the medium again from the export side (or build the bundle again)')
            return self.finish(result)
        if not self.deploy:
            checked = 'presence, size, SHA-256 and SHA-1' if args['verify_hashes'] else 'presence and size'
            result['msg'] = (f'bundle {summary["bundle_id"]} (sequence {summary["sequence"]}) verified: {len(volumes)} volume(s), '
                             f'{sum(v.manifest["totals"]["volume_files"] for v in volumes)} files ({checked})')
            if summary['missing']:
                result['msg'] += f'; not given: {", ".join(summary["missing"])}'
            return self.finish(result)
        return self.finish(self.deploy_content(state, volumes, summary, result))

    def finish(self, result: dict) -> dict:
        if self.warnings:
            result['warnings'] = list(dict.fromkeys(self.warnings))
        return result

    def locate(self, path: str, import_state: dict | None) -> dict:
        """The task's options with ``path`` resolved: a bundle folder stays, a volume folder becomes ``volumes``, and a
        transfer root becomes the next bundle for the destination under it."""
        listing = self.runner.run_retrying('dir_list', {'Path': path})
        if not listing['exists']:
            raise AirgapWsusError(f'the bundle folder {path} does not exist on the host; insert the medium or correct path')
        kind = _bundle_layout.classify(listing['entries'])
        if kind == 'bundle':
            return self.args
        if kind == 'volume':
            return dict(self.args, path=None, volumes=[path])
        last = import_state['last_sequence'] if import_state else None
        choice = _bundle_layout.pick_bundle(listing['entries'], self.destination, last)
        if choice['name'] is None:
            raise AirgapWsusError(f'{path}: {choice["reason"]}')
        self.action.log(f'{path}: taking {choice["name"]}: {choice["reason"]}')
        if choice['later']:
            self.warnings.append(f'{path} holds more bundles for {self.destination}: {choice["reason"]}')
        return dict(self.args, path=_winpath.join(path, choice['name']))

    def parity_warning(self, state: dict, summary: dict) -> None:
        try:
            comparison = _parity.compare(summary['settings'], state)
        except _parity.ParityError:
            return
        for item in comparison['required']:
            self.warnings.append(f'the bundle was exported with {item["setting"]} = {item["export"]} but this server has {item["import"]}: '
                                 f'{item["note"]}. Align them with airgap.wsus.option_parity (reference: this task\'s settings)')

    def verify_volumes(self, volumes) -> list:
        """Presence, size and (with ``verify_hashes``) SHA-256 and SHA-1 of every file of every volume: one call per volume."""
        problems = []
        for volume in volumes:
            expected = _bundle_verify.expected_files(volume.manifest) + _bundle_approvals.expected(volume.manifest)
            paths = [_winpath.join(volume.folder, item.relpath()) for item in expected]
            if self.args['verify_hashes']:
                observed = hash_files(self.runner, paths)
            else:
                observed = [{'exists': info.get('exists') and not info.get('is_dir'), 'size': info.get('size')}
                            for info in path_infos(self.runner, paths)]
            problems += _bundle_verify.compare(expected, observed, self.args['verify_hashes'], folder=volume.folder)
        return problems

    def deploy_content(self, state: dict, volumes, summary: dict, result: dict) -> dict:
        """Copy every volume's files into WsusContent, check them there, and record the verified content."""
        content_dir = content_folder(state, self.args)
        targets = []
        for volume in volumes:
            expected = _bundle_verify.expected_files(volume.manifest, include_package=False)
            targets.append((volume, expected, [_winpath.join(content_dir, item.content_relpath()) for item in expected]))
        infos = path_infos(self.runner, [content_dir])
        content_info = infos[0]
        if content_info.get('exists') and not content_info.get('is_dir'):
            raise AirgapWsusError(f'the content folder {content_dir} is a file on the host; give content_dir')
        to_copy = []
        for volume, expected, paths in targets:
            present = path_infos(self.runner, paths)
            missing = [(item, info) for item, info in zip(expected, present) if not info.get('exists') or info.get('size') != item.size]
            to_copy.append((volume, expected, paths, missing))
        files = sum(len(missing) for _v, _e, _p, missing in to_copy)
        size = sum(item.size for _v, _e, _p, missing in to_copy for item, _info in missing)
        result['content_dir'] = content_dir
        result['would_copy'] = {'files': files, 'bytes': size}
        free = content_info.get('free_bytes')
        need = import_bytes([(item.path, item.size) for _v, _e, _p, missing in to_copy for item, _info in missing])
        if free is not None and need > free:
            raise AirgapWsusError(f'the content folder {content_dir} needs about {_sizes.format_size(need)} for {files} file(s) but its '
                                  f'volume has {_sizes.format_size(int(free))} free; nothing was copied. Free space on it')
        if self.action.check_mode:
            result.update(changed=files > 0 or not self.verified_record_present(summary),
                          msg=f'bundle {summary["bundle_id"]} verified; would copy {files} file(s) ({_sizes.format_size(size)}) into {content_dir}')
            return result
        driver = self.action.job_driver(self.runner)
        deadline = BundleAction.deadline(self.args)
        copies = Copies()
        for volume, expected, _paths, missing in to_copy:
            if not missing:
                continue
            info = path_infos(self.runner, [volume.folder])[0]
            run = self.action.plan_copy(_winpath.join(volume.folder, CONTENT_FOLDER), content_dir, [item.path for item in expected],
                                        self.args, self.work_dir, [info.get('file_system'), content_info.get('file_system')])
            run.total_bytes = sum(item.size for item, _info in missing)
            self.action.run_copy(driver, run, self.args, deadline, copies)
        problems = []
        for volume, expected, paths, _missing in to_copy:
            if self.args['verify_hashes']:
                observed = hash_files(self.runner, paths)
            else:
                observed = [{'exists': info.get('exists') and not info.get('is_dir'), 'size': info.get('size')} for info in path_infos(self.runner, paths)]
            problems += _bundle_verify.compare(expected, observed, self.args['verify_hashes'], folder=content_dir)
        outcome = copies.result()
        if outcome is not None:
            result['copy'] = outcome
        copied = copies.outcome()
        changed = bool(copied is not None and (copied.copied_files or copied.rc & 1))
        if problems:
            result.update(failed=True, changed=changed, problems=problems,
                          msg=f'the content of bundle {summary["bundle_id"]} is not right in {content_dir} after the copy, '
                              f'{len(problems)} problem(s): {_bundle_verify.describe(problems)}. The verified-content record was not '
                              'written, so the metadata import stays blocked; run the task again')
            return result
        record = _bundle_records.build_verified_record(
            package_sha256=summary['package']['sha256'], package_size=summary['package']['size'], bundle_id=summary['bundle_id'],
            destination=summary['destination'], sequence=summary['sequence'], content_dir=content_dir, files=summary['files'],
            size=summary['bytes'], hashes_checked=bool(self.args['verify_hashes']), verified_at=now_text())
        path = _bundle_records.verified_record_path(self.work_dir, summary['package']['sha256'])
        recorded = self.write_verified_record(path, record)
        if self.args.get('path'):
            self.record_sealed(self.args['path'], volumes, summary, result, self.keys)
        result.update(changed=changed or recorded, verified_record=path,
                      msg=f'deployed bundle {summary["bundle_id"]} (sequence {summary["sequence"]}): copied {files} file(s) '
                          f'({_sizes.format_size(size)}) into {content_dir} and verified all {summary["files"]}')
        return result

    def record_sealed(self, bundle_path: str, volumes, summary: dict, result: dict, keys) -> None:
        """Remember the deployed bundle's manifests (hashes as verified) and facts, so a later run that finds it imported reads none.

        ``key_checks`` (``_signing.key_check``) lets that run prove it holds a key that verified them.
        """
        facts = facts_of(volumes, summary)
        facts['signed'] = result['signed']
        verified_by = {v.key_id for v in volumes if v.key_id}
        facts['key_checks'] = sorted(_signing.key_check(key, summary['bundle_id']) for key in keys if key.key_id in verified_by)
        files = [[f'{_winpath.basename(v.folder)}\\{name}', digest, size] for v in volumes for name, digest, size in v.files]
        record = _bundle_records.build_sealed_record(destination=self.destination, bundle_id=summary['bundle_id'], path=bundle_path,
                                                     files=files, facts=facts)
        record['facts']['destination'] = summary['destination']
        write_file(self.runner, _bundle_records.import_sealed_path(self.work_dir, self.destination), _bundle_records.record_bytes(record))

    def imported_again(self, bundle_path: str, import_state: dict | None, keys) -> dict | None:
        """The result for the bundle at ``bundle_path`` when it is the one last imported and its manifests are the bytes verified then.

        One read of the import host's sealed record and one ``file_hash`` of the manifests,
        whatever the number of files; ``None`` (read and verify the manifests) otherwise.
        """
        if import_state is None:
            return None
        path = _bundle_records.import_sealed_path(self.work_dir, self.destination)
        data = read_file(self.runner, path, 'the sealed record', max_bytes=_bundle_records.MAX_SMALL_RECORD_BYTES)
        expected = {'destination': self.destination, 'bundle_id': import_state['bundle_id'], 'path': bundle_path}
        record = _bundle_records.parse_sealed_record(data, path, expected) if data is not None else None
        if record is None:
            return None
        facts = dict(record['facts'])
        if facts.get('signed') is not True:
            # An unsigned bundle's run warns that nothing vouches for it: read it, and warn again.
            return None
        # Only with a key that verified it then: wrong keys are reported as such, even for a bundle already imported.
        recorded = facts.pop('key_checks', None)
        if not isinstance(recorded, list) or not set(recorded) & {_signing.key_check(key, record['bundle_id']) for key in keys}:
            return None
        try:
            decision = _sequence.check_import(facts, import_state, destination=self.destination)
        except (_sequence.SequenceError, KeyError, TypeError):
            return None
        if decision['action'] != 'noop':
            return None
        observed = hash_files(self.runner, [_winpath.join(bundle_path, rel) for rel, _digest, _size in record['files']])
        for (_rel, digest, size), entry in zip(record['files'], observed):
            if entry.get('error') or not entry.get('exists') or entry.get('size') != size or str(entry.get('sha256') or '').lower() != digest:
                return None
        facts.pop('destination', None)
        return dict(facts, changed=False, problems=[], already_imported=True, bundle_path=bundle_path, msg=decision['reason'])

    def verified_record_present(self, summary) -> bool:
        path = _bundle_records.verified_record_path(self.work_dir, summary['package']['sha256'])
        return bool(path_infos(self.runner, [path])[0].get('exists'))

    def write_verified_record(self, path: str, record: dict) -> bool:
        """Write the record unless one for the same bundle and content folder is there already; whether it was written."""
        data = read_file(self.runner, path, 'the verified-content record', max_bytes=_bundle_records.MAX_SMALL_RECORD_BYTES)
        if data is not None:
            try:
                old = _bundle_records.parse_verified_record(data, path)
            except _bundle_records.RecordError:
                old = None
            if old is not None and all(old[key] == record[key] for key in record if key != 'verified_at'):
                return False
        return write_file(self.runner, path, _bundle_records.record_bytes(record))
