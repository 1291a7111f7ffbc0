"""Base class of the collection's action plugins.

Every module of ``airgap.wsus`` is an action plugin: it runs on the controller and talks to
the Windows host through the task's own connection (see docs/architecture.md). This base
does what they all need:

- validates the task's options against the module's spec (``ARGUMENT_SPEC``, usually built
  with ``_argspec.merge_specs``), in check mode too;
- refuses connections that are not Windows remoting (``winrm`` or ``psrp``) with a clear error;
- turns the collection's exceptions into task results: a failed host script gives a message
  naming the cause and the fix plus the error's facts under ``host_error``; a connection that
  never came back marks the host unreachable; a missing library gives Ansible's usual
  ``missing_required_lib`` text;
- removes every ``no_log`` value (a SUSDB password, say) from the result's messages;
- hands out the helpers: :meth:`host_runner`, :meth:`job_driver`, :meth:`susdb_executor`.

A module implements :meth:`execute` and returns the result keys (``changed``, ...).
"""
from __future__ import annotations

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from . import _host_script, _jobs, _susdb
from ._errors import AirgapWsusError, HostScriptError, HostUnreachableError, MissingLibraryError, UsageError, redact

display = Display()

WINDOWS_TRANSPORTS = ('winrm', 'psrp')

# Known causes of host-script failures: (substring of the .NET type or message, lower-case) ->
# the fix to suggest. Checked in order; the first match wins.
_HINTS = (
    ('unauthorizedaccessexception', 'Run the task as a member of the local Administrators group of the host '
                                    '(for a local account over WinRM, UAC remote restrictions also apply).'),
    ('access is denied', 'Run the task as a member of the local Administrators group of the host.'),
    ('microsoft.updateservices.administration', 'Is the WSUS role installed with its API (UpdateServices-API), '
                                                'and is the WsusService running?'),
    ('unable to connect to the remote server', 'The WSUS API could not reach the WSUS web service: start WsusService '
                                               'and the IIS site "WSUS Administration" (WsusPool).'),
    # .NET's WebException says "(503) Server Unavailable" or "HTTP status 503", depending on the call.
    ('(503)', 'The WSUS web service answered 503: the IIS application pool WsusPool is stopped; start it '
              '(Start-WebAppPool WsusPool).'),
    ('status 503', 'The WSUS web service answered 503: the IIS application pool WsusPool is stopped; start it '
                   '(Start-WebAppPool WsusPool).'),
    ('sqlexception', 'SUSDB refused the query: check that the database service (MSSQL$MICROSOFT##WID or the SQL '
                     'Server) runs and that the account may read SUSDB.'),
    ('win32_process.create failed', 'The job runner could not be started; check the WMI service (winmgmt).'),
    ('is not recognized as', 'Windows PowerShell 5.1 is required on the host.'),
)


def hint_for(error: HostScriptError) -> str:
    """Return a sentence suggesting a fix for ``error``, or ``''``."""
    text = f'{error.error_type} {error.message}'.lower()
    for needle, hint in _HINTS:
        if needle in text:
            return hint
    return ''


