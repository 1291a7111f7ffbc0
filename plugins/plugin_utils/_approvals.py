"""Approvals, declines and computer target groups carried across the air gap. Pure: no I/O.

WsusUtil's metadata export carries no approvals (REFERENCE.md section 2), so the export side
writes them down in a signed document (``approvals.json`` and ``approvals.json.sig``, the
canonical JSON bytes and signatures of bundle manifests, docs/bundle.md) and the import side
brings its server to match it.

Groups are matched by **name path** (``All Computers/Servers/Web``), never by id: the ids of
groups an administrator creates differ from server to server. The built-in groups are the
exception: they are found by their well-known ids, because their names are in the language
WSUS was installed in, and they appear in paths under their English names, ``All Computers``
and ``All Computers/Unassigned Computers``, whatever that language. Group names cannot hold
``/`` (the API refuses it), so the path is unambiguous; they are compared without regard to
case, as SUSDB compares them, and WSUS keeps them unique on the whole server.

Document (``schema: airgap.wsus.approvals/1``)::

    {"schema": "airgap.wsus.approvals/1", "created": "2026-11-25T12:00:00Z",
     "source": {"server_id": "...", "name": "WSUS-CONNECTED"},
     "groups": ["All Computers", "All Computers/Servers", ...],
     "updates": [["<update id>", <revision>, "<KB number or null>", "<title>"], ...],
     "approvals": [["<update id>", "<group path>", "install" | "uninstall", "<deadline ISO 8601 UTC or null>"], ...],
     "declines": ["<update id>", ...]}

``updates`` lists each update the approvals and declines name, with the revision the export
server holds, so the import side can name what it skips. Entries are sorted, so the same
server state always gives the same bytes.

Planning (:func:`plan_changes`) compares the document with what the import server holds
(:class:`ServerView`, read from SUSDB or the API) and gives the smallest set of API calls
that makes the server match, with everything it cannot do and why. ``prune`` also removes
what exists only on the import side.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

SCHEMA = 'airgap.wsus.approvals/1'
SCHEMA_PREFIX = 'airgap.wsus.approvals/'
DOCUMENT_NAME = 'approvals.json'
SIGNATURE_SUFFIX = '.sig'
# What file_read returns in one piece; 100,000 approvals take about 8 MB.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
# object > updates > entry
MAX_DEPTH = 3
KEYS = ('schema', 'created', 'source', 'groups', 'updates', 'approvals', 'declines')

ALL_COMPUTERS_ID = 'A0A08746-4DBE-4A37-9ADF-9E7652C0B421'
UNASSIGNED_COMPUTERS_ID = 'B73CA6ED-5727-47F3-84DE-015E03F6A88A'
ROOT = 'All Computers'
UNASSIGNED = ROOT + '/Unassigned Computers'
BUILTIN_PATHS = {ALL_COMPUTERS_ID: ROOT, UNASSIGNED_COMPUTERS_ID: UNASSIGNED}
BUILTIN_IDS = {value.casefold(): key for key, value in BUILTIN_PATHS.items()}
SEPARATOR = '/'
ACTIONS = ('install', 'uninstall')
API_ACTIONS = {'install': 'Install', 'uninstall': 'Uninstall'}
# IUpdateServer.CreateComputerTargetGroup refuses these characters and names of 256 or more.
INVALID_NAME_CHARS = frozenset('~!@#$^&*()=+[]\\{}|;:\'"<>/')
MAX_NAME_LENGTH = 255
MAX_TITLE_LENGTH = 2048
MAX_KB_LENGTH = 64
EXPIRED = 'expired'
# Lines of --diff output before the rest is summarised.
MAX_DIFF_LINES = 2000

_GUID_RE = re.compile(r'[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}')
_DEADLINE_RE = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,7})?Z?')

# Why an item of the document was not applied: code -> sentence (with the fix).
SKIP_REASONS = {
    'not_in_catalog': 'the import server does not know this update: import metadata that contains it (airgap.wsus.metadata), '
                      'then apply the approvals again',
    'expired': 'the update is expired on the import server, and WSUS approves an expired update only for uninstall',
    'name_taken': 'WSUS group names are unique on a server, and a group of this name already exists elsewhere on the import server; '
                  'rename or move one of them (prune: true deletes groups that are not in the document)',
    'parent_unavailable': 'its parent group could not be created',
    'group_unavailable': 'its computer group could not be created on the import server',
}


class ApprovalsError(AirgapWsusError, ValueError):
    """An approvals document that is malformed or inconsistent; the message names the entry and the field."""


def fold(text: str) -> str:
    """A name or path as WSUS compares it: without regard to case."""
    return text.casefold()


def normalize_guid(value, what: str = 'id') -> str:
    """An update or group id as upper-case GUID text."""
    if isinstance(value, str):
        text = value.upper()
        # Both executors already give this form; the regular expression is ten times faster than uuid.UUID.
        if _GUID_RE.fullmatch(text):
            return text
    try:
        return str(uuid.UUID(str(value))).upper()
    except (ValueError, TypeError, AttributeError):
        raise ApprovalsError(f'{what} {value!r:.60} is not a GUID') from None


def normalize_deadline(value) -> str | None:
    """A deadline as documents carry it: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), or ``None`` for none.

    Both executors give ISO 8601 UTC with milliseconds; the API reports ``DateTime.MaxValue``
    (year 9999) for "no deadline". Fractions of a second are dropped: SQL Server's ``datetime``
    keeps 1/300 s, so they would not survive a round trip.
    """
    if value is None or value == '':
        return None
    match = _DEADLINE_RE.fullmatch(str(value).strip())
    if not match:
        raise ApprovalsError(f'deadline {value!r:.60} is not an ISO 8601 UTC time such as 2026-12-01T18:00:00Z')
    year = int(match.group(1))
    if year >= 9999 or year < 1900:
        return None
    return '{}-{}-{}T{}:{}:{}Z'.format(*match.groups())


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ('1', 'true', 'yes')
    return bool(value)


def kb_label(kb) -> str | None:
    """``KB5030214`` from a KB number as SUSDB and the API give it (digits), or ``None``."""
    if kb is None:
        return None
    text = str(kb).strip()
    if not text:
        return None
    return text if text.upper().startswith('KB') else 'KB' + text


# --------------------------------------------------------------------------- what a server holds

@dataclass(frozen=True)
class Group:
    """A computer target group: its id, its canonical name path and its name on the server."""

    id: str
    path: str
    name: str


class GroupTree:
    """The computer target groups of one server, by canonical path, id and name.

    Built from ``(id, parent id, name)`` rows (SUSDB ``vComputerTargetGroup`` or the API).
    Groups that do not hang from All Computers (a broken parent chain) are left out and
    described in :attr:`problems`.
    """

    def __init__(self, rows: Iterable) -> None:
        self.by_path: dict[str, Group] = {}
        self.by_id: dict[str, Group] = {}
        self.by_name: dict[str, Group] = {}
        self.problems: list[str] = []
        nodes: dict[str, tuple] = {}
        for row in rows:
            gid = normalize_guid(row[0], 'group id')
            parent = normalize_guid(row[1], 'parent group id') if row[1] else None
            nodes[gid] = (parent, str(row[2] or ''))
        children: dict[str | None, list[str]] = {}
        for gid, (parent, _name) in nodes.items():
            if gid == ALL_COMPUTERS_ID:
                parent = None
            children.setdefault(parent, []).append(gid)
        left_out: set = set()
        pending = [(ALL_COMPUTERS_ID, None)] if ALL_COMPUTERS_ID in nodes else []
        if not pending:
            self.problems.append('the server has no All Computers group (id A0A08746-4DBE-4A37-9ADF-9E7652C0B421)')
        while pending:
            gid, parent_path = pending.pop()
            name = nodes[gid][1]
            if gid in BUILTIN_PATHS:
                path = BUILTIN_PATHS[gid]
                if parent_path is not None and path.rsplit(SEPARATOR, 1)[0] != parent_path:
                    self.problems.append(f'the built-in group {path} hangs below {parent_path}; it was left out')
                    left_out.add(gid)
                    continue
            else:
                path = f'{parent_path}{SEPARATOR}{name}'
            group = Group(gid, path, name)
            key = fold(path)
            if key in self.by_path:
                self.problems.append(f'two groups have the path {path}; the second ({gid}) was left out')
                left_out.add(gid)
                continue
            self.by_path[key] = group
            self.by_id[gid] = group
            self.by_name.setdefault(fold(name), group)
            pending.extend((child, path) for child in sorted(children.get(gid, ()), reverse=True))
        orphans = sorted(set(nodes) - set(self.by_id) - left_out)
        if orphans:
            self.problems.append(f'{len(orphans)} group(s) are not below All Computers (or are below a group left out) and were left out: '
                                 + ', '.join(f'{nodes[g][1]} ({g})' for g in orphans[:5]))

    def find(self, path: str) -> Group | None:
        """The group at ``path`` (compared without regard to case), or ``None``."""
        return self.by_path.get(fold(path))

    def paths(self) -> list[str]:
        """Every canonical path, parents before children."""
        return sorted((group.path for group in self.by_path.values()), key=path_sort_key)


def path_sort_key(path: str) -> tuple:
    """Sort key that puts parents before their children and siblings in name order."""
    return tuple(fold(name) for name in path.split(SEPARATOR))


@dataclass(frozen=True)
class UpdateInfo:
    """One update as a server holds it (its latest revision)."""

    revision: int
    declined: bool
    expired: bool
    kb: str | None = None
    title: str = ''


@dataclass(frozen=True)
class Approval:
    """An Install or Uninstall approval of an update for a group."""

    update_id: str
    group: str
    action: str
    deadline: str | None


@dataclass
class ServerView:
    """What a server holds: its groups, its updates (all, or those approved or declined) and approvals."""

    tree: GroupTree
    updates: dict
    approvals: dict
    warnings: list = field(default_factory=list)

    @property
    def declined(self) -> list[str]:
        """Ids of the declined updates, sorted."""
        return sorted(uid for uid, info in self.updates.items() if info.declined)


def read_view(group_rows: Iterable, approval_rows: Iterable, update_rows: Iterable) -> ServerView:
    """A :class:`ServerView` from the rows of the SUSDB queries or of ``approvals_read`` (same columns).

    ``group_rows``: ``(id, parent id, name)``; ``approval_rows``: ``(update id, revision, group
    id, action, deadline)``; ``update_rows``: ``(update id, revision, declined, publication
    state[, KB, title])``. Approvals of another revision than the update's latest, of actions
    other than Install and Uninstall, and of groups outside the tree are left out; approvals of
    a declined update too (WSUS removes them when it declines).
    """
    tree = GroupTree(group_rows)
    warnings = list(tree.problems)
    updates: dict[str, UpdateInfo] = {}
    for row in update_rows:
        uid = normalize_guid(row[0], 'update id')
        kb = row[4] if len(row) > 4 else None
        title = row[5] if len(row) > 5 else ''
        updates[uid] = UpdateInfo(revision=int(row[1]), declined=_flag(row[2]), expired=str(row[3] or '').strip().lower() == EXPIRED,
                                  kb=str(kb) if kb not in (None, '') else None, title=str(title or ''))
    approvals: dict[tuple, Approval] = {}
    unknown_groups: set = set()
    for row in approval_rows:
        uid = normalize_guid(row[0], 'update id')
        action = str(row[3] or '').strip().lower()
        if action not in ACTIONS:
            continue
        info = updates.get(uid)
        if info is not None and (info.revision != int(row[1]) or info.declined):
            continue
        group = tree.by_id.get(normalize_guid(row[2], 'group id'))
        if group is None:
            unknown_groups.add(str(row[2]).upper())
            continue
        approvals[(uid, fold(group.path))] = Approval(uid, group.path, action, normalize_deadline(row[4]))
    if unknown_groups:
        warnings.append(f'approvals for {len(unknown_groups)} group(s) outside the group tree were ignored: '
                        + ', '.join(sorted(unknown_groups)[:5]))
    return ServerView(tree=tree, updates=updates, approvals=approvals, warnings=warnings)


# --------------------------------------------------------------------------- the document

def build_document(view: ServerView, *, created: str, source: Mapping) -> dict:
    """The approvals document of the export server ``view`` (read with the referenced updates)."""
    approvals = sorted(view.approvals.values(), key=lambda a: (a.update_id, path_sort_key(a.group)))
    declines = view.declined
    referenced = sorted({a.update_id for a in approvals} | set(declines))
    updates = []
    for uid in referenced:
        info = view.updates.get(uid)
        kb = info.kb[:MAX_KB_LENGTH] if info and info.kb else None
        updates.append([uid, info.revision if info else 0, kb, (info.title if info else '')[:MAX_TITLE_LENGTH]])
    doc = {
        'schema': SCHEMA,
        'created': _manifest.validate_timestamp(created),
        'source': {'server_id': str(source.get('server_id') or ''), 'name': str(source.get('name') or '')},
        'groups': view.tree.paths(),
        'updates': updates,
        'approvals': [[a.update_id, a.group, a.action, a.deadline] for a in approvals],
        'declines': declines,
    }
    validate_document(doc)
    return doc


def same_content(old: Mapping, new: Mapping) -> bool:
    """Whether two documents say the same thing (only their ``created`` time may differ)."""
    return all(old.get(key) == new.get(key) for key in KEYS if key != 'created')


@dataclass
class Document:
    """A validated approvals document, indexed."""

    raw: dict
    groups: list
    updates: dict
    approvals: list
    declines: list

    @property
    def created(self) -> str:
        return self.raw['created']

    @property
    def source(self) -> dict:
        return dict(self.raw['source'])

    def counts(self) -> dict:
        """Sizes of the document's sections."""
        return {'groups': len(self.groups), 'updates': len(self.updates), 'approvals': len(self.approvals),
                'declines': len(self.declines)}


