# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: metadata
short_description: Step 3 of a disconnected WSUS sync, export or import update metadata with WsusUtil
version_added: 0.1.0
description:
  - O(state=exported) runs C(WsusUtil.exe export <package> <log>) on the export server.
    O(state=imported) runs C(WsusUtil.exe import <package> <log>) on the import server.
  - WsusUtil runs detached from the WinRM shell and is polled, so an export or import that
    takes hours survives the shell's idle timeout and a dropped connection. The Update Service
    stops while WsusUtil runs; that is expected.
  - Checks first that the connecting account is a local administrator (WsusUtil requires it),
    for an export that the package's folder exists and has room, and for an import that the
    package is a gzip (or CAB) file and that the server is not a replica (WSUS cannot import
    into a centrally managed server).
  - WsusUtil can exit 0 and leave a missing or empty package; the module checks the package
    and fails then.
  - An export never writes onto O(package) directly. WsusUtil writes C(<name>.partial.xml.gz)
    beside it, and only a package that WsusUtil finished with exit code 0 and that is a real
    gzip (or CAB) file replaces O(package), in one rename. A failed or empty export leaves the
    previous package as it was.
  - B(Order guard.) Microsoft's procedure copies the content before the metadata import;
    otherwise the console shows the updates as failed downloads. O(state=imported) refuses
    unless the content for this package was verified on this server, by
    M(airgap.wsus.bundle) with O(airgap.wsus.bundle#module:state=deployed), or O(content_verified)
    says so. O(force) overrides the guard, with a warning.
  - B(Idempotence.) An export is skipped when this module exported the package less than
    O(max_age) seconds ago and it is unchanged since, recorded in
    C(<work_dir>\state\exports.json). An import is skipped when a package with the same
    SHA-256 was already imported on this host, recorded in C(<work_dir>\state\imports.json).
author:
  - airgap.wsus contributors (!UNKNOWN)
extends_documentation_fragment:
  - airgap.wsus.job
  - airgap.wsus.susdb
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
    details: Runs every check (administrator, free space, the package, the order guard, the
      export and import records) and reports whether WsusUtil would run (C(changed)) or why not
      (RV(skipped_reason)), without running it.
  diff_mode:
    support: none
  platform:
    platforms: windows
options:
  state:
    description:
      - V(exported) writes the package from this server's database.
      - V(imported) loads the package into this server's database.
    type: str
    choices: [exported, imported]
    required: true
  package:
    description:
      - The package file, an absolute path on the host. Modern WSUS writes and reads a
        gzip-compressed XML file; name it C(*.xml.gz) (C(*.cab) for the legacy format).
      - With O(state=exported), its folder must exist, and the path must not contain C(%)
        (the finished export is renamed into place by C(cmd.exe), which expands C(%)).
    type: str
    required: true
  log_path:
    description:
      - WsusUtil's log file.
      - With O(state=exported), defaults to O(package) with C(.log) appended, so the log travels
        with the package.
      - With O(state=imported), defaults to C(wsusutil.log) in the import's job folder under
        O(work_dir), since the package may be on read-only media. That folder is kept until the
        same package is imported again (the last three are archived beside it).
    type: str
  max_age:
    description:
      - With O(state=exported), skip the export when this module exported O(package) less than
        this many seconds ago and the package still has the size and SHA-256 it had then.
        V(0) always exports.
      - The age is measured on the Ansible controller's clock.
    type: int
    default: 0
  content_verified:
    description:
      - With O(state=imported), state that the content for this package is already in the
        server's content folder, when it was copied by other means than
        M(airgap.wsus.bundle).
    type: bool
    default: false
  force:
    description:
      - With O(state=imported), import even when the content was not verified and when this
        package was already imported, with a warning. Updates whose files are missing then
        show as failed downloads until their files are copied and WSUS checks its content
        again.
    type: bool
    default: false
  reset:
    description:
      - With O(state=imported), run C(WsusUtil.exe reset) after the import, so WSUS checks every
        update's files, and wait (within O(timeout)) until no approved update needs files.
        The wait ends early when every file still needed is absent from C(WsusContent) (or has
        the wrong size), since on a disconnected server nothing more can arrive.
      - When the import is skipped (already imported), the reset runs only if approved updates
        still need files, so copying the missing files and running the task again checks them.
      - Files still missing are returned in RV(missing_files), with a warning. The files come
        from SUSDB, read as the O(susdb) option says.
    type: bool
    default: false
  min_free_bytes:
    description:
      - With O(state=exported), the free space the package's volume must have before the
        export starts.
    type: int
    default: 1073741824
  on_timeout:
    description:
      - What to do with WsusUtil when O(timeout) expires.
      - V(cancel) stops it and fails the task. V(leave) leaves it running and fails the task
        with its job id; running the task again re-attaches and keeps waiting.
      - Defaults to V(leave) with O(state=imported), because stopping an import half-way could
        leave the database half-imported, and to V(cancel) with O(state=exported), where a
        stopped export only leaves a partial staging file.
    type: str
    choices: [cancel, leave]
    default: null
seealso:
  - module: airgap.wsus.content_sync
  - module: airgap.wsus.bundle
  - name: WSUS disconnected networks
    description: Microsoft's procedure this collection automates.
    link: https://learn.microsoft.com/windows-server/administration/windows-server-update-services/manage/wsus-messages-and-troubleshooting-tips
"""

EXAMPLES = r"""
- name: Export the metadata on the export server
  airgap.wsus.metadata:
    state: exported
    package: E:\wsus-transfer\metadata\export.xml.gz
    max_age: 3600

- name: Import on the import server, after a bundle was deployed
  airgap.wsus.metadata:
    state: imported
    package: E:\wsus-transfer\volume-01\metadata\export.xml.gz
    timeout: 14400

- name: Import after copying content by hand, then re-check every file
  airgap.wsus.metadata:
    state: imported
    package: D:\drop\export.xml.gz
    content_verified: true
    reset: true
"""

RETURN = r"""
package:
  description: The package path.
  returned: always
  type: str
size:
  description: Size of the package in bytes.
  returned: when the package exists
  type: int
sha256:
  description: SHA-256 of the package.
  returned: when the package exists
  type: str
rc:
  description: WsusUtil's exit code (of the export or import). Absent when WsusUtil did not run.
  returned: when WsusUtil ran
  type: int
duration:
  description: Seconds WsusUtil ran.
  returned: when WsusUtil ran
  type: float
log_path:
  description: WsusUtil's log file on the host.
  returned: always
  type: str
log_tail:
  description: The last lines (at most 40) of WsusUtil's log. A failure's message quotes them too, with WsusUtil's console output.
  returned: when WsusUtil ran
  type: list
  elements: str
skipped_reason:
  description: Why WsusUtil did not run, when it did not.
  returned: when WsusUtil did not run
  type: str
  sample: package with SHA-256 3f2a... was already imported on 2026-11-20T10:00:00Z
missing_files:
  description: With O(reset=true), files approved updates need that are still missing, by path relative to C(WsusContent) and size.
  returned: when O(reset=true)
  type: list
  elements: dict
  sample: [{"path": "0A/0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C0A.cab", "size": 1234}]
job_id:
  description: The id of the detached WsusUtil job on the host. A re-run of the same task re-attaches to it while it runs.
  returned: when WsusUtil ran
  type: str
"""
