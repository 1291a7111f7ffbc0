"""The WinRM listener of one emulated host: HTTP or HTTPS on 127.0.0.1, one thread per connection."""
from __future__ import annotations

import http.server
import logging
import os
import socket
import ssl
import tempfile
import threading
import typing as t

from . import faults
from .auth import Authenticator, Challenge, ConnectionAuth
from .config import WinRMConfig
from .counters import Counters
from .encryption import CONTENT_TYPE as ENCRYPTED_CONTENT_TYPE
from .encryption import EncryptionError, is_encrypted, seal, unseal
from .faultplan import FaultPlan
from .shell import ShellService
from .soap import MalformedRequest, parse_request
from .tls import make_certificate, server_context

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8'


class WSManServer:
    """A WS-Management listener for one host.

    ``accounts`` (name -> password) are the host's local accounts, needed for NTLM (the
    acceptor must know the password hash); Basic asks ``host.authenticate``. Counters and
    faults are public: ``server.counters.snapshot()``, ``server.faults.drop_next(1)``;
    ``server.received()`` lists the commands (command line and stdin) the host was sent.
    """

    def __init__(self, host: t.Any, accounts: t.Mapping[str, str], config: t.Optional[WinRMConfig] = None,
                 scheme: str = 'http', port: int = 0, state_dir: t.Optional[str] = None) -> None:
        if scheme not in ('http', 'https'):
            raise ValueError('scheme must be http or https, got %r' % scheme)
        self.host = host
        self.name = str(getattr(host, 'name', 'host'))
        self.scheme = scheme
        self.config = config or WinRMConfig()
        self.counters = Counters()
        self.faults = FaultPlan()
        self.shells = ShellService(host, self.config, self.counters, self.faults, self.name)
        self._own_dir = None
        if state_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix='wsman-')
            state_dir = self._own_dir.name
        os.makedirs(state_dir, exist_ok=True)
        self.state_dir = state_dir
        self.auth = Authenticator(host, accounts, self.name, self.config.allow_basic,
                                  os.path.join(state_dir, 'ntlm_users'), self.faults.reject_authentication)
        context = None
        if scheme == 'https':
            context = server_context(*make_certificate(self.name, state_dir))
        self._httpd = _HTTPServer(('127.0.0.1', port), self, context)
        self.port = self._httpd.server_address[1]
        self.shells.endpoint_url = self.endpoint
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def endpoint(self) -> str:
        return '%s://127.0.0.1:%d/wsman' % (self.scheme, self.port)

    def start(self) -> 'WSManServer':
        serve = threading.Thread(target=self._httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True,
                                 name='wsman-%s' % self.name)
        reaper = threading.Thread(target=self._reap, daemon=True, name='wsman-reaper-%s' % self.name)
        self._threads = [serve, reaper]
        for thread in self._threads:
            thread.start()
        log.info('%s: WinRM listening on %s', self.name, self.endpoint)
        return self

    def stop(self) -> None:
        """Stop listening, cut open connections and close every shell (the host is told)."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.shells.close_all()
        if self._own_dir is not None:
            self._own_dir.cleanup()
        log.info('%s: WinRM stopped', self.name)

    def received(self) -> list:
        """Every command this host received (``shell.Received``: user, command line, stdin), oldest first."""
        return self.shells.received()

    def _reap(self) -> None:
        interval = max(0.05, min(1.0, self.config.idle_timeout / 4))
        while not self._stopping.wait(interval):
            try:
                self.shells.reap_idle()
            except Exception:  # pylint: disable=broad-except  # the reaper must survive a host bug
                log.exception('%s: idle shell reaper failed', self.name)

    # -- one HTTP request -----------------------------------------------------------------
    def handle(self, handler: '_Handler') -> None:
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length > 0 else b''
        self.counters.add('requests')
        self.counters.add('bytes_in', len(body))
        if handler.path.split('?', 1)[0].rstrip('/').lower() != '/wsman':
            handler.reply(404, b'')
            return
        lose = self.faults.on_request(self._process_running)
        if lose == 'request':
            handler.drop()
            return
        try:
            status, headers, payload = self._respond(handler, body)
        except Exception as exc:  # pylint: disable=broad-except  # a lab bug must not pass for a dropped link
            log.exception('%s: the WinRM emulation failed on a request', self.name)
            status, headers = 500, [('Content-Type', SOAP_CONTENT_TYPE)]
            payload = faults.host_error(exc).render('', self.name)
        if lose == 'response':
            handler.drop()
            return
        handler.reply(status, payload, headers)

    def _respond(self, handler: '_Handler', body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = handler.auth_state
        try:
            identity = self.auth.authenticate(conn, handler.headers.get('Authorization'))
        except Challenge as challenge:
            if challenge.failed:
                self.counters.add('auth_failures')
            return 401, [('WWW-Authenticate', value) for value in challenge.headers], b''
        encrypted = is_encrypted(handler.headers.get('Content-Type', ''))
        if encrypted:
            self.counters.add('encrypted_requests')
            if conn.ntlm is None:
                return 400, [], b''
            try:
                # Unseal before any other check: NTLM sealing is a stream (RC4), so skipping a
                # message would put this connection's session out of step for good.
                body = unseal(conn.ntlm, body)
            except EncryptionError as exc:
                # A body sealed for another connection's session: Windows answers 400 (the
                # case Ansible's winrm plugin works around when cleaning up after a timeout).
                log.info('%s: %s', self.name, exc)
                return 400, [], b''
        if len(body) > self.config.max_envelope_size_kb * 1024:
            # Windows answers an oversized request with a bare HTTP 413 (ansible.windows#391 and
            # #620, ansible#78263: "Bad HTTP response returned from server. Code 413").
            return 413, [], b''
        if not body:
            # pywinrm's encryption setup: an empty POST that only completes authentication.
            return 200, [], b''
        if self.scheme == 'http' and not encrypted and not self.config.allow_unencrypted:
            self.counters.add('auth_failures')
            return 401, [('WWW-Authenticate', value) for value in self.auth.offers()], b''
        request = None
        try:
            request = parse_request(body)
            response = self.shells.dispatch(request, identity)
            status = 200
        except MalformedRequest as exc:
            response = faults.schema_validation(str(exc)).render('', self.name)
            status = 500
        except faults.WSManFault as fault:
            response = fault.render(request.message_id if request else '', self.name)
            status = 500
        if status == 500:
            self.counters.add('faults')
        if encrypted:
            return status, [('Content-Type', ENCRYPTED_CONTENT_TYPE)], seal(conn.ntlm, response)
        return status, [('Content-Type', SOAP_CONTENT_TYPE)], response

    def _process_running(self, image_name: str) -> bool:
        check = getattr(self.host, 'process_running', None)
        return bool(check(image_name)) if check is not None else False


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: '_HTTPServer'

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()
        self.auth_state = ConnectionAuth(self.client_address[0])

    def version_string(self) -> str:
        return 'Microsoft-HTTPAPI/2.0'

    def do_POST(self) -> None:  # noqa: N802  # http.server's naming
        self.server.wsman.handle(self)

    def do_GET(self) -> None:  # noqa: N802
        self.server.wsman.counters.add('requests')
        self.reply(405, b'')

    def reply(self, status: int, body: bytes, headers: t.Iterable[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.server.wsman.counters.add('bytes_out', len(body))

    def drop(self) -> None:
        """Close the connection without answering."""
        self.server.wsman.counters.add('dropped')
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, format: str, *args: t.Any) -> None:  # pylint: disable=redefined-builtin
        log.debug('%s: %s - %s', self.server.wsman.name, self.address_string(), format % args)


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], wsman: WSManServer, context: t.Optional[ssl.SSLContext]) -> None:
        self.wsman = wsman
        self.ssl_context = context
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, t.Any]:
        sock, address = self.socket.accept()
        # Without TCP_NODELAY each small response waits for the client's delayed ACK (~40 ms).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is not None:
            # The handshake happens in the connection's own thread (_Handler.setup).
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._conn_lock:
            self._connections.add(sock)
        return sock, address

    def shutdown_request(self, request: t.Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conn_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        log.debug('%s: connection from %s ended with an error', self.wsman.name, client_address, exc_info=True)
