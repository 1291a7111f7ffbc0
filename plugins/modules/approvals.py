# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: approvals
short_description: Carry WSUS approvals, declines and computer groups to a disconnected server
version_added: 0.1.0
description:
  - C(WsusUtil.exe export) carries update metadata only, never approvals. This module carries
    them. O(state=exported) reads the export server's approvals, declines and computer target
    groups and writes them as a signed document, C(approvals.json) with its signature
    C(approvals.json.sig). O(state=applied) reads that document on the import server and
    makes the server match it.
  - "Computer groups are matched by B(name path), such as C(All Computers/Servers/Web), never
    by id: the ids of groups an administrator creates differ from server to server. The
    built-in groups All Computers and Unassigned Computers are matched by their well-known ids
    instead, because their names are in the language WSUS was installed in; in the document
    they are always C(All Computers) and C(All Computers/Unassigned Computers). Names are
    compared without regard to case."
  - O(state=applied) creates the groups the import server lacks, with their hierarchy, then
    sets each approval (action Install or Uninstall, and the deadline) and each decline. Only
    updates the import server's catalog holds can be approved or declined; the others are
    skipped and listed in RV(skipped_items) with the reason, so import the metadata first
    (M(airgap.wsus.metadata)). Running it again after a later metadata import applies what
    was skipped.
  - Other reasons an item is skipped, each listed in RV(skipped_items) with the fix, are an expired
    update on the import server (WSUS approves an expired update only for uninstall), a group
    whose name a group elsewhere on the import server already has (WSUS group names are
    unique on a server), and a group whose parent could not be created. An update that is
    superseded is approved like any other, as WSUS allows.
  - Groups, approvals and declines that exist only on the import server are left alone,
    unless O(prune=true).
  - Approving an update with a license agreement accepts the agreement on the import server,
    as the administrator did on the export server when approving it there.
  - The document is the canonical JSON of bundle manifests (sorted keys, no spaces, ASCII).
    Its SHA-256 is returned (RV(sha256)) so a bundle manifest can reference it. The import side
    refuses an altered document, and an unsigned one unless O(allow_unsigned=true), before it
    changes anything.
  - Reads go through SUSDB (its C(PUBLIC_VIEWS)), which is fast on catalogs of 100,000 updates
    and more, from the controller with O(susdb) or else on the host. When SUSDB cannot be read
    there, the module falls back to the UpdateServices API (see O(read_from)). Changes are
    always made through the API, in one call for the whole plan.
  - Round trips do not grow with the number of updates. Export costs C(server_state), one read,
    two C(file_read) and two C(file_write). Apply costs C(server_state), two C(file_read), one
    read and one C(approvals_apply).
  - This is an action plugin. It runs on the controller and reaches the host through the
    host's own connection (C(ansible.builtin.winrm) or C(ansible.builtin.psrp)).
author:
  - airgap.wsus contributors (!UNKNOWN)
extends_documentation_fragment:
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
    details: O(state=exported) writes nothing and says whether it would. O(state=applied) verifies the document, reads
      the server and reports the planned changes in RV(counts) (and with C(--diff), line by line) without making them.
  diff_mode:
    support: full
    details: With O(state=applied), one line per group, approval and decline that changes, before and after.
  platform:
    platforms: windows
