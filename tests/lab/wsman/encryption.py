"""WinRM message encryption over HTTP with an NTLM session (MS-WSMV 2.2.9.1.1).

A sealed message travels as a two-part ``multipart/encrypted`` body::

    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/HTTP-SPNEGO-session-encrypted\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plain length>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <uint32 LE signature length><signature><sealed message>--Encrypted Boundary--\\r\\n

This is what pywinrm's ``winrm/encryption.py`` writes and reads.
"""
from __future__ import annotations

import re
import struct
import typing as t

PROTOCOL = 'application/HTTP-SPNEGO-session-encrypted'
CONTENT_TYPE = 'multipart/encrypted;protocol="%s";boundary="Encrypted Boundary"' % PROTOCOL
_BOUNDARY = b'--Encrypted Boundary'
_END = _BOUNDARY + b'--\r\n'
_OCTET = b'\tContent-Type: application/octet-stream\r\n'
_LENGTH = re.compile(rb'Length=(\d+)')


class EncryptionError(ValueError):
    """The body is not a message sealed with this connection's session."""


def is_encrypted(content_type: str) -> bool:
    return content_type.lower().startswith('multipart/encrypted') and PROTOCOL.lower() in content_type.lower()


def original_length(body: bytes) -> int:
    """The plain length the sender declared, read before decrypting (for MaxEnvelopeSizekb)."""
    match = _LENGTH.search(body[:512])
    if not match:
        raise EncryptionError('encrypted body without an OriginalContent Length')
    return int(match.group(1))


def unseal(context: t.Any, body: bytes) -> bytes:
    """Decrypt a request body with the connection's NTLM context (``spnego`` acceptor)."""
    expected = original_length(body)
    start = body.find(_OCTET)
    if start < 0 or not body.endswith(_END):
        raise EncryptionError('encrypted body is not in the multipart/encrypted layout')
    payload = body[start + len(_OCTET):-len(_END)]
    if len(payload) < 4:
        raise EncryptionError('encrypted payload is truncated')
    sig_len = struct.unpack('<I', payload[:4])[0]
    signature = payload[4:4 + sig_len]
    sealed = payload[4 + sig_len:]
    try:
        plain = context.unwrap(signature + sealed).data
    except Exception as exc:  # pylint: disable=broad-except  # spnego raises several types for a bad seal
        raise EncryptionError('cannot unseal the message with this connection\'s session: %s' % exc) from None
    if len(plain) != expected:
        raise EncryptionError('unsealed length %d differs from the declared %d' % (len(plain), expected))
    return plain


def seal(context: t.Any, plain: bytes) -> bytes:
    """Encrypt a response body with the connection's NTLM context."""
    wrapped = context.wrap(plain, encrypt=True).data
    signature, sealed = wrapped[:16], wrapped[16:]
    return (
        _BOUNDARY + b'\r\n'
        b'\tContent-Type: ' + PROTOCOL.encode() + b'\r\n'
        b'\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=' + str(len(plain)).encode() + b'\r\n'
        + _BOUNDARY + b'\r\n' + _OCTET + struct.pack('<I', len(signature)) + signature + sealed + _END
    )
