#!/usr/bin/env python
"""Run an emulated WSUS lab in the background.

    python tests/lab/cli.py up --spec SPEC.yml --state-dir DIR --inventory INVENTORY.ini
    python tests/lab/cli.py status --state-dir DIR [--json]
    python tests/lab/cli.py fault --state-dir DIR HOST --drop-next 2
    python tests/lab/cli.py down --state-dir DIR

``up`` returns once every host answers WinRM (checked with pywinrm); the lab process is
detached, logs to DIR/lab.log, and records its ports and control endpoint in DIR/lab.json.
``serve`` runs a lab in the foreground (Ctrl+C stops it). See docs/lab.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import typing as t

if __package__ in (None, ''):
    # Run as a script: import the lab package from tests/ (this folder must not shadow it,
    # since it holds lab.py), whether or not the checkout sits in an ansible_collections tree.
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    sys.path.insert(0, os.path.dirname(_HERE))
    from lab import control  # noqa: E402  # pylint: disable=import-self
    from lab import spec as spec_mod  # noqa: E402
    from lab.lab import Lab, LabError, probe  # noqa: E402
else:
    from . import control
    from . import spec as spec_mod
    from .lab import Lab, LabError, probe

REQUIRED_MODULES = ('winrm', 'spnego', 'yaml', 'cryptography')
SPEC_FILE = 'spec.json'
PID_FILE = 'lab.pid'
LOG_FILE = 'lab.log'


def main(argv: t.Optional[t.Sequence[str]] = None) -> int:
    _ensure_requirements(sys.argv[1:] if argv is None else list(argv))
    parser = argparse.ArgumentParser(prog='cli.py', description='Run an emulated WSUS lab (WinRM on loopback).')
    sub = parser.add_subparsers(dest='command', required=True)

    up = sub.add_parser('up', help='start the lab in the background; return once every host answers WinRM')
    up.add_argument('--spec', required=True, help='the lab spec (YAML)')
    up.add_argument('--state-dir', required=True, help='folder for the hosts\' state, logs and lab.json')
    up.add_argument('--inventory', required=True, help='where to write the Ansible INI inventory')
    up.add_argument('--backend', help='FILE.py:FUNCTION building host backends instead of the lab\'s own emulator')
    up.add_argument('--timeout', type=float, default=120.0, help='seconds to wait for the hosts (default 120)')

    serve = sub.add_parser('serve', help='run the lab in the foreground until Ctrl+C, SIGTERM or "down"')
    source = serve.add_mutually_exclusive_group(required=True)
    source.add_argument('--spec', help='the lab spec (YAML)')
    source.add_argument('--normalized-spec', help=argparse.SUPPRESS)
    serve.add_argument('--state-dir', required=True)
    serve.add_argument('--inventory', required=True)
    serve.add_argument('--backend')

    down = sub.add_parser('down', help='stop the lab started from a state dir')
    down.add_argument('--state-dir', required=True)
    down.add_argument('--timeout', type=float, default=30.0)

    status = sub.add_parser('status', help='show whether the lab runs, its hosts and their counters')
    status.add_argument('--state-dir', required=True)
    status.add_argument('--json', action='store_true', help='print hosts, counters and pending faults as JSON')

    fault = sub.add_parser('fault', help='inject WinRM faults into a running host')
    fault.add_argument('--state-dir', required=True)
    fault.add_argument('host')
    fault.add_argument('--drop-at-request', type=int, metavar='N', help='drop the connection at the N-th request')
    fault.add_argument('--drop-next', type=int, metavar='N', help='drop the connection of the next N requests')
    fault.add_argument('--drop-while-process', metavar='IMAGE', help='drop requests while IMAGE (robocopy.exe) runs')
    fault.add_argument('--reject-password', type=int, metavar='N', help='refuse the next N authentications (401)')
    fault.add_argument('--quota-exceeded', type=int, metavar='N', help='fault the next N commands with 0x803381A6')
    fault.add_argument('--lose', choices=('request', 'response'), default='request',
                       help='drop before processing (request, default) or after (response)')
    fault.add_argument('--clear', action='store_true', help='remove pending faults first')

    args = parser.parse_args(argv)
    try:
        return int(globals()['cmd_' + args.command](args))
    except (spec_mod.SpecError, LabError, control.ControlError) as exc:
        print('error: %s' % exc, file=sys.stderr)
        return 2


# -- up / serve / down ----------------------------------------------------------------------
def cmd_up(args: argparse.Namespace) -> int:
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    running = _running_pid(state_dir)
    if running:
        raise LabError('a lab already runs from %s (pid %d); stop it first: python %s down --state-dir %s'
                       % (state_dir, running, _script(), state_dir))
    _remove(os.path.join(state_dir, control.STATE_FILE))
    spec = spec_mod.load(args.spec)
    if args.backend:
        _load_backend(args.backend)     # fail here, not in the background, on a bad --backend
    spec_path = os.path.join(state_dir, SPEC_FILE)
    fd = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)   # holds the passwords
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        json.dump(spec, handle, indent=2)
    command = [sys.executable, _script(), 'serve', '--normalized-spec', spec_path, '--state-dir', state_dir,
               '--inventory', os.path.abspath(args.inventory)]
    if args.backend:
        path, _sep, function = args.backend.rpartition(':')
        command += ['--backend', '%s:%s' % (os.path.abspath(path), function)]   # the child runs in state_dir
    log_path = os.path.join(state_dir, LOG_FILE)
    with open(log_path, 'ab') as log_file:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True, cwd=state_dir)
    with open(os.path.join(state_dir, PID_FILE), 'w', encoding='utf-8') as handle:
        handle.write('%d\n' % child.pid)

    deadline = time.monotonic() + args.timeout
    state = None
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise LabError('the lab process exited with %d before the hosts were up. Last lines of %s:\n%s'
                           % (child.returncode, log_path, _tail(log_path)))
        try:
            state = control.read_state(state_dir)
        except control.ControlError:
            state = None
        if state and state.get('pid') == child.pid and state.get('ready'):
            break
        time.sleep(0.1)
    else:
        _terminate(child.pid, state_dir, 10.0)
        raise LabError('the lab did not come up within %.0f s; it was stopped. Last lines of %s:\n%s'
                       % (args.timeout, log_path, _tail(log_path)))

    for name, host in state['hosts'].items():
        account = spec_mod.host_entry(spec, name)['accounts'][host['user']]
        probe(host['endpoint'], host['transport'], host['user'], account['password'],
              timeout=max(1.0, deadline - time.monotonic()))
    # Counters start at zero for whoever uses the lab, as in-process (the probe is not counted).
    client = control.ControlClient(state['control']['port'], state['control']['token'])
    for name in state['hosts']:
        client.reset_counters(name)
    for name, host in state['hosts'].items():
        print('%-24s %-7s %s (%s, as %s)' % (name, host['role'], host['endpoint'], host['transport'], host['user']))
    print('inventory: %s' % os.path.abspath(args.inventory))
    print('state:     %s (log: %s)' % (state_dir, log_path))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    state_dir = os.path.abspath(args.state_dir)
    if args.normalized_spec:
        with open(args.normalized_spec, encoding='utf-8') as handle:
            spec = json.load(handle)
    else:
        spec = spec_mod.load(args.spec)
    backend = _load_backend(args.backend) if args.backend else None
    os.makedirs(state_dir, exist_ok=True)
    with open(os.path.join(state_dir, PID_FILE), 'w', encoding='utf-8') as handle:
        handle.write('%d\n' % os.getpid())
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    lab = Lab(spec, state_dir, backend).start()
    control_server = None
    try:
        lab.write_inventory(args.inventory)
        control_server = control.ControlServer(lab, on_shutdown=stop.set).start()
        control.write_state(state_dir, {
            'pid': os.getpid(), 'ready': True, 'started_at': time.time(),
            'inventory': os.path.abspath(args.inventory),
            'control': {'port': control_server.port, 'token': control_server.token},
            'hosts': lab.describe(),
        })
        logging.getLogger('lab').info('ready; control endpoint on 127.0.0.1:%d', control_server.port)
        while not stop.wait(0.5):
            pass
    finally:
        if control_server is not None:
            control_server.stop()
        lab.stop()
        _remove(os.path.join(state_dir, control.STATE_FILE))
        _remove(os.path.join(state_dir, PID_FILE))
        logging.getLogger('lab').info('stopped')
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    state_dir = os.path.abspath(args.state_dir)
    pid = _running_pid(state_dir)
    if not pid:
        _remove(os.path.join(state_dir, control.STATE_FILE))
        print('no lab runs from %s' % state_dir)
        return 0
    try:
        control.ControlClient.from_state_dir(state_dir).shutdown()
    except control.ControlError as exc:
        print('the control endpoint did not answer (%s); sending SIGTERM to %d' % (exc, pid), file=sys.stderr)
        os.kill(pid, signal.SIGTERM)
    if not _wait_exit(pid, args.timeout):
        _terminate(pid, state_dir, 5.0)
    print('lab stopped (%s)' % state_dir)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = os.path.abspath(args.state_dir)
    pid = _running_pid(state_dir)
    if not pid:
        print('no lab runs from %s' % state_dir)
        return 1
    hosts = control.ControlClient.from_state_dir(state_dir).hosts()
    if args.json:
        print(json.dumps({'pid': pid, 'state_dir': state_dir, 'hosts': hosts}, indent=2))
        return 0
    print('lab running from %s (pid %d)' % (state_dir, pid))
    for name, host in hosts.items():
        counters = host['counters']
        print('%-24s %-7s %s (%s) requests=%d commands=%d faults=%d dropped=%d'
              % (name, host['role'], host['endpoint'], host['transport'], counters['requests'], counters['commands'],
                 counters['faults'], counters['dropped']))
    return 0


def cmd_fault(args: argparse.Namespace) -> int:
    settings: dict[str, t.Any] = {'lose': args.lose}
    if args.clear:
        settings['clear'] = True
    for key in ('drop_at_request', 'drop_next', 'drop_while_process', 'reject_password', 'quota_exceeded'):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if len(settings) == 1:
        raise LabError('name a fault to inject, e.g. --drop-next 1 (see --help)')
    pending = control.ControlClient.from_state_dir(args.state_dir).inject(args.host, **settings)
    print(json.dumps(pending, indent=2))
    return 0


# -- helpers --------------------------------------------------------------------------------
def _ensure_requirements(argv: t.List[str]) -> None:
    """Run under an interpreter that has the lab's libraries: re-execute with the project's
    virtualenv (made by ``make test``) when this one lacks them, else say how to get them."""
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if not missing:
        return
    repo = os.path.dirname(os.path.dirname(os.path.dirname(_script())))
    venv_python = os.path.join(repo, '.cache', 'venv', 'bin', 'python')
    if os.path.exists(venv_python) and os.path.abspath(venv_python) != os.path.abspath(sys.executable) \
            and not os.environ.get('AIRGAP_WSUS_LAB_REEXEC'):
        os.environ['AIRGAP_WSUS_LAB_REEXEC'] = '1'
        os.execv(venv_python, [venv_python, _script()] + argv)
    sys.exit('error: %s lacks %s, which the lab needs. Run it with the project\'s virtualenv (make test creates '
             '.cache/venv), or: %s -m pip install -r requirements.txt -r tests/requirements/test.txt'
             % (sys.executable, ', '.join(missing), sys.executable))


def _script() -> str:
    return os.path.abspath(__file__)


def _load_backend(reference: str) -> t.Callable[..., t.Any]:
    """``path/to/file.py:function``: a backend factory ``function(entry, state_dir, shared)``."""
    path, sep, function = reference.rpartition(':')
    if not sep or not path.endswith('.py') or not function:
        raise LabError('--backend must look like path/to/file.py:function, got %r' % reference)
    path = os.path.abspath(path)
    module_spec = importlib.util.spec_from_file_location('lab_backend_%d' % abs(hash(path)), path)
    if module_spec is None or module_spec.loader is None or not os.path.isfile(path):
        raise LabError('--backend: cannot load %s' % path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module      # dataclasses look their module up while it loads
    module_spec.loader.exec_module(module)
    factory = getattr(module, function, None)
    if not callable(factory):
        raise LabError('--backend: %s has no function %r' % (path, function))
    return factory


def _running_pid(state_dir: str) -> int:
    """The pid of this state dir's lab process if it is alive (and really ours), else 0."""
    try:
        with open(os.path.join(state_dir, PID_FILE), encoding='utf-8') as handle:
            pid = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return 0
    if pid <= 0:
        return 0
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            cmdline = handle.read().split(b'\0')
    except OSError:
        return 0
    # A recycled pid belongs to someone else: only a "cli.py serve --state-dir <state_dir>" is ours.
    try:
        cwd = os.readlink('/proc/%d/cwd' % pid)
    except OSError:
        return 0
    args = [os.fsdecode(a) for a in cmdline]
    for flag, value in zip(args, args[1:]):
        if flag == '--state-dir' and 'serve' in args and os.path.normpath(os.path.join(cwd, value)) == os.path.normpath(state_dir):
            return pid
    return 0


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, dummy = os.waitpid(pid, os.WNOHANG)
            if finished == pid:
                return True
        except ChildProcessError:
            pass
        if not os.path.exists('/proc/%d' % pid):
            return True
        try:
            with open('/proc/%d/stat' % pid, encoding='ascii') as handle:
                if handle.read().split(')')[-1].split()[0] == 'Z':
                    return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


def _terminate(pid: int, state_dir: str, timeout: float) -> None:
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if not _running_pid(state_dir) and not os.path.exists('/proc/%d' % pid):
            return
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        if _wait_exit(pid, timeout):
            return


def _tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return ''.join(handle.readlines()[-lines:])
    except OSError:
        return '(no log)'


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


if __name__ == '__main__':
    sys.exit(main())