options:
  state:
    description:
      - V(exported) reads the task's host (the export server) and writes the document to O(path).
      - V(applied) reads the document at O(path) and makes the task's host (the import server) match it.
    type: str
    choices: [exported, applied]
    required: true
  path:
    description:
      - The document's file on the host, such as C(E:\plant-a\bundle-0004\approvals.json). Its
        signature is the same path with C(.sig) appended.
      - With O(state=exported), the folder must exist. A document that already says the same
        (only its creation time would differ) is left as it is, so the task reports no change.
      - With O(state=exported), a small summary of the document (its SHA-256, size, creation
        time and counts) is written beside it as C(<path>.summary.json), so that the next export
        and M(airgap.wsus.bundle) need not read the document back from the host.
    type: str
    required: true
  signing_key:
    description:
      - With O(state=exported), the key that signs the document. Keep it in Ansible Vault. It
        never appears in output.
      - Required unless O(allow_unsigned=true).
    type: dict
    suboptions:
      key_id:
        description: A name for the key, recorded in the signature so the import side picks the right key.
        type: str
        required: true
      algorithm:
        description:
          - V(hmac-sha256) uses a secret shared by both sides, at least 32 bytes.
          - V(ed25519) uses a private key here and its public key on the import side.
        type: str
        choices: [hmac-sha256, ed25519]
        required: true
      key:
        description: The secret (hmac-sha256) or the private key (ed25519, PEM, OpenSSH or raw base64).
        type: str
        required: true
  verify_keys:
    description:
      - With O(state=applied), the keys that may have signed the document. The signature names
        its key id; the key with that id checks it.
      - At least one key is required, unless O(allow_unsigned=true).
    type: list
    elements: dict
    default: []
    suboptions:
      key_id:
        description: The key's name, as the signature records it.
        type: str
        required: true
      algorithm:
        description: V(hmac-sha256) or V(ed25519).
        type: str
        choices: [hmac-sha256, ed25519]
        required: true
      key:
        description: The shared secret (hmac-sha256) or the public key (ed25519).
        type: str
        required: true
  allow_unsigned:
    description:
      - With O(state=exported), write the document without a signature.
      - With O(state=applied), accept an unsigned document, with a warning starting with
        C(UNVERIFIED). A signature that fails against a configured key is refused even then.
      - For sites that do not sign yet.
    type: bool
    default: false
  prune:
    description:
      - With O(state=applied), also remove what exists only on the import server. Approvals the
        document does not have are removed. Declined updates the document does not decline become
        "not approved" again. Groups the document does not have are deleted, deepest first, and
        WSUS moves their computers to Unassigned Computers.
      - The built-in groups are never deleted.
    type: bool
    default: false
  read_from:
    description:
      - Where the server's groups, approvals and updates are read.
      - V(susdb) queries SUSDB's C(PUBLIC_VIEWS), from the controller with O(susdb) or else on
        the host. It fails when SUSDB cannot be queried.
      - V(api) uses the UpdateServices API on the host. It needs no database access but is slow
        on large catalogs, and reads approvals of updates one by one.
      - V(auto) tries SUSDB first and falls back to the API with a warning.
    type: str
    choices: [auto, susdb, api]
    default: auto
seealso:
  - module: airgap.wsus.metadata
  - module: airgap.wsus.bundle
  - module: airgap.wsus.content_verify
notes:
  - Only Install and Uninstall approvals of each update's latest revision are carried. An
    approval left on an older revision (with automatic approval refresh turned off) is not.
  - A deadline is carried in UTC, to the second, and WSUS applies it in UTC on the import side.
  - An update approved on the export server but declined on the import server is made "not
    declined" before it is approved, even without O(prune).
  - A group whose name is taken on the import server by a group elsewhere in the tree is
    skipped with reason C(name_taken). With O(prune=true), when that other group is not in
    the document, it is deleted first and the group is created.
"""

EXAMPLES = r"""
- name: Export the approvals into the bundle folder
  airgap.wsus.approvals:
    state: exported
    path: E:\plant-a\bundle-0004\approvals.json
    signing_key:
      key_id: site-key-2026
      algorithm: hmac-sha256
      key: "{{ vault_bundle_key }}"
  register: exported

- name: Preview what the import server would change
  airgap.wsus.approvals:
    state: applied
    path: E:\plant-a\bundle-0004\approvals.json
    verify_keys:
      - key_id: site-key-2026
        algorithm: hmac-sha256
        key: "{{ vault_bundle_key }}"
  check_mode: true
  diff: true

