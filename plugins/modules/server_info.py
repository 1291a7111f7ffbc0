# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: server_info
short_description: Read the state of a WSUS server for a disconnected-network sync
version_added: 0.1.0
description:
  - Reads everything the export and import steps depend on from the WSUS server that is the
    task's host, without changing anything. It never calls C(Save()) on the WSUS
    configuration.
  - Returns the WSUS installation (version, install folder, C(WsusUtil.exe) path, content
    folder, database), the Update Service state, the configuration that option parity
    compares (express installation files, update languages, deferred download, hosting on
    Microsoft Update, replica mode, update source), update counts, whether the connecting
    account is a local administrator, and the free space on the content drive.
  - Update counts come from SUSDB. With O(susdb), the queries run from the controller through
    pyodbc against a SUSDB hosted on SQL Server. Otherwise the same queries run on the host,
    which is the only way to reach the Windows Internal Database.
  - It costs two round trips to the host (one when SUSDB is read from the controller).
  - Fails, naming the cause and the fix, when the WSUS API cannot be read (the role is not
    installed, the Update Service is stopped). An account that is not a local administrator
    is reported in RV(account.is_admin), not refused.
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
    details: Reads only, so check mode changes nothing about what it does.
  diff_mode:
    support: none
  platform:
    platforms: windows
options: {}
seealso:
  - module: airgap.wsus.option_parity
  - module: airgap.wsus.metadata
"""

EXAMPLES = r"""
- name: Read the export server
  airgap.wsus.server_info:
  register: export_server

- name: Read a WSUS server whose SUSDB is on SQL Server, from the controller
  airgap.wsus.server_info:
    susdb:
      server: sql01.example.com
      database: SUSDB
      username: wsus_reader
      password: "{{ vault_wsus_reader_password }}"
  register: import_server

- name: Stop early when the account cannot run WsusUtil
  ansible.builtin.assert:
    that: export_server.account.is_admin
    fail_msg: "{{ export_server.account.name }} is not a local administrator on {{ inventory_hostname }}"
"""

RETURN = r"""
computer_name:
  description: The host's computer name.
  returned: always
  type: str
  sample: WSUS-CONNECTED
account:
  description: The account the connection runs as.
  returned: always
  type: dict
  contains:
    name:
      description: C(DOMAIN\\user) of the connecting account.
      type: str
      sample: CONTOSO\\wsus-admin
    sid:
      description: Security identifier of the account.
      type: str
      sample: S-1-5-21-3623811015-3361044348-30300820-1013
    is_admin:
      description:
        - Whether the account's token holds the local Administrators group, which C(WsusUtil.exe) and changing
          WSUS options require. A local account filtered by UAC remote restrictions is not an administrator.
      type: bool
      sample: true
