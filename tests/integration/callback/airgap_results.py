# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: append each task result, per host, as one JSON line to ``$AIRGAP_RESULTS_FILE``.

Enabled by ``tests/integration/playbook.py`` for every playbook the integration tests run, so
a test can assert on the exact result a task returned (return values, ``msg``, ``diff``)
rather than on the human-readable output. Lines are written and flushed as tasks end, so a
playbook that crashes half-way still leaves what it recorded.

Each line: ``{"play", "task", "action", "host", "status", "changed", "ignored", "result"}``;
``status`` is ``ok``, ``failed``, ``skipped`` or ``unreachable``; ``result`` is the task result
without Ansible's internal ``_ansible_*`` keys.
"""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: airgap_results
type: aggregate
short_description: Record task results as JSON lines for the integration tests
description:
  - Appends one JSON object per task and host to the file named by the environment variable
    C(AIRGAP_RESULTS_FILE).
requirements:
  - Enable it with C(ANSIBLE_CALLBACKS_ENABLED=airgap_results).
"""


def _attribute(result, public, private):
    # ansible-core 2.19 passes CallbackTaskResult (host, task, result); older releases TaskResult
    # (_host, _task, _result).
    value = getattr(result, public, None)
    return getattr(result, private) if value is None else value


class CallbackModule(CallbackBase):
    """Writes every task result to ``$AIRGAP_RESULTS_FILE``."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'airgap_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get('AIRGAP_RESULTS_FILE')
        self._play = ''

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def _record(self, status, result, ignored=False):
        if not self._path:
            return
        host = _attribute(result, 'host', '_host')
        task = _attribute(result, 'task', '_task')
        data = _attribute(result, 'result', '_result')
        data = {key: value for key, value in dict(data).items() if not str(key).startswith('_ansible_')}
        record = {
            'play': self._play,
            'task': task.get_name(),
            'action': task.action,
            'host': host.get_name(),
            'status': status,
            'changed': bool(data.get('changed', False)),
            'ignored': bool(ignored),
            'result': data,
        }
        with open(self._path, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(record, default=str, sort_keys=True) + '\n')

    def v2_runner_on_ok(self, result):
        self._record('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record('failed', result, ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._record('unreachable', result)
