"""content_delta and digest_write: the host-side halves of bundle deltas and receipt inventories,
run through the emulated bootstrap as the collection sends them."""
from __future__ import annotations

import hashlib


def sha1_name(data: bytes, ext: str = 'cab') -> str:
    digest = hashlib.sha1(data).hexdigest().upper()
    return f'{digest[-2:]}\\{digest}.{ext}'


def digest_file(*datas: bytes) -> bytes:
    return b''.join(sorted(hashlib.sha1(data).digest() for data in datas))


def put(host, root: str, files: dict) -> None:
    for relative, data in files.items():
        host.fs.write_bytes(f'{root}\\{relative}', data, make_parents=True)


ROOT = 'D:\\WSUS\\WsusContent'


def test_content_delta_lists_only_what_the_other_side_lacks(call, host) -> None:
    held_a, held_b, new, missing = b'held a', b'held b', b'new file', b'held but reported missing'
    lower = hashlib.sha1(b'lower').hexdigest()
    wrong = hashlib.sha1(b'wrong folder').hexdigest().upper()
    files = {sha1_name(held_a): held_a, sha1_name(held_b, 'exe'): held_b, sha1_name(new): new, sha1_name(missing): missing,
             f'{lower[-2:]}\\{lower}.cab': b'lower', f'00\\{wrong}.cab': b'wrong folder', 'anonymousCheckFile.txt': b'x'}
    put(host, ROOT, files)
    inventory = digest_file(held_a, held_b, missing, b'not on this server')
    host.fs.write_bytes('E:\\receipts\\receipt-1.inventory', inventory, make_parents=True)
    answer = call('content_delta', {'Root': ROOT + '\\', 'Held': ['E:\\receipts\\receipt-1.inventory'],
                                    'Include': [sha1_name(missing).replace('\\', '/').lower()]})
    assert answer.error is None, answer
    result = answer.result
    listed = dict(result['files'])
    assert set(listed) == set(files) - {sha1_name(held_a), sha1_name(held_b, 'exe')}
    assert listed[sha1_name(new)] == len(new)
    assert (result['count'], result['bytes']) == (len(files), sum(len(data) for data in files.values()))
    assert (result['held_count'], result['held_bytes']) == (2, len(held_a) + len(held_b))
    assert result['sources'] == [{'path': 'E:\\receipts\\receipt-1.inventory', 'exists': True, 'size': len(inventory), 'count': 4,
                                  'sha256': hashlib.sha256(inventory).hexdigest(), 'error': None}]
    assert result['root'] == ROOT and result['exists'] is True and result['errors'] == []


def test_content_delta_refuses_damaged_digest_files_and_lists_everything(call, host) -> None:
    data = b'content'
    put(host, ROOT, {sha1_name(data): data})
    good = digest_file(data, b'other')
    unsorted = good[20:] + good[:20]
    host.fs.write_bytes('C:\\d\\short.inventory', good[:-1], make_parents=True)
    host.fs.write_bytes('C:\\d\\unsorted.inventory', unsorted)
    host.fs.write_bytes('C:\\d\\repeated.inventory', good[:20] * 2)
    paths = ['C:\\d\\short.inventory', 'C:\\d\\unsorted.inventory', 'C:\\d\\repeated.inventory', 'C:\\d\\none.inventory']
    result = call('content_delta', {'Root': ROOT, 'Held': paths}).result
    assert [path for path, _size in result['files']] == [sha1_name(data)] and result['held_count'] == 0
    errors = [source['error'] for source in result['sources']]
    assert errors == ['39 bytes are not a whole number of 20-byte SHA-1 digests',
                      'the digests are not sorted ascending without repeats (at digest 2)',
                      'the digests are not sorted ascending without repeats (at digest 2)',
                      'the file does not exist']
    assert result['sources'][1]['sha256'] == hashlib.sha256(unsorted).hexdigest() and result['sources'][1]['count'] is None
    assert result['sources'][3]['exists'] is False and result['sources'][3]['sha256'] is None


def test_content_delta_of_a_missing_folder(call) -> None:
    result = call('content_delta', {'Root': 'D:\\nowhere'}).result
    assert (result['exists'], result['files'], result['count'], result['sources']) == (False, [], 0, [])


def test_digest_write_unites_folder_files_and_digests_and_writes_only_a_change(call, host) -> None:
    on_disk, sent, added = b'on disk', b'sent before', b'in this bundle'
    put(host, ROOT, {sha1_name(on_disk): on_disk, 'readme.txt': b'not a digest name'})
    host.fs.write_bytes('C:\\state\\old.inventory', digest_file(sent, on_disk), make_parents=True)
    params = {'Path': 'C:\\state\\exports\\new.inventory', 'Root': ROOT, 'Sources': ['C:\\state\\old.inventory'],
              'Digests': [hashlib.sha1(added).hexdigest().lower()]}
    first = call('digest_write', params).result
    expected = digest_file(on_disk, sent, added)
    assert host.fs.read_bytes('C:\\state\\exports\\new.inventory') == expected
    assert (first['changed'], first['count'], first['size'], first['sha256']) == (True, 3, 60, hashlib.sha256(expected).hexdigest())
    assert (first['path'], first['root_exists'], first['files']) == ('C:\\state\\exports\\new.inventory', True, 2)
    assert first['sources'][0]['count'] == 2 and first['sources'][0]['error'] is None
    assert call('digest_write', params).result['changed'] is False
    dry = call('digest_write', {'Root': ROOT}).result
    assert (dry['path'], dry['changed'], dry['count'], dry['sha256']) == (None, False, 1, hashlib.sha256(digest_file(on_disk)).hexdigest())
    empty = call('digest_write', {'Path': 'C:\\state\\empty.inventory', 'Root': 'D:\\nowhere'}).result
    assert (empty['root_exists'], empty['count'], empty['size']) == (False, 0, 0)
    assert host.fs.read_bytes('C:\\state\\empty.inventory') == b''


def test_digest_write_refuses_a_digest_that_is_not_one(call, host) -> None:
    answer = call('digest_write', {'Path': 'C:\\state\\x.inventory', 'Digests': ['AB' * 19]})
    assert answer.rc == 1 and answer.error['message'] == "'" + 'AB' * 19 + "' is not a SHA-1 digest (40 hex digits)"
    assert not host.fs.exists('C:\\state\\x.inventory')


def test_file_copy_copies_once_and_reports_the_bytes(call, host) -> None:
    host.fs.write_bytes('D:\\WSUS\\airgap-wsus-approvals.json', b'{"approvals": []}', make_parents=True)
    params = {'Source': 'D:\\WSUS\\airgap-wsus-approvals.json', 'Destination': 'E:\\airgap\\plant-a-000001\\volume-01\\approvals\\approvals.json'}
    first = call('file_copy', params).result
    assert first == {'path': params['Destination'], 'exists': True, 'changed': True, 'size': 17,
                     'sha256': hashlib.sha256(b'{"approvals": []}').hexdigest()}
    assert host.fs.read_bytes(params['Destination']) == b'{"approvals": []}'
    assert call('file_copy', params).result['changed'] is False
    missing = call('file_copy', dict(params, Source='D:\\WSUS\\none.json')).result
    assert (missing['exists'], missing['changed'], missing['sha256']) == (False, False, None)
    folder = call('file_copy', dict(params, Destination='E:\\airgap'))
    assert folder.rc == 1 and folder.error['message'] == 'cannot write E:\\airgap because it is a folder'
