# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible callback of the benchmark: the wall time of each task on each host, as JSON lines.

Enabled by benchmarks/cycles.py (``ANSIBLE_CALLBACK_PLUGINS``/``ANSIBLE_CALLBACKS_ENABLED``) and
writing to the file ``AIRGAP_TASK_TIMES_FILE`` names: one ``{"task", "action", "host",
"seconds", "status"}`` per result, so a run's time can be split between the modules' work and
Ansible's own per-task overhead.
"""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: task_times
type: aggregate
short_description: the wall time of each task on each host, for the airgap.wsus benchmark
description: Writes one JSON line per task result to the file in AIRGAP_TASK_TIMES_FILE.
'''


class CallbackModule(CallbackBase):
    """Times each task per host, from the start of the task to each host's result."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'task_times'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._path = os.environ.get('AIRGAP_TASK_TIMES_FILE')
        self._started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.monotonic()  # pylint: disable=protected-access

    def _record(self, result, status: str) -> None:
        if not self._path:
            return
        task = result._task  # pylint: disable=protected-access
        began = self._started.get(task._uuid, time.monotonic())  # pylint: disable=protected-access
        line = {'task': task.get_name(), 'action': task.action, 'host': result._host.get_name(),  # pylint: disable=protected-access
                'seconds': round(time.monotonic() - began, 3), 'status': status}
        with open(self._path, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(line) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')
