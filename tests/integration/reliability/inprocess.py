"""Run the collection's action plugins in this process, over Ansible's own ``winrm`` connection plugin, against a lab host.

Property-based tests send hundreds of hostile values; an ``ansible-playbook`` per value would take
minutes. Here each call goes through the same code as a playbook task (the action plugin, the
host-script runner, Ansible's winrm plugin, pywinrm, the lab's WS-Management listener and the
host-script twins), without Ansible's process start and task machinery around it.

    host = InProcessHost(lab.import_)
    mark = host.mark()
    result = host.run('approvals', {'state': 'exported', 'path': 'D:\\\\x\\\\a.json', 'allow_unsigned': True})
    for command_line, payload in host.received_since(mark): ...
"""
from __future__ import annotations

import importlib
import json
import typing as t
from types import SimpleNamespace


class InProcessHost:
    """One lab host, reached through a real ``winrm`` connection plugin object."""

    def __init__(self, handle: t.Any) -> None:
        from ansible.playbook.play_context import PlayContext  # pylint: disable=import-outside-toplevel
        from ansible.plugins.loader import connection_loader  # pylint: disable=import-outside-toplevel

        self.handle = handle
        self.connection = connection_loader.get('winrm', PlayContext())
        self.connection.set_options(var_options={
            'ansible_host': '127.0.0.1', 'ansible_port': handle.port, 'ansible_user': handle.username,
            'ansible_password': handle.password, 'ansible_winrm_transport': handle.transport,
            'ansible_winrm_scheme': handle.entry['scheme'], 'ansible_winrm_server_cert_validation': 'ignore', '_extras': {}})

    def run(self, module: str, args: dict, check_mode: bool = False) -> dict:
        """Run ``airgap.wsus.<module>`` with ``args`` as a task would, and return its result."""
        plugin = importlib.import_module(f'ansible_collections.airgap.wsus.plugins.action.{module}')
        task = SimpleNamespace(args=dict(args), async_val=0, check_mode=check_mode, action=f'airgap.wsus.{module}', diff=False)
        action = plugin.ActionModule(task, self.connection, SimpleNamespace(remote_addr='127.0.0.1', remote_user=self.handle.username),
                                     None, None, None)
        action._load_name = f'airgap.wsus.{module}'  # pylint: disable=protected-access
        return action.run(task_vars={})

    def mark(self) -> int:
        """A position in the host's record of received commands."""
        return len(self.handle.server.received())

    def received_since(self, mark: int) -> list:
        """``(command line, payload)`` of every command received after ``mark``; ``payload`` is the decoded stdin JSON line."""
        out = []
        for item in self.handle.server.received()[mark:]:
            text = item.stdin.decode('ascii').strip()
            out.append((item.command_line, json.loads(text.splitlines()[0]) if text else None))
        return out

    def calls(self, mark: int, operation: str) -> list:
        """The parameters of every ``operation`` host-script call received after ``mark``."""
        return [payload['params'] for _line, payload in self.received_since(mark) if payload and payload['name'] == operation]

    def close(self) -> None:
        self.connection.close()
