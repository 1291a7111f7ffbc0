# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: receipt
short_description: Write the signed receipt that tells the export side what the import server holds
version_added: 0.1.0
description:
  - Runs on the B(import) server after a successful metadata import. Writes a signed receipt
    with the destination, this server's id, the last bundle sequence imported, the package's
    SHA-256, this server's settings fingerprint, the inventory of the content it holds, and
    the files it is missing.
  - The inventory is a digest file beside the receipt, C(receipt-<sequence>.inventory) (the
    sorted SHA-1 digests of the content, 20 bytes a file), which the host writes itself and
    the signed receipt vouches for by its SHA-256. Carry it back with the receipt and its
    signature; without it the export side sets the receipt aside.
  - The receipt travels back to the export side (usually on the medium), where
    M(airgap.wsus.bundle) reads it and sends only what this server lacks. This is the only
    round trip of the procedure, and it is what makes the next bundle minimal.
  - Also records the import on this server (C(<work_dir>\\state\\imports\\<destination>.json)),
    which M(airgap.wsus.bundle) uses to refuse replayed and out-of-order bundles.
  - Refuses to write a receipt for a bundle whose package M(airgap.wsus.metadata) has not
    imported on this server (recorded in C(<work_dir>\\state\\imports.json)), and for a bundle
    older than the last one this server confirmed.
  - Running it again for the same bundle and the same content leaves the receipt as it is.
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
    details: Builds the receipt and reports it without writing it.
  diff_mode:
    support: none
  platform:
    platforms: windows
options:
  path:
    description:
      - Where to write the receipt on the host, a folder. The receipt is C(receipt-<sequence>.json)
        with its signature beside it as C(receipt-<sequence>.json.sig).
    type: str
    required: true
  bundle:
    description:
      - The bundle that was imported, the folder holding its C(volume-NN) folders. Its manifest
        gives the destination, sequence and package.
    type: str
    required: true
  destination:
    description:
      - The destination name the bundle was built for.
    type: str
    required: true
  content_dir:
    description:
      - The content folder to inventory. Defaults to the WSUS server's C(WsusContent).
    type: str
  missing:
    description:
      - Files this server lacks, as paths relative to C(WsusContent), for example the
        RV(airgap.wsus.content_verify#module:missing_files) of a verification. The export side
        sends them again.
    type: list
    elements: str
    default: []
  signing_key:
    description:
      - The key that signs the receipt. Keep it in Ansible Vault; it never appears in output.
      - Required unless O(allow_unsigned=true).
    type: dict
    suboptions:
      key_id:
        description: A name for the key, recorded in the signature so the export side picks the right key.
        type: str
        required: true
      algorithm:
        description:
          - V(hmac-sha256) uses a secret shared by both sides, at least 32 bytes.
          - V(ed25519) uses a private key here and its public key on the export side.
        type: str
        choices: [hmac-sha256, ed25519]
        required: true
      key:
        description: The HMAC secret, or the Ed25519 private key in PEM or as raw base64.
        type: str
        required: true
  verify_keys:
    description:
      - Keys to check the bundle's manifests with before trusting them. Required unless O(allow_unsigned=true).
    type: list
    elements: dict
    default: []
    suboptions:
      key_id:
        description: The key's name, as the signatures record it.
        type: str
        required: true
      algorithm:
        description: V(hmac-sha256) or V(ed25519).
        type: str
        choices: [hmac-sha256, ed25519]
        required: true
      key:
        description: The HMAC secret, or the Ed25519 public key.
        type: str
        required: true
  allow_unsigned:
    description:
      - Write an unsigned receipt when O(signing_key) is not given, and accept an unsigned bundle.
    type: bool
    default: false
seealso:
  - module: airgap.wsus.bundle
"""

EXAMPLES = r"""
- name: Answer the export side with what this server now holds
  airgap.wsus.receipt:
    path: E:\airgap\receipts
    bundle: "{{ deployed.bundle_path }}"
    destination: plant-a
    signing_key: "{{ airgap_receipt_key }}"
    verify_keys: ["{{ airgap_verify_key }}"]
"""

RETURN = r"""
receipt_id:
  description: The receipt's UUID.
  returned: always
  type: str
receipt_path:
  description: The receipt file on the host.
  returned: always
  type: str
last_sequence:
  description: The sequence of the bundle the receipt confirms.
  returned: always
  type: int
inventory_count:
  description: Content files the receipt says this server holds.
  returned: always
  type: int
missing_count:
  description: Files the receipt asks the export side to send again.
  returned: always
  type: int
bundle_id:
  description: The bundle the receipt confirms.
  returned: always
  type: str
settings:
  description: This server's settings fingerprint, as the receipt carries it.
  returned: always
  type: dict
"""