class AirgapWsusAction(ActionBase):
    """Common behaviour of airgap.wsus action plugins; subclasses implement :meth:`execute`."""

    ARGUMENT_SPEC: dict = {}
    MUTUALLY_EXCLUSIVE: list | None = None
    REQUIRED_TOGETHER: list | None = None
    REQUIRED_ONE_OF: list | None = None
    REQUIRED_IF: list | None = None
    REQUIRED_BY: dict | None = None
    SUPPORTS_CHECK_MODE = True
    SUPPORTS_DIFF = False
    # Modules that only work on the controller (manifest tools, say) set this to False.
    REQUIRES_WINDOWS_CONNECTION = True

    _no_log_values: set = frozenset()

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = self.SUPPORTS_CHECK_MODE
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        try:
            validation, args = self.validate_argument_spec(
                argument_spec=self.ARGUMENT_SPEC,
                mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
                required_together=self.REQUIRED_TOGETHER,
                required_one_of=self.REQUIRED_ONE_OF,
                required_if=self.REQUIRED_IF,
                required_by=self.REQUIRED_BY,
            )
        except AnsibleActionFail as exc:
            result.update(failed=True, msg=str(exc))
            return result
        self._no_log_values = set(getattr(validation, '_no_log_values', ()) or ())
        try:
            if self.REQUIRES_WINDOWS_CONNECTION:
                self.check_connection()
            result.update(self.execute(args, task_vars))
        except HostUnreachableError as exc:
            result.update(unreachable=True, msg=exc.message)
        except HostScriptError as exc:
            hint = hint_for(exc)
            result.update(failed=True, msg=f'{exc.message} {hint}'.strip())
            result.update(exc.to_result())
        except UsageError as exc:
            result.update(failed=True, msg=f'internal error in airgap.wsus (please report it): {exc.message}')
        except (MissingLibraryError, AirgapWsusError) as exc:
            result.update(failed=True, msg=exc.message)
        except Exception as exc:  # pylint: disable=broad-except  # sorted below; anything else propagates unchanged
            if _host_script.credentials_rejected(exc):
                # A failure, not "unreachable": the host answered, and a failed task can be rescued, so a
                # role records the step and writes its report (an unreachable result in a no_log task
                # shows nothing at all).
                result.update(failed=True, msg=self.credentials_message(exc))
            elif _host_script.certificate_rejected(exc):
                result.update(unreachable=True, msg=f'the connection to the host failed: HTTPS could not be set up, because the controller '
                                                    f'does not trust the host\'s certificate or the port does not speak HTTPS ({str(exc).strip()[:300]}). '
                                                    'Give the CA that issued the certificate in ansible_winrm_ca_trust_path (a PEM file or '
                                                    'folder) and connect by the name it was issued to, or check ansible_port and '
                                                    'ansible_winrm_scheme')
            elif isinstance(exc, AnsibleConnectionFailure):
                result.update(unreachable=True, msg=f'the connection to the host failed: {exc}')
            else:
                raise
        return self._scrub(result)

    def credentials_message(self, exc: BaseException) -> str:
        """The message for credentials the host refused: whose, and what to check."""
        user = None
        try:
            user = self._connection.get_option('remote_user')
        except Exception:  # pylint: disable=broad-except  # a connection without the option still gets a message
            user = getattr(self._play_context, 'remote_user', None)
        who = f'the account {user}' if user else 'the account'
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        return (f'{self._play_context.remote_addr or "the host"} refused the credentials of {who} ({first}). Check ansible_user and '
                'ansible_password (or the machine credential in AWX): the password may have changed or the account may be locked '
                'out or disabled. Then run again: a detached job this task started keeps running and is re-attached')

    def execute(self, args: dict, task_vars: dict) -> dict:
        """Do the module's work with validated ``args``; return result keys."""
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers

    @property
    def check_mode(self) -> bool:
        """Whether the task runs in check mode."""
        return bool(self._task.check_mode)

    @property
    def diff_mode(self) -> bool:
        """Whether the task runs with ``--diff``."""
        return bool(getattr(self._task, 'diff', False))

    def check_connection(self) -> None:
        """Raise :class:`AirgapWsusError` unless the task's connection is Windows remoting."""
        transport = str(getattr(self._connection, 'transport', '') or '')
        name = transport.rsplit('.', 1)[-1]
        if name not in WINDOWS_TRANSPORTS:
            raise AirgapWsusError(
                f'{self._task.action} runs on a Windows WSUS server through WinRM, but this task uses the '
                f'{transport or "unknown"} connection. Set ansible_connection to ansible.builtin.winrm or '
                'ansible.builtin.psrp for this host (or delegate_to a host that uses one).')
        shell = getattr(getattr(self._connection, '_shell', None), 'SHELL_FAMILY', 'powershell')
        if shell != 'powershell':
            raise AirgapWsusError(f'the host uses the {shell} shell; set ansible_shell_type to powershell')

    def log(self, message: str) -> None:
        """Show ``message`` at ``-vv`` for this host."""
        display.vv(message, host=self._play_context.remote_addr)

    def host_runner(self, retry: _host_script.RetryPolicy | None = None) -> _host_script.HostScriptRunner:
        """A runner for host scripts over this task's connection."""
        return _host_script.HostScriptRunner(self._connection, log=self.log, retry=retry)

    def job_driver(self, runner: _host_script.HostScriptRunner | None = None) -> _jobs.JobDriver:
        """A detached-job driver over this task's connection."""
        return _jobs.JobDriver(runner or self.host_runner(), log=lambda message: display.v(message, host=self._play_context.remote_addr))

    def show_progress(self, info: _jobs.ProgressInfo) -> None:
        """Progress callback for :meth:`_jobs.JobDriver.run`: one line per poll at ``-v``."""
        display.v(_jobs.format_progress(info), host=self._play_context.remote_addr)

    @staticmethod
    def job_timeout(args: dict) -> float | None:
        """The ``timeout`` option as the driver takes it (0 means no limit)."""
        timeout = args.get('timeout')
        return None if not timeout else float(timeout)

    def susdb_executor(self, susdb: dict | None, runner: _host_script.HostScriptRunner | None = None):
        """The SUSDB executor the ``susdb`` option asks for (see the ``airgap.wsus.susdb`` fragment)."""
        susdb = dict(susdb or {})
        via = susdb.get('via') or 'auto'
        remote = bool(susdb.get('server') or susdb.get('connection_string'))
        if via == 'auto':
            via = 'controller' if remote else 'host'
        if via == 'controller':
            if not remote:
                raise AirgapWsusError('susdb.via is controller, but neither susdb.server nor susdb.connection_string is set')
            return _susdb.PyodbcExecutor(
                susdb.get('connection_string'), server=susdb.get('server'), port=susdb.get('port'),
                database=susdb.get('database'), driver=susdb.get('driver'), username=susdb.get('username'),
                password=susdb.get('password'), encrypt=susdb.get('encrypt', True),
                trust_server_certificate=susdb.get('trust_server_certificate', False), timeout=susdb.get('timeout') or 30)
        if susdb.get('connection_string') or susdb.get('username') or susdb.get('password'):
            raise AirgapWsusError('susdb.via is host: the host connects with the task account\'s Windows identity, so '
                                  'connection_string, username and password cannot be used there')
        runner = runner or self.host_runner()
        return _susdb.HostExecutor(runner.run_retrying, server=susdb.get('server'), database=susdb.get('database'))

    def _scrub(self, result: dict) -> dict:
        """Remove no_log values from the result's text fields."""
        secrets = [v for v in self._no_log_values if isinstance(v, str) and v]
        if not secrets:
            return result
        for key in ('msg', 'stderr', 'stdout'):
            if isinstance(result.get(key), str):
                result[key] = redact(result[key], secrets)
        host_error = result.get('host_error')
        if isinstance(host_error, dict) and isinstance(host_error.get('stderr'), str):
            host_error['stderr'] = redact(host_error['stderr'], secrets)
        return result
