"""Unit tests for manifest and receipt signatures."""
from __future__ import annotations

import base64
import json
import traceback

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ansible_collections.airgap.wsus.plugins.plugin_utils import _signing
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError
from ansible_collections.airgap.wsus.plugins.plugin_utils._signing import (BadSignatureError, KeyMaterialError, SignatureError,
                                                                           UnknownAlgorithmError, UnknownKeyIdError, UnsignedError)

SECRET = 'Vault-Secret-Do-Not-Leak-0123456789abcdefXYZ'
HMAC_KEY = {'key_id': 'site-key-2026', 'algorithm': 'hmac-sha256', 'key': SECRET}
DATA = b'{"schema":"airgap.wsus.bundle/1"}\n'


@pytest.fixture(scope='module')
def ed_keys():
    """An Ed25519 key pair in every accepted encoding."""
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key()
    return {
        'private_pem': private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode(),
        'public_pem': public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        'private_raw': base64.b64encode(private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                              serialization.NoEncryption())).decode(),
        'public_raw': base64.b64encode(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode(),
        'private_ssh': private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                             serialization.NoEncryption()).decode(),
        'public_ssh': public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + ' user@host',
    }


def ed(key, key_id='ed-2026'):
    return {'key_id': key_id, 'algorithm': 'ed25519', 'key': key}


def all_text(exc):
    """Everything an exception chain could show in a log: each exception's message, repr and args (not the calling source lines)."""
    parts = []
    while exc is not None:
        parts += [str(exc), repr(exc), repr(exc.args), ''.join(traceback.format_exception_only(type(exc), exc))]
        exc = exc.__cause__ or exc.__context__
    return '\n'.join(parts)


def test_hmac_sign_and_verify():
    signature = _signing.sign(DATA, HMAC_KEY)
    assert signature['algorithm'] == 'hmac-sha256' and signature['key_id'] == 'site-key-2026'
    assert len(base64.b64decode(signature['signature'])) == 32
    assert _signing.verify(DATA, signature, [HMAC_KEY]) == 'site-key-2026'


def test_hmac_key_as_bytes_matches_the_same_string():
    signature = _signing.sign(DATA, dict(HMAC_KEY, key=SECRET.encode()))
    assert _signing.verify(DATA, signature, [HMAC_KEY]) == 'site-key-2026'


def test_a_changed_byte_breaks_the_signature():
    signature = _signing.sign(DATA, HMAC_KEY)
    with pytest.raises(BadSignatureError, match='altered after signing'):
        _signing.verify(DATA.replace(b'1', b'2'), signature, [HMAC_KEY])


def test_another_key_with_the_same_id_fails():
    signature = _signing.sign(DATA, HMAC_KEY)
    with pytest.raises(BadSignatureError):
        _signing.verify(DATA, signature, [dict(HMAC_KEY, key='x' * 40)])


def test_the_right_key_is_chosen_by_id():
    signature = _signing.sign(DATA, HMAC_KEY)
    keys = [dict(HMAC_KEY, key_id='old-key', key='o' * 40), HMAC_KEY]
    assert _signing.verify(DATA, signature, keys) == 'site-key-2026'


def test_unknown_key_id_lists_the_configured_ids():
    signature = _signing.sign(DATA, HMAC_KEY)
    with pytest.raises(UnknownKeyIdError, match="signed with key 'site-key-2026', but the keys given are old-key"):
        _signing.verify(DATA, signature, [dict(HMAC_KEY, key_id='old-key')])


def test_no_keys_given():
    with pytest.raises(UnknownKeyIdError, match='no verification key was given'):
        _signing.verify(DATA, _signing.sign(DATA, HMAC_KEY), [])


def test_short_hmac_key_is_refused_with_the_reason():
    with pytest.raises(KeyMaterialError, match='at least 32 bytes') as info:
        _signing.sign(DATA, dict(HMAC_KEY, key='short-password'))
    assert 'openssl rand' in str(info.value) and 'short-password' not in all_text(info.value)


