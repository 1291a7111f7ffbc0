"""The Windows Remote Shell resource (``.../windows/shell/cmd``): Create, Command, Send,
Receive, Signal, Delete, with WinRM's quotas and idle timeout (MS-WSMV 3.1.4)."""
from __future__ import annotations

import base64
import binascii
import collections
import dataclasses
import logging
import threading
import time
import typing as t

from . import faults
from .config import WinRMConfig
from .console import codec_for, command_line, encode_output, through_cmd_exe
from .context import ShellContext
from .counters import Counters
from .faultplan import FaultPlan
from .soap import (ACTION_COMMAND, ACTION_CREATE, ACTION_DELETE, ACTION_RECEIVE, ACTION_SEND, ACTION_SIGNAL,
                   NS, SHELL_CMD_URI, SHELL_NS, SIGNAL_CTRL_BREAK, SIGNAL_CTRL_C, SIGNAL_TERMINATE,
                   STATE_DONE, STATE_RUNNING, Request, bool_option, element, envelope, format_duration,
                   new_uuid, parse_duration)

log = logging.getLogger(__name__)

RECEIVED_LIMIT = 20000
"""Commands kept in :attr:`ShellService.received` (the oldest are forgotten first)."""

STATUS_CONTROL_C_EXIT = 0xC000013A
"""Exit code of a console process ended by Ctrl+C (NTSTATUS STATUS_CONTROL_C_EXIT)."""

_ENVELOPE_OVERHEAD = 2048
"""Bytes kept free in a Receive response for the envelope around the base64 output."""

ACTION_NAMES = {
    ACTION_CREATE: 'Create', ACTION_DELETE: 'Delete', ACTION_COMMAND: 'Command',
    ACTION_SEND: 'Send', ACTION_RECEIVE: 'Receive', ACTION_SIGNAL: 'Signal',
}


@dataclasses.dataclass
class Received:
    """One command as the host received it: who sent it, its command line and its stdin (complete once it started).

    The Authorization header is not part of it: tests read this to prove what reached the host
    as commands and input (a secret that must never be sent, a path that must arrive verbatim).
    """

    username: str
    command_line: str
    stdin: bytes = b''


@dataclasses.dataclass
class Identity:
    """Who sent a request: the account name without domain, and from where."""

    username: str
    client_address: str


class Command:
    """One command of a shell. Its host call runs on its own thread once stdin is complete."""

    def __init__(self, command_id: str, ctx: ShellContext, line: str) -> None:
        self.id = command_id
        self.ctx = ctx
        self.line = line
        self.stdin = bytearray()
        self.stdin_seen = False
        self.stdin_ended = False
        self.started = False
        self.done = False
        self.stdout = b''
        self.stderr = b''
        self.exit_code = 0
        self.error: t.Optional[BaseException] = None
        self.sent_out = 0
        self.sent_err = 0
        self.cond = threading.Condition()
        self.record: t.Optional[Received] = None

    def finish(self, stdout: bytes, stderr: bytes, exit_code: int) -> None:
        with self.cond:
            if self.done:      # already ended by a signal: the late result is discarded
                return
            self.stdout, self.stderr, self.exit_code = stdout, stderr, exit_code & 0xFFFFFFFF
            self.done = True
            self.cond.notify_all()

    def fail(self, exc: BaseException) -> None:
        with self.cond:
            if not self.done:
                self.error = exc
                self.done = True
                self.cond.notify_all()


