# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: content_sync
short_description: Step 2 of a disconnected WSUS sync, copy WsusContent with robocopy
version_added: 0.1.0
description:
  - Copies update files with C(robocopy.exe) on the task's host, keeping the folder structure
    under C(WsusContent) as Microsoft's procedure requires.
  - O(mode=incremental) (the default) copies what the destination lacks and never deletes.
    WSUS names its files by their SHA-1 hash, so a file present under its name is the same
    file, and copying what is missing is exact.
  - robocopy runs detached from the WinRM shell, so copies that take hours survive the
    shell's idle timeout and a dropped connection. The module polls it with short calls,
    re-attaches to it when the task runs again, and honours O(timeout).
  - The robocopy log stays on the host. Only the summary and the error lines come back, so
    copying 100,000 files costs the same few round trips as copying ten.
  - Before copying, a listing pass (robocopy C(/L), which copies nothing) counts what is
    missing. The copy then runs only when there is something to copy, only when the
    destination's volume has room for it, and shows its progress at C(-v) as the share of
    those bytes written (measured by the destination's free space). A re-run while the copy
    still runs skips the listing and re-attaches.
  - Always passes small retry counts (robocopy's default is 1,000,000 retries 30 seconds
    apart), C(/BYTES) for exact sizes, and C(/NP /NFL /NDL) for a compact log.
  - The task fails when robocopy's exit code is 8 or more (some files failed after the
    retries, or a fatal error), naming each error robocopy logged (Windows error code, path
    and message). Exit code bits 2 (extra files in O(dest)) and 4 (mismatches) give warnings.
author:
  - airgap.wsus contributors (!UNKNOWN)
extends_documentation_fragment:
  - airgap.wsus.job
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Runs robocopy with C(/L), which lists what would be copied without copying, and
      reports the count and bytes in RV(files) and RV(bytes). C(changed) says whether a real
      run would copy (or, with O(mode=mirror), delete) anything.
  diff_mode:
    support: none
  platform:
    platforms: windows
options:
  src:
    description:
      - The folder to copy from, an absolute path on the host (drive letter or UNC).
      - Defaults to the WSUS server's content folder, the C(WsusContent) folder under
        C(ContentDir) from the registry.
      - One of O(src) and O(dest) must be given.
    type: str
  dest:
    description:
      - The folder to copy to, an absolute path on the host (drive letter or UNC).
      - Defaults to the WSUS server's content folder.
    type: str
  mode:
    description:
      - V(incremental) copies files the destination lacks or that differ, and never deletes.
      - V(mirror) also B(deletes) files and folders in O(dest) that are not in O(src)
        (robocopy C(/MIR)). Use it only when O(dest) holds nothing else. The task warns that it
        deletes, and says how many files and folders it deleted (in check mode, would delete).
      - V(mirror) refuses a drive or share root as O(dest), and an O(work_dir) or O(log_path)
        inside O(dest).
    type: str
    choices: [incremental, mirror]
    default: incremental
  files:
    description:
      - Copy exactly these files, given as paths relative to O(src), such as
        C(0A/0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C0A.cab). Each lands at the same relative path
        under O(dest).
      - This is the delta a transfer bundle or M(airgap.wsus.content_verify) asks for. Lists of
        100,000 files work without one round trip per file.
      - A listed file that O(src) does not have is not copied; the task warns how many were
        not found.
      - Cannot be used with O(mode=mirror) or O(log_path).
    type: list
    elements: str
  threads:
    description:
      - Number of copy threads (robocopy C(/MT)), from 1 to 128.
    type: int
    default: 8
  retries:
    description:
      - Retries for a file that fails to copy (robocopy C(/R)), from 0 to 1000.
    type: int
    default: 2
  retry_wait:
    description:
      - Seconds between two retries (robocopy C(/W)), from 0 to 3600.
    type: int
    default: 5
  restartable:
    description:
      - Copy in restartable mode (robocopy C(/Z)), so an interrupted large file resumes where
        it stopped instead of starting over.
      - It costs much throughput, and robocopy runs on the host, detached, so a dropped WinRM
        connection never interrupts it. Turn it on when O(src) or O(dest) is a network share
        over an unreliable link.
    type: bool
    default: false
  unbuffered:
    description:
      - Use unbuffered I/O (robocopy C(/J)), recommended for large files.
    type: bool
    default: true
  fat_timestamps:
    description:
      - Compare timestamps with 2-second granularity (robocopy C(/FFT)), needed when either
        side is a FAT32 or exFAT medium. V(auto) turns it on when the file system of O(src) or
        O(dest) is FAT, FAT32 or exFAT.
    type: str
    choices: [auto, 'on', 'off']
    default: auto
  log_path:
    description:
      - Where robocopy writes its log on the host. Defaults to C(robocopy.log) in the job
        folder under O(work_dir).
      - Cannot be used with O(files), whose robocopy runs each log to their own file in the
        job folder.
    type: str
