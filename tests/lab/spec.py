"""Lab specs: a small YAML file naming hosts and roles; everything else has realistic defaults.

The smallest spec::

    hosts:
      - name: wsus-connected
        role: export
      - name: wsus-disconnected
        role: import

``normalize()`` validates a spec and returns a new, complete one (every default filled in,
passwords generated where missing). Host construction reads the normalized entries: the
keys and defaults below are the contract with ``lab.windows.host`` and ``lab.wsus.server``.
The full reference is in ``docs/lab.md``.
"""
from __future__ import annotations

import copy
import os
import re
import secrets
import typing as t

ROLES = ('export', 'import')
TRANSPORTS = ('ntlm', 'basic')
SCHEMES = ('http', 'https')

# Windows: local account names cannot hold these characters (and are at most 20 long).
_BAD_ACCOUNT = re.compile(r'["/\\\[\]:;|=,+*?<>@]')
_HOST_NAME = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$')
_DRIVE = re.compile(r'^[A-Za-z]:$')
_SIZE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$', re.IGNORECASE)
_UNITS = {'b': 1, 'kb': 10 ** 3, 'mb': 10 ** 6, 'gb': 10 ** 9, 'tb': 10 ** 12,
          'kib': 2 ** 10, 'mib': 2 ** 20, 'gib': 2 ** 30, 'tib': 2 ** 40}

HOST_DEFAULTS: dict[str, t.Any] = {
    'transport': 'ntlm',          # Negotiate/NTLM with message encryption: what Windows accepts out of the box
    'scheme': 'http',
    'port': 0,                    # 0: an ephemeral port on 127.0.0.1
    'connect_as': 'Administrator',
    'winrm': {
        'max_envelope_size_kb': 500,
        'max_concurrent_operations_per_user': 1500,
        'max_shells_per_user': 30,
        'idle_timeout': 7200,     # seconds (winrs IdleTimeout 7200000 ms)
        'max_timeout_ms': 60000,
    },
    'wsus': {
        'installed': True,
        'content_dir': 'D:\\WSUS',          # ContentDir; the files live in <content_dir>\\WsusContent
        'port': 8530,
        'ssl': False,
        'database': 'wid',                   # wid (Windows Internal Database) or sql
        'download_express_packages': False,
        'all_languages': False,
        'languages': ['en'],
        'deferred_download': True,           # "download files only when updates are approved", WSUS' default
        'replica': False,
        'upstream': None,                    # None: synchronizes from Microsoft Update
    },
    'drives': {
        'C:': {'type': 'fixed', 'size': '127 GiB', 'free': '60 GiB', 'file_system': 'NTFS', 'label': 'System'},
        'D:': {'type': 'fixed', 'size': '500 GiB', 'free': '450 GiB', 'file_system': 'NTFS', 'label': 'Data'},
        'E:': {'medium': 'transfer'},
    },
    'shares': [],
    'faults': {},
}

CATALOG_DEFAULTS = {
    'export': {'seed': 1, 'updates': 20, 'files': 40},
    'import': {'seed': 1, 'updates': 0, 'files': 0},
}
"""The updates a host's WSUS already knows (synchronized or imported) and their files."""

# Keys a section may also hold, without a default here: the emulator that reads them owns their
# meaning and checks their values (lab/wsus/hostbinding.py, lab/wsus/catalog.py).
OPTIONAL_KEYS = {
    'catalog': {'languages', 'file_size_min', 'file_size_max', 'express_ratio', 'eula_ratio', 'superseded_ratio',
                'declined_ratio', 'approved_ratio', 'pending_updates'},
    'wsus': {'target_dir', 'os', 'runtime_scale', 'host_binaries_on_mu', 'get_content_from_mu', 'upstream_port',
             'upstream_ssl', 'save_busy_seconds', 'connected', 'products', 'classifications'},
}

MEDIUM_DEFAULTS = {'size': '256 GiB', 'free': '256 GiB', 'file_system': 'exFAT', 'label': 'TRANSFER',
                   'type': 'removable'}
