"""Unit tests for the bundle sequence rules on both sides."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _sequence
from ansible_collections.airgap.wsus.plugins.plugin_utils._sequence import SequenceError


def bundle(sequence, base, bundle_id=None, destination='plant-a'):
    return {'bundle_id': bundle_id or f'b-{sequence}', 'sequence': sequence, 'base': base, 'destination': destination}


def state(last, bundle_id=None, destination='plant-a'):
    """The import server's last receipt."""
    return {'destination': destination, 'last_sequence': last, 'bundle_id': bundle_id or f'b-{last}'}


def receipt(last, bundle_id=None, destination='plant-a'):
    return {'receipt_id': f'r-{last}', 'created': '2026-11-26T08:00:00Z', 'destination': destination, 'last_sequence': last,
            'bundle_id': bundle_id or f'b-{last}', 'import_server': {'server_id': 'x', 'name': 'wsus-dc'}}


# --- import side ---------------------------------------------------------------------------------

def test_first_full_bundle_imports():
    result = _sequence.check_import(bundle(1, 'full'))
    assert result['action'] == 'import' and 'full bundle' in result['reason']


def test_next_incremental_bundle_imports():
    result = _sequence.check_import(bundle(5, 4), state(4))
    assert result['action'] == 'import' and 'builds on sequence 4' in result['reason']


def test_incremental_on_an_older_imported_base_imports():
    assert _sequence.check_import(bundle(7, 4), state(5))['action'] == 'import'


def test_already_imported_bundle_is_a_noop_that_says_so():
    result = _sequence.check_import(bundle(4, 3), state(4))
    assert result['action'] == 'noop' and 'already imported' in result['reason'] and 'b-4' in result['reason']


def test_same_sequence_from_another_bundle_is_refused():
    with pytest.raises(SequenceError) as info:
        _sequence.check_import(bundle(4, 3, bundle_id='b-other'), state(4))
    message = str(info.value)
    assert 'sequence 4' in message and 'b-4' in message and 'b-other' in message and 'receipt' in message


def test_older_bundle_is_refused_naming_both_sequences():
    with pytest.raises(SequenceError, match='bundle sequence 3, last imported sequence 5'):
        _sequence.check_import(bundle(3, 2), state(5))


def test_older_full_bundle_is_refused_too():
    with pytest.raises(SequenceError, match='older'):
        _sequence.check_import(bundle(3, 'full'), state(5))


def test_newer_full_bundle_imports_over_a_gap():
    assert _sequence.check_import(bundle(9, 'full'), state(4))['action'] == 'import'


def test_incremental_with_missing_base_gives_recovery_steps():
    with pytest.raises(SequenceError) as info:
        _sequence.check_import(bundle(7, 6), state(4))
    message = str(info.value)
    assert 'incremental on sequence 6' in message and 'only up to sequence 4' in message
    assert 'sequences 5 to 6 never arrived' in message
    assert 'import the missing bundle' in message and 'receipt (sequence 4)' in message and 'full bundle' in message


def test_incremental_with_the_single_missing_base_names_it():
    with pytest.raises(SequenceError, match='bundle sequence 5 never arrived'):
        _sequence.check_import(bundle(6, 5), state(4))


def test_incremental_on_a_server_that_never_imported_is_refused():
    with pytest.raises(SequenceError, match='incremental on sequence 3, but this server has no record'):
        _sequence.check_import(bundle(4, 3))


def test_bundle_for_another_destination_is_refused():
    with pytest.raises(SequenceError) as info:
        _sequence.check_import(bundle(5, 4, destination='plant-b'), state(4))
    message = str(info.value)
    assert 'plant-b' in message and 'plant-a' in message and 'sequence 4' in message and 'sequence 5' in message


def test_bundle_for_another_destination_than_configured_is_refused():
    with pytest.raises(SequenceError, match='built for destination plant-b, but this import server is destination plant-a'):
        _sequence.check_import(bundle(1, 'full', destination='plant-b'), None, destination='plant-a')


# --- export side ---------------------------------------------------------------------------------

def test_first_bundle_is_full_and_says_why():
    plan = _sequence.plan_next('plant-a')
    assert plan['sequence'] == 1 and plan['base'] == 'full' and plan['basis']['kind'] == 'full'
    assert 'no receipt and no record' in plan['basis']['reason'] and plan['warnings'] == []


def test_receipt_is_the_preferred_basis():
    plan = _sequence.plan_next('plant-a', history=state(4), receipt=receipt(4))
    assert plan['sequence'] == 5 and plan['base'] == 4
    assert plan['basis']['kind'] == 'receipt' and plan['basis']['receipt_id'] == 'r-4'
    assert 'wsus-dc' in plan['basis']['reason'] and 'confirms sequence 4' in plan['basis']['reason']


def test_stale_receipt_resends_unconfirmed_bundles():
    plan = _sequence.plan_next('plant-a', history=state(6), receipt=receipt(4))
    assert plan['sequence'] == 7 and plan['base'] == 4
    assert 'sequences 5 to 6 are not confirmed' in plan['basis']['reason']
    plan = _sequence.plan_next('plant-a', history=state(5), receipt=receipt(4))
    assert 'sequence 5 are not confirmed' in plan['basis']['reason']


def test_previous_bundle_basis_without_a_receipt():
    plan = _sequence.plan_next('plant-a', history=state(3))
    assert plan['sequence'] == 4 and plan['base'] == 3 and plan['basis']['kind'] == 'previous_bundle'
    assert 'no receipt' in plan['basis']['reason'] and 'b-3' in plan['basis']['reason']


def test_full_on_request():
    plan = _sequence.plan_next('plant-a', history=state(3), receipt=receipt(3), full=True)
    assert plan['sequence'] == 4 and plan['base'] == 'full' and 'requested' in plan['basis']['reason']


def test_receipt_ahead_of_history_continues_after_it_with_a_warning():
    plan = _sequence.plan_next('plant-a', history=state(2), receipt=receipt(8))
    assert plan['sequence'] == 9 and plan['base'] == 8
    assert 'confirms sequence 8, newer than the last bundle this export side built for it (sequence 2)' in plan['warnings'][0]


def test_receipt_without_history():
    plan = _sequence.plan_next('plant-a', receipt=receipt(8))
    assert plan['sequence'] == 9 and plan['base'] == 8 and plan['warnings']


def test_conflicting_bundle_ids_warn():
    plan = _sequence.plan_next('plant-a', history=state(4, bundle_id='mine'), receipt=receipt(4, bundle_id='theirs'))
    assert any('two export servers' in warning for warning in plan['warnings'])


def test_receipt_of_another_destination_is_refused():
    with pytest.raises(SequenceError, match='from destination plant-b .sequence 4., not plant-a'):
        _sequence.plan_next('plant-a', receipt=receipt(4, destination='plant-b'))


def test_history_of_another_destination_is_refused():
    with pytest.raises(SequenceError, match='plant-b'):
        _sequence.plan_next('plant-a', history=state(4, destination='plant-b'))


def test_export_plan_and_import_rules_agree_round_trip():
    """What the export side plans, the import side accepts, for each basis."""
    for history, rcpt, imported in ((None, None, None), (state(3), None, state(3)), (state(6), receipt(4), state(4))):
        plan = _sequence.plan_next('plant-a', history=history, receipt=rcpt)
        made = bundle(plan['sequence'], plan['base'])
        assert _sequence.check_import(made, imported)['action'] == 'import'