def _check_path(path, what: str) -> list[str]:
    if not isinstance(path, str) or not path:
        raise ApprovalsError(f'{what} must be a group path such as "All Computers/Servers", not {path!r:.80}')
    names = path.split(SEPARATOR)
    if names[0] != ROOT:
        raise ApprovalsError(f'{what} {path!r:.200} does not start with "{ROOT}"')
    for name in names[1:]:
        if not name or len(name) > MAX_NAME_LENGTH or name != name.strip():
            raise ApprovalsError(f'{what} {path!r:.200}: group names are 1 to {MAX_NAME_LENGTH} characters without leading or '
                                 'trailing spaces')
        bad = sorted(set(name) & INVALID_NAME_CHARS) + sorted({c for c in name if ord(c) < 32})
        if bad:
            raise ApprovalsError(f'{what} {path!r:.200}: the group name {name!r:.80} holds characters WSUS refuses '
                                 f'({"".join(bad)!r})')
    return names


def validate_document(doc) -> Document:
    """Check every field of an approvals document (built here or read from a medium) and index it.

    Raises :class:`ApprovalsError` naming the section, the entry's index and the field.
    """
    if not isinstance(doc, dict):
        raise ApprovalsError(f'an approvals document must be a JSON object, not {type(doc).__name__}')
    schema = doc.get('schema')
    if schema != SCHEMA:
        if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX):
            raise ApprovalsError(f'approvals document schema {schema!r:.40} is not the one this collection reads ({SCHEMA}); '
                                 'use the same airgap.wsus version on the export and the import side')
        raise ApprovalsError(f'not an approvals document: schema is {schema!r:.40}, expected {SCHEMA!r}')
    try:
        _manifest.check_object(doc, 'the approvals document', KEYS)
        _manifest.validate_timestamp(doc['created'], 'created')
        source = _manifest.check_object(doc['source'], 'source', ('server_id', 'name'))
        for key in ('server_id', 'name'):
            _manifest.check_text(source[key], f'source.{key}', allow_empty=True)
    except _manifest.ManifestError as exc:
        raise ApprovalsError(str(exc)) from None
    for key in ('groups', 'updates', 'approvals', 'declines'):
        if not isinstance(doc[key], list):
            raise ApprovalsError(f'{key} must be a list, not {type(doc[key]).__name__}')

    groups: dict[str, str] = {}
    names: dict[str, str] = {}
    for index, path in enumerate(doc['groups']):
        what = f'groups[{index}]'
        parts = _check_path(path, what)
        key = fold(path)
        if key in groups:
            raise ApprovalsError(f'{what}: {path!r:.200} is listed twice')
        if len(parts) > 1 and fold(SEPARATOR.join(parts[:-1])) not in groups:
            raise ApprovalsError(f'{what}: the parent of {path!r:.200} must be listed before it')
        if key not in BUILTIN_IDS:
            earlier = names.get(fold(parts[-1]))
            if earlier is not None:
                raise ApprovalsError(f'{what}: {path!r:.200} has the name of {earlier!r:.200}; WSUS group names are unique on a server')
            names[fold(parts[-1])] = path
        groups[key] = path
    if doc['groups'] and fold(ROOT) not in groups:
        raise ApprovalsError(f'groups must list "{ROOT}", the root of every group path')

    updates: dict[str, tuple] = {}
    for index, entry in enumerate(doc['updates']):
        what = f'updates[{index}]'
        if not isinstance(entry, list) or len(entry) != 4:
            raise ApprovalsError(f'{what} must be [update id, revision, KB, title], not {entry!r:.120}')
        uid, revision, kb, title = entry
        if not isinstance(uid, str) or normalize_guid(uid, f'{what} update id') != uid:
            raise ApprovalsError(f'{what}: the update id {uid!r:.60} must be an upper-case GUID')
        if uid in updates:
            raise ApprovalsError(f'{what}: update {uid} is listed twice')
        try:
            _manifest.check_count(revision, f'{what} revision')
            if kb is not None:
                _manifest.check_text(kb, f'{what} KB', limit=MAX_KB_LENGTH)
            _manifest.check_text(title, f'{what} title', limit=MAX_TITLE_LENGTH, allow_empty=True)
        except _manifest.ManifestError as exc:
            raise ApprovalsError(str(exc)) from None
        updates[uid] = (revision, kb, title)

    approvals: list[Approval] = []
    seen: set = set()
    approved: set = set()
    for index, entry in enumerate(doc['approvals']):
        what = f'approvals[{index}]'
        if not isinstance(entry, list) or len(entry) != 4:
            raise ApprovalsError(f'{what} must be [update id, group path, action, deadline], not {entry!r:.160}')
        uid, path, action, deadline = entry
        if uid not in updates:
            raise ApprovalsError(f'{what}: update {uid!r:.60} is not listed in updates')
        if not isinstance(path, str) or fold(path) not in groups:
            raise ApprovalsError(f'{what}: group {path!r:.200} is not listed in groups')
        if action not in ACTIONS:
            raise ApprovalsError(f'{what}: action {action!r:.40} must be one of {", ".join(ACTIONS)}')
        if deadline is not None and (not isinstance(deadline, str) or normalize_deadline(deadline) != deadline):
            raise ApprovalsError(f'{what}: deadline {deadline!r:.60} must be null or an ISO 8601 UTC time such as 2026-12-01T18:00:00Z')
        key = (uid, fold(path))
        if key in seen:
            raise ApprovalsError(f'{what}: update {uid} is approved twice for {path}; WSUS keeps one action per group')
        seen.add(key)
        approved.add(uid)
        approvals.append(Approval(uid, groups[fold(path)], action, deadline))

    declines: list[str] = []
    declined: set = set()
    for index, uid in enumerate(doc['declines']):
        what = f'declines[{index}]'
        if uid not in updates:
            raise ApprovalsError(f'{what}: update {uid!r:.60} is not listed in updates')
        if uid in declined:
            raise ApprovalsError(f'{what}: update {uid} is listed twice')
        if uid in approved:
            raise ApprovalsError(f'{what}: update {uid} is both declined and approved; WSUS removes the approvals of a declined update')
        declined.add(uid)
        declines.append(uid)
    return Document(raw=doc, groups=[groups[fold(p)] for p in doc['groups']], updates=updates, approvals=approvals, declines=declines)


