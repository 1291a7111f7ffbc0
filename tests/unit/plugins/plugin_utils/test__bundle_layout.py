from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _bundle_layout as layout
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import ManifestError


def folders(*names):
    return [[name, True, None] for name in names]


def test_folder_names_sort_in_sequence_order():
    names = [layout.bundle_folder_name('plant-a', seq) for seq in (9, 10, 123456, 1234567)]
    assert names == ['plant-a-000009', 'plant-a-000010', 'plant-a-123456', 'plant-a-1234567']
    assert sorted(names) == names


def test_a_bad_destination_cannot_name_a_folder():
    with pytest.raises(ManifestError):
        layout.bundle_folder_name('..\\x', 1)


@pytest.mark.parametrize('entries, kind', [
    (folders('volume-01', 'volume-02'), 'bundle'),
    ([['manifest.json', False, 10], ['WsusContent', True, None]], 'volume'),
    (folders('plant-a-000001', 'receipts'), 'root'),
    ([['volume-01', False, 3]], 'root'),
])
def test_classify(entries, kind):
    assert layout.classify(entries) == kind


def test_the_next_bundle_is_the_lowest_sequence_not_imported():
    entries = folders('plant-a-000004', 'plant-a-000006', 'plant-a-000005', 'plant-b-000009', 'receipts')
    choice = layout.pick_bundle(entries, 'plant-a', 4)
    assert choice['name'] == 'plant-a-000005' and choice['later'] == ['plant-a-000006']
    assert 'run again' in choice['reason']


def test_without_an_import_record_the_oldest_bundle_comes_first():
    assert layout.pick_bundle(folders('PLANT-A-000003', 'plant-a-000002'), 'plant-a', None)['name'] == 'plant-a-000002'


def test_when_everything_was_imported_the_newest_is_named():
    choice = layout.pick_bundle(folders('plant-a-000004', 'plant-a-000003'), 'plant-a', 4)
    assert choice['name'] == 'plant-a-000004' and choice['later'] == [] and 'imported already' in choice['reason']


def test_no_bundle_for_the_destination_says_how_to_fix_it():
    choice = layout.pick_bundle(folders('plant-b-000001') + [['plant-a-000001', False, 5]], 'plant-a', None)
    assert choice['name'] is None and 'plant-a-000001' in choice['reason'] and 'insert the medium' in choice['reason']


def test_a_destination_that_is_a_prefix_of_another_is_not_confused():
    assert layout.bundle_sequences(folders('plant-000001', 'plant-a-000002'), 'plant') == {1: 'plant-000001'}
