"""Test-only action: run ``cmd`` on the task's host through its own connection, optionally
feeding ``stdin``, the way the collection's action plugins reach Windows hosts
(``connection.exec_command(cmd, in_data=...)``)."""
from __future__ import annotations

from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('cmd', 'stdin'))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        stdin = self._task.args.get('stdin')
        rc, stdout, stderr = self._connection.exec_command(
            self._task.args['cmd'], in_data=to_bytes(stdin) if stdin is not None else None)
        result.update(rc=rc, stdout=to_text(stdout), stderr=to_text(stderr), changed=False)
        if rc != 0:
            result.update(failed=True, msg='the command exited with %d' % rc)
        return result
