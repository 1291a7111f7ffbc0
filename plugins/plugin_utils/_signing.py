"""Detached signatures over the exact bytes of a manifest or receipt (``<file>.sig``).

Two algorithms:

- ``hmac-sha256``: one shared secret (kept in Ansible Vault) on both sides. The key is the
  UTF-8 bytes of the string as given (or the bytes as given); it must be at least 32 bytes,
  the size of the hash: a shorter key is weaker than HMAC-SHA256 itself and easy to guess when
  it is a password. ``openssl rand -base64 48`` makes a good one.
- ``ed25519``: the export side signs with a private key, the import side verifies with the
  public key only (and so cannot forge a bundle). Keys are PEM (PKCS#8 private, SubjectPublicKeyInfo
  public), OpenSSH (``ssh-ed25519 AAAA...`` public, ``OPENSSH PRIVATE KEY``) or raw base64 of the
  32-byte key. Needs the ``cryptography`` library.

A key is a mapping ``{'key_id': 'site-key-2026', 'algorithm': 'hmac-sha256', 'key': <secret>}``.
Key material never appears in an exception, a repr or a return value: errors name the key id.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - exercised only where cryptography is not installed
    HAS_CRYPTOGRAPHY = False

ALGORITHMS = ('hmac-sha256', 'ed25519')
MIN_HMAC_KEY_BYTES = 32
MAX_SIGNATURE_FILE_BYTES = 4096
_KEY_ID_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}')


class SignatureError(AirgapWsusError, ValueError):
    """A signature that cannot be trusted; subclasses say why."""


class UnsignedError(SignatureError):
    """The document has no signature."""


class UnknownAlgorithmError(SignatureError):
    """The signature or key names an algorithm this collection does not implement."""


class BadSignatureError(SignatureError):
    """The signature does not match the bytes: the document was altered or signed with another key."""


class UnknownKeyIdError(SignatureError):
    """No configured key has the signature's key id."""


class KeyMaterialError(SignatureError):
    """A key that cannot be used: wrong type, too short, unreadable. The message never holds the key."""


class Key:
    """A loaded signing or verification key. Its repr and str name only the key id and algorithm."""

    __slots__ = ('key_id', 'algorithm', '_secret', '_private', '_public')

    def __init__(self, key_id, algorithm, secret=None, private=None, public=None):
        self.key_id = key_id
        self.algorithm = algorithm
        self._secret = secret
        self._private = private
        self._public = public

    @property
    def can_sign(self) -> bool:
        """True when this key can make signatures (an HMAC secret or an Ed25519 private key)."""
        return self._secret is not None or self._private is not None

    def __repr__(self):
        return f'<Key {self.key_id} {self.algorithm}>'

    __str__ = __repr__


def _material_bytes(material, key_id):
    if isinstance(material, bytes):
        return material
    if isinstance(material, str):
        return material.encode('utf-8')
    raise KeyMaterialError(f'key {key_id}: the key must be a string or bytes, not {type(material).__name__}')


def _load_ed25519(material, key_id):
    if not HAS_CRYPTOGRAPHY:
        raise KeyMaterialError(f'key {key_id}: ed25519 needs the Python library "cryptography" on the controller; '
                               'install it (pip install cryptography) or use hmac-sha256')
    data = _material_bytes(material, key_id).strip()
    loaded = None
    try:
        if data.startswith(b'-----BEGIN OPENSSH PRIVATE KEY'):
            loaded = serialization.load_ssh_private_key(data, password=None)
        elif data.startswith(b'-----BEGIN') and b'PRIVATE KEY' in data.split(b'\n', 1)[0]:
            loaded = serialization.load_pem_private_key(data, password=None)
        elif data.startswith(b'-----BEGIN'):
            loaded = serialization.load_pem_public_key(data)
        elif data.startswith(b'ssh-ed25519 '):
            loaded = serialization.load_ssh_public_key(data)
        else:
            raw = base64.b64decode(data, validate=True)
            if len(raw) != 32:
                raise ValueError('wrong length')
            loaded = raw
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm):
        pass
    if isinstance(loaded, bytes):
        # 32 raw bytes are a private key's seed or a public key; the caller's purpose decides.
        return loaded
    if isinstance(loaded, ed25519.Ed25519PrivateKey):
        return loaded
    if isinstance(loaded, ed25519.Ed25519PublicKey):
        return loaded
    raise KeyMaterialError(f'key {key_id}: not a readable unencrypted Ed25519 key; give a PEM (BEGIN PRIVATE KEY / BEGIN PUBLIC KEY), '
                           'an OpenSSH key, or the raw 32-byte key in base64')