DEFAULT_MEDIA = {'transfer': {}}

DEFAULT_ACCOUNTS = {'Administrator': {'admin': True}, 'operator': {'admin': False}}

_DRIVE_KEYS = {'type', 'size', 'free', 'file_system', 'label', 'medium'}
_DRIVE_TYPES = ('fixed', 'removable', 'network', 'cdrom')
_TOP_KEYS = {'hosts', 'media', 'defaults'}
_HOST_KEYS = {'name', 'role', 'catalog', 'accounts'} | set(HOST_DEFAULTS)


class SpecError(ValueError):
    """The spec is invalid; the message names the field and how to fix it."""


def load(source: t.Union[str, os.PathLike, t.Mapping[str, t.Any]]) -> dict:
    """Read and normalize a spec from a YAML file path or a mapping."""
    if isinstance(source, t.Mapping):
        return normalize(source)
    import yaml  # pylint: disable=import-outside-toplevel

    path = os.fspath(source)
    try:
        with open(path, encoding='utf-8') as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise SpecError('cannot read the lab spec %s: %s' % (path, exc.strerror)) from None
    except yaml.YAMLError as exc:
        raise SpecError('the lab spec %s is not valid YAML: %s' % (path, exc)) from None
    if not isinstance(raw, t.Mapping):
        raise SpecError('the lab spec %s must be a mapping with a "hosts" list' % path)
    return normalize(raw)


def normalize(raw: t.Mapping[str, t.Any]) -> dict:
    """Validate ``raw`` and return a complete copy with every default filled in (passwords
    missing from ``accounts`` are generated)."""
    _no_unknown(raw, _TOP_KEYS, 'the spec')
    hosts = raw.get('hosts')
    if not isinstance(hosts, list) or not hosts:
        raise SpecError('the spec needs a non-empty "hosts" list, e.g. hosts: [{name: wsus-connected, role: export}]')
    defaults = raw.get('defaults') or {}
    if not isinstance(defaults, t.Mapping):
        raise SpecError('"defaults" must be a mapping of host settings applied to every host')
    _no_unknown(defaults, _HOST_KEYS - {'name'}, '"defaults"')

    media = _media(raw.get('media'))
    seen: set[str] = set()
    out_hosts = []
    for index, host in enumerate(hosts):
        where = 'hosts[%d]' % index
        if not isinstance(host, t.Mapping):
            raise SpecError('%s must be a mapping with "name" and "role"' % where)
        entry = _host(_merge(defaults, host), where, media)
        if entry['name'].lower() in seen:
            raise SpecError('%s: host name %r is used twice (names are case-insensitive, as on Windows)'
                            % (where, entry['name']))
        seen.add(entry['name'].lower())
        out_hosts.append(entry)
    ports = [h['port'] for h in out_hosts if h['port']]
    if len(ports) != len(set(ports)):
        raise SpecError('two hosts ask for the same port; give each its own or use 0 (ephemeral)')
    return {'hosts': out_hosts, 'media': media}


def host_entry(spec: t.Mapping[str, t.Any], name: str) -> dict:
    """The normalized entry of host ``name`` (case-insensitive)."""
    for entry in spec['hosts']:
        if entry['name'].lower() == name.lower():
            return entry
    raise KeyError('no host named %r in the lab spec (hosts: %s)' % (name, ', '.join(h['name'] for h in spec['hosts'])))


def parse_size(value: t.Any, where: str) -> int:
    """Bytes in an int or a string like ``'64 GiB'``, ``'500GB'``, ``'1024'``."""
    if isinstance(value, bool):
        raise SpecError('%s: expected a size such as 64 GiB, got %r' % (where, value))
    if isinstance(value, int):
        if value < 0:
            raise SpecError('%s: a size cannot be negative (%d)' % (where, value))
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise SpecError('%s: expected a size such as 64 GiB, 500 GB or a byte count, got %r' % (where, value))
    return int(float(match.group(1)) * _UNITS[(match.group(2) or 'b').lower()])