- name: Apply them on the import server, after the metadata import
  airgap.wsus.approvals:
    state: applied
    path: E:\plant-a\bundle-0004\approvals.json
    verify_keys:
      - key_id: site-key-2026
        algorithm: hmac-sha256
        key: "{{ vault_bundle_key }}"
  register: applied

- name: Show what could not be applied yet
  ansible.builtin.debug:
    msg: "{{ item.kb | default(item.update_id) }} -> {{ item.group }}: {{ item.reason }}"
  loop: "{{ applied.skipped_items }}"
  when: applied.skipped_items | length > 0
"""

RETURN = r"""
path:
  description: The document's path on the host.
  returned: always
  type: str
  sample: E:\plant-a\bundle-0004\approvals.json
read_from:
  description: C(susdb) when the server was read through SUSDB, C(api) when through the UpdateServices API.
  returned: always
  type: str
  sample: susdb
sha256:
  description: SHA-256 of the document's bytes, lower-case hex, for a bundle manifest to reference.
  returned: state is exported
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
size:
  description: Size of the document in bytes.
  returned: state is exported
  type: int
created:
  description: When the document at RV(path) was made, ISO 8601 UTC.
  returned: state is exported
  type: str
  sample: "2026-11-25T12:00:00Z"
signature_path:
  description: The signature's path, or null when the document is not signed.
  returned: state is exported
  type: str
signed:
  description: Whether the document is signed.
  returned: state is exported
  type: bool
key_id:
  description: The id of the key that signed the document, or null.
  returned: state is exported
  type: str
counts:
  description:
    - With O(state=exported), the size of each section of the document.
    - With O(state=applied), how many changes were made (in check mode, would be made), skipped or already in place.
  returned: always
  type: dict
  sample: {"groups_created": 1, "groups_deleted": 0, "approvals_set": 12, "approvals_removed": 0, "declined": 2,
           "undeclined": 0, "skipped": 3, "unchanged_groups": 5, "unchanged_approvals": 40, "unchanged_declines": 7}
document:
  description: The document that was applied.
  returned: state is applied
  type: dict
  contains:
    sha256:
      description: SHA-256 of the document's bytes.
      type: str
    signed:
      description: Whether its signature was checked. False only with O(allow_unsigned=true).
      type: bool
    key_id:
      description: The key that signed it, or null.
      type: str
    created:
      description: When the export side made it.
      type: str
    source:
      description: The export server, C(server_id) and C(name).
      type: dict
    counts:
      description: Groups, updates, approvals and declines in the document.
      type: dict
prune:
  description: Whether O(prune) was on.
  returned: state is applied
  type: bool
groups_created:
  description: Paths of the groups created (in check mode, that would be).
  returned: state is applied
  type: list
  elements: str
  sample: ["All Computers/Servers/Web"]
groups_deleted:
  description: Paths of the groups deleted with O(prune=true).
  returned: state is applied
  type: list
  elements: str
skipped_items:
  description: Items of the document that were not applied, each with the reason and the fix.
  returned: state is applied
  type: list
  elements: dict
  contains:
    kind:
      description: C(approval), C(decline) or C(group).
      type: str
    update_id:
      description: The update's id, or null for a group.
      type: str
    revision:
      description: The update's revision on the export server.
      type: int
    kb:
      description: The update's KB article, such as C(KB5030214), or null.
      type: str
    title:
      description: The update's title on the export server.
      type: str
    group:
      description: The group's path, or null for a decline.
      type: str
    action:
      description: C(install) or C(uninstall) for an approval.
      type: str
    reason_code:
      description: C(not_in_catalog), C(expired), C(name_taken), C(parent_unavailable) or C(group_unavailable).
      type: str
    reason:
      description: The reason in words, with the fix.
      type: str
skipped_counts:
  description: Number of skipped items per reason code.
  returned: state is applied
  type: dict
  sample: {"not_in_catalog": 3}
failed_items:
  description:
    - Changes WSUS refused, C(op), C(update_id), C(group) and the API's C(error). The task
      then fails; the other changes were made.
  returned: state is applied
  type: list
  elements: dict
"""
