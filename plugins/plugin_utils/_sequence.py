"""Bundle sequence rules (docs/bundle.md).

Bundles for a destination are numbered 1, 2, 3... by the export side. Each names its ``base``:
the sequence whose content it assumes the import server already holds, or ``"full"``. The
import side imports a bundle only when it moves forward and its base is in place; the export
side numbers the next bundle after everything it built or saw confirmed, and builds it on the
newest receipt when it has one (what the import server really holds), else on its own record
of the last bundle it built, else in full.

Records used here:

- import state: the last receipt this import server wrote (``destination``,
  ``last_sequence``, ``bundle_id``), or ``None`` before its first import;
- export history: ``{destination, last_sequence, bundle_id}`` of the last bundle the export
  side built for the destination, or ``None``.

Pure: no I/O.
"""
from __future__ import annotations

from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError


class SequenceError(AirgapWsusError, ValueError):
    """A bundle that must not be imported now; the message names both sequence numbers and the way out."""


def _describe(bundle):
    return f'bundle {bundle["bundle_id"]} (sequence {bundle["sequence"]}, destination {bundle["destination"]})'


def check_import(bundle, state=None, destination=None) -> dict:
    """Decide whether the import server may import ``bundle``.

    ``bundle`` has ``bundle_id``, ``sequence``, ``base`` and ``destination`` (a manifest or
    ``check_volume_set``'s summary); ``state`` is the import server's last receipt or
    ``None``; ``destination`` the destination this server is configured for, if any.
    Returns ``{'action': 'import' | 'noop', 'reason'}``; raises :class:`SequenceError` for a
    bundle for another destination, an older one, a conflicting one with the same sequence,
    or an incremental one whose base this server never imported.
    """
    sequence, base, target = bundle['sequence'], bundle['base'], bundle['destination']
    if destination is not None and target != destination:
        raise SequenceError(f'{_describe(bundle)} was built for destination {target}, but this import server is destination {destination}; '
                            f'bring the bundle built for {destination}')
    if state is not None and state['destination'] != target:
        raise SequenceError(f'{_describe(bundle)} is for destination {target}, but this import server has imported bundles for '
                            f'{state["destination"]} (up to sequence {state["last_sequence"]}); bring the bundle built for '
                            f'{state["destination"]}. To move this server to {target}, delete its import record and import a full bundle for {target}')
    last = state['last_sequence'] if state is not None else None
    if last is not None and sequence == last:
        if bundle['bundle_id'] == state['bundle_id']:
            return {'action': 'noop', 'reason': f'{_describe(bundle)} was already imported (the last imported sequence is {last}); nothing to do'}
        raise SequenceError(f'{_describe(bundle)} has sequence {sequence}, but sequence {last} was already imported from bundle '
                            f'{state["bundle_id"]}: two export servers feed {target}, or the export side lost its history. Carry this '
                            f'server\'s receipt (sequence {last}) to the export side and build a new bundle from it')
    if last is not None and sequence < last:
        raise SequenceError(f'{_describe(bundle)} is older than what this server has: bundle sequence {sequence}, last imported sequence '
                            f'{last}. Bring a bundle newer than sequence {last} (carry this server\'s receipt to the export side to build one)')
    if base == 'full':
        reason = f'{_describe(bundle)} is a full bundle' + (f'; the last imported sequence is {last}' if last is not None else '')
        return {'action': 'import', 'reason': reason}
    if last is None:
        raise SequenceError(f'{_describe(bundle)} is incremental on sequence {base}, but this server has no record of importing any bundle '
                            f'for {target}. Import bundle sequence {base} first, or build a full bundle on the export side')
    if base > last:
        needed = f'sequence {base}' if base == last + 1 else f'sequences {last + 1} to {base}'
        raise SequenceError(f'{_describe(bundle)} is incremental on sequence {base}, but this server has imported only up to sequence '
                            f'{last}, so bundle {needed} never arrived. Either import the missing bundle(s) first, or carry this '
                            f'server\'s receipt (sequence {last}) to the export side and build a new bundle from it, or build a full bundle')
    return {'action': 'import', 'reason': f'{_describe(bundle)} builds on sequence {base}; this server has imported up to sequence {last}'}


def plan_next(destination: str, history=None, receipt=None, full: bool = False) -> dict:
    """Choose the next bundle's sequence, base and basis on the export side.

    ``history`` is the export side's record of the last bundle it built for ``destination``
    (or ``None``); ``receipt`` the newest valid receipt from that destination (or ``None``).
    Returns ``{'sequence', 'base', 'basis': {'kind', 'reason'[, 'receipt_id']}, 'warnings'}``.
    """
    if receipt is not None and receipt['destination'] != destination:
        raise SequenceError(f'the receipt {receipt["receipt_id"]} is from destination {receipt["destination"]} (sequence '
                            f'{receipt["last_sequence"]}), not {destination}; bring the receipt of {destination}')
    if history is not None and history['destination'] != destination:
        raise SequenceError(f'the export history given is for destination {history["destination"]}, not {destination}')
    built = history['last_sequence'] if history is not None else 0
    confirmed = receipt['last_sequence'] if receipt is not None else 0
    sequence = max(built, confirmed) + 1
    warnings = []
    if receipt is not None and confirmed > built:
        warnings.append(f'the receipt from {destination} confirms sequence {confirmed}, newer than the last bundle this export side built '
                        f'for it (sequence {built}): another export server feeds {destination} or this side lost its history; '
                        f'numbering continues at {sequence}')
    if receipt is not None and history is not None and confirmed == built and receipt['bundle_id'] != history['bundle_id']:
        warnings.append(f'the receipt confirms sequence {confirmed} from bundle {receipt["bundle_id"]}, but this export side built sequence '
                        f'{built} as bundle {history["bundle_id"]}: two export servers feed {destination}')
    if full:
        return {'sequence': sequence, 'base': 'full', 'warnings': warnings,
                'basis': {'kind': 'full', 'reason': f'a full bundle was requested for {destination}: every file travels'}}
    if receipt is not None:
        server = (receipt.get('import_server') or {}).get('name') or 'the import server'
        reason = (f'receipt {receipt["receipt_id"]} from {server} ({receipt["created"]}) confirms sequence {confirmed} was imported; '
                  'sending the files it lacks and the ones it reported missing')
        if confirmed < built:
            reason += (f'. Bundle sequence {confirmed + 1}' if confirmed + 1 == built else f'. Bundle sequences {confirmed + 1} to {built}') \
                + ' are not confirmed, so their files travel again'
        return {'sequence': sequence, 'base': confirmed, 'warnings': warnings,
                'basis': {'kind': 'receipt', 'receipt_id': receipt['receipt_id'], 'reason': reason}}
    if history is not None:
        return {'sequence': sequence, 'base': built, 'warnings': warnings,
                'basis': {'kind': 'previous_bundle',
                          'reason': f'no receipt from {destination}; assumes bundle {history["bundle_id"]} (sequence {built}) was imported '
                                    'and sends what changed since. If it was not, the import side refuses this bundle: bring a receipt '
                                    'back from the import server to build the next one on what it really holds'}}
    return {'sequence': sequence, 'base': 'full', 'warnings': warnings,
            'basis': {'kind': 'full', 'reason': f'no receipt and no record of an earlier bundle for {destination}: every file travels'}}
