# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: option_parity
short_description: Step 1 of a disconnected WSUS sync, make export and import servers agree
version_added: 0.1.0
description:
  - Microsoft's procedure for a disconnected network starts by making the export server and
    the import server agree on the advanced synchronization options for B(express
    installation files) and B(update languages). Otherwise the import server expects files
    the export server never downloaded.
  - This module compares the WSUS server that is the task's host with a I(reference), which is
    either another server's M(airgap.wsus.server_info) result or the settings recorded in a
    transfer bundle's manifest.
  - Differences in express installation files or languages fail in O(mode=check), listing each
    one with its export and import value. O(mode=enforce) changes this server's options to
    match the reference through the WSUS API, and reports C(changed) only when it changed
    something. Changing options needs an account in the host's local Administrators group; any
    other account gets a failure saying so, before anything is sent.
  - When the WSUS API refuses to save (a synchronization is running, a setting conflicts), the
    task fails naming the setting and what to do. The save is never retried.
  - Differences in settings that the import overrides (products, classifications, schedule,
    update source, proxy) are returned as information only.
  - On the import side (O(side=import)), it fails when the server is a replica or otherwise
    centrally managed, because such a server cannot import metadata; the message names the
    upstream server and how to turn replica mode off.
  - On the export side (O(side=export)), it fails while updates approved for install still lack
    their files, giving how many and which files, because they must be downloaded before
    content moves. With deferred download on (the WSUS default), files download only after
    approval, and enforcing a new language queues more. O(wait_for_downloads) polls until
    they are downloaded instead. It also fails when the export server leaves update files on
    Microsoft Update (C(HostBinariesOnMicrosoftUpdate)).
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
    details:
      - With O(mode=enforce), reports what would change without saving the configuration.
      - Does not wait for downloads; with O(wait_for_downloads) set, undownloaded files are a warning instead of a failure.
  diff_mode:
    support: full
    details: With O(mode=enforce), shows the express and language settings before and after.
  platform:
    platforms: windows
options:
  reference:
    description:
      - The settings to match.
      - Either the registered result of M(airgap.wsus.server_info) on the other server (or its
        C(settings)), or the C(settings) dictionary of a bundle manifest, as returned by
        M(airgap.wsus.bundle) with O(airgap.wsus.bundle#module:state=verified).
      - A C(settings) dictionary has exactly the keys C(express_files), C(all_languages),
        C(languages), C(deferred_download) and C(host_binaries_on_mu). With it, only express
        files, languages, deferred download and hosting on Microsoft Update are compared;
        with a whole M(airgap.wsus.server_info) result, products, classifications, schedule,
        update source and proxy are reported too (as RV(informational)).
    type: dict
    required: true
  side:
    description:
      - Which side of the disconnected network the task's host is.
      - V(import) checks that the server is autonomous, and reports differences as
        C(export value) (from O(reference)) against C(import value) (this server).
      - V(export) checks deferred downloads, and reports this server's values as the export
        values.
    type: str
    choices: [export, import]
    required: true
  mode:
    description:
      - V(check) fails on a difference in express installation files or languages.
      - V(enforce) sets this server's express installation files and languages to the
        reference's values.
    type: str
    choices: [check, enforce]
    default: check
  wait_for_downloads:
    description:
      - Only with O(side=export). The number of seconds to wait for updates approved for
        install to finish downloading. V(0) fails at once while any of them lacks its files.
      - The task fails when files are still missing at the end of the wait.
    type: int
    default: 0
  poll_interval:
    description:
      - Seconds between two checks while waiting for downloads, from 1 to 3600. Each check is
        one SUSDB query.
    type: int
    default: 30
seealso:
  - module: airgap.wsus.server_info
  - module: airgap.wsus.bundle
"""

EXAMPLES = r"""
- name: Read the export server
  airgap.wsus.server_info:
  delegate_to: wsus-connected
  register: export_server

- name: Fail when the import server's express or language options differ
  airgap.wsus.option_parity:
    side: import
    reference: "{{ export_server }}"

- name: Make the import server match the export server
  airgap.wsus.option_parity:
    side: import
    reference: "{{ export_server }}"
    mode: enforce
  diff: true

- name: Match the settings recorded in a verified bundle
  airgap.wsus.option_parity:
    side: import
    reference: "{{ verified_bundle.settings }}"
    mode: enforce

- name: On the export server, wait up to two hours for approved updates to download
  airgap.wsus.option_parity:
    side: export
    reference: "{{ import_receipt.settings }}"
    wait_for_downloads: 7200
"""

RETURN = r"""
differences:
  description:
    - Settings that must match and do not, before any change. Empty when the servers agree.
  returned: always
  type: list
  elements: dict
  contains:
    setting:
      description: C(express_files) or C(languages).
      type: str
    export:
      description: The export server's value. For C(languages), a sorted list of codes or C(all).
      type: raw
    import:
      description: The import server's value, in the same form.
      type: raw
    note:
      description: Why the setting matters.
      type: str
  sample: [{"setting": "languages", "export": ["de", "en"], "import": ["en"]}]
informational:
  description:
    - Differences in settings the import overrides or ignores (deferred download, hosting on
      Microsoft Update, and, when O(reference) is a whole M(airgap.wsus.server_info) result,
      products, classifications, schedule, update source and proxy). They never fail the task.
    - Each has the keys C(setting), C(export), C(import) and C(note), as RV(differences).
  returned: always
  type: list
  elements: dict
  sample: [{"setting": "products", "export": ["Windows Server 2019"], "import": []}]
settings:
  description:
    - This server's parity settings after the task (in check mode, what they would be).
  returned: success
  type: dict
  sample: {"express_files": false, "all_languages": false, "languages": ["de", "en"], "deferred_download": false, "host_binaries_on_mu": false}
approved_needing_files:
  description: With O(side=export), updates approved for install that still lacked files when the task ended.
  returned: when O(side=export) and the downloads were checked
  type: int
  sample: 0
waited:
  description: Seconds spent waiting for downloads.
  returned: when O(side=export) and the downloads were checked
  type: float
"""