def load_key(spec, purpose: str = 'verify') -> Key:
    """Turn a key mapping ``{key_id, algorithm, key}`` (or a :class:`Key`) into a :class:`Key`.

    ``purpose`` is ``sign`` or ``verify``. A raw 32-byte Ed25519 key is read as a private
    seed for ``sign`` and as a public key for ``verify``.
    """
    if isinstance(spec, Key):
        if purpose == 'sign' and not spec.can_sign:
            raise KeyMaterialError(f'key {spec.key_id} is a public key and cannot sign; give the private key on the export side')
        return spec
    if not isinstance(spec, Mapping):
        raise KeyMaterialError(f'a key must be a mapping with key_id, algorithm and key, not {type(spec).__name__}')
    key_id = spec.get('key_id')
    if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
        raise KeyMaterialError('key_id must be 1 to 128 letters, digits or ".", "_", ":", "@", "-" (it names the key in the signature file)')
    algorithm = spec.get('algorithm', 'hmac-sha256')
    if algorithm not in ALGORITHMS:
        raise UnknownAlgorithmError(f'key {key_id}: unknown algorithm {algorithm!r:.40}; use one of {", ".join(ALGORITHMS)}')
    material = spec.get('key')
    if material is None or material in ('', b''):
        raise KeyMaterialError(f'key {key_id} has no key material; set its "key" (from Ansible Vault)')
    if algorithm == 'hmac-sha256':
        secret = _material_bytes(material, key_id)
        if len(secret) < MIN_HMAC_KEY_BYTES:
            raise KeyMaterialError(f'key {key_id} is {len(secret)} bytes; hmac-sha256 needs at least {MIN_HMAC_KEY_BYTES} bytes of key '
                                   'material, because a shorter key is weaker than the hash and guessable when it is a password. '
                                   'Generate one with "openssl rand -base64 48" and keep it in Ansible Vault')
        return Key(key_id, algorithm, secret=secret)
    loaded = _load_ed25519(material, key_id)
    if isinstance(loaded, bytes):
        try:
            if purpose == 'sign':
                return Key(key_id, algorithm, private=ed25519.Ed25519PrivateKey.from_private_bytes(loaded))
            return Key(key_id, algorithm, public=ed25519.Ed25519PublicKey.from_public_bytes(loaded))
        except ValueError:
            pass
        raise KeyMaterialError(f'key {key_id}: the 32 bytes are not a usable Ed25519 key')
    if isinstance(loaded, ed25519.Ed25519PrivateKey):
        return Key(key_id, algorithm, private=loaded, public=loaded.public_key())
    if purpose == 'sign':
        raise KeyMaterialError(f'key {key_id} is an Ed25519 public key and cannot sign; give the private key on the export side')
    return Key(key_id, algorithm, public=loaded)


def sign(data: bytes, key) -> dict:
    """Sign ``data`` and return the signature dict ``{algorithm, key_id, signature}`` (signature in base64)."""
    key = load_key(key, 'sign')
    if not isinstance(data, (bytes, bytearray)):
        raise SignatureError(f'only bytes can be signed, not {type(data).__name__}')
    if key.algorithm == 'hmac-sha256':
        raw = hmac.new(key._secret, bytes(data), hashlib.sha256).digest()  # pylint: disable=protected-access
    else:
        raw = key._private.sign(bytes(data))  # pylint: disable=protected-access
    return {'algorithm': key.algorithm, 'key_id': key.key_id, 'signature': base64.b64encode(raw).decode('ascii')}


def key_check(key: Key, context: str) -> str:
    """A value that shows a later run holds the same key, without revealing it.

    An HMAC of ``context`` under the shared secret, or the SHA-256 of the Ed25519 public key
    with ``context``. Records on a host keep it in place of anything derived from a signature,
    so a run that skips reading a document still proves it was given the key that verified it.
    """
    label = b'airgap.wsus key check\x00' + context.encode('utf-8')
    if key.algorithm == 'hmac-sha256':
        return 'hmac-sha256:' + hmac.new(key._secret, label, hashlib.sha256).hexdigest()  # pylint: disable=protected-access
    public = key._public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)  # pylint: disable=protected-access
    return 'ed25519:' + hashlib.sha256(label + public).hexdigest()


def signature_bytes(signature: Mapping) -> bytes:
    """Return the bytes of a ``.sig`` file for ``signature`` (canonical JSON, one line)."""
    return (json.dumps(dict(signature), sort_keys=True, separators=(',', ':'), ensure_ascii=True) + '\n').encode('ascii')