def generate_password() -> str:
    """A random password that meets Windows' complexity rules (upper, lower, digit, symbol)
    and needs no quoting in an INI inventory."""
    return 'Lab-%s-7q' % secrets.token_urlsafe(12)


# -- sections -------------------------------------------------------------------------------
def _host(host: t.Mapping[str, t.Any], where: str, media: dict) -> dict:
    _no_unknown(host, _HOST_KEYS, where)
    name = host.get('name')
    if not isinstance(name, str) or not _HOST_NAME.match(name):
        raise SpecError('%s: "name" must be a host name (letters, digits, hyphens; up to 63), got %r' % (where, name))
    where = 'host %s' % name
    role = host.get('role')
    if role not in ROLES:
        raise SpecError('%s: "role" must be one of %s, got %r' % (where, ', '.join(ROLES), role))
    entry: dict[str, t.Any] = {'name': name, 'role': role}
    for key in ('transport', 'scheme', 'port', 'connect_as'):
        entry[key] = host.get(key, HOST_DEFAULTS[key])
    if entry['transport'] not in TRANSPORTS:
        raise SpecError('%s: "transport" must be one of %s, got %r' % (where, ', '.join(TRANSPORTS), entry['transport']))
    if entry['scheme'] not in SCHEMES:
        raise SpecError('%s: "scheme" must be one of %s, got %r' % (where, ', '.join(SCHEMES), entry['scheme']))
    if not isinstance(entry['port'], int) or isinstance(entry['port'], bool) or not 0 <= entry['port'] <= 65535:
        raise SpecError('%s: "port" must be 0 (ephemeral) or a TCP port, got %r' % (where, entry['port']))
    entry['accounts'] = _accounts(host.get('accounts'), where)
    if entry['connect_as'] not in entry['accounts']:
        raise SpecError('%s: "connect_as" names %r, which is not one of its accounts (%s)'
                        % (where, entry['connect_as'], ', '.join(entry['accounts'])))
    entry['catalog'] = _section(host.get('catalog'), CATALOG_DEFAULTS[role], where + ' catalog', OPTIONAL_KEYS['catalog'])
    if not isinstance(entry['catalog']['seed'], (int, str)) or isinstance(entry['catalog']['seed'], bool):
        raise SpecError('%s catalog: "seed" must be a number or a string, got %r' % (where, entry['catalog']['seed']))
    for key in ('updates', 'files'):
        value = entry['catalog'][key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SpecError('%s catalog: "%s" must be a whole number >= 0, got %r' % (where, key, value))
    entry['winrm'] = _section(host.get('winrm'), HOST_DEFAULTS['winrm'], where + ' winrm')
    for key, value in entry['winrm'].items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise SpecError('%s winrm: "%s" must be a number > 0, got %r' % (where, key, value))
    entry['drives'] = _drives(host.get('drives'), where, media)
    entry['wsus'] = _wsus(host.get('wsus'), where, entry['drives'])
    entry['shares'] = _shares(host.get('shares'), where, entry['drives'])
    entry['faults'] = _faults(host.get('faults'), where)
    return entry


def _accounts(raw: t.Any, where: str) -> dict:
    given = raw or {}
    if not isinstance(given, t.Mapping):
        raise SpecError('%s: "accounts" must map account names to {password, admin}' % where)
    accounts: dict[str, dict] = {}
    for name, settings in {**DEFAULT_ACCOUNTS, **given}.items():
        if not isinstance(name, str) or not name or len(name) > 20 or _BAD_ACCOUNT.search(name):
            raise SpecError('%s: %r is not a valid Windows account name (1-20 characters, none of "/\\[]:;|=,+*?<>@)'
                            % (where, name))
        settings = dict(settings or {})
        _no_unknown(settings, {'password', 'admin'}, '%s account %s' % (where, name))
        password = settings.get('password')
        if password is None:
            password = generate_password()
        if not isinstance(password, str) or not password:
            raise SpecError('%s account %s: "password" must be a non-empty string' % (where, name))
        admin = settings.get('admin', name.lower() == 'administrator')
        if not isinstance(admin, bool):
            raise SpecError('%s account %s: "admin" must be true or false' % (where, name))
        accounts[name] = {'password': password, 'admin': admin}
    return accounts


def _drives(raw: t.Any, where: str, media: dict) -> dict:
    given = raw or {}
    if not isinstance(given, t.Mapping):
        raise SpecError('%s: "drives" must map drive letters (C:) to settings' % where)
    drives: dict[str, dict] = {}
    merged = dict(HOST_DEFAULTS['drives'])
    for letter, settings in given.items():
        key = str(letter).upper().rstrip('\\')
        key = key if key.endswith(':') else key + ':'
        merged[key] = settings
    for letter, settings in merged.items():
        if not _DRIVE.match(letter):
            raise SpecError('%s: %r is not a drive letter such as D:' % (where, letter))
        if settings is None:          # "E: null" removes a default drive
            continue
        if not isinstance(settings, t.Mapping):
            raise SpecError('%s drive %s: expected a mapping such as {size: 500 GiB, free: 400 GiB}' % (where, letter))
        _no_unknown(settings, _DRIVE_KEYS, '%s drive %s' % (where, letter))
        if settings.get('medium') is not None:
            medium = settings['medium']
            if set(settings) != {'medium'}:
                raise SpecError('%s drive %s: a drive holding a medium takes its size and file system from "media"; '
                                'set them there, not on the drive' % (where, letter))
            if medium not in media:
                raise SpecError('%s drive %s: medium %r is not defined under "media" (defined: %s)'
                                % (where, letter, medium, ', '.join(media) or 'none'))
            drive = dict(media[medium])
            drive['medium'] = medium
        else:
            defaults = {'type': 'fixed', 'size': '100 GiB', 'free': '80 GiB', 'file_system': 'NTFS', 'label': ''}
            drive = {k: settings.get(k, defaults[k]) for k in defaults}
            drive['size'] = parse_size(drive['size'], '%s drive %s size' % (where, letter))
            drive['free'] = parse_size(drive['free'], '%s drive %s free' % (where, letter))
            drive['medium'] = None
        if drive['type'] not in _DRIVE_TYPES:
            raise SpecError('%s drive %s: "type" must be one of %s' % (where, letter, ', '.join(_DRIVE_TYPES)))
        if drive['free'] > drive['size']:
            raise SpecError('%s drive %s: "free" (%d bytes) exceeds "size" (%d bytes)'
                            % (where, letter, drive['free'], drive['size']))
        drives[letter] = drive
    if 'C:' not in drives:
        raise SpecError('%s: every Windows host needs a C: drive' % where)
    return drives


def _media(raw: t.Any) -> dict:
    given = raw or {}
    if not isinstance(given, t.Mapping):
        raise SpecError('"media" must map medium names to settings, e.g. media: {transfer: {size: 256 GiB}}')
    media = {}
    # The default "transfer" medium stays defined (every host's default E: holds it).
    for name, settings in {**DEFAULT_MEDIA, **given}.items():
        if not isinstance(name, str) or not re.match(r'^[A-Za-z0-9_-]+$', name):
            raise SpecError('medium name %r must use letters, digits, "_" or "-"' % (name,))
        medium = _section(settings, MEDIUM_DEFAULTS, 'medium %s' % name)
        medium['size'] = parse_size(medium['size'], 'medium %s size' % name)
        medium['free'] = parse_size(medium['free'], 'medium %s free' % name)
        media[name] = medium
    return media


def _wsus(raw: t.Any, where: str, drives: dict) -> dict:
    wsus = _section(raw, HOST_DEFAULTS['wsus'], where + ' wsus', OPTIONAL_KEYS['wsus'])
    for key in ('installed', 'ssl', 'download_express_packages', 'all_languages', 'deferred_download', 'replica'):
        if not isinstance(wsus[key], bool):
            raise SpecError('%s wsus: "%s" must be true or false, got %r' % (where, key, wsus[key]))
    if wsus['database'] not in ('wid', 'sql'):
        raise SpecError('%s wsus: "database" must be wid or sql, got %r' % (where, wsus['database']))
    languages = wsus['languages']
    if not isinstance(languages, list) or not all(isinstance(x, str) and x for x in languages):
        raise SpecError('%s wsus: "languages" must be a list of codes such as [en, de, pt-br]' % where)
    wsus['languages'] = [x.lower() for x in languages]
    if not wsus['all_languages'] and not wsus['languages']:
        raise SpecError('%s wsus: with all_languages false, "languages" cannot be empty (WSUS refuses to save that)'
                        % where)
    _check_path(wsus['content_dir'], where + ' wsus content_dir', drives)
    if wsus['upstream'] is not None and not isinstance(wsus['upstream'], str):
        raise SpecError('%s wsus: "upstream" must be a server name or null, got %r' % (where, wsus['upstream']))
    if wsus['replica'] and not wsus['upstream']:
        raise SpecError('%s wsus: a replica needs an "upstream" server name' % where)
    return wsus


def _shares(raw: t.Any, where: str, drives: dict) -> list:
    given = raw or []
    if not isinstance(given, list):
        raise SpecError('%s: "shares" must be a list of {name, path}' % where)
    shares = []
    for share in given:
        if not isinstance(share, t.Mapping) or set(share) - {'name', 'path'} or not share.get('name'):
            raise SpecError('%s: each share needs "name" and "path", e.g. {name: WsusContent, path: D:\\WSUS\\WsusContent}'
                            % where)
        _check_path(share.get('path'), '%s share %s path' % (where, share['name']), drives)
        shares.append({'name': str(share['name']), 'path': share['path']})
    return shares


def _faults(raw: t.Any, where: str) -> dict:
    given = dict(raw or {})
    winrm = given.get('winrm') or {}
    if not isinstance(winrm, t.Mapping):
        raise SpecError('%s faults: "winrm" must be a mapping such as {drop_at_request: 5}' % where)
    from .wsman.faultplan import FaultPlan  # pylint: disable=import-outside-toplevel

    try:
        FaultPlan().apply(winrm)
    except (TypeError, ValueError) as exc:
        raise SpecError('%s faults winrm: %s' % (where, exc)) from None
    # Other keys are faults of the emulated host and WSUS server; they validate their own.
    given['winrm'] = dict(winrm)
    return given


# -- helpers --------------------------------------------------------------------------------
def _section(raw: t.Any, defaults: t.Mapping[str, t.Any], where: str, optional: t.Iterable[str] = ()) -> dict:
    if raw is None:
        return copy.deepcopy(dict(defaults))
    if not isinstance(raw, t.Mapping):
        raise SpecError('%s must be a mapping' % where)
    _no_unknown(raw, set(defaults) | set(optional), where)
    section = copy.deepcopy(dict(defaults))
    section.update(copy.deepcopy(dict(raw)))
    return section


def _merge(defaults: t.Mapping[str, t.Any], host: t.Mapping[str, t.Any]) -> dict:
    merged = copy.deepcopy(dict(defaults))
    for key, value in host.items():
        if isinstance(value, t.Mapping) and isinstance(merged.get(key), t.Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _no_unknown(mapping: t.Mapping[str, t.Any], known: t.Iterable[str], where: str) -> None:
    unknown = sorted(str(k) for k in set(mapping) - set(known))
    if unknown:
        raise SpecError('%s: unknown key(s) %s; known keys: %s' % (where, ', '.join(unknown), ', '.join(sorted(known))))


def _check_path(path: t.Any, where: str, drives: dict) -> None:
    if not isinstance(path, str) or not re.match(r'^[A-Za-z]:\\', path):
        raise SpecError('%s: expected an absolute Windows path such as D:\\WSUS, got %r' % (where, path))
    if path[:2].upper() not in drives:
        raise SpecError('%s: %s is on drive %s, which the host does not have (drives: %s)'
                        % (where, path, path[:2].upper(), ', '.join(drives)))
