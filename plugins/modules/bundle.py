# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: bundle
short_description: Build, verify and deploy a signed transfer bundle that carries WSUS updates across an air gap
version_added: 0.1.0
description:
  - A bundle is a folder on the transfer medium (a USB drive, a DVD set, a share, a data-diode
    drop) that holds the WsusUtil metadata package, only the content files the import server
    lacks, and a signed manifest per volume. The format is described in the collection's
    C(docs/bundle.md).
  - O(state=built) runs on the B(export) server. It chooses what to send (the files the newest
    receipt from the import side says are missing, or the files sent since the last bundle for
    the destination, or everything), packs them into volumes of O(volume_size), copies them
    with robocopy (the same engine as M(airgap.wsus.content_sync)), adds the package, hashes
    everything on the host, and writes and signs the manifests. In check mode it returns the
    plan (files, bytes, volumes, free space needed, basis) and changes nothing.
  - O(state=verified) runs on the B(import) server and changes nothing on it. It checks every
    volume's signature, the manifest paths (a path that could leave C(WsusContent) is
    tampering), the sequence against what this server imported before, and the presence,
    size, SHA-256 and SHA-1 of the package and of every content file, hashing on the host in
    parallel.
  - O(state=deployed) runs on the B(import) server. It verifies the bundle, copies its content
    into the server's C(WsusContent) with robocopy, checks every file arrived intact, and
    records that the content of this package is in place. M(airgap.wsus.metadata) refuses to
    import a package until that record exists, which enforces Microsoft's order, content
    first and metadata second.
  - WsusUtil carries no approvals. With O(approvals), the approvals document that
    M(airgap.wsus.approvals) exported travels in the bundle too (volume 1, folder C(approvals)),
    described in the signed manifests by its size, SHA-256 and counts, and O(state=verified)
    and O(state=deployed) check it with the rest and return its path (RV(approvals_path)) for
    M(airgap.wsus.approvals) with C(state=applied).
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
    details:
      - O(state=built) returns the plan (files and bytes to move, volumes, free space needed on
        the medium and on the import server, basis) without writing anything.
      - O(state=verified) behaves the same in check mode.
      - O(state=deployed) verifies the bundle and reports what it would copy.
  diff_mode:
    support: none
  platform:
    platforms: windows
