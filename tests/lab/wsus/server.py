"""One emulated WSUS server. Its whole state is its SUSDB file (``susdb.py``) and its content folder.

Configuration, catalog, approvals, declines and file states live in SQLite tables with the
real SUSDB names, so what the UpdateServices API reports (``get_configuration``,
``get_status``) and what T-SQL against SUSDB returns can never disagree.

File states follow what a server does:

- a file is *desired* when an update that is not declined needs it under the server's
  settings: express files only with express installation files on, language-specific files
  only for enabled languages, with deferred download only for approved updates, and none
  when update files are hosted on Microsoft Update (EULAs are always desired: an update
  cannot be approved without its EULA);
- every file of a latest revision has a ``tbFileOnServer`` row; ``DesiredState`` 1 marks the
  wanted ones, and ``ActualState`` says whether a wanted file is present (1), still
  downloading (0, a connected server: ``finish_downloads`` or ``start_downloads`` completes
  it) or failed (2, a disconnected server cannot download: what an import without the
  content first produces).

``attach_wsus(host, spec_entry)`` creates the server for an emulated Windows host.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import threading
import time
import typing as t

from . import catalog as cat
from . import constants as C
from . import errors
from . import odbc
from . import package as pkg
from .configuration import WsusConfiguration
from .content import ContentStore, Writer
from .susdb import Susdb, sql_time, utcnow


def _bool(value: t.Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ('1', 'true', 'yes', 'on')
    return bool(value)


@dataclasses.dataclass
class ServerSettings:  # pylint: disable=too-many-instance-attributes
    """A WSUS server's settings as a lab spec gives them (``settings:`` of a host entry)."""

    download_express_packages: bool = False
    languages: t.Union[str, list[str]] = dataclasses.field(default_factory=lambda: ['en'])
    deferred_download: bool = False
    replica: bool = False
    upstream: t.Optional[str] = None
    upstream_port: int = 8530
    upstream_ssl: bool = False
    host_binaries_on_mu: bool = False
    get_content_from_mu: bool = False
    port: int = 8530
    ssl: bool = False
    products: list[str] = dataclasses.field(default_factory=lambda: [p[1] for p in C.PRODUCTS])
    classifications: list[str] = dataclasses.field(default_factory=lambda: ['Critical Updates', 'Security Updates', 'Definition Updates'])
    synchronize_automatically: bool = True
    sync_time_of_day: str = '03:00:00'
    syncs_per_day: int = 1
    save_busy_seconds: float = 0.0

    @classmethod
    def from_spec(cls, spec: t.Optional[t.Mapping[str, t.Any]]) -> 'ServerSettings':
        spec = dict(spec or {})
        out = cls()
        for key in ('download_express_packages', 'deferred_download', 'replica', 'upstream_ssl', 'host_binaries_on_mu',
                    'get_content_from_mu', 'ssl', 'synchronize_automatically'):
            if key in spec:
                setattr(out, key, _bool(spec[key]))
        for key in ('upstream_port', 'port', 'syncs_per_day'):
            if key in spec:
                setattr(out, key, int(spec[key]))
        if 'save_busy_seconds' in spec:
            out.save_busy_seconds = float(spec['save_busy_seconds'])
        if spec.get('upstream'):
            out.upstream = str(spec['upstream'])
        if 'sync_time_of_day' in spec:
            out.sync_time_of_day = str(spec['sync_time_of_day'])
        for key in ('products', 'classifications'):
            if key in spec:
                setattr(out, key, [str(v) for v in spec[key]])
        if 'languages' in spec:
            langs = spec['languages']
            if isinstance(langs, str) and langs.lower() == 'all':
                out.languages = 'all'
            else:
                langs = [langs] if isinstance(langs, str) else list(langs)
                out.languages = [str(code).lower() for code in langs]
                unknown = set(out.languages) - C.LANGUAGE_CODES
                if unknown:
                    raise ValueError(f'settings.languages has codes WSUS does not know: {sorted(unknown)}; use lowercase RFC 1766 codes or "all"')
        if out.replica and not out.upstream:
            raise ValueError('settings.replica needs settings.upstream: a replica server synchronizes from an upstream WSUS server')
        return out