@pytest.mark.parametrize('spec, error, fragment', [
    ({'key_id': 'k', 'algorithm': 'rsa', 'key': SECRET}, UnknownAlgorithmError, 'unknown algorithm'),
    ({'key_id': 'k', 'algorithm': 'hmac-sha256', 'key': ''}, KeyMaterialError, 'no key material'),
    ({'key_id': 'k', 'algorithm': 'hmac-sha256', 'key': 12345}, KeyMaterialError, 'string or bytes'),
    ({'key_id': 'bad id!', 'algorithm': 'hmac-sha256', 'key': SECRET}, KeyMaterialError, 'key_id'),
    ({'algorithm': 'hmac-sha256', 'key': SECRET}, KeyMaterialError, 'key_id'),
    ({'key_id': 'k', 'algorithm': 'ed25519', 'key': SECRET}, KeyMaterialError, 'not a readable'),
    ({'key_id': 'k', 'algorithm': 'ed25519', 'key': '-----BEGIN PRIVATE KEY-----\n' + SECRET + '\n-----END PRIVATE KEY-----'},
     KeyMaterialError, 'not a readable'),
    ('just-a-string', KeyMaterialError, 'mapping'),
])
def test_bad_keys_never_leak_material(spec, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        _signing.sign(DATA, spec)
    assert SECRET not in all_text(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_key_repr_hides_material():
    key = _signing.load_key(HMAC_KEY, 'sign')
    assert repr(key) == '<Key site-key-2026 hmac-sha256>' and SECRET not in str(key)
    assert key.can_sign


def test_no_error_during_verification_leaks_the_key():
    signature = _signing.sign(DATA, HMAC_KEY)
    attempts = [
        lambda: _signing.verify(b'tampered', signature, [HMAC_KEY]),
        lambda: _signing.verify(DATA, dict(signature, signature='!!!'), [HMAC_KEY]),
        lambda: _signing.verify(DATA, dict(signature, key_id='other'), [HMAC_KEY]),
        lambda: _signing.verify(DATA, dict(signature, algorithm='ed25519'), [HMAC_KEY]),
    ]
    for attempt in attempts:
        with pytest.raises(SignatureError) as info:
            attempt()
        assert SECRET not in all_text(info.value)


def test_ed25519_with_pem_keys(ed_keys):
    signature = _signing.sign(DATA, ed(ed_keys['private_pem']))
    assert signature['algorithm'] == 'ed25519' and len(base64.b64decode(signature['signature'])) == 64
    assert _signing.verify(DATA, signature, [ed(ed_keys['public_pem'])]) == 'ed-2026'
    with pytest.raises(BadSignatureError):
        _signing.verify(DATA + b' ', signature, [ed(ed_keys['public_pem'])])


@pytest.mark.parametrize('private, public', [('private_raw', 'public_raw'), ('private_ssh', 'public_ssh'), ('private_pem', 'public_raw'),
                                             ('private_raw', 'private_pem')])
def test_ed25519_key_encodings(ed_keys, private, public):
    signature = _signing.sign(DATA, ed(ed_keys[private]))
    assert _signing.verify(DATA, signature, [ed(ed_keys[public])]) == 'ed-2026'


def test_ed25519_public_key_cannot_sign(ed_keys):
    with pytest.raises(KeyMaterialError, match='public key and cannot sign'):
        _signing.sign(DATA, ed(ed_keys['public_pem']))
    with pytest.raises(KeyMaterialError, match='public key and cannot sign'):
        _signing.sign(DATA, _signing.load_key(ed(ed_keys['public_pem']), 'verify'))


def test_ed25519_wrong_public_key_fails(ed_keys):
    other = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signature = _signing.sign(DATA, ed(ed_keys['private_pem']))
    with pytest.raises(BadSignatureError):
        _signing.verify(DATA, signature, [ed(base64.b64encode(other).decode())])


def test_ed25519_private_key_never_leaks(ed_keys):
    broken = ed_keys['private_pem'].replace('PRIVATE KEY-----\n', 'PRIVATE KEY-----\n!!', 1)
    with pytest.raises(KeyMaterialError) as info:
        _signing.sign(DATA, ed(broken))
    body = ed_keys['private_pem'].splitlines()[1]
    assert body not in all_text(info.value)


def test_algorithm_mismatch_between_signature_and_key(ed_keys):
    signature = _signing.sign(DATA, ed(ed_keys['private_pem'], key_id='site-key-2026'))
    with pytest.raises(UnknownAlgorithmError, match='configured as hmac-sha256'):
        _signing.verify(DATA, signature, [HMAC_KEY])


def test_unknown_algorithm_in_the_signature():
    with pytest.raises(UnknownAlgorithmError, match="'rot13'"):
        _signing.verify(DATA, {'algorithm': 'rot13', 'key_id': 'k', 'signature': ''}, [HMAC_KEY])


def test_signature_file_round_trip():
    signature = _signing.sign(DATA, HMAC_KEY)
    data = _signing.signature_bytes(signature)
    assert data.endswith(b'\n') and json.loads(data) == signature
    assert _signing.verify(DATA, data, [HMAC_KEY]) == 'site-key-2026'


@pytest.mark.parametrize('data, error, fragment', [
    (None, UnsignedError, 'not signed'),
    (b'', UnsignedError, 'not signed'),
    (b'  \n', UnsignedError, 'allow_unsigned'),
    (b'{', BadSignatureError, 'not valid JSON'),
    (b'\xff', BadSignatureError, 'not valid JSON'),
    (b'[]', BadSignatureError, 'exactly the strings'),
    (b'{"algorithm":"hmac-sha256","key_id":"k"}', BadSignatureError, 'exactly the strings'),
    (b'{"algorithm":"hmac-sha256","key_id":"k","signature":1}', BadSignatureError, 'exactly the strings'),
    (b'{"x":"' + b'a' * 5000 + b'"}', BadSignatureError, 'far more than'),
])
def test_bad_signature_files(data, error, fragment):
    with pytest.raises(error, match=fragment):
        _signing.verify(DATA, data, [HMAC_KEY])


def test_verify_document_refuses_unsigned_by_default():
    with pytest.raises(UnsignedError):
        _signing.verify_document(DATA, None, [HMAC_KEY])


def test_verify_document_allow_unsigned_warns_loudly():
    result = _signing.verify_document(DATA, None, [HMAC_KEY], allow_unsigned=True, what='manifest of volume-01')
    assert result['signed'] is False and result['key_id'] is None
    assert result['warning'].startswith('UNVERIFIED manifest of volume-01') and 'allow_unsigned' in result['warning']


def test_verify_document_allow_unsigned_never_accepts_a_bad_signature():
    signature = _signing.signature_bytes(_signing.sign(DATA, HMAC_KEY))
    with pytest.raises(BadSignatureError) as info:
        _signing.verify_document(b'tampered', signature, [HMAC_KEY], allow_unsigned=True)
    assert SECRET not in str(info.value)


def test_verify_document_allow_unsigned_accepts_a_signature_it_has_no_key_for():
    signature = _signing.signature_bytes(_signing.sign(DATA, HMAC_KEY))
    result = _signing.verify_document(DATA, signature, [], allow_unsigned=True)
    assert result['signed'] is False and 'no key is configured' in result['warning']


def test_verify_document_signed():
    signature = _signing.signature_bytes(_signing.sign(DATA, HMAC_KEY))
    assert _signing.verify_document(DATA, signature, [HMAC_KEY]) == {'signed': True, 'key_id': 'site-key-2026', 'warning': None}


def test_errors_are_collection_errors():
    assert issubclass(SignatureError, AirgapWsusError)
    for cls in (UnsignedError, UnknownAlgorithmError, BadSignatureError, UnknownKeyIdError, KeyMaterialError):
        assert issubclass(cls, SignatureError)


def test_only_bytes_are_signed():
    with pytest.raises(SignatureError, match='only bytes'):
        _signing.sign('text', HMAC_KEY)


def test_verify_accepts_a_single_key():
    assert _signing.verify(DATA, _signing.sign(DATA, HMAC_KEY), HMAC_KEY) == 'site-key-2026'


def test_a_key_check_tells_keys_apart_without_revealing_them(ed_keys):
    hmac_key = _signing.load_key(HMAC_KEY)
    check = _signing.key_check(hmac_key, 'bundle-1')
    assert check == _signing.key_check(_signing.load_key(dict(HMAC_KEY)), 'bundle-1')
    assert check != _signing.key_check(_signing.load_key(dict(HMAC_KEY, key=SECRET + 'x')), 'bundle-1')
    assert check != _signing.key_check(hmac_key, 'bundle-2')
    assert SECRET not in check and base64.b64encode(SECRET.encode()).decode() not in check
    # The export side's private key and the import side's public key give the same check.
    public = _signing.key_check(_signing.load_key(ed(ed_keys['public_pem'])), 'bundle-1')
    assert public.startswith('ed25519:') and public == _signing.key_check(_signing.load_key(ed(ed_keys['private_pem']), 'sign'), 'bundle-1')