options:
  state:
    description:
      - V(built) creates the bundle on the export server.
      - V(verified) checks the bundle on the import server without changing anything.
      - V(deployed) verifies the bundle and copies its content into the import server's content folder.
    type: str
    choices: [built, verified, deployed]
    required: true
  path:
    description:
      - An absolute folder on the host.
      - With O(state=built), the transfer folder on the medium. Each bundle is built in its own
        folder under it, C(<path>\\<destination>-<sequence>) (six digits, such as
        C(plant-a-000005)), returned as RV(bundle_path). When nothing changed since the last
        bundle for O(destination) (the same package, and no content the import side lacks),
        that bundle is returned unchanged. A bundle folder left by an interrupted run of the
        same plan is resumed, and robocopy skips the files already there.
      - With O(state=verified) or O(state=deployed), a bundle folder (it holds the C(volume-NN)
        folders), a single volume folder, or a transfer folder. From a transfer folder the
        module takes the bundle for O(destination) with the lowest sequence this server has not
        imported, so bundles carried together are imported in order, one per run, and warns
        that others follow.
      - With O(state=verified) or O(state=deployed), give O(path) or O(volumes).
    type: str
  volumes:
    description:
      - With O(state=verified) or O(state=deployed), the volume folders when they are not all
        under one O(path), for example a DVD set in several drives.
      - Volumes can be verified one at a time (a DVD set, disc by disc); RV(volumes_missing) then
        names the others. O(state=deployed) needs them all.
    type: list
    elements: str
  destination:
    description:
      - The name of the disconnected site the bundle is for, such as V(plant-a).
      - Sequence numbers count per destination. The import side refuses a bundle built for
        another destination.
    type: str
    required: true
  package:
    description:
      - With O(state=built), the WsusUtil package that M(airgap.wsus.metadata) exported on this
        server. It is copied into the C(metadata) folder of one volume under its own file name,
        which must be a plain ASCII name such as C(export.xml.gz).
    type: str
  approvals:
    description:
      - With O(state=built), the approvals document that M(airgap.wsus.approvals) with
        C(state=exported) wrote on this server, such as C(D:\WSUS\airgap-wsus-approvals.json).
        It is copied, with its signature (the same path with C(.sig) appended) when there is
        one, into volume 1 as C(approvals\approvals.json), and the manifests record its size,
        SHA-256 and counts.
      - When only the approvals changed since the last bundle (the same package, no file to
        send), a new bundle is built to carry them.
      - Without it the bundle carries no approvals (the manifests' C(approvals) is null).
    type: str
  content_dir:
    description:
      - The content folder to send from (O(state=built)) or deploy into (O(state=deployed)).
      - Defaults to the WSUS server's C(WsusContent) folder.
    type: str
  receipts:
    description:
      - With O(state=built), receipts written by M(airgap.wsus.receipt) on the import side, as
        files or folders on this host. The newest valid one for O(destination) is the basis of
        the bundle, so only files the import server lacks travel.
      - Without a usable receipt, the export server's own record of the last bundle it built for
        O(destination) is the basis, and without that, a full bundle is built. RV(plan.basis)
        says which basis was used and why.
    type: list
    elements: str
    default: []
  full:
    description:
      - With O(state=built), send every content file, whatever the receipts say.
    type: bool
    default: false
  package_pending:
    description:
      - With O(state=built) in check mode only, plan the bundle before the metadata export has
        written O(package). The content to send, its volumes and the basis are planned, and
        the package is left out of the plan (a warning says so; RV(package_sha256) is null).
        The roles set it in check mode when the metadata step would export a new package.
      - Refused outside check mode, because a bundle is never built without its package.
    type: bool
    default: false
  volume_size:
    description:
      - With O(state=built), the capacity of one medium, such as V(4.7GB) (a DVD), V(25GB)
        (a Blu-ray), V(1TB). C(KB), C(MB), C(GB), C(TB) are powers of 1000 as media are sold;
        C(KiB), C(MiB), C(GiB), C(TiB) are powers of 1024.
      - Content is packed into as many volumes as needed. A single file larger than a volume is
        an error that names the file.
      - Without it the bundle has one volume, which must fit the free space at O(path).
    type: str
  signing_key:
    description:
      - With O(state=built), the key that signs the manifests.
      - Keep it in Ansible Vault. It never appears in output.
    type: dict
    suboptions:
      key_id:
        description: A name for the key, recorded in each signature so the import side picks the right key.
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
        description: The HMAC secret, or the Ed25519 private key in PEM or as raw base64.
        type: str
        required: true
  verify_keys:
    description:
      - Keys that may have signed the documents this task reads, bundles on the import side or
        receipts on the export side. The signature names its key id; the key with that id checks it.
      - On the import side at least one key is required, unless O(allow_unsigned=true).
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
        description: The HMAC secret, or the Ed25519 public key (PEM, OpenSSH or raw base64). It never appears in output.
        type: str
        required: true
  allow_unsigned:
    description:
      - Accept an unsigned bundle or receipt, with a loud warning. For sites that do not sign
        yet. A signature that fails against a configured key is refused even then.
    type: bool
    default: false
  verify_hashes:
    description:
      - With O(state=verified) or O(state=deployed), hash every file (SHA-256 and SHA-1). V(false)
        checks presence and size only, which is faster and catches truncation but not altered
        bytes.
    type: bool
    default: true
  threads:
    description:
      - robocopy threads (C(/MT)) for the copies, from 1 to 128.
      - Hashing runs on the host in parallel on up to four cores, whatever this says.
    type: int
    default: 8
seealso:
  - module: airgap.wsus.metadata
  - module: airgap.wsus.receipt
  - module: airgap.wsus.content_sync
  - module: airgap.wsus.approvals
"""

EXAMPLES = r"""
- name: Export the metadata first
  airgap.wsus.metadata:
    state: exported
    package: D:\airgap\export.xml.gz

- name: Export the approvals, which WsusUtil does not carry
  airgap.wsus.approvals:
    state: exported
    path: D:\airgap\approvals.json
    signing_key: "{{ airgap_signing_key }}"

- name: Build the bundle for plant-a on the USB drive, based on plant-a's last receipt, with the approvals
  airgap.wsus.bundle:
    state: built
    path: E:\airgap
    destination: plant-a
    package: D:\airgap\export.xml.gz
    approvals: D:\airgap\approvals.json
    receipts: [E:\airgap\receipts]
    signing_key: "{{ airgap_signing_key }}"

- name: Plan a bundle split over DVDs, without writing anything
  airgap.wsus.bundle:
    state: built
    path: E:\airgap
    destination: plant-a
    package: D:\airgap\export.xml.gz
    volume_size: 4.7GB
    signing_key: "{{ airgap_signing_key }}"
  check_mode: true
  register: plan

- name: On the import server, deploy the next bundle the medium carries for plant-a
  airgap.wsus.bundle:
    state: deployed
    path: E:\airgap
    destination: plant-a
    verify_keys: ["{{ airgap_verify_key }}"]
  register: deployed

- name: Then import the metadata it carries
  airgap.wsus.metadata:
    state: imported
    package: "{{ deployed.package_path }}"
  when: not deployed.already_imported

- name: And apply the approvals it carries
  airgap.wsus.approvals:
    state: applied
    path: "{{ deployed.approvals_path }}"
    verify_keys: ["{{ airgap_verify_key }}"]
  when: not deployed.already_imported and deployed.approvals_path
"""

RETURN = r"""
bundle_path:
  description: The bundle folder, which holds the C(volume-NN) folders.
  returned: always
  type: str
  sample: E:\\airgap\\plant-a-000005
bundle_id:
  description: The bundle's UUID. Null with O(state=built) in check mode, where no bundle is made yet.
  returned: always
  type: str
sequence:
  description: The bundle's sequence number for its destination.
  returned: always
  type: int
base:
  description: The sequence the bundle builds on, or C(full).
  returned: always
  type: raw
settings:
  description: The export server's settings fingerprint from the manifest, which M(airgap.wsus.option_parity) accepts as its reference.
  returned: always
  type: dict
  sample: {"express_files": false, "all_languages": false, "languages": ["en"], "deferred_download": false, "host_binaries_on_mu": false}
plan:
  description: What O(state=built) sends, or would send in check mode.
  returned: when O(state=built)
  type: dict
  contains:
    basis:
      description: C(kind) (C(receipt), C(previous_bundle) or C(full)) and C(reason).
      type: dict
    files:
      description: Number of content files in the bundle.
      type: int
    bytes:
      description: Bytes of content in the bundle.
      type: int
    volumes:
      description: Number of volumes.
      type: int
    medium_bytes_needed:
      description: Space the bundle needs on the medium, with file system overhead.
      type: int
    import_bytes_needed:
      description: Space the content needs on the import server (each file rounded up to 4 KiB clusters).
      type: int
    held:
      description: Files (C(count), C(bytes)) the basis says the import server already holds, so they do not travel. Null for a bundle already sealed.
      type: dict
    unhashed:
      description: Content files whose names are not a SHA-1, each with C(path), C(size), C(included) and the C(reason).
      type: list
      elements: dict
    missing_unavailable:
      description: Files the receipt reported missing that this server does not have either.
      type: list
      elements: str
volumes:
  description:
    - One entry per volume with its C(folder), C(label), C(files), C(bytes) and whether it holds the C(package).
    - With O(state=built) in check mode, the volumes that would be written.
  returned: always
  type: list
  elements: dict
volumes_missing:
  description: With O(state=verified) and O(volumes), the labels of the bundle's volumes that were not given.
  returned: when volumes were left out
  type: list
  elements: str
package_path:
  description: The metadata package inside the bundle, for M(airgap.wsus.metadata). Null when the volume holding it was not given.
  returned: always
  type: str
package_sha256:
  description: SHA-256 of the metadata package; null in a plan made with O(package_pending).
  returned: always
  type: str
approvals:
  description:
    - The manifests' C(approvals) section, C(path) (relative to volume 1), C(size), C(sha256) and C(counts) (C(groups),
      C(updates), C(approvals), C(declines)), or null when the bundle carries no approvals document.
  returned: always
  type: dict
  sample: {"path": "approvals/approvals.json", "size": 18234, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
           "counts": {"groups": 6, "updates": 120, "approvals": 150, "declines": 9}}
