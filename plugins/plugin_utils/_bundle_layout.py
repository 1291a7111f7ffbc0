"""Where bundles live under a transfer root, and which one the import side takes next.

The export side builds each bundle in its own folder, ``<root>\\<destination>-<sequence>``
(six digits at least, so folders sort in sequence order), and never writes into a folder
that holds a bundle it did not build in this plan. The import side may be given that root:
it takes the lowest sequence it has not imported yet, so bundles carried together are
imported in order, one per run. When every bundle on the medium was imported already it
names the newest, which the sequence rules then report as a no-op.

Pure: no I/O.
"""
from __future__ import annotations

import re

from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest

MANIFEST = 'manifest.json'
_VOLUME_RE = re.compile(r'^volume-\d{2,}$', re.IGNORECASE)
_SEQUENCE_DIGITS = 6


def bundle_folder_name(destination: str, sequence: int) -> str:
    """The folder name of bundle ``sequence`` for ``destination``, such as ``plant-a-000005``."""
    _manifest.validate_destination(destination)
    return f'{destination}-{sequence:0{_SEQUENCE_DIGITS}d}'


def classify(entries) -> str:
    """What a folder is, from its ``dir_list`` entries: ``bundle`` (holds ``volume-NN`` folders), ``volume`` (holds a manifest) or ``root``."""
    if any(is_dir and _VOLUME_RE.match(str(name)) for name, is_dir, _size in entries):
        return 'bundle'
    if any(not is_dir and str(name).lower() == MANIFEST for name, is_dir, _size in entries):
        return 'volume'
    return 'root'


def bundle_sequences(entries, destination: str) -> dict:
    """``{sequence: folder name}`` of the bundle folders for ``destination`` among ``dir_list`` entries (names match case-insensitively, as Windows does)."""
    pattern = re.compile(re.escape(destination) + r'-(\d{' + str(_SEQUENCE_DIGITS) + r',})', re.IGNORECASE)
    found = {}
    for name, is_dir, _size in entries:
        match = pattern.fullmatch(str(name))
        if is_dir and match:
            found[int(match.group(1))] = str(name)
    return found


def pick_bundle(entries, destination: str, last_imported: int | None) -> dict:
    """Choose the bundle folder to import under a transfer root.

    Returns ``{'name', 'reason', 'later'}``: ``name`` is the lowest sequence above
    ``last_imported`` (any sequence when nothing was imported yet), else the newest one, which
    the caller reports as already imported, or ``None`` when there is no bundle for
    ``destination``; ``later`` names the pending bundles after ``name``.
    """
    found = bundle_sequences(entries, destination)
    if not found:
        return {'name': None, 'later': [],
                'reason': (f'no bundle folder for destination {destination} (named {bundle_folder_name(destination, 1)} and so on); '
                           'insert the medium that carries it, or give the bundle folder itself as path')}
    pending = sorted(seq for seq in found if last_imported is None or seq > last_imported)
    if not pending:
        return {'name': found[max(found)], 'later': [],
                'reason': f'every bundle for {destination} on the medium was imported already (the last imported is {last_imported})'}
    later = [found[seq] for seq in pending[1:]]
    reason = f'sequence {pending[0]} is the next one to import'
    if last_imported is not None:
        reason += f' (the last imported is {last_imported})'
    if later:
        reason += f'; {", ".join(later)} follow: run again to import them in order'
    return {'name': found[pending[0]], 'later': later, 'reason': reason}
