"""HTTP authentication of the WinRM service: Basic, and Negotiate carrying NTLM.

NTLM authenticates a connection, not a request: after the three legs (401 challenge,
negotiate/challenge, authenticate) every request on that TCP connection runs as the user,
and over HTTP its bodies are sealed with the session (``encryption.py``). pyspnego is the
acceptor. It reads the accounts from the file named by ``NTLM_USER_FILE``; that is a
process-wide variable while each lab host has its own accounts, so every acceptor step runs
under one lock with the variable pointing at that host's file.

Local accounts only: a user may be given as ``name``, ``.\\name`` or ``HOST\\name``.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import struct
import threading
import typing as t

from .shell import Identity

log = logging.getLogger(__name__)

_ENV_LOCK = threading.Lock()


class Challenge(Exception):
    """Answer the request with 401 and these ``WWW-Authenticate`` values."""

    def __init__(self, headers: list[str], failed: bool) -> None:
        super().__init__('authentication required')
        self.headers = headers
        self.failed = failed


class ConnectionAuth:
    """Authentication state of one TCP connection."""

    def __init__(self, client_address: str) -> None:
        self.client_address = client_address
        self.ntlm: t.Any = None           # spnego acceptor, once the negotiate leg arrived
        self.identity: t.Optional[Identity] = None


class Authenticator:
    """Checks credentials of one host's requests."""

    def __init__(self, host: t.Any, accounts: t.Mapping[str, str], machine: str, allow_basic: bool,
                 user_file: str, reject: t.Callable[[], bool]) -> None:
        self.host = host
        self.accounts = {name.lower(): (name, password) for name, password in accounts.items()}
        self.machine = machine
        self.allow_basic = allow_basic
        self.user_file = user_file
        self.reject = reject
        _write_user_file(user_file, accounts, machine)

    def offers(self) -> list[str]:
        """The ``WWW-Authenticate`` values of a bare 401, as Windows lists them."""
        values = ['Negotiate']
        if self.allow_basic:
            values.append('Basic realm="WSMAN"')
        return values

    def authenticate(self, conn: ConnectionAuth, authorization: t.Optional[str]) -> Identity:
        """Return who sent the request, or raise ``Challenge``."""
        if not authorization:
            if conn.identity is not None:
                return conn.identity
            raise Challenge(self.offers(), failed=False)
        scheme, dummy, token = authorization.strip().partition(' ')
        scheme = scheme.lower()
        if scheme == 'basic' and self.allow_basic:
            return self._basic(conn, token.strip())
        if scheme in ('negotiate', 'ntlm'):
            return self._ntlm(conn, 'Negotiate' if scheme == 'negotiate' else 'NTLM', token.strip())
        raise Challenge(self.offers(), failed=True)

    def _basic(self, conn: ConnectionAuth, token: str) -> Identity:
        try:
            user, dummy, password = base64.b64decode(token, validate=True).decode('utf-8').partition(':')
        except (binascii.Error, ValueError):
            raise Challenge(self.offers(), failed=True) from None
        username = self._local_user(user)
        if username is None or self.reject() or not self.host.authenticate(username, password):
            raise Challenge(self.offers(), failed=True)
        conn.identity = None
        return Identity(username, conn.client_address)

    def _ntlm(self, conn: ConnectionAuth, scheme: str, token: str) -> Identity:
        import spnego  # pylint: disable=import-outside-toplevel  # only hosts that see NTLM need it

        try:
            raw = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            raise Challenge(self.offers(), failed=True) from None
        if not raw.startswith(b'NTLMSSP\x00') or len(raw) < 12:
            # SPNEGO-wrapped or Kerberos tokens: this lab speaks raw NTLM only, which is what
            # requests-ntlm (pywinrm's NTLM) sends under the Negotiate scheme.
            raise Challenge(self.offers(), failed=True)
        message_type = struct.unpack('<I', raw[8:12])[0]
        if message_type == 1:
            conn.identity = None
            try:
                with self._user_file():
                    conn.ntlm = spnego.server(hostname=self.machine, service='http', protocol='ntlm',
                                              options=spnego.NegotiateOptions.use_ntlm)
                    challenge = conn.ntlm.step(raw)
            except Exception as exc:  # pylint: disable=broad-except  # a malformed token is a failed logon
                log.info('%s: NTLM negotiate message refused: %s', self.machine, exc)
                conn.ntlm = None
                raise Challenge(self.offers(), failed=True) from None
            raise Challenge(['%s %s' % (scheme, base64.b64encode(challenge or b'').decode())], failed=False)
        if message_type != 3 or conn.ntlm is None:
            raise Challenge(self.offers(), failed=True)
        context, conn.ntlm = conn.ntlm, None
        if self.reject():
            raise Challenge(self.offers(), failed=True)
        try:
            with self._user_file():
                context.step(raw)
        except Exception as exc:  # pylint: disable=broad-except  # wrong password, bad MIC, malformed token...
            log.info('%s: NTLM authentication failed: %s', self.machine, exc)
            raise Challenge(self.offers(), failed=True) from None
        username = self._local_user(context.client_principal or '')
        if username is None or not self.host.authenticate(username, self.accounts[username.lower()][1]):
            raise Challenge(self.offers(), failed=True)
        conn.identity = Identity(username, conn.client_address)
        conn.ntlm = context
        return conn.identity

    def _local_user(self, user: str) -> t.Optional[str]:
        """The account name of ``name``, ``.\\name`` or ``HOST\\name``; None for other domains."""
        domain, sep, name = user.rpartition('\\')
        if sep and domain.upper() not in ('.', self.machine.upper()):
            return None
        entry = self.accounts.get(name.lower())
        if entry:
            return entry[0]
        # Without a list of accounts (Basic only), the host alone decides who exists.
        return None if self.accounts else name

    @contextlib.contextmanager
    def _user_file(self) -> t.Iterator[None]:
        with _ENV_LOCK:
            previous = os.environ.get('NTLM_USER_FILE')
            os.environ['NTLM_USER_FILE'] = self.user_file
            try:
                yield
            finally:
                if previous is None:
                    os.environ.pop('NTLM_USER_FILE', None)
                else:
                    os.environ['NTLM_USER_FILE'] = previous


def _write_user_file(path: str, accounts: t.Mapping[str, str], machine: str) -> None:
    """Write the accounts in the smbpasswd layout pyspnego reads (hashes, so any password
    character is safe), once per accepted domain spelling."""
    from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1  # pylint: disable=import-outside-toplevel

    lines = []
    for name, password in accounts.items():
        lm_hash = base64.b16encode(lmowfv1(password)).decode()
        nt_hash = base64.b16encode(ntowfv1(password)).decode()
        for prefix in ('', '.\\', machine.upper() + '\\'):
            lines.append('%s%s:0:%s:%s:[U]:LCT-00000000' % (prefix, name, lm_hash, nt_hash))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines) + '\n')