wsus:
  description: The WSUS installation.
  returned: always
  type: dict
  contains:
    version:
      description: WSUS version.
      type: str
      sample: 10.0.17763.1
    install_dir:
      description: C(TargetDir) from the registry.
      type: str
      sample: C:\\Program Files\\Update Services
    wsusutil_path:
      description: Full path of C(WsusUtil.exe).
      type: str
      sample: C:\\Program Files\\Update Services\\Tools\\WsusUtil.exe
    content_dir:
      description:
        - The folder that holds the update files, including the trailing C(WsusContent)
          (C(LocalContentCachePath), else the registry's C(ContentDir) with C(WsusContent) added).
      type: str
      sample: D:\\WSUS\\WsusContent
    database:
      description: Where SUSDB lives.
      type: dict
      contains:
        kind:
          description: C(wid) for the Windows Internal Database, C(sqlserver) otherwise.
          type: str
          sample: wid
        server:
          description: C(SqlServerName) from the registry.
          type: str
          sample: MICROSOFT##WID
        name:
          description: Database name.
          type: str
          sample: SUSDB
    port:
      description: The WSUS web site port.
      type: int
      sample: 8530
    use_ssl:
      description: Whether the WSUS web site requires SSL.
      type: bool
    service:
      description: The Update Service (C(WsusService)).
      type: dict
      contains:
        name:
          description: Service name.
          type: str
          sample: WsusService
        state:
          description: C(running), C(stopped), another service state in lower case, or C(missing) when the service does not exist.
          type: str
          sample: running
        start_type:
          description: C(automatic), C(manual), C(disabled), or null when unknown.
          type: str
          sample: automatic
config:
  description: The configuration that the disconnected-network procedure depends on.
  returned: always
  type: dict
  contains:
    server_id:
      description: The WSUS server's C(ServerId).
      type: str
    express_files:
      description: C(DownloadExpressPackages), whether express installation files are downloaded.
      type: bool
    all_languages:
      description: C(AllUpdateLanguagesEnabled).
      type: bool
    languages:
      description: Enabled update languages, lower-case RFC 1766 codes, sorted.
      type: list
      elements: str
      sample: [de, en]
    deferred_download:
      description: C(DownloadUpdateBinariesAsNeeded), download files only for approved updates.
      type: bool
    host_binaries_on_mu:
      description: C(HostBinariesOnMicrosoftUpdate). Must be false where clients cannot reach Microsoft Update.
      type: bool
    content_from_mu:
      description: C(GetContentFromMU).
      type: bool
    replica:
      description: C(IsReplicaServer). A replica (centrally managed) server cannot import metadata.
      type: bool
    sync_from_microsoft_update:
      description: C(SyncFromMicrosoftUpdate).
      type: bool
    upstream:
      description: The upstream WSUS server when the server does not sync from Microsoft Update.
      type: dict
      contains:
        server:
          description: C(UpstreamWsusServerName).
          type: str
        port:
          description: C(UpstreamWsusServerPortNumber).
          type: int
        use_ssl:
          description: C(UpstreamWsusServerUseSsl).
          type: bool
    proxy:
      description: The proxy the server uses to synchronize.
      type: dict
      contains:
        enabled:
          description: C(UseProxy).
          type: bool
        server:
          description: C(ProxyName), or null.
          type: str
        port:
          description: C(ProxyServerPort).
          type: int
settings:
  description:
    - The settings option parity compares, in the form bundle manifests and receipts record
      them. Pass it, or the whole result, as O(airgap.wsus.option_parity#module:reference).
  returned: always
  type: dict
  contains:
    express_files:
      description: Express installation files.
      type: bool
    all_languages:
      description: All update languages.
      type: bool
    languages:
      description: Enabled update languages, lower case, sorted.
      type: list
      elements: str
    deferred_download:
      description: Download files only for approved updates.
      type: bool
    host_binaries_on_mu:
      description: Clients download update files from Microsoft Update.
      type: bool
  sample: {"express_files": false, "all_languages": false, "languages": ["en"], "deferred_download": true, "host_binaries_on_mu": false}
subscription:
  description: Settings the import overrides; option parity reports differences in them as information only.
  returned: always
  type: dict
  contains:
    products:
      description: Product titles the server synchronizes.
      type: list
      elements: str
    classifications:
      description: Classification titles the server synchronizes.
      type: list
      elements: str
    synchronize_automatically:
      description: Whether scheduled synchronization is on.
      type: bool
    schedule:
      description: When scheduled synchronization runs.
      type: dict
      contains:
        time_of_day:
          description: First synchronization of the day, C(hh:mm:ss) (UTC).
          type: str
          sample: "03:00:00"
        per_day:
          description: Synchronizations per day.
          type: int
    last_synchronization_time:
      description: End of the last synchronization (or import), ISO 8601 UTC, or null when there was none.
      type: str
      sample: "2026-01-13T03:12:45.000Z"
    synchronization_status:
      description: C(NotProcessing), or C(Running) while a synchronization runs (the WSUS API then refuses to save options).
      type: str
      sample: NotProcessing
counts:
  description: Update counts read from SUSDB.
  returned: always
  type: dict
  contains:
    updates:
      description: Updates in the catalog.
      type: int
    approved:
      description: Updates approved for install to at least one computer group.
      type: int
    declined:
      description: Declined updates.
      type: int
    approved_needing_files:
      description:
        - Updates approved for install with at least one file the server wants and does not have yet
          (still downloading, or failed).
      type: int
    approved_untracked_files:
      description:
        - Updates approved for install with a file the server does not track at all (no
          C(tbFileOnServer) row). Normally 0; otherwise run C(wsusutil reset).
      type: int
download_progress:
  description: What the WSUS API reports about content downloads. Values are null when the API could not compute them.
  returned: always
  type: dict
  contains:
    updates_needing_files:
      description: C(GetStatus().UpdatesNeedingFilesCount), approved or not, declined excluded.
      type: int
    downloaded_bytes:
      description: C(GetContentDownloadProgress().DownloadedBytes).
      type: int
    total_bytes:
      description: C(GetContentDownloadProgress().TotalBytesToDownload).
      type: int
content_drive:
  description: The volume that holds the content folder.
  returned: always
  type: dict
  contains:
    path:
      description: The content folder (as RV(wsus.content_dir)).
      type: str
    exists:
      description: Whether the content folder exists.
      type: bool
    root:
      description: Root of the volume, such as C(D:\\).
      type: str
    drive_type:
      description: C(fixed), C(removable), C(network), ... in lower case.
      type: str
    free_bytes:
      description: Free space on the volume.
      type: int
    total_bytes:
      description: Size of the volume.
      type: int
    file_system:
      description: File system of the volume.
      type: str
      sample: NTFS
susdb_source:
  description: C(controller) when SUSDB was read through pyodbc, C(host) when on the host.
  returned: always
  type: str
  sample: host
"""
