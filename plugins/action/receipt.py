# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``airgap.wsus.receipt``: the import side's signed answer to a bundle.

Round trips: the bundle's first volume manifest and signature (verified like ``bundle``
does), the import record and the metadata module's ``imports.json`` (the receipt confirms
only a package this server imported), ``server_state``, one ``digest_write`` that makes the
receipt's digest file of WsusContent on the host (the names are the SHA-1s; only its count,
size and SHA-256 come back), the existing receipt (to stay idempotent), then the receipt,
its signature and the import record. None grows with the number of content files: the
inventory of a million files never crosses WinRM.
"""
from __future__ import annotations

import uuid

from ansible_collections.airgap.wsus.plugins.action.bundle import (OPTIONS as BUNDLE_OPTIONS, BundleRefused, content_folder,
                                                                   destination_of, load_signing_key, now_text, path_infos, probe_volumes,
                                                                   read_file, read_import_state, read_server, read_volume, verify_keys_of,
                                                                   win_path, write_file)
from ansible_collections.airgap.wsus.plugins.plugin_utils import (_argspec, _bundle_records, _content_sync, _delta, _manifest, _metadata,
                                                                  _parity, _receipt, _sequence, _signing, _winpath)
from ansible_collections.airgap.wsus.plugins.plugin_utils._action import AirgapWsusAction
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

OPTIONS = {
    'path': {'type': 'str', 'required': True},
    'bundle': {'type': 'str', 'required': True},
    'destination': {'type': 'str', 'required': True},
    'content_dir': {'type': 'str'},
    'missing': {'type': 'list', 'elements': 'str', 'default': []},
    'signing_key': BUNDLE_OPTIONS['signing_key'],
    'verify_keys': BUNDLE_OPTIONS['verify_keys'],
    'allow_unsigned': {'type': 'bool', 'default': False},
}
# Fields that make two receipts say the same thing; receipt_id and created differ on every run.
_SAME = ('destination', 'import_server', 'last_sequence', 'bundle_id', 'package_sha256', 'settings', 'inventory', 'missing')


def receipt_name(sequence: int) -> str:
    """``receipt-<sequence>.json``."""
    return f'receipt-{sequence}.json'


def inventory_file_name(sequence: int) -> str:
    """``receipt-<sequence>.inventory``: the receipt's digest file, beside it."""
    return f'receipt-{sequence}.inventory'


def same_receipt(old: dict, new: dict) -> bool:
    """Whether receipt ``old`` says what ``new`` would (only its id and time differ)."""
    return all(old.get(key) == new.get(key) for key in _SAME)


def imported_packages(data: bytes | None) -> tuple[set, str | None]:
    """SHA-256s (lower case) the metadata module recorded as imported, and a warning when its record is unusable."""
    entries, warning = _metadata.parse_records(data, 'imports')
    return {str(key).lower() for key in entries}, warning