class Shell:
    """One open shell and its commands."""

    def __init__(self, shell_id: str, identity: Identity, codepage: int, noprofile: bool, working_directory: str,
                 environment: dict[str, str], idle_timeout: float, input_streams: str, output_streams: str) -> None:
        self.id = shell_id
        self.owner = identity.username
        self.client_address = identity.client_address
        self.codepage = codepage
        self.noprofile = noprofile
        self.working_directory = working_directory
        self.environment = environment
        self.idle_timeout = idle_timeout
        self.input_streams = input_streams
        self.output_streams = output_streams
        self.created = time.monotonic()
        self.last_activity = self.created
        self.busy = 0                       # Receives waiting on this shell right now
        self.operations = 0                 # commands run: text shells never give these back
        self.commands: dict[str, Command] = {}

    def context(self, command_id: str, skip_cmd_shell: bool) -> ShellContext:
        return ShellContext(username=self.owner, codepage=self.codepage, shell_id=self.id,
                            working_directory=self.working_directory, environment=dict(self.environment),
                            skip_cmd_shell=skip_cmd_shell, client_address=self.client_address,
                            command_id=command_id, noprofile=self.noprofile)


class ShellService:
    """Dispatches Shell resource operations for one host."""

    def __init__(self, host: t.Any, config: WinRMConfig, counters: Counters, fault_plan: FaultPlan,
                 machine: str) -> None:
        self.host = host
        self.config = config
        self.counters = counters
        self.fault_plan = fault_plan
        self.machine = machine
        self.endpoint_url = 'http://127.0.0.1/wsman'
        self._shells: dict[str, Shell] = {}
        self._lock = threading.Lock()
        self._received: collections.deque = collections.deque(maxlen=RECEIVED_LIMIT)

    # -- entry point ----------------------------------------------------------------------
    def dispatch(self, req: Request, identity: Identity) -> bytes:
        """Run one request and return its response envelope; raises ``faults.WSManFault``."""
        name = ACTION_NAMES.get(req.action)
        if name is None:
            raise faults.action_not_supported(req.action)
        if req.resource_uri != SHELL_CMD_URI:
            raise faults.invalid_resource_uri(req.resource_uri)
        self.counters.action(name)
        handler = getattr(self, '_' + name.lower())
        return handler(req, identity)

    # -- operations -----------------------------------------------------------------------
    def _create(self, req: Request, identity: Identity) -> bytes:
        codepage_text = req.options.get('WINRS_CODEPAGE', '437') or '437'
        if not codepage_text.isdigit() or codec_for(int(codepage_text)) is None:
            raise faults.invalid_option('WINRS_CODEPAGE', codepage_text)
        body = req.find('rsp:Shell')
        if body is None:
            raise faults.schema_validation('Create needs an rsp:Shell element')
        idle = self.config.idle_timeout
        idle_node = body.find('rsp:IdleTimeOut', NS)
        if idle_node is not None and (idle_node.text or '').strip():
            idle = min(idle, parse_duration(idle_node.text))
        environment = {node.get('Name', ''): node.text or '' for node in body.findall('rsp:Environment/rsp:Variable', NS)}
        workdir_node = body.find('rsp:WorkingDirectory', NS)
        workdir = (workdir_node.text or '').strip() if workdir_node is not None else ''
        shell = Shell(
            shell_id=new_uuid(), identity=identity, codepage=int(codepage_text),
            noprofile=bool_option(req.options.get('WINRS_NOPROFILE')),
            # WinRS starts a shell in the user's profile folder unless told otherwise.
            working_directory=workdir or 'C:\\Users\\%s' % identity.username,
            environment=environment, idle_timeout=idle,
            input_streams=_text(body, 'rsp:InputStreams') or 'stdin',
            output_streams=_text(body, 'rsp:OutputStreams') or 'stdout stderr',
        )
        with self._lock:
            owned = sum(1 for s in self._shells.values() if s.owner == identity.username)
            if owned >= self.config.max_shells_per_user:
                raise faults.quota_max_shells(self.config.max_shells_per_user)
            self._shells[shell.id] = shell
        self.counters.add('shells_created')
        log.debug('%s: shell %s created for %s (code page %d)', self.machine, shell.id, identity.username,
                  shell.codepage)
        created = (
            '<x:ResourceCreated><a:Address>{addr}</a:Address><a:ReferenceParameters>'
            '<w:ResourceURI>{uri}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">{sid}</w:Selector>'
            '</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>'
            '<rsp:Shell>{sid_el}{uri_el}{owner}{ip}{idle}{ins}{outs}{rt}{inact}</rsp:Shell>'
        ).format(addr=self.endpoint_url, uri=SHELL_CMD_URI, sid=shell.id,
                 sid_el=element('rsp:ShellId', shell.id), uri_el=element('rsp:ResourceUri', SHELL_CMD_URI),
                 owner=element('rsp:Owner', identity.username), ip=element('rsp:ClientIP', identity.client_address),
                 idle=element('rsp:IdleTimeOut', format_duration(idle)),
                 ins=element('rsp:InputStreams', shell.input_streams),
                 outs=element('rsp:OutputStreams', shell.output_streams),
                 rt=element('rsp:ShellRunTime', 'P0DT0H0M0S'), inact=element('rsp:ShellInactivity', 'P0DT0H0M0S'))
        return envelope('http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse', req.message_id, created)

    def _command(self, req: Request, identity: Identity) -> bytes:
        shell = self._shell(req, identity)
        body = req.find('rsp:CommandLine')
        if body is None:
            raise faults.schema_validation('Command needs an rsp:CommandLine element')
        command = _text(body, 'rsp:Command')
        arguments = [node.text or '' for node in body.findall('rsp:Arguments', NS)]
        skip_cmd_shell = bool_option(req.options.get('WINRS_SKIP_CMD_SHELL'))
        with self._lock:
            if self.fault_plan.take_quota_fault():
                raise faults.quota_max_operations(self.config.max_concurrent_operations_per_user)
            used = sum(s.operations for s in self._shells.values() if s.owner == shell.owner)
            if used >= self.config.max_concurrent_operations_per_user:
                raise faults.quota_max_operations(self.config.max_concurrent_operations_per_user)
            shell.operations += 1
        command_id = body.get('CommandId') or new_uuid()
        line = command_line(command, arguments)
        cmd = Command(command_id, shell.context(command_id, skip_cmd_shell), line)
        cmd.record = Received(shell.owner, line)
        with self._lock:
            self._received.append(cmd.record)
        verdict = through_cmd_exe(line, skip_cmd_shell)
        if verdict is not None:
            cmd.started = True
            cmd.finish(encode_output(verdict.stdout, shell.codepage), encode_output(verdict.stderr, shell.codepage),
                       verdict.exit_code)
        with self._lock:
            shell.commands[command_id] = cmd
        self.counters.add('commands')
        response = '<rsp:CommandResponse>%s</rsp:CommandResponse>' % element('rsp:CommandId', command_id)
        return envelope(SHELL_NS + '/CommandResponse', req.message_id, response)

    def _send(self, req: Request, identity: Identity) -> bytes:
        shell = self._shell(req, identity)
        streams = req.findall('rsp:Send/rsp:Stream')
        if not streams:
            raise faults.schema_validation('Send needs an rsp:Send/rsp:Stream element')
        for stream in streams:
            cmd = self._command_of(shell, stream.get('CommandId', ''))
            if stream.get('Name', 'stdin') != 'stdin':
                raise faults.schema_validation('the shell has no input stream named %r' % stream.get('Name'))
            try:
                data = base64.b64decode((stream.text or '').strip(), validate=True)
            except (binascii.Error, ValueError):
                raise faults.schema_validation('the stdin stream is not valid base64') from None
            with cmd.cond:
                if cmd.stdin_ended or cmd.done:
                    # The process has its stdin closed already, or has exited (cmd.exe refused
                    # the line): the data goes nowhere, as with a closed pipe.
                    continue
                cmd.stdin.extend(data)
                cmd.stdin_seen = True
                if bool_option(stream.get('End')):
                    cmd.stdin_ended = True
            if cmd.stdin_ended:
                self._start(cmd)
        return envelope(SHELL_NS + '/SendResponse', req.message_id, '<rsp:SendResponse/>')

    def _receive(self, req: Request, identity: Identity) -> bytes:
        shell = self._shell(req, identity)
        desired = req.find('rsp:Receive/rsp:DesiredStream')
        if desired is None or not desired.get('CommandId'):
            raise faults.schema_validation('Receive needs rsp:DesiredStream with a CommandId')
        cmd = self._command_of(shell, desired.get('CommandId', ''))
        with cmd.cond:
            start_now = not cmd.started and not cmd.stdin_seen
        if start_now:
            self._start(cmd)
        timeout = self._operation_timeout(req)
        deadline = time.monotonic() + timeout
        with self._lock:
            shell.busy += 1
        try:
            with cmd.cond:
                while not cmd.done:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise faults.operation_timed_out()
                    cmd.cond.wait(remaining)
                if cmd.error is not None:
                    raise faults.host_error(cmd.error)
                return envelope(SHELL_NS + '/ReceiveResponse', req.message_id, self._output(req, cmd))
        finally:
            with self._lock:
                shell.busy -= 1
                shell.last_activity = time.monotonic()

    def _signal(self, req: Request, identity: Identity) -> bytes:
        shell = self._shell(req, identity)
        signal = req.find('rsp:Signal')
        if signal is None:
            raise faults.schema_validation('Signal needs an rsp:Signal element')
        code = _text(signal, 'rsp:Code')
        command_id = signal.get('CommandId')
        if command_id:
            cmd = self._command_of(shell, command_id)
            if code == SIGNAL_TERMINATE:
                # The client has read the output (or gives up on it): the command's resources
                # go. A command still running is abandoned; its late result is dropped.
                with self._lock:
                    shell.commands.pop(command_id, None)
                cmd.finish(b'', b'', STATUS_CONTROL_C_EXIT)
            elif code in (SIGNAL_CTRL_C, SIGNAL_CTRL_BREAK):
                with cmd.cond:
                    cmd.started = True
                cmd.finish(b'', b'', STATUS_CONTROL_C_EXIT)
            else:
                raise faults.schema_validation('unknown signal code %r' % code)
        return envelope(SHELL_NS + '/SignalResponse', req.message_id, '<rsp:SignalResponse/>')

    def _delete(self, req: Request, identity: Identity) -> bytes:
        shell = self._shell(req, identity)
        self._close(shell, 'shells_deleted')
        return envelope('http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse', req.message_id, '')

    # -- helpers --------------------------------------------------------------------------
    def _shell(self, req: Request, identity: Identity) -> Shell:
        shell_id = req.selectors.get('ShellId', '')
        with self._lock:
            shell = self._shells.get(shell_id.upper())
            # Another user's shell is invisible, as if it did not exist.
            if shell is None or shell.owner.lower() != identity.username.lower():
                raise faults.shell_not_found(shell_id)
            shell.last_activity = time.monotonic()
            return shell

    def _command_of(self, shell: Shell, command_id: str) -> Command:
        with self._lock:
            cmd = shell.commands.get(command_id.upper()) or shell.commands.get(command_id)
        if cmd is None:
            raise faults.command_not_found(command_id)
        return cmd

    def _operation_timeout(self, req: Request) -> float:
        limit = self.config.max_timeout_ms / 1000.0
        if req.operation_timeout is None:
            return limit
        return max(0.0, min(req.operation_timeout, limit))

    def _start(self, cmd: Command) -> None:
        with cmd.cond:
            if cmd.started:
                return
            cmd.started = True
            cmd.stdin_ended = True
            if cmd.record is not None:
                cmd.record.stdin = bytes(cmd.stdin)
        thread = threading.Thread(target=self._run, args=(cmd,), daemon=True,
                                  name='wsman-%s-%s' % (self.machine, cmd.id[:8]))
        thread.start()

    def _run(self, cmd: Command) -> None:
        try:
            result = self.host.run_command(cmd.ctx, cmd.line, bytes(cmd.stdin))
            stdout = encode_output(result.stdout, cmd.ctx.codepage)
            stderr = encode_output(result.stderr, cmd.ctx.codepage)
            exit_code = int(result.exit_code)
        except Exception as exc:  # pylint: disable=broad-except  # any host bug must reach the client
            log.exception('%s: the emulated host failed running %r', self.machine, cmd.line[:200])
            cmd.fail(exc)
        else:
            cmd.finish(stdout, stderr, exit_code)

    def _output(self, req: Request, cmd: Command) -> str:
        """The next slice of a finished command's output, sized to the client's MaxEnvelopeSize."""
        limit = self.config.max_envelope_size_kb * 1024
        if req.max_envelope_size:
            limit = min(limit, req.max_envelope_size)
        budget = max(1024, (limit - _ENVELOPE_OVERHEAD) * 3 // 4)
        out = cmd.stdout[cmd.sent_out:cmd.sent_out + budget]
        cmd.sent_out += len(out)
        err = cmd.stderr[cmd.sent_err:cmd.sent_err + max(0, budget - len(out))]
        cmd.sent_err += len(err)
        out_end = cmd.sent_out >= len(cmd.stdout)
        err_end = cmd.sent_err >= len(cmd.stderr)
        parts = []
        for name, data, end in (('stdout', out, out_end), ('stderr', err, err_end)):
            if data:
                parts.append(element('rsp:Stream', base64.b64encode(data).decode('ascii'), Name=name,
                                     CommandId=cmd.id))
            if end:
                parts.append(element('rsp:Stream', Name=name, CommandId=cmd.id, End='true'))
        if out_end and err_end:
            parts.append('<rsp:CommandState CommandId="%s" State="%s">%s</rsp:CommandState>'
                         % (cmd.id, STATE_DONE, element('rsp:ExitCode', str(cmd.exit_code))))
        else:
            parts.append(element('rsp:CommandState', CommandId=cmd.id, State=STATE_RUNNING))
        return '<rsp:ReceiveResponse>%s</rsp:ReceiveResponse>' % ''.join(parts)

    def _close(self, shell: Shell, reason: str) -> None:
        with self._lock:
            if self._shells.pop(shell.id, None) is None:
                return
        for cmd in list(shell.commands.values()):
            cmd.finish(b'', b'', STATUS_CONTROL_C_EXIT)
        self.counters.add(reason)
        log.debug('%s: shell %s closed (%s)', self.machine, shell.id, reason)
        closed = getattr(self.host, 'shell_closed', None)
        if closed is not None:
            try:
                closed(shell.id)
            except Exception:  # pylint: disable=broad-except  # closing must go on for the other shells
                log.exception('%s: the emulated host failed closing shell %s', self.machine, shell.id)

    def reap_idle(self) -> int:
        """Close shells idle longer than their IdleTimeOut; returns how many were closed."""
        now = time.monotonic()
        with self._lock:
            expired = [s for s in self._shells.values() if not s.busy and now - s.last_activity > s.idle_timeout]
        for shell in expired:
            self._close(shell, 'shells_timed_out')
        return len(expired)

    def close_all(self) -> None:
        with self._lock:
            shells = list(self._shells.values())
        for shell in shells:
            self._close(shell, 'shells_deleted')

    def received(self) -> list[Received]:
        """The commands received so far, oldest first (at most :data:`RECEIVED_LIMIT`)."""
        with self._lock:
            return list(self._received)

    def shell_ids(self) -> list[str]:
        with self._lock:
            return list(self._shells)


def _text(node: t.Any, path: str) -> str:
    found = node.find(path, NS)
    return (found.text or '').strip() if found is not None else ''
