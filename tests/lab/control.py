"""A small HTTP JSON endpoint on loopback to read counters and inject faults from another process.

``cli.py up`` records its port and a random token in ``<state-dir>/lab.json``; every request
must carry the token in ``X-Lab-Token``. Routes::

    GET  /v1/hosts                          -> {name: {role, port, scheme, transport, endpoint, counters, faults}}
    GET  /v1/hosts/<name>/counters          -> counters
    POST /v1/hosts/<name>/counters/reset    -> counters (zeroed)
    POST /v1/hosts/<name>/faults  {...}     -> pending faults (body as in FaultPlan.apply)
    POST /v1/shutdown                       -> {"stopping": true}; the lab process stops

``ControlClient.from_state_dir(dir)`` wraps these for tests and benchmarks.
"""
from __future__ import annotations

import hmac
import http.client
import http.server
import json
import os
import secrets
import threading
import typing as t

STATE_FILE = 'lab.json'


class ControlError(RuntimeError):
    """The control endpoint refused a request or cannot be reached."""


class ControlServer:
    """Serves the routes above for a running ``Lab``."""

    def __init__(self, lab: t.Any, on_shutdown: t.Callable[[], None], token: t.Optional[str] = None) -> None:
        self.lab = lab
        self.on_shutdown = on_shutdown
        self.token = token or secrets.token_urlsafe(24)
        self._httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={'poll_interval': 0.05},
                                        daemon=True, name='lab-control')

    def start(self) -> 'ControlServer':
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def route(self, method: str, path: str, body: t.Any) -> t.Any:
        parts = [p for p in path.split('?', 1)[0].split('/') if p]
        if parts[:1] != ['v1']:
            raise LookupError(path)
        parts = parts[1:]
        if method == 'GET' and parts == ['hosts']:
            return {name: self._host_view(name) for name in self.lab.hosts}
        if method == 'POST' and parts == ['shutdown']:
            threading.Thread(target=self.on_shutdown, daemon=True, name='lab-shutdown').start()
            return {'stopping': True}
        if len(parts) >= 3 and parts[0] == 'hosts':
            server = self._server(parts[1])
            if method == 'GET' and parts[2:] == ['counters']:
                return server.counters.snapshot()
            if method == 'POST' and parts[2:] == ['counters', 'reset']:
                server.counters.reset()
                return server.counters.snapshot()
            if method == 'POST' and parts[2:] == ['faults']:
                if not isinstance(body, dict):
                    raise ValueError('the faults body must be a JSON object')
                server.faults.apply(body)
                return server.faults.snapshot()
        raise LookupError(path)

    def _server(self, name: str) -> t.Any:
        for host_name, handle in self.lab.hosts.items():
            if host_name.lower() == name.lower():
                return handle.server
        raise LookupError('no host named %r' % name)

    def _host_view(self, name: str) -> dict:
        handle = self.lab.hosts[name]
        view = dict(self.lab.describe()[name])
        view['counters'] = handle.server.counters.snapshot()
        view['faults'] = handle.server.faults.snapshot()
        return view


def _make_handler(control: ControlServer) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def _serve(self, method: str) -> None:
            length = int(self.headers.get('Content-Length') or 0)
            raw = self.rfile.read(length) if length else b''
            if not hmac.compare_digest(self.headers.get('X-Lab-Token', ''), control.token):
                self._reply(403, {'error': 'missing or wrong X-Lab-Token (read it from the state dir lab.json)'})
                return
            try:
                body = json.loads(raw) if raw else None
                self._reply(200, control.route(method, self.path, body))
            except LookupError as exc:
                self._reply(404, {'error': 'not found: %s' % exc})
            except (TypeError, ValueError) as exc:
                self._reply(400, {'error': str(exc)})

        def do_GET(self) -> None:  # noqa: N802
            self._serve('GET')

        def do_POST(self) -> None:  # noqa: N802
            self._serve('POST')

        def _reply(self, status: int, data: t.Any) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: t.Any) -> None:  # pylint: disable=redefined-builtin
            return

    return Handler


class ControlClient:
    """Talk to a lab started by ``cli.py up``."""

    def __init__(self, port: int, token: str, timeout: float = 10.0) -> None:
        self.port = port
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_state_dir(cls, state_dir: t.Union[str, os.PathLike]) -> 'ControlClient':
        state = read_state(state_dir)
        return cls(state['control']['port'], state['control']['token'])

    def call(self, method: str, path: str, body: t.Any = None) -> t.Any:
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=self.timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else b''
            conn.request(method, path, body=payload, headers={'X-Lab-Token': self.token,
                                                              'Content-Type': 'application/json'})
            response = conn.getresponse()
            data = json.loads(response.read() or b'null')
        except (OSError, http.client.HTTPException) as exc:
            raise ControlError('the lab control endpoint on 127.0.0.1:%d is not answering (%s); is the lab up? '
                               'Try: python tests/lab/cli.py status --state-dir DIR' % (self.port, exc)) from None
        finally:
            conn.close()
        if response.status != 200:
            raise ControlError('lab control %s %s failed: %s' % (method, path, (data or {}).get('error', response.status)))
        return data

    def hosts(self) -> dict:
        return self.call('GET', '/v1/hosts')

    def counters(self, host: str) -> dict:
        return self.call('GET', '/v1/hosts/%s/counters' % host)

    def reset_counters(self, host: str) -> dict:
        return self.call('POST', '/v1/hosts/%s/counters/reset' % host)

    def inject(self, host: str, **faults: t.Any) -> dict:
        """e.g. ``inject('wsus1', drop_next=2)``, ``inject('wsus1', clear=True)``."""
        return self.call('POST', '/v1/hosts/%s/faults' % host, faults)

    def shutdown(self) -> None:
        self.call('POST', '/v1/shutdown')


def read_state(state_dir: t.Union[str, os.PathLike]) -> dict:
    path = os.path.join(os.fspath(state_dir), STATE_FILE)
    try:
        with open(path, encoding='utf-8') as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise ControlError('no lab runs from %s (no %s); start one with: python tests/lab/cli.py up --spec SPEC '
                           '--state-dir %s --inventory INVENTORY' % (state_dir, STATE_FILE, state_dir)) from None


def write_state(state_dir: t.Union[str, os.PathLike], state: dict) -> None:
    """Write ``lab.json`` atomically, mode 0600 (it holds the control token)."""
    path = os.path.join(os.fspath(state_dir), STATE_FILE)
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        json.dump(state, handle, indent=2)
    os.replace(tmp, path)