approvals_path:
  description:
    - The approvals document inside the bundle on the host, for M(airgap.wsus.approvals) with C(state=applied).
    - Null when the bundle carries none, or when volume 1 was not given.
  returned: always
  type: str
  sample: E:\\airgap\\plant-a-000005\\volume-01\\approvals\\approvals.json
already_imported:
  description: With O(state=verified) or O(state=deployed), true when this server already imported this bundle; nothing was done.
  returned: when O(state) is V(verified) or V(deployed)
  type: bool
problems:
  description: With O(state=verified) or O(state=deployed), each missing or corrupt file by path, with its volume and what is wrong.
  returned: when O(state) is V(verified) or V(deployed)
  type: list
  elements: dict
  sample: [{"path": "0A/0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C0A.cab", "volume": "volume 2 of 3", "problem": "sha256 differs"}]
signed:
  description: Whether the signatures were checked and valid. False only with O(allow_unsigned).
  returned: when O(state) is V(verified) or V(deployed)
  type: bool
copy:
  description:
    - With O(state=built) or O(state=deployed), the robocopy summary of all copies added up, as M(airgap.wsus.content_sync)
      returns it (C(rc), C(files), C(bytes), C(errors), C(duration)), and the C(job_ids) of the robocopy jobs.
  returned: when content was copied
  type: dict
would_copy:
  description: With O(state=deployed), the files (C(files), C(bytes)) the content folder lacked before the copy; in check mode, what would be copied.
  returned: when O(state=deployed) and the bundle was not imported before
  type: dict
content_dir:
  description: With O(state=deployed), the content folder deployed into.
  returned: when O(state=deployed) and the bundle was not imported before
  type: str
verified_record:
  description: With O(state=deployed), the record on the host that lets M(airgap.wsus.metadata) import this package.
  returned: when O(state=deployed) succeeded
  type: str
  sample: C:\\ProgramData\\airgap.wsus\\state\\verified\\3f2a...e1.json
"""
