# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: content_verify
short_description: Prove that every approved WSUS update has its files in WsusContent
version_added: 0.1.0
description:
  - Checks, on the task's host (usually the import server), that every file the approved
    updates need is in C(WsusContent) and whole. These are the files of the latest revision of
    each update approved for install, license files included, that WSUS wants under its
    settings. An express file while express installation files are off is not needed, nor is
    a file in an update language that is not enabled.
  - The needed files come from SUSDB in one query. The disk is listed in one
    C(content_inventory) call. The cost does not grow with round trips per update or per file,
    and 100,000 updates with 300,000 files compare in well under a second on the controller.
  - A file is missing when no file has its path, and damaged when its size differs from the
    size SUSDB records. With O(hash=true), a file whose SHA-1 is not the one its name says is
    damaged too. WSUS names every content file by its SHA-1.
  - Missing and damaged files are listed by exact path relative to C(WsusContent), with their
    sizes (RV(missing_files), RV(corrupt_files)). RV(files) is the plain list of those paths,
    which M(airgap.wsus.content_sync) (its O(airgap.wsus.content_sync#module:files) option) and
    a receipt's list of missing files take as they are. An operator can fetch exactly those
    files on the next trip.
  - The task fails when a file is missing or damaged, unless O(fail_on_missing=false). Either
    way it returns the lists.
  - With O(reset=true), C(WsusUtil.exe reset) runs afterwards. It makes WSUS check its files
    again, so files copied in since are counted. The module waits, up to O(timeout), until
    WSUS reports exactly the missing and damaged files as not ready. Progress shows at C(-v).
    Microsoft says this check can take hours on a large server.
  - Changes nothing except with O(reset=true), which is the only case that reports a
    change.
  - This is an action plugin. It runs on the controller and reaches the host through the
    host's own connection (C(ansible.builtin.winrm) or C(ansible.builtin.psrp)).
author:
  - airgap.wsus contributors (!UNKNOWN)
extends_documentation_fragment:
  - airgap.wsus.susdb
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
    details: Verifies as usual, but does not run C(WsusUtil.exe reset); the task reports the change it would have made.
  diff_mode:
    support: none
  platform:
    platforms: windows
options:
  content_dir:
    description:
      - The C(WsusContent) folder on the host.
      - Defaults to the server's content folder (C(LocalContentCachePath), or C(ContentDir) from
        the registry with C(WsusContent) appended).
    type: str
  hash:
    description:
      - Also hash each file (SHA-1, in parallel on the host) and compare the hash with the file's
        name. This catches damage that keeps the size, and reads every byte of C(WsusContent).
    type: bool
    default: false
  reset:
    description:
      - After verifying, run C(WsusUtil.exe reset) as a detached job and wait until WSUS has
        checked its files again (see the description). Needs a local administrator.
      - Run it after copying missing files in, so WSUS counts them and clients can get the updates.
    type: bool
    default: false
  fail_on_missing:
    description:
      - Fail the task when a needed file is missing or damaged. With V(false), the task succeeds
        and the lists say what to fetch.
    type: bool
    default: true
seealso:
  - module: airgap.wsus.content_sync
  - module: airgap.wsus.receipt
  - module: airgap.wsus.metadata
notes:
  - Files WSUS does not track at all (no C(tbFileOnServer) row) are counted as needed, as
    M(airgap.wsus.server_info) counts them in C(approved_untracked_files).
  - The reset's wait ends when WSUS's view agrees with the disk. On a connected server that
    downloads the missing files again, it may wait until O(timeout) and then warn.
"""

EXAMPLES = r"""
- name: Verify the import server's content
  airgap.wsus.content_verify:
    fail_on_missing: false
  register: verify

- name: Copy exactly the missing files from the medium
  airgap.wsus.content_sync:
    src: E:\plant-a\fix\WsusContent
    files: "{{ verify.files }}"
  when: verify.files | length > 0

- name: Verify again, hash every file, and make WSUS count the copied files
  airgap.wsus.content_verify:
    hash: true
    reset: true
    timeout: 14400
"""

RETURN = r"""
content_dir:
  description: The C(WsusContent) folder verified.
  returned: always
  type: str
  sample: D:\WSUS\WsusContent
hashed:
  description: Whether file contents were hashed (O(hash)).
  returned: always
  type: bool
approved_files:
  description: Number of files the approved updates need.
  returned: always
  type: int
approved_bytes:
  description: Their total size in bytes, as SUSDB records it.
  returned: always
  type: int
present_files:
  description: Needed files that are present and whole.
  returned: always
  type: int
missing_files:
  description: Needed files that are not in C(WsusContent), sorted by path.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path relative to C(WsusContent), with C(/).
      type: str
      sample: 0A/5C52D0B3D6FB1A2F1E9C02D7A8F4E2B96B3A4C0A.cab
    size:
      description: Size in bytes, as SUSDB records it.
      type: int
corrupt_files:
  description: Needed files that are present but damaged, sorted by path.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path relative to C(WsusContent), with C(/).
      type: str
    size:
      description: Size in bytes, as SUSDB records it.
      type: int
    actual_size:
      description: Size of the file on disk.
      type: int
    reason:
      description: C(size) (size differs), C(sha1) (contents do not hash to the name) or C(unreadable).
      type: str
files:
  description:
    - The paths of RV(missing_files) and RV(corrupt_files) together, sorted, for
      M(airgap.wsus.content_sync)'s O(airgap.wsus.content_sync#module:files) or a receipt's missing files.
  returned: always
  type: list
  elements: str
missing_bytes:
  description: Total size of RV(files), what the next trip must carry.
  returned: always
  type: int
files_on_disk:
  description: Number of files in C(WsusContent), needed or not.
  returned: always
  type: int
reset:
  description: What O(reset=true) did.
  returned: always
  type: dict
  contains:
    ran:
      description: Whether C(WsusUtil.exe reset) ran.
      type: bool
    job_id:
      description: Its detached job.
      type: str
    settled:
      description: Whether WSUS's view agreed with the disk before the timeout.
      type: bool
    waited:
      description: Seconds waited after the reset for WSUS to check its files.
      type: float
    not_ready_files:
      description: Approved files WSUS still reported as not ready at the end.
      type: int
"""