seealso:
  - module: airgap.wsus.bundle
  - module: airgap.wsus.metadata
  - name: robocopy
    description: Microsoft's robocopy reference.
    link: https://learn.microsoft.com/windows-server/administration/windows-commands/robocopy
"""

EXAMPLES = r"""
- name: Copy the export server's content to a USB drive, incrementally
  airgap.wsus.content_sync:
    dest: E:\wsus-transfer\WsusContent

- name: Copy from the medium into the import server's content folder
  airgap.wsus.content_sync:
    src: E:\wsus-transfer\WsusContent
    timeout: 14400

- name: Copy exactly the files a verification found missing
  airgap.wsus.content_sync:
    src: \\fileserver\wsus-drop\WsusContent
    files: "{{ verify.missing_files | map(attribute='path') | list }}"

- name: Show what would be copied
  airgap.wsus.content_sync:
    dest: E:\wsus-transfer\WsusContent
  check_mode: true
  register: plan

- name: Make a copy on a dedicated medium identical to the source (deletes extras)
  airgap.wsus.content_sync:
    dest: F:\WsusContent
    mode: mirror
"""

RETURN = r"""
src:
  description: The source folder used.
  returned: always
  type: str
  sample: D:\WSUS\WsusContent
dest:
  description: The destination folder used.
  returned: always
  type: str
  sample: E:\wsus-transfer\WsusContent
rc:
  description:
    - robocopy's exit code, a bitmask. 1 files were copied, 2 extra files are in the
      destination, 4 mismatched files exist, 8 some files failed to copy, 16 fatal error.
    - With O(files), the exit codes of all robocopy runs OR-ed together. When the listing pass
      found nothing to copy, its exit code.
    - V(null) when robocopy did not finish (the O(timeout) expired, or it was cancelled).
  returned: always
  type: int
  sample: 1
files:
  description:
    - File counts from robocopy's summary (added up over the runs with O(files)).
    - When nothing needed copying, the listing pass's counts.
  returned: always
  type: dict
  contains:
    total:
      description: Files robocopy considered.
      type: int
    copied:
      description: Files copied (in check mode, files that would be copied).
      type: int
    skipped:
      description: Files already present and identical.
      type: int
    mismatch:
      description: Mismatched files.
      type: int
    failed:
      description: Files that failed to copy after the retries.
      type: int
    extras:
      description: Files in the destination that are not in the source.
      type: int
bytes:
  description: Byte counts from robocopy's summary, with the same keys as RV(files).
  returned: always
  type: dict
errors:
  description:
    - The C(ERROR) lines of the log, each with the Windows error code, what robocopy was doing,
      the path and the message. A file retried several times appears once.
    - At most 200; they come from the end of the log (its last 64 KiB).
  returned: always
  type: list
  elements: dict
  sample:
    - code: 32
      action: Copying File
      path: D:\WSUS\WsusContent\0A\0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C0A.cab
      message: The process cannot access the file because it is being used by another process.
duration:
  description: Seconds robocopy ran (the copy pass, or the listing pass when nothing needed copying).
  returned: always
  type: float
log_path:
  description: The robocopy log on the host (with O(files), the first run's log; the others lie beside it).
  returned: always
  type: str
job_id:
  description:
    - The id of the detached job on the host (the copy, or the listing pass when nothing needed
      copying or in check mode). A re-run of the same task re-attaches to a copy while it runs.
  returned: always
  type: str
"""
