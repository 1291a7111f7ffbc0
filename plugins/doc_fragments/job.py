# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the options of modules that run long work as detached jobs on the host."""
from __future__ import annotations


class ModuleDocFragment:
    """Options of detached jobs (robocopy, WsusUtil)."""

    DOCUMENTATION = r'''
options:
  work_dir:
    description:
      - Folder on the Windows host for job state, logs and job files, as a local absolute path.
      - Each job lives in C(<work_dir>\jobs\<job id>). The job id is derived from the task's
        options, so running the same task again re-attaches to a job that is still running
        instead of starting a second one.
    type: str
    default: C:\ProgramData\airgap.wsus
  timeout:
    description:
      - Seconds to wait for the job to finish. V(0) means no limit.
      - What happens at the limit is set by O(on_timeout).
      - A dropped connection does not stop the job. Polls are retried, and running the task
        again re-attaches.
    type: int
    default: 86400
  poll_interval:
    description:
      - Longest wait, in seconds, between two checks of the job. Checks start every 2 seconds
        and slow down to this value, so short jobs end quickly and long ones cost few round
        trips.
    type: int
    default: 30
  on_timeout:
    description:
      - What to do with the job when O(timeout) expires.
      - V(cancel) stops the job's whole process tree and fails the task.
      - V(leave) leaves the job running and fails the task with its job id; running the task
        again re-attaches and keeps waiting.
    type: str
    choices: [cancel, leave]
    default: cancel
'''