def parse_signature(data) -> dict:
    """Parse a ``.sig`` file; ``None`` or empty means unsigned (:class:`UnsignedError`)."""
    if data is None or not bytes(data).strip():
        raise UnsignedError('the document is not signed (no .sig file next to it); sign bundles on the export side, '
                            'or set allow_unsigned: true to accept it anyway')
    if len(data) > MAX_SIGNATURE_FILE_BYTES:
        raise BadSignatureError(f'the .sig file is {len(data)} bytes, far more than a signature needs; it is not one this collection wrote')
    try:
        doc = json.loads(bytes(data).decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        raise BadSignatureError('the .sig file is not valid JSON; it is damaged, copy it again from the export side') from None
    if not isinstance(doc, dict) or set(doc) != {'algorithm', 'key_id', 'signature'} \
            or not all(isinstance(doc[k], str) for k in doc):
        raise BadSignatureError('the .sig file must hold exactly the strings algorithm, key_id and signature')
    return doc


def verify(data: bytes, signature, keys) -> str:
    """Check ``signature`` (a dict, or ``.sig`` bytes) over ``data`` with one of ``keys``; return the key id used.

    Raises :class:`UnsignedError`, :class:`UnknownAlgorithmError`, :class:`UnknownKeyIdError`
    or :class:`BadSignatureError`. HMAC comparison is constant-time.
    """
    if signature is None or isinstance(signature, (bytes, bytearray)):
        signature = parse_signature(signature)
    algorithm, key_id = signature.get('algorithm'), signature.get('key_id')
    if algorithm not in ALGORITHMS:
        raise UnknownAlgorithmError(f'the signature uses the algorithm {algorithm!r:.40}, which this collection does not know '
                                    f'({", ".join(ALGORITHMS)}); use the same airgap.wsus version on both sides')
    if isinstance(keys, (Mapping, Key)):
        keys = [keys]
    loaded = [load_key(spec, 'verify') for spec in (keys or [])]
    if not loaded:
        raise UnknownKeyIdError(f'the document is signed with key {key_id!r:.130} but no verification key was given; '
                                'pass the key (hmac: the shared secret; ed25519: the public key)')
    matching = [key for key in loaded if key.key_id == key_id]
    if not matching:
        raise UnknownKeyIdError(f'the document is signed with key {key_id!r:.130}, but the keys given are '
                                f'{", ".join(key.key_id for key in loaded)}; pass the key with that id')
    try:
        raw = base64.b64decode(signature.get('signature', ''), validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise BadSignatureError(f'the signature made with key {key_id} is not valid base64; the .sig file is damaged') from None
    for key in matching:
        if key.algorithm != algorithm:
            continue
        if algorithm == 'hmac-sha256':
            expected = hmac.new(key._secret, bytes(data), hashlib.sha256).digest()  # pylint: disable=protected-access
            if hmac.compare_digest(expected, raw):
                return key_id
        else:
            try:
                key._public.verify(raw, bytes(data))  # pylint: disable=protected-access
                return key_id
            except (InvalidSignature, ValueError):
                pass
    if all(key.algorithm != algorithm for key in matching):
        raise UnknownAlgorithmError(f'the signature uses {algorithm} but key {key_id} is configured as {matching[0].algorithm}; '
                                    'configure the key with the algorithm the export side signs with')
    raise BadSignatureError(f'the signature does not match with key {key_id}: the document was altered after signing, '
                            'or signed with a different key of the same id. Do not import it; build and carry the bundle again')


def verify_document(data: bytes, signature_data, keys, allow_unsigned: bool = False, what: str = 'manifest') -> dict:
    """Verify a document and its ``.sig`` bytes; return ``{'signed': bool, 'key_id', 'warning'}``.

    ``allow_unsigned`` exists for sites that do not sign yet: it accepts a document that has no
    signature, or whose signature cannot be checked because no key was configured, and
    ``warning`` says loudly that nothing vouches for it. A signature that is present and fails
    against a configured key is never accepted: that is exactly what tampering looks like.
    """
    try:
        key_id = verify(data, signature_data, keys)
    except UnsignedError as exc:
        if not allow_unsigned:
            raise
        reason = str(exc)
    except SignatureError as exc:
        if not allow_unsigned or keys:
            raise
        reason = f'its signature was not checked because no key is configured ({exc})'
    else:
        return {'signed': True, 'key_id': key_id, 'warning': None}
    return {'signed': False, 'key_id': None,
            'warning': f'UNVERIFIED {what}: {reason}. It was accepted only because allow_unsigned is true; '
                       'anyone who could touch the medium could have changed it'}