class WsusServer:  # pylint: disable=too-many-public-methods
    """The emulated WSUS server of one host."""

    def __init__(self, *, state_dir: str, content_root: str, content_dir: str = C.DEFAULT_CONTENT_DIR,
                 name: str = 'WSUS', role: str = 'export', os_release: str = C.DEFAULT_OS,
                 catalog: t.Optional[cat.CatalogOptions] = None, settings: t.Optional[ServerSettings] = None,
                 connected: t.Optional[bool] = None, sql: str = 'wid', pending_updates: int = 0,
                 writer: t.Optional[Writer] = None, runtime_scale: float = 0.0) -> None:
        """Open (or create) the server whose SUSDB lives in ``state_dir``.

        ``content_root`` is the real path of ``<content_dir>\\WsusContent``. ``connected``
        (default: true for an export server) says whether it can download from upstream.
        ``runtime_scale`` is seconds of emulated WsusUtil work per 1,000 updates.
        """
        if role not in ('export', 'import'):
            raise ValueError(f"role must be 'export' or 'import', not {role!r}")
        if sql not in ('wid', 'sqlserver'):
            raise ValueError(f"sql must be 'wid' or 'sqlserver', not {sql!r}")
        self.name = name
        self.role = role
        self.os_release = os_release if os_release in C.VERSIONS else C.DEFAULT_OS
        self.version = C.VERSIONS[self.os_release]
        self.connected = (role == 'export') if connected is None else connected
        self.sql = sql
        self.content_dir = content_dir.rstrip('\\')
        self.runtime_scale = runtime_scale
        self.host: t.Any = None
        self.content = ContentStore(content_root, writer)
        self.db = Susdb(os.path.join(state_dir, 'SUSDB.sqlite'))
        self._downloader: t.Optional[threading.Thread] = None
        self._stop_downloads = threading.Event()
        self._closing = threading.Event()
        self._reset_lock = threading.Lock()
        self._reset_thread: t.Optional[threading.Thread] = None
        self._batch = threading.local()
        self.last_reset: t.Optional[dict[str, int]] = None
        if self.db.created:
            self._initialize(catalog or cat.CatalogOptions(updates=40 if role == 'export' else 0),
                             settings or ServerSettings(), pending_updates)
        self.catalog_options = self._load_catalog_options()

    # ------------------------------------------------------------------ creation
    def _initialize(self, options: cat.CatalogOptions, settings: ServerSettings, pending_updates: int) -> None:
        now = utcnow()
        server_id = cat.guid_for(options.seed, 'server', self.name)
        all_languages = settings.languages == 'all'
        enabled = [] if all_languages else list(settings.languages)
        with self.db.transaction() as conn:
            conn.execute('INSERT INTO tbConfigurationA VALUES (1, ?, ?, ?, ?, ?, ?, 0, NULL, 80, ?, 0)', (
                sql_time(now), server_id, int(settings.upstream is None), settings.upstream or None,
                settings.upstream_port, int(settings.upstream_ssl), int(settings.host_binaries_on_mu)))
            conn.execute('INSERT INTO tbConfigurationB VALUES (1, ?, ?, NULL)', (
                self.content_dir + '\\' + C.CONTENT_FOLDER, int(all_languages)))
            conn.execute('INSERT INTO tbConfigurationC VALUES (1, ?, ?, ?, ?, 1)', (
                int(settings.deferred_download), int(settings.download_express_packages), int(settings.replica),
                int(settings.get_content_from_mu)))
            conn.executemany('INSERT INTO tbLanguage VALUES (?, ?, ?, ?)', [
                (i + 1, code, long, int(code in enabled)) for i, (code, long) in enumerate(C.WSUS_LANGUAGES)])
            conn.execute('INSERT INTO tbTargetGroup VALUES (?, ?, ?, NULL, 0, 1, 0, 0)', (
                C.ALL_COMPUTERS, 'All Computers', 'All computers managed by this server'))
            conn.execute('INSERT INTO tbTargetGroup VALUES (?, ?, ?, ?, 1, 1, 0, 0)', (
                C.UNASSIGNED_COMPUTERS, 'Unassigned Computers', 'Computers not assigned to a group', C.ALL_COMPUTERS))
            for order, (gid, gname, parent) in enumerate(cat.LAB_GROUPS, start=2):
                conn.execute('INSERT INTO tbTargetGroup VALUES (?, ?, ?, ?, ?, 0, 0, 0)', (gid, gname, f'{gname} (lab group)', parent, order))
            subscription = {
                'products': settings.products, 'classifications': settings.classifications,
                'synchronize_automatically': settings.synchronize_automatically,
                'sync_time_of_day': settings.sync_time_of_day, 'syncs_per_day': settings.syncs_per_day,
                'last_synchronization_time': sql_time(now) if options.updates else None,
            }
            conn.executemany('INSERT INTO labSubscription VALUES (?, ?)', [(k, json.dumps(v)) for k, v in subscription.items()])
            for key, value in (('config_version', 1), ('synchronizing', 0), ('save_busy_until', 0),
                               ('save_busy_seconds', settings.save_busy_seconds), ('role', self.role),
                               ('catalog', json.dumps(self._options_to_json(options)))):
                self.db.set_state(key, value)
            updates = list(cat.generate(options))
            self._merge(conn, (self._from_catalog(u) for u in updates), catalog_indexes={u.update_id: u.index for u in updates})
            self._apply_local_decisions(conn, updates, now)
            self._refresh_file_states(conn)
            pending_digests = self._pending_digests(conn, updates, pending_updates)
            self._download(conn, exclude=pending_digests, catalog_updates=updates, initial=True)
            self._refresh_deployments(conn)

    @staticmethod
    def _options_to_json(options: cat.CatalogOptions) -> dict[str, t.Any]:
        data = dataclasses.asdict(options)
        data['start'] = options.start.isoformat()
        data['languages'] = list(options.languages)
        return data

    def _load_catalog_options(self) -> cat.CatalogOptions:
        data = json.loads(self.db.get_state('catalog') or '{}')
        if 'start' in data:
            data['start'] = datetime.datetime.fromisoformat(data['start'])
        if 'languages' in data:
            data['languages'] = tuple(data['languages'])
        return cat.CatalogOptions(**data)

    @staticmethod
    def _from_catalog(update: cat.CatalogUpdate) -> pkg.PackageUpdate:
        return pkg.PackageUpdate(
            update_id=update.update_id, revision=update.revision, title=update.title, description=update.description,
            kb=update.kb, security_bulletin=update.security_bulletin, msrc_severity=update.msrc_severity,
            classification_id=update.classification_id, product_id=update.product_id, update_type=update.update_type,
            creation_date=update.creation_date, supersedes=update.supersedes,
            files=[pkg.PackageFile(digest=f.digest, sha256=f.sha256, name=f.name, size=f.size, modified=f.modified,
                                   is_eula=f.is_eula, patching_type=C.PATCHING_EXPRESS if f.is_express else C.PATCHING_NONE,
                                   language=f.language) for f in update.files])

    def _apply_local_decisions(self, conn, updates: t.Sequence[cat.CatalogUpdate], now: datetime.datetime) -> None:
        """Declines and approvals the generator chose (an export server's admin decisions)."""
        if self.role != 'export':
            return
        for update in updates:
            if update.declined:
                self._decline(conn, update.update_id)
            elif update.approved_group:
                self._approve(conn, update.update_id, update.approved_group, C.ACTION_INSTALL, C.DEFAULT_ADMIN_NAME, now)

    def _pending_digests(self, conn, updates: t.Sequence[cat.CatalogUpdate], pending_updates: int) -> set[bytes]:
        """Files of the newest ``pending_updates`` updates that still need files: not yet downloaded."""
        if pending_updates <= 0:
            return set()
        desired = {row[0] for row in conn.execute('SELECT FileDigest FROM tbFileOnServer WHERE DesiredState = 1 AND ActualState <> 1')}
        pending: set[bytes] = set()
        picked = 0
        for update in reversed(updates):
            digests = {f.digest for f in update.files if f.digest in desired and not f.is_eula}
            if digests:
                pending |= digests
                picked += 1
                if picked >= pending_updates:
                    break
        return pending

    # ------------------------------------------------------------------ catalog merge
    def _merge(self, conn, updates: t.Iterable[pkg.PackageUpdate], catalog_indexes: t.Optional[t.Mapping[str, int]] = None) -> dict[str, int]:
        """Insert updates/revisions/files that are new; return counts. Used by sync and import.

        Rows are collected and written per table with ``executemany``: a 20,000-update catalog
        merges in about a second.
        """
        local_ids = {uid.upper(): lid for uid, lid in conn.execute('SELECT UpdateID, LocalUpdateID FROM tbUpdate')}
        latest: dict[int, tuple[int, int, int]] = {}   # LocalUpdateID -> (RevisionNumber, RevisionID, State) of the latest
        revisions = set()
        for rid, lid, num, state, is_latest in conn.execute('SELECT RevisionID, LocalUpdateID, RevisionNumber, State, IsLatestRevision FROM tbRevision'):
            revisions.add((lid, num))
            if is_latest:
                latest[lid] = (num, rid, state)
        known_files = {bytes(row[0]) for row in conn.execute('SELECT FileDigest FROM tbFile')}
        next_lid = (conn.execute('SELECT MAX(LocalUpdateID) FROM tbUpdate').fetchone()[0] or 0) + 1
        next_rid = (conn.execute('SELECT MAX(RevisionID) FROM tbRevision').fetchone()[0] or 0) + 1
        now = sql_time(utcnow())
        rows: dict[str, list[tuple]] = {name: [] for name in (
            'update', 'info', 'info_update', 'revision', 'unlatest', 'file', 'hash', 'fileinfo', 'ffr', 'eula', 'supersedes')}
        english = conn.execute("SELECT LanguageID FROM tbLanguage WHERE ShortLanguage = 'en'").fetchone()[0]
        stats = {'updates': 0, 'new_updates': 0, 'new_revisions': 0, 'new_files': 0}
        for update in updates:
            stats['updates'] += 1
            uid = update.update_id.upper()
            lid = local_ids.get(uid)
            info = (update.title, update.description, update.kb, update.security_bulletin, update.msrc_severity,
                    update.classification_id, update.product_id, update.update_type, sql_time(update.creation_date))
            if lid is None:
                lid, next_lid = next_lid, next_lid + 1
                local_ids[uid] = lid
                rows['update'].append((lid, uid, cat.guid_for('type', update.update_type), f'KB{update.kb}' if update.kb else None))
                index = None if catalog_indexes is None else catalog_indexes.get(update.update_id)
                rows['info'].append((lid,) + info + (now, index))
                stats['new_updates'] += 1
            if (lid, update.revision) in revisions:
                continue
            current = latest.get(lid)
            is_latest = current is None or update.revision > current[0]
            # A declined update stays declined across revisions.
            state = current[2] if current is not None and is_latest else C.REVISION_STATE_NORMAL
            rid, next_rid = next_rid, next_rid + 1
            if is_latest:
                if current is not None:
                    rows['unlatest'].append((current[1],))
                    rows['info_update'].append(info + (lid,))
                latest[lid] = (update.revision, rid, state)
            rows['revision'].append((rid, lid, update.revision, int(is_latest), state, int(update.msrc_severity == 'Critical')))
            revisions.add((lid, update.revision))
            stats['new_revisions'] += 1
            for f in update.files:
                if f.digest not in known_files:
                    rows['file'].append((f.digest, f.name, sql_time(f.modified) if f.modified else None, f.size, int(f.is_eula),
                                         f'http://download.windowsupdate.com/d/msdownload/update/software/{f.name.lower()}'))
                    if f.sha256:
                        rows['hash'].append((f.digest, 'SHA256', f.sha256))
                    rows['fileinfo'].append((f.digest, f.language or ''))
                    known_files.add(f.digest)
                    stats['new_files'] += 1
                if f.is_eula:
                    rows['eula'].append((f.digest, rid, english))
                else:
                    rows['ffr'].append((rid, f.digest, f.patching_type))
            rows['supersedes'].extend((rid, s.upper()) for s in update.supersedes)
        conn.executemany('INSERT INTO tbUpdate (LocalUpdateID, UpdateID, UpdateTypeID, LegacyName) VALUES (?, ?, ?, ?)', rows['update'])
        conn.executemany('INSERT INTO labUpdateInfo VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', rows['info'])
        conn.executemany('UPDATE labUpdateInfo SET DefaultTitle = ?, DefaultDescription = ?, KnowledgebaseArticle = ?, SecurityBulletin = ?, '
                         'MsrcSeverity = ?, ClassificationID = ?, ProductID = ?, UpdateType = ?, CreationDate = ? WHERE LocalUpdateID = ?',
                         rows['info_update'])
        conn.executemany('INSERT INTO tbRevision (RevisionID, LocalUpdateID, RevisionNumber, IsLatestRevision, State, IsCritical) '
                         'VALUES (?, ?, ?, ?, ?, ?)', rows['revision'])
        # After the inserts: a revision superseded by a newer one of the same batch exists by now.
        conn.executemany('UPDATE tbRevision SET IsLatestRevision = 0 WHERE RevisionID = ?', rows['unlatest'])
        conn.executemany('INSERT INTO tbFile (FileDigest, FileName, Modified, Size, IsEula, MUURL) VALUES (?, ?, ?, ?, ?, ?)', rows['file'])
        conn.executemany('INSERT INTO tbFileHash VALUES (?, ?, ?)', rows['hash'])
        conn.executemany('INSERT INTO labFileInfo VALUES (?, ?)', rows['fileinfo'])
        conn.executemany('INSERT OR IGNORE INTO tbFileForRevision VALUES (?, ?, ?)', rows['ffr'])
        conn.executemany('INSERT OR IGNORE INTO tbEulaProperty VALUES (?, ?, ?)', rows['eula'])
        conn.executemany('INSERT OR IGNORE INTO tbRevisionSupersedesUpdate VALUES (?, ?)', rows['supersedes'])
        return stats

    # ------------------------------------------------------------------ file states
    @contextlib.contextmanager
    def batched_refresh(self) -> t.Iterator[None]:
        """Refresh file and approval states once, when the block ends, instead of after every API call in it.

        WSUS works out what to download in the background, not inside each ``Approve()``; a
        script that approves 20,000 updates in one run must not cost 20,000 recomputations of
        every file's state (quadratic over a large catalog). Applies to this thread only.
        """
        if getattr(self._batch, 'depth', 0):
            yield
            return
        self._batch.depth, self._batch.dirty = 1, False
        try:
            yield
        finally:
            self._batch.depth = 0
            if self._batch.dirty:
                with self.db.transaction() as conn:
                    self._refresh_file_states(conn)
                    self._refresh_deployments(conn)

    def _deferred(self) -> bool:
        """Inside :meth:`batched_refresh`: note that a refresh is due and skip it for now."""
        if getattr(self._batch, 'depth', 0):
            self._batch.dirty = True
            return True
        return False

    def _refresh_file_states(self, conn) -> None:
        """Recompute which files the server wants, then look for newly wanted ones on disk."""
        if self._deferred():
            return
        express, all_langs, lazy, host_on_mu = conn.execute(
            'SELECT c.DownloadExpressPackages, b.ServerSupportsAllLanguages, c.LazySync, a.HostOnMu '
            'FROM tbConfigurationC c JOIN tbConfigurationB b ON b.ConfigurationID = c.ConfigurationID '
            'JOIN tbConfigurationA a ON a.ConfigurationID = c.ConfigurationID').fetchone()
        conn.execute('DROP TABLE IF EXISTS temp.labWanted')
        # Every file of a latest revision gets a row; DesiredState says whether it is wanted.
        conn.execute(
            'CREATE TEMP TABLE labWanted AS '
            'SELECT fr.FileDigest AS FileDigest, MAX(CASE WHEN r.State <> 2 AND (f.IsEula = 1 OR (? = 0 '
            '  AND (? = 1 OR fr.PatchingType <> 1) '
            '  AND (? = 1 OR COALESCE(li.Language, \'\') = \'\' OR li.Language IN (SELECT ShortLanguage FROM tbLanguage WHERE Enabled = 1)) '
            '  AND (? = 0 OR EXISTS (SELECT 1 FROM tbDeployment d WHERE d.RevisionID = r.RevisionID AND d.ActionID = 0)))) '
            '  THEN 1 ELSE 0 END) AS Desired '
            'FROM tbRevision r JOIN labRevisionFile fr ON fr.RevisionID = r.RevisionID '
            'JOIN tbFile f ON f.FileDigest = fr.FileDigest LEFT JOIN labFileInfo li ON li.FileDigest = f.FileDigest '
            'WHERE r.IsLatestRevision = 1 GROUP BY fr.FileDigest',
            (host_on_mu, express, all_langs, lazy))
        conn.execute('UPDATE tbFileOnServer SET DesiredState = COALESCE('
                     '(SELECT w.Desired FROM temp.labWanted w WHERE w.FileDigest = tbFileOnServer.FileDigest), 0)')
        # Files no revision needs any more are forgotten unless on disk; unwanted ones are not "failed".
        conn.execute('DELETE FROM tbFileOnServer WHERE ActualState <> 1 AND FileDigest NOT IN (SELECT FileDigest FROM temp.labWanted)')
        conn.execute('UPDATE tbFileOnServer SET ActualState = 0 WHERE DesiredState = 0 AND ActualState = 2')
        conn.execute('INSERT INTO tbFileOnServer (FileDigest, DesiredState, ActualState, TimeAddedToQueue) '
                     'SELECT FileDigest, Desired, ?, ? FROM temp.labWanted WHERE FileDigest NOT IN (SELECT FileDigest FROM tbFileOnServer)',
                     (C.ACTUAL_NOT_PRESENT, sql_time(utcnow())))
        conn.execute('DROP TABLE temp.labWanted')
        # What is still missing: already on disk (copied in) counts as present; a connected
        # server keeps downloading the rest, a disconnected one fails them.
        missing = conn.execute('SELECT fs.FileDigest, f.FileName, f.Size, fs.ActualState FROM tbFileOnServer fs '
                               'JOIN tbFile f ON f.FileDigest = fs.FileDigest WHERE fs.DesiredState = 1 AND fs.ActualState <> 1').fetchall()
        absent_state = C.ACTUAL_NOT_PRESENT if self.connected else C.ACTUAL_FAILED
        for digest, name, size, actual in missing:
            state = C.ACTUAL_PRESENT if self.content.size_matches(name, size) else absent_state
            if state != actual:
                conn.execute('UPDATE tbFileOnServer SET ActualState = ? WHERE FileDigest = ?', (state, digest))

    def _refresh_deployments(self, conn) -> None:
        """Approvals are Pending while a desired file of their revision is missing, else Active."""
        if self._deferred():
            return
        conn.execute(
            'UPDATE tbDeployment SET DeploymentStatus = CASE WHEN EXISTS ('
            ' SELECT 1 FROM labRevisionFile fr JOIN tbFileOnServer fs ON fs.FileDigest = fr.FileDigest'
            ' WHERE fr.RevisionID = tbDeployment.RevisionID AND fs.DesiredState = 1 AND fs.ActualState <> 1) THEN 0 ELSE 1 END')

    def _download(self, conn, exclude: t.Collection[bytes] = (), limit: t.Optional[int] = None,
                  catalog_updates: t.Optional[t.Sequence[cat.CatalogUpdate]] = None, initial: bool = False) -> int:
        """Fetch queued files from "upstream": rebuild their bytes from the catalog and write them.

        ``initial``: the content a new host starts with, whatever its connection (an import
        server created with a catalog had that content copied in before).
        """
        if not self.connected and not initial:
            return 0
        wanted_states = '(0, 2)' if initial else '(0)'
        rows = conn.execute(
            'SELECT fs.FileDigest, MIN(i.CatalogIndex) FROM tbFileOnServer fs '
            'JOIN labRevisionFile fr ON fr.FileDigest = fs.FileDigest JOIN tbRevision r ON r.RevisionID = fr.RevisionID '
            'LEFT JOIN labUpdateInfo i ON i.LocalUpdateID = r.LocalUpdateID '
            'WHERE fs.DesiredState = 1 AND fs.ActualState IN ' + wanted_states +
            ' GROUP BY fs.FileDigest ORDER BY fs.TimeAddedToQueue, fs.FileDigest').fetchall()
        by_index = {u.index: u for u in catalog_updates or ()}
        done = 0
        for digest, index in rows:
            if digest in exclude:
                continue
            if limit is not None and done >= limit:
                break
            found = None
            if index is not None:
                update = by_index.get(index) or cat.generate_update(self._current_options(), index)
                found = next((f for f in update.files if f.digest == digest), None)
            if found is None:
                conn.execute('UPDATE tbFileOnServer SET ActualState = ? WHERE FileDigest = ?', (C.ACTUAL_FAILED, digest))
                continue
            try:
                self.content.write(found.name, found.data)
            except OSError:
                # A full or failing content drive: the file stays queued, as BITS leaves it.
                break
            conn.execute('UPDATE tbFileOnServer SET ActualState = ? WHERE FileDigest = ?', (C.ACTUAL_PRESENT, digest))
            done += 1
        return done

    def _current_options(self) -> cat.CatalogOptions:
        return getattr(self, 'catalog_options', None) or self._load_catalog_options()

    def finish_downloads(self, max_files: t.Optional[int] = None) -> int:
        """Complete queued downloads now (all, or ``max_files``); return how many arrived."""
        with self.db.transaction() as conn:
            done = self._download(conn, limit=max_files)
            self._refresh_deployments(conn)
        return done

    def start_downloads(self, files_per_second: float = 20.0) -> None:
        """Complete queued downloads in the background at about ``files_per_second``."""
        if self._downloader and self._downloader.is_alive():
            return
        self._stop_downloads.clear()
        interval = 0.1

        def run() -> None:
            credit = 0.0
            while not self._stop_downloads.wait(interval):
                credit += files_per_second * interval
                if credit >= 1:
                    self.finish_downloads(int(credit))
                    credit -= int(credit)

        self._downloader = threading.Thread(target=run, name=f'wsus-downloads-{self.name}', daemon=True)
        self._downloader.start()

    def stop_downloads(self) -> None:
        self._stop_downloads.set()
        if self._downloader:
            self._downloader.join(timeout=5)
            self._downloader = None

    def close(self) -> None:
        self._closing.set()
        self.stop_downloads()
        if self._reset_thread:
            self._reset_thread.join(timeout=5)
        self.db.close()

    # ------------------------------------------------------------------ configuration
    def get_configuration(self) -> WsusConfiguration:
        """``GetConfiguration()``: a copy to read, change and ``save()``."""
        row = self.db.query_one(
            'SELECT c.DownloadExpressPackages, b.ServerSupportsAllLanguages, c.LazySync, a.HostOnMu, c.GetContentFromMU, c.ReplicaMode, '
            'a.SyncToMU, a.UpstreamServerName, a.ServerPortNumber, a.UpstreamServerUseSSL, a.UseProxy, a.ProxyName, a.ProxyServerPort, '
            'b.LocalContentCacheLocation, a.ServerId FROM tbConfigurationA a JOIN tbConfigurationB b ON b.ConfigurationID = a.ConfigurationID '
            'JOIN tbConfigurationC c ON c.ConfigurationID = a.ConfigurationID')
        languages = [r[0] for r in self.db.query('SELECT ShortLanguage FROM tbLanguage WHERE Enabled = 1 ORDER BY LanguageID')]
        return WsusConfiguration(
            download_express_packages=bool(row[0]), all_update_languages_enabled=bool(row[1]),
            download_update_binaries_as_needed=bool(row[2]), host_binaries_on_microsoft_update=bool(row[3]),
            get_content_from_mu=bool(row[4]), is_replica_server=bool(row[5]), sync_from_microsoft_update=bool(row[6]),
            upstream_wsus_server_name=row[7] or '', upstream_wsus_server_port_number=int(row[8]),
            upstream_wsus_server_use_ssl=bool(row[9]), use_proxy=bool(row[10]), proxy_name=row[11] or '',
            proxy_server_port=int(row[12]), local_content_cache_path=row[13], server_id=row[14].lower(),
            enabled_languages=languages, loaded_version=int(self.db.get_state('config_version', '1') or 1),
            _saver=self._save_configuration)

    def _save_configuration(self, cfg: WsusConfiguration) -> None:
        with self.db.transaction() as conn:
            busy_until = float(self.db.get_state('save_busy_until', '0') or 0)
            cfg.validate(synchronizing=self.db.get_state('synchronizing') == '1', saving=time.time() < busy_until,
                         current_version=int(self.db.get_state('config_version', '1') or 1))
            conn.execute('UPDATE tbConfigurationA SET LastConfigChange = ?, SyncToMU = ?, UpstreamServerName = ?, ServerPortNumber = ?, '
                         'UpstreamServerUseSSL = ?, UseProxy = ?, ProxyName = ?, ProxyServerPort = ?, HostOnMu = ? WHERE ConfigurationID = 1', (
                             sql_time(utcnow()), int(cfg.sync_from_microsoft_update), cfg.upstream_wsus_server_name or None,
                             cfg.upstream_wsus_server_port_number, int(cfg.upstream_wsus_server_use_ssl), int(cfg.use_proxy),
                             cfg.proxy_name or None, cfg.proxy_server_port, int(cfg.host_binaries_on_microsoft_update)))
            conn.execute('UPDATE tbConfigurationB SET ServerSupportsAllLanguages = ? WHERE ConfigurationID = 1', (int(cfg.all_update_languages_enabled),))
            conn.execute('UPDATE tbConfigurationC SET LazySync = ?, DownloadExpressPackages = ?, ReplicaMode = ?, GetContentFromMU = ? '
                         'WHERE ConfigurationID = 1', (int(cfg.download_update_binaries_as_needed), int(cfg.download_express_packages),
                                                       int(cfg.is_replica_server), int(cfg.get_content_from_mu)))
            conn.execute('UPDATE tbLanguage SET Enabled = CASE WHEN ShortLanguage IN (SELECT value FROM json_each(?)) THEN 1 ELSE 0 END',
                         (json.dumps(cfg.enabled_languages),))
            version = int(self.db.get_state('config_version', '1') or 1) + 1
            self.db.set_state('config_version', version)
            busy = float(self.db.get_state('save_busy_seconds', '0') or 0)
            if busy > 0:
                self.db.set_state('save_busy_until', time.time() + busy)
            self._refresh_file_states(conn)
            self._refresh_deployments(conn)
        cfg.loaded_version = version

    def subscription(self) -> dict[str, t.Any]:
        """``GetSubscription()``: products, classifications and the sync schedule (information only)."""
        data = {name: json.loads(value) for name, value in self.db.query('SELECT Name, Value FROM labSubscription')}
        data['synchronizing'] = self.synchronizing
        return data

    @property
    def synchronizing(self) -> bool:
        return self.db.get_state('synchronizing') == '1'

    def set_synchronizing(self, value: bool) -> None:
        """Mark a synchronization as running (``Save()`` then refuses), for tests."""
        self.db.set_state('synchronizing', int(bool(value)))

    # ------------------------------------------------------------------ catalog growth, approvals
    def synchronize(self, new_updates: int = 0) -> dict[str, int]:
        """New updates appear upstream: add the next ``new_updates`` catalog updates and queue their files."""
        if not self.connected:
            raise errors.WsusInvalidOperationError(
                'Synchronization failed: this server cannot reach an upstream server (a disconnected server gets updates by import only).')
        options = self._current_options()
        updates = list(cat.generate(options, start=options.updates, count=new_updates))
        grown = dataclasses.replace(options, updates=options.updates + new_updates,
                                    files=None if options.files is None else round(options.files_per_update * (options.updates + new_updates)))
        now = utcnow()
        self.set_synchronizing(True)
        try:
            with self.db.transaction() as conn:
                stats = self._merge(conn, (self._from_catalog(u) for u in updates), {u.update_id: u.index for u in updates})
                self._apply_local_decisions(conn, updates, now)
                self.db.set_state('catalog', json.dumps(self._options_to_json(grown)))
                conn.execute("UPDATE labSubscription SET Value = ? WHERE Name = 'last_synchronization_time'", (json.dumps(sql_time(now)),))
                self.catalog_options = grown
                self._refresh_file_states(conn)
                self._refresh_deployments(conn)
        finally:
            self.set_synchronizing(False)
        return stats

    def _latest_revision(self, conn, update_id: str) -> int:
        row = conn.execute('SELECT r.RevisionID FROM tbUpdate u JOIN tbRevision r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1 '
                           'WHERE u.UpdateID = ?', (update_id.upper(),)).fetchone()
        if row is None:
            raise errors.WsusApiError(f'The update {update_id} was not found in the database.')
        return row[0]

    def _approve(self, conn, update_id: str, group_id: str, action: int, admin: str, now: datetime.datetime) -> None:
        rid = self._latest_revision(conn, update_id)
        conn.execute('DELETE FROM tbDeployment WHERE RevisionID = ? AND TargetGroupID = ?', (rid, group_id))
        conn.execute('INSERT INTO tbDeployment (RevisionID, TargetGroupID, ActionID, DeploymentStatus, DeploymentTime, GoLiveTime, '
                     'AdminName, DeploymentGuid, LastChangeTime) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)', (
                         rid, group_id.upper(), action, sql_time(now), sql_time(now), admin,
                         cat.guid_for('deployment', update_id.upper(), group_id.upper(), action), sql_time(now)))

    def _decline(self, conn, update_id: str) -> None:
        rid = self._latest_revision(conn, update_id)
        conn.execute('UPDATE tbRevision SET State = ? WHERE RevisionID = ?', (C.REVISION_STATE_DECLINED, rid))
        conn.execute('DELETE FROM tbDeployment WHERE RevisionID = ?', (rid,))

    def approve(self, update_id: str, group_id: str = C.ALL_COMPUTERS, action: str = 'Install', admin: str = C.DEFAULT_ADMIN_NAME) -> None:
        """``IUpdate.Approve(action, group)``: with deferred download, this queues the update's files."""
        codes = {v: k for k, v in C.ACTIONS.items()}
        if action not in codes:
            raise errors.WsusArgumentError(f'The value for action is not valid. Only {", ".join(codes)} are valid values.')
        with self.db.transaction() as conn:
            if conn.execute('SELECT 1 FROM tbTargetGroup WHERE TargetGroupID = ?', (group_id,)).fetchone() is None:
                raise errors.WsusApiError(f'WSUS could not find the target group with the given identifier {group_id}.')
            self._approve(conn, update_id, group_id, codes[action], admin, utcnow())
            self._refresh_file_states(conn)
            self._refresh_deployments(conn)

    def decline(self, update_id: str) -> None:
        """``IUpdate.Decline()``: removes its approvals; its files are no longer wanted."""
        with self.db.transaction() as conn:
            self._decline(conn, update_id)
            self._refresh_file_states(conn)
            self._refresh_deployments(conn)

    # ------------------------------------------------------------------ status
    def get_status(self) -> dict[str, int]:
        """``GetStatus()`` (``IUpdateServerStatus``): the counts the collection reads."""
        q = self.db.scalar
        needing = ('SELECT COUNT(DISTINCT r.LocalUpdateID) FROM tbRevision r JOIN labRevisionFile fr ON fr.RevisionID = r.RevisionID '
                   'JOIN tbFileOnServer fs ON fs.FileDigest = fr.FileDigest WHERE r.IsLatestRevision = 1 AND r.State <> 2 '
                   'AND fs.DesiredState = 1 AND fs.ActualState {}')
        approved = ('SELECT COUNT(DISTINCT r.LocalUpdateID) FROM tbRevision r JOIN tbDeployment d ON d.RevisionID = r.RevisionID '
                    'WHERE r.IsLatestRevision = 1 AND r.State <> 2')
        total = q('SELECT COUNT(*) FROM tbRevision WHERE IsLatestRevision = 1')
        declined = q('SELECT COUNT(*) FROM tbRevision WHERE IsLatestRevision = 1 AND State = 2')
        approved_count = q(approved)
        return {
            'UpdateCount': total,
            'DeclinedUpdateCount': declined,
            'ApprovedUpdateCount': approved_count,
            'NotApprovedUpdateCount': total - declined - approved_count,
            'UpdatesNeedingFilesCount': q(needing.format('<> 1')),
            'UpdatesWithServerErrorsCount': q(needing.format('= 2')),
            'CustomComputerTargetGroupCount': q('SELECT COUNT(*) FROM tbTargetGroup WHERE IsBuiltin = 0'),
            'ComputerTargetCount': 0,
        }

    def get_content_download_progress(self) -> dict[str, int]:
        """``GetContentDownloadProgress()``: bytes of wanted files present versus wanted in total."""
        row = self.db.query_one('SELECT COALESCE(SUM(f.Size), 0), COALESCE(SUM(CASE WHEN fs.ActualState = 1 THEN f.Size ELSE 0 END), 0) '
                                'FROM tbFileOnServer fs JOIN tbFile f ON f.FileDigest = fs.FileDigest WHERE fs.DesiredState = 1')
        return {'TotalBytesToDownload': int(row[0]), 'DownloadedBytes': int(row[1])}

    def approval_states(self) -> dict[str, str]:
        """``IUpdateApproval.State`` per approval id: ``Pending`` while files download, then ``Active``."""
        return {gid: ('Active' if status == C.DEPLOYMENT_ACTIVE else 'Pending')
                for gid, status in self.db.query('SELECT DeploymentGuid, DeploymentStatus FROM tbDeployment')}

    def update_ids(self) -> list[str]:
        """UpdateIDs of every update in the catalog (upper case), in arrival order."""
        return [r[0] for r in self.db.query('SELECT UpdateID FROM tbUpdate ORDER BY LocalUpdateID')]

    def file_states(self) -> dict[str, tuple[int, int]]:
        """``{file name: (DesiredState, ActualState)}`` of every file the server tracks."""
        return {name: (d, a) for name, d, a in self.db.query(
            'SELECT f.FileName, fs.DesiredState, fs.ActualState FROM tbFileOnServer fs JOIN tbFile f ON f.FileDigest = fs.FileDigest')}

    # ------------------------------------------------------------------ WsusUtil work
    def export_updates(self) -> list[pkg.PackageUpdate]:
        """Every update revision in SUSDB, as a package describes it (metadata only)."""
        files: dict[int, list[pkg.PackageFile]] = {}
        for rid, digest, name, size, modified, is_eula, patching, language, sha256 in self.db.query(
                'SELECT fr.RevisionID, f.FileDigest, f.FileName, f.Size, f.Modified, f.IsEula, fr.PatchingType, COALESCE(li.Language, \'\'), h.AdditionalHash '
                'FROM labRevisionFile fr JOIN tbFile f ON f.FileDigest = fr.FileDigest LEFT JOIN labFileInfo li ON li.FileDigest = f.FileDigest '
                "LEFT JOIN tbFileHash h ON h.FileDigest = f.FileDigest AND h.DigestAlgorithm = 'SHA256' ORDER BY fr.RevisionID, f.FileName"):
            files.setdefault(rid, []).append(pkg.PackageFile(
                digest=bytes(digest), sha256=bytes(sha256) if sha256 else None, name=name, size=size,
                modified=datetime.datetime.fromisoformat(modified) if modified else None, is_eula=bool(is_eula),
                patching_type=patching, language=language))
        supersedes: dict[int, list[str]] = {}
        for rid, uid in self.db.query('SELECT RevisionID, SupersededUpdateID FROM tbRevisionSupersedesUpdate ORDER BY RevisionID, SupersededUpdateID'):
            supersedes.setdefault(rid, []).append(uid)
        out = []
        for row in self.db.query(
                'SELECT r.RevisionID, u.UpdateID, r.RevisionNumber, i.DefaultTitle, i.DefaultDescription, i.KnowledgebaseArticle, i.SecurityBulletin, '
                'i.MsrcSeverity, i.ClassificationID, i.ProductID, i.UpdateType, i.CreationDate FROM tbRevision r '
                'JOIN tbUpdate u ON u.LocalUpdateID = r.LocalUpdateID JOIN labUpdateInfo i ON i.LocalUpdateID = u.LocalUpdateID '
                'ORDER BY u.LocalUpdateID, r.RevisionNumber'):
            rid = row[0]
            out.append(pkg.PackageUpdate(
                update_id=row[1], revision=row[2], title=row[3], description=row[4], kb=row[5], security_bulletin=row[6],
                msrc_severity=row[7], classification_id=row[8], product_id=row[9], update_type=row[10],
                creation_date=datetime.datetime.fromisoformat(row[11]), files=files.get(rid, []), supersedes=supersedes.get(rid, [])))
        return out

    def package_header(self, update_count: int) -> pkg.PackageHeader:
        return pkg.PackageHeader(version=self.version, server_id=self.get_configuration().server_id,
                                 creation_date=utcnow().strftime('%Y-%m-%dT%H:%M:%SZ'), update_count=update_count)

    def import_updates(self, updates: t.Sequence[pkg.PackageUpdate]) -> dict[str, int]:
        """Merge imported metadata; wanted files missing from WsusContent become failed downloads."""
        with self.db.transaction() as conn:
            stats = self._merge(conn, updates)
            conn.execute("UPDATE labSubscription SET Value = ? WHERE Name = 'last_synchronization_time'", (json.dumps(sql_time(utcnow())),))
            self._refresh_file_states(conn)
            self._refresh_deployments(conn)
            stats['failed_files'] = conn.execute('SELECT COUNT(*) FROM tbFileOnServer WHERE DesiredState = 1 AND ActualState = 2').fetchone()[0]
        return stats

    def reset_content(self) -> dict[str, int]:
        """``wsusutil reset``: hash every wanted file on disk; missing or corrupt ones need files again."""
        checked = bad = 0
        with self.db.transaction() as conn:
            rows = conn.execute('SELECT fs.FileDigest, f.FileName, f.Size, fs.DesiredState FROM tbFileOnServer fs '
                                'JOIN tbFile f ON f.FileDigest = fs.FileDigest').fetchall()
            absent_state = C.ACTUAL_NOT_PRESENT if self.connected else C.ACTUAL_FAILED
            for digest, name, size, desired in rows:
                checked += 1
                if self.content.verify(name, size):
                    conn.execute('UPDATE tbFileOnServer SET ActualState = 1 WHERE FileDigest = ?', (digest,))
                elif desired:
                    bad += 1
                    conn.execute('UPDATE tbFileOnServer SET ActualState = ?, TimeAddedToQueue = ? WHERE FileDigest = ?',
                                 (absent_state, sql_time(utcnow()), digest))
                else:
                    conn.execute('UPDATE tbFileOnServer SET ActualState = 0 WHERE FileDigest = ?', (digest,))
            self._refresh_deployments(conn)
        return {'checked': checked, 'needing_files': bad}

    def start_reset(self) -> None:
        """``wsusutil reset`` / ``ResetAndVerifyContentState()``: verify in the background.

        The command returns at once; the check takes ``work_seconds`` of the catalog. Until it
        ends, file states are what they were (pollers wait for UpdatesNeedingFilesCount).
        """
        with self._reset_lock:
            if self._reset_thread and self._reset_thread.is_alive():
                return
            delay = self.work_seconds(len(self.update_ids()))

            def run() -> None:
                if not self._closing.wait(delay):
                    self.last_reset = self.reset_content()

            self._reset_thread = threading.Thread(target=run, name=f'wsus-reset-{self.name}', daemon=True)
            self._reset_thread.start()

    @property
    def reset_running(self) -> bool:
        return bool(self._reset_thread and self._reset_thread.is_alive())

    def wait_for_reset(self, timeout: float = 30.0) -> bool:
        """Wait until a running reset ends; True when none is running any more."""
        thread = self._reset_thread
        if thread:
            thread.join(timeout)
        return not self.reset_running

    def work_seconds(self, update_count: int) -> float:
        """How long WsusUtil takes over ``update_count`` updates (``runtime_scale`` per 1,000)."""
        return self.runtime_scale * max(update_count, 1) / 1000.0

    # ------------------------------------------------------------------ SUSDB access
    @property
    def database_path(self) -> str:
        return self.db.path

    def odbc_connection_string(self, readonly: bool = True) -> str:
        """What a user with a SQL Server-hosted SUSDB would pass to pyodbc (SQLite here)."""
        return odbc.connection_string(self.db.path, readonly=readonly)


def attach_wsus(host: t.Any, spec_entry: t.Mapping[str, t.Any]) -> WsusServer:
    """Create the WSUS role on ``host`` from its spec entry and set ``host.wsus``."""
    from .hostbinding import bind  # pylint: disable=import-outside-toplevel
    return bind(host, spec_entry)