class ActionModule(AirgapWsusAction):
    """Write the receipt; see the module's documentation."""

    ARGUMENT_SPEC = _argspec.merge_specs(OPTIONS, _argspec.JOB_SPEC)

    def execute(self, args: dict, task_vars: dict) -> dict:
        problems = _argspec.check_job_values(args)
        if problems:
            raise AirgapWsusError('; '.join(problems))
        destination = destination_of(args)
        try:
            work_dir = _content_sync.check_work_dir(args['work_dir'])
        except _content_sync.ContentSyncError as exc:
            raise AirgapWsusError(exc.message) from None
        folder = win_path(args['path'], 'path')
        bundle = win_path(args['bundle'], 'bundle')
        signing_key = load_signing_key(args)
        keys = verify_keys_of(args)
        if not keys and not args['allow_unsigned']:
            raise AirgapWsusError('verify_keys is required to check the bundle\'s manifest before trusting it; set allow_unsigned: '
                                  'true only for a site that does not sign yet')
        missing = []
        for index, relpath in enumerate(args.get('missing') or []):
            text = str(relpath).replace('\\', '/')
            try:
                missing.append(_manifest.validate_content_relpath(text, f'missing[{index}]'))
            except _manifest.ManifestError as exc:
                raise AirgapWsusError(f'{exc.message}; give paths relative to WsusContent such as 0A/0A1B...0A.cab') from None
        runner = self.host_runner()
        warnings = []

        manifest, signed_warning = self._bundle_manifest(runner, bundle, keys, args['allow_unsigned'])
        if signed_warning:
            warnings.append(signed_warning)
        summary = {key: manifest[key] for key in ('bundle_id', 'sequence', 'base', 'destination')}
        state = read_import_state(runner, work_dir, destination)
        try:
            _sequence.check_import(summary, state, destination=destination)
        except _sequence.SequenceError as exc:
            raise AirgapWsusError(f'no receipt written: {exc.message}') from None
        package_sha256 = manifest['package']['sha256']
        imports_path = _metadata.state_path(work_dir, _metadata.IMPORTS_FILE)
        imported, warning = imported_packages(read_file(runner, imports_path, 'the import record'))
        if warning:
            warnings.append(warning)
        if package_sha256 not in imported:
            raise AirgapWsusError(f'the metadata of bundle {manifest["bundle_id"]} (package SHA-256 {package_sha256}) was not imported on '
                                  f'this server ({imports_path} has no entry for it). Import it first (airgap.wsus.metadata '
                                  'state=imported); a receipt confirms only what this server holds')

        server = read_server(runner)
        content_dir = content_folder(server, args)
        inventory_name = inventory_file_name(manifest['sequence'])
        # The digest file goes beside the receipt; check mode only counts (no Path: nothing is written).
        params = {'Root': content_dir}
        if not self.check_mode:
            params['Path'] = _winpath.join(folder, inventory_name)
        listing = runner.run_retrying('digest_write', params)
        if not listing.get('root_exists'):
            raise AirgapWsusError(f'the content folder {content_dir} does not exist on the host; give content_dir')
        for error in listing.get('errors') or []:
            warnings.append(f'{error.get("path")} could not be read ({error.get("error")}); its files are not in the receipt\'s '
                            'inventory, so the export side sends them again')
        try:
            digests = _delta.file_inventory(count=listing['count'], file=inventory_name, size=listing['size'], sha256=listing['sha256'])
        except _manifest.ManifestError as exc:
            raise AirgapWsusError(f'the host answered an inventory of {content_dir} this collection cannot describe: {exc}') from None
        config = server['config']
        try:
            receipt = _receipt.build_receipt(
                receipt_id=str(uuid.uuid4()), created=now_text(), destination=destination,
                import_server={'server_id': str(config.get('server_id') or ''), 'name': str(server.get('computer_name') or '')},
                last_sequence=manifest['sequence'], bundle_id=manifest['bundle_id'], package_sha256=package_sha256,
                settings=_parity.fingerprint(server), inventory=digests, missing=missing)
        except _manifest.ManifestError as exc:
            raise AirgapWsusError(f'the receipt could not be built: {exc}') from None

        receipt_path = _winpath.join(folder, receipt_name(manifest['sequence']))
        existing = self._existing(runner, receipt_path, signing_key)
        if existing is not None and same_receipt(existing, receipt):
            receipt = existing
        result = {'receipt_id': receipt['receipt_id'], 'receipt_path': receipt_path, 'last_sequence': receipt['last_sequence'],
                  'inventory_count': receipt['inventory']['count'], 'missing_count': len(receipt['missing']),
                  'bundle_id': receipt['bundle_id'], 'settings': dict(receipt['settings'])}
        record = _bundle_records.build_import_record(destination=destination, last_sequence=receipt['last_sequence'],
                                                     bundle_id=receipt['bundle_id'], receipt_id=receipt['receipt_id'],
                                                     package_sha256=package_sha256, created=receipt['created'])
        record_path = _bundle_records.import_record_path(work_dir, destination)
        unchanged = existing is receipt and state is not None and all(state.get(k) == record[k] for k in record)
        if signing_key is None:
            warnings.append(f'UNVERIFIED receipt: {receipt_path} has no signature because no signing_key was given; the export side '
                            'accepts it only with allow_unsigned')
        if unchanged:
            result.update(changed=False, msg=f'{receipt_path} already confirms bundle {receipt["bundle_id"]} (sequence '
                                             f'{receipt["last_sequence"]}) with this server\'s current content')
        elif self.check_mode:
            result.update(changed=True, msg=f'would write {receipt_path} confirming sequence {receipt["last_sequence"]}')
        else:
            if existing is not receipt:
                if signing_key is None and path_infos(runner, [receipt_path + '.sig'])[0].get('exists'):
                    raise AirgapWsusError(f'{receipt_path}.sig is the signature of an earlier, signed receipt; an unsigned receipt beside it '
                                          'would be refused on the export side as altered. Give signing_key, or remove that file')
                data = _receipt.receipt_bytes(receipt)
                write_file(runner, receipt_path, data)
                if signing_key is not None:
                    write_file(runner, receipt_path + '.sig', _signing.signature_bytes(_signing.sign(data, signing_key)))
            write_file(runner, record_path, _bundle_records.record_bytes(record))
            result.update(changed=True, msg=f'wrote {receipt_path} confirming bundle {receipt["bundle_id"]} (sequence '
                                            f'{receipt["last_sequence"]}), {receipt["inventory"]["count"]} files held, '
                                            f'{len(receipt["missing"])} missing')
        if warnings:
            result['warnings'] = warnings
        return result

    @staticmethod
    def _bundle_manifest(runner, bundle: str, keys, allow_unsigned: bool):
        """The first volume manifest of ``bundle`` found, verified and parsed (every volume names the same bundle facts)."""
        found = probe_volumes(runner, bundle)
        for _index, folder in found:
            try:
                volume = read_volume(runner, folder, keys, allow_unsigned)
            except BundleRefused as exc:
                raise AirgapWsusError(f'no receipt written: {exc.message}') from None
            if volume is not None:
                return volume.manifest, volume.warning
        raise AirgapWsusError(f'{bundle} holds no sealed volume (a volume-NN folder with manifest.json); give the folder of the '
                              'bundle that was imported')

    @staticmethod
    def _existing(runner, path: str, signing_key) -> dict | None:
        """The receipt already at ``path`` when it is valid (and, with a key, signed by it); else ``None``."""
        data = read_file(runner, path, 'the receipt')
        if data is None:
            return None
        try:
            receipt = _receipt.parse_receipt(data)
        except _manifest.ManifestError:
            return None
        if signing_key is not None:
            signature = read_file(runner, path + '.sig', 'the receipt signature', max_bytes=_signing.MAX_SIGNATURE_FILE_BYTES + 1)
            try:
                _signing.verify(data, signature, [signing_key])
            except _signing.SignatureError:
                return None
        return receipt