def parse_document(data: bytes, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    """Parse and validate the bytes of an ``approvals.json`` (bounded: size, depth, duplicate keys)."""
    try:
        doc = _manifest.load_json(data, what='the approvals document', max_bytes=max_bytes, max_depth=MAX_DEPTH)
    except _manifest.ManifestError as exc:
        raise ApprovalsError(str(exc)) from None
    return validate_document(doc)


# --------------------------------------------------------------------------- planning

@dataclass
class Plan:
    """What to change on the import server, in the order ``approvals_apply`` does it."""

    delete_groups: list = field(default_factory=list)
    create_groups: list = field(default_factory=list)
    undecline: list = field(default_factory=list)
    approve: list = field(default_factory=list)
    unapprove: list = field(default_factory=list)
    decline: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    unchanged: dict = field(default_factory=lambda: {'groups': 0, 'approvals': 0, 'declines': 0})
    warnings: list = field(default_factory=list)
    groups: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether applying the plan changes anything."""
        return bool(self.delete_groups or self.create_groups or self.undecline or self.approve or self.unapprove or self.decline)

    def counts(self) -> dict:
        """How many of each change, and how many items were skipped or already in place."""
        return {'groups_created': len(self.create_groups), 'groups_deleted': len(self.delete_groups),
                'approvals_set': len(self.approve), 'approvals_removed': len(self.unapprove), 'declined': len(self.decline),
                'undeclined': len(self.undecline), 'skipped': len(self.skipped),
                'unchanged_groups': self.unchanged['groups'], 'unchanged_approvals': self.unchanged['approvals'],
                'unchanged_declines': self.unchanged['declines']}

    def skipped_counts(self) -> dict:
        """Skipped items per reason code."""
        counts: dict[str, int] = {}
        for item in self.skipped:
            counts[item['reason_code']] = counts.get(item['reason_code'], 0) + 1
        return dict(sorted(counts.items()))


def _skip(plan: Plan, kind: str, code: str, *, update_id=None, group=None, action=None, document: Document | None = None,
          detail: str = '') -> None:
    revision, kb, title = (document.updates.get(update_id) if document and update_id else None) or (None, None, '')
    reason = SKIP_REASONS[code] + (f' ({detail})' if detail else '')
    plan.skipped.append({'kind': kind, 'update_id': update_id, 'revision': revision, 'kb': kb_label(kb), 'title': title or None,
                         'group': group, 'action': action, 'reason_code': code, 'reason': reason})


def _plan_groups(plan: Plan, document: Document, view: ServerView, prune: bool) -> set:
    """Groups to delete and create; returns the folded paths that cannot be used."""
    wanted = {fold(path) for path in document.groups}
    for key, group in view.tree.by_path.items():
        plan.groups[key] = {'path': group.path, 'id': group.id}
    freed: set = set()
    if prune:
        doomed = [g for key, g in view.tree.by_path.items() if key not in wanted and g.id not in BUILTIN_PATHS]
        for group in sorted(doomed, key=lambda g: (-len(g.path.split(SEPARATOR)), path_sort_key(g.path))):
            plan.delete_groups.append({'path': group.path, 'id': group.id})
            freed.add(fold(group.name))
    unavailable: set = set()
    for path in document.groups:
        key = fold(path)
        existing = view.tree.find(path)
        if key in BUILTIN_IDS:
            plan.groups[key] = {'path': path, 'id': BUILTIN_IDS[key]}
            plan.unchanged['groups'] += 1
            continue
        if existing is not None:
            plan.groups[key] = {'path': existing.path, 'id': existing.id}
            plan.unchanged['groups'] += 1
            continue
        parent, name = path.rsplit(SEPARATOR, 1)
        if fold(parent) in unavailable:
            unavailable.add(key)
            _skip(plan, 'group', 'parent_unavailable', group=path, detail=parent)
            continue
        holder = view.tree.by_name.get(fold(name))
        if holder is not None and fold(holder.name) not in freed:
            unavailable.add(key)
            _skip(plan, 'group', 'name_taken', group=path, detail=f'{holder.path} is the group named {holder.name}')
            continue
        plan.create_groups.append({'path': path, 'name': name, 'parent': plan.groups[fold(parent)]['path']})
        plan.groups[key] = {'path': path, 'id': None}
    return unavailable


def plan_changes(document: Document, view: ServerView, prune: bool = False) -> Plan:
    """The changes that make the server ``view`` hold the document's groups, approvals and declines.

    Updates the import server does not know, groups it cannot create, and Install approvals of
    expired updates are skipped, each with its reason. Without ``prune``, groups, approvals and
    declines that exist only on the import server stay as they are; with it, they are removed
    (groups deepest first; a declined update becomes "not approved" again).
    """
    plan = Plan()
    plan.warnings.extend(view.warnings)
    unavailable = _plan_groups(plan, document, view, prune)
    undeclines: dict[str, dict] = {}
    stale_revisions = 0
    wanted_keys: set = set()
    for approval in document.approvals:
        uid, key = approval.update_id, fold(approval.group)
        wanted_keys.add((uid, key))
        info = view.updates.get(uid)
        if key in unavailable:
            _skip(plan, 'approval', 'group_unavailable', update_id=uid, group=approval.group, action=approval.action, document=document)
            continue
        if info is None:
            _skip(plan, 'approval', 'not_in_catalog', update_id=uid, group=approval.group, action=approval.action, document=document)
            continue
        if approval.action == 'install' and info.expired:
            _skip(plan, 'approval', 'expired', update_id=uid, group=approval.group, action=approval.action, document=document)
            continue
        if info.revision < document.updates[uid][0]:
            stale_revisions += 1
        current = view.approvals.get((uid, key)) if plan.groups[key]['id'] else None
        if info.declined and uid not in undeclines:
            undeclines[uid] = {'update_id': uid, 'revision': info.revision, 'reason': 'approved in the document'}
        if current is not None and current.action == approval.action and current.deadline == approval.deadline and not info.declined:
            plan.unchanged['approvals'] += 1
            continue
        plan.approve.append({'update_id': uid, 'revision': info.revision, 'group': plan.groups[key]['path'], 'action': approval.action,
                             'deadline': approval.deadline,
                             'before': None if current is None else {'action': current.action, 'deadline': current.deadline}})
    declining = set()
    for uid in document.declines:
        info = view.updates.get(uid)
        if info is None:
            _skip(plan, 'decline', 'not_in_catalog', update_id=uid, document=document)
        elif info.declined:
            plan.unchanged['declines'] += 1
        else:
            declining.add(uid)
            plan.decline.append({'update_id': uid, 'revision': info.revision})
    if prune:
        deleted = {fold(g['path']) for g in plan.delete_groups}
        for (uid, key), current in sorted(view.approvals.items()):
            info = view.updates.get(uid)
            if (uid, key) in wanted_keys or uid in declining or key in deleted or info is None:
                continue
            plan.unapprove.append({'update_id': uid, 'revision': info.revision, 'group': current.group,
                                   'action': current.action, 'deadline': current.deadline})
        document_declines = set(document.declines)
        for uid in view.declined:
            if uid not in document_declines and uid not in undeclines:
                undeclines[uid] = {'update_id': uid, 'revision': view.updates[uid].revision,
                                   'reason': 'declined only on the import server (prune)'}
    plan.undecline = [undeclines[uid] for uid in sorted(undeclines)]
    if stale_revisions:
        plan.warnings.append(f'{stale_revisions} approved update(s) have an older revision on the import server than on the export '
                             'server; they were approved at the revision the import server has. Import the newest metadata first')
    return plan


def apply_params(plan: Plan) -> dict:
    """The parameters of ``approvals_apply`` for ``plan`` (group keys are canonical paths)."""
    used = {fold(item['group']) for item in plan.approve + plan.unapprove}
    used |= {fold(item['parent']) for item in plan.create_groups}
    groups = [{'key': plan.groups[key]['path'], 'id': plan.groups[key]['id']}
              for key in sorted(used, key=lambda k: path_sort_key(plan.groups[k]['path'])) if plan.groups[key]['id']]
    groups += [{'key': item['path'], 'name': item['name'], 'parent': item['parent']} for item in plan.create_groups]
    return {
        'Groups': groups,
        'DeleteGroups': [item['id'] for item in plan.delete_groups],
        'Undecline': [{'update_id': i['update_id'], 'revision': i['revision']} for i in plan.undecline],
        'Approve': [{'update_id': i['update_id'], 'revision': i['revision'], 'group': i['group'], 'action': API_ACTIONS[i['action']],
                     'deadline': i['deadline']} for i in plan.approve],
        'Unapprove': [{'update_id': i['update_id'], 'revision': i['revision'], 'group': i['group']} for i in plan.unapprove],
        'Decline': [{'update_id': i['update_id'], 'revision': i['revision']} for i in plan.decline],
    }


# --------------------------------------------------------------------------- reporting

def _update_label(uid: str, document: Document | None) -> str:
    entry = document.updates.get(uid) if document else None
    kb = kb_label(entry[1]) if entry else None
    return f'{uid} ({kb})' if kb else uid


def _approval_text(action: str | None, deadline: str | None) -> str:
    if not action:
        return 'not approved'
    return action + (f', deadline {deadline}' if deadline else '')


def diff(plan: Plan, document: Document | None = None, before_header: str = 'import server', after_header: str = 'approvals document') -> dict:
    """``--diff`` output: one line per changed group, approval and decline, before and after."""
    changes: list[tuple[str, str, str]] = []
    for item in plan.delete_groups:
        changes.append((f'group {item["path"]}', 'present', 'absent (deleted, prune)'))
    for item in plan.create_groups:
        changes.append((f'group {item["path"]}', 'absent', 'present'))
    for item in plan.undecline:
        changes.append((f'update {_update_label(item["update_id"], document)}', 'declined', 'not declined'))
    for item in plan.decline:
        changes.append((f'update {_update_label(item["update_id"], document)}', 'not declined', 'declined'))
    for item in plan.approve:
        before = item['before'] or {}
        changes.append((f'approval {_update_label(item["update_id"], document)} for {item["group"]}',
                        _approval_text(before.get('action'), before.get('deadline')), _approval_text(item['action'], item['deadline'])))
    for item in plan.unapprove:
        changes.append((f'approval {_update_label(item["update_id"], document)} for {item["group"]}',
                        _approval_text(item['action'], item['deadline']), 'not approved (prune)'))
    changes.sort(key=lambda change: change[0].casefold())
    shown = changes[:MAX_DIFF_LINES]
    before = [f'{key}: {old}' for key, old, _new in shown]
    after = [f'{key}: {new}' for key, _old, new in shown]
    if len(changes) > len(shown):
        more = f'... and {len(changes) - len(shown)} more change(s)'
        before.append(more)
        after.append(more)
    return {'before': '\n'.join(before) + ('\n' if before else ''), 'after': '\n'.join(after) + ('\n' if after else ''),
            'before_header': before_header, 'after_header': after_header}


def describe_failures(failed: list, limit: int = 5) -> str:
    """The first failures ``approvals_apply`` reported, as one sentence."""
    parts = []
    for item in failed[:limit]:
        subject = ' '.join(filter(None, [item.get('update_id'), f'group {item["group"]}' if item.get('group') else '']))
        parts.append(f'{item.get("op")} {subject}: {item.get("error")}')
    more = f'; and {len(failed) - limit} more' if len(failed) > limit else ''
    return '; '.join(parts) + more
