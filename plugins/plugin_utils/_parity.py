"""Option parity between the export and the import server (step 1 of Microsoft's procedure).

Two servers must agree on **express installation files** and **update languages**: the import
server can only hand out what the export server downloaded. Schedule, products,
classifications, source and proxy do not matter (the import replaces them), and **deferred
download** has no effect on the import server. This module turns a ``server_state`` answer (or
a bundle manifest's ``settings``) into a small fingerprint, compares two of them, plans the
minimal ``config_set`` call that makes one match the other, and lists the conditions on either
side that break the procedure.

Pure: no I/O. Callers pass what ``server_state`` (see docs/architecture.md) returned.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError

SETTINGS_KEYS = ('express_files', 'all_languages', 'languages', 'deferred_download', 'host_binaries_on_mu')
_CONFIG_KEYS = ('download_express_packages', 'all_update_languages_enabled', 'enabled_update_languages',
                'download_update_binaries_as_needed', 'host_binaries_on_microsoft_update')
_BOOL_KEYS = ('express_files', 'all_languages', 'deferred_download', 'host_binaries_on_mu')
# RFC 1766 tags as WSUS spells them: 'en', 'pt-br', 'zh-hk', 'sr-latn'... lower-cased here.
_LANGUAGE_RE = re.compile(r'^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$')
_MAX_LANGUAGES = 200
# How many update titles a message lists before it says "and N more".
MAX_LISTED = 20


class ParityError(AirgapWsusError, ValueError):
    """Settings that cannot be read or a change WSUS would refuse; the message says why and how to fix it."""


def _as_bool(value, name):
    if isinstance(value, bool):
        return value
    raise ParityError(f'setting {name} must be true or false, not {value!r:.40}')


def normalize_languages(languages) -> list:
    """Return ``languages`` as a sorted, de-duplicated list of lower-case tags (``['de', 'en']``)."""
    if languages is None:
        return []
    if isinstance(languages, str):
        languages = [part for part in re.split(r'[,\s]+', languages) if part]
    if not isinstance(languages, (list, tuple, set, frozenset)):
        raise ParityError(f'languages must be a list of language codes such as ["en", "de"], not {type(languages).__name__}')
    if len(languages) > _MAX_LANGUAGES:
        raise ParityError(f'languages lists {len(languages)} entries; WSUS knows fewer than {_MAX_LANGUAGES}')
    result = set()
    for language in languages:
        if not isinstance(language, str) or not _LANGUAGE_RE.match(language.strip().lower()):
            raise ParityError(f'{language!r:.40} is not an update language code; WSUS uses lower-case RFC 1766 codes such as "en" or "pt-br"')
        result.add(language.strip().lower())
    return sorted(result)


def validate_settings(settings) -> dict:
    """Check a fingerprint (a manifest's or receipt's ``settings``) and return it normalized.

    Raises :class:`ParityError` naming the first wrong key.
    """
    if not isinstance(settings, Mapping):
        raise ParityError(f'settings must be an object with {", ".join(SETTINGS_KEYS)}, not {type(settings).__name__}')
    unknown = sorted(map(str, set(settings) - set(SETTINGS_KEYS)))
    missing = [key for key in SETTINGS_KEYS if key not in settings]
    if unknown or missing:
        raise ParityError(f'settings must have exactly the keys {", ".join(SETTINGS_KEYS)}'
                          + (f'; missing {", ".join(missing)}' if missing else '')
                          + (f'; unknown {", ".join(unknown)}' if unknown else ''))
    result = {key: _as_bool(settings[key], key) for key in _BOOL_KEYS}
    if not isinstance(settings['languages'], list):
        raise ParityError('settings languages must be a list of language codes')
    result['languages'] = normalize_languages(settings['languages'])
    return result


def _config(server_info) -> Mapping:
    config = server_info.get('config')
    if not isinstance(config, Mapping):
        raise ParityError('server_info has no "config" object: pass what the server_state host script returned')
    if config.get('available') is False:
        name = server_info.get('computer_name') or 'the server'
        raise ParityError(f'the WSUS configuration of {name} could not be read ({config.get("error") or "no reason given"}); '
                          'check that WSUS is installed and its service runs, and that the account is a local administrator')
    return config


def fingerprint(source) -> dict:
    """Return the parity fingerprint of a ``server_state`` answer or of a ``settings`` dict.

    The fingerprint is ``{express_files, all_languages, languages, deferred_download,
    host_binaries_on_mu}`` with ``languages`` sorted and lower-case. It is what a bundle
    manifest and a receipt carry as ``settings``.
    """
    if not isinstance(source, Mapping):
        raise ParityError(f'expected server_state output or a settings object, not {type(source).__name__}')
    if 'config' not in source:
        return validate_settings(source)
    config = _config(source)
    missing = [key for key in _CONFIG_KEYS if key not in config]
    if missing:
        raise ParityError(f'server_state config lacks {", ".join(missing)}: the host script and this collection are out of step')
    return {
        'express_files': _as_bool(config['download_express_packages'], 'download_express_packages'),
        'all_languages': _as_bool(config['all_update_languages_enabled'], 'all_update_languages_enabled'),
        'languages': normalize_languages(config['enabled_update_languages']),
        'deferred_download': _as_bool(config['download_update_binaries_as_needed'], 'download_update_binaries_as_needed'),
        'host_binaries_on_mu': _as_bool(config['host_binaries_on_microsoft_update'], 'host_binaries_on_microsoft_update'),
    }


def _languages_view(fp):
    return 'all' if fp['all_languages'] else list(fp['languages'])


def _source_view(server_info):
    config = server_info.get('config') or {}
    if config.get('sync_from_microsoft_update', True):
        return 'Microsoft Update'
    return f'upstream WSUS {config.get("upstream_wsus_server_name") or "(unnamed)"}'


def _proxy_view(server_info):
    config = server_info.get('config') or {}
    if not config.get('use_proxy'):
        return 'none'
    return f'{config.get("proxy_name") or "(unnamed)"}:{config.get("proxy_server_port") or ""}'.rstrip(':')


def _subscription_view(server_info, key):
    value = (server_info.get('subscription') or {}).get(key)
    if isinstance(value, list):
        return sorted(map(str, value))
    return value


def compare(export, import_) -> dict:
    """Compare the export server's settings with the import server's.

    Each side is a ``server_state`` answer or a fingerprint (a manifest's ``settings``).
    Returns ``{'required': [...], 'informational': [...], 'match': bool}``. Each difference is
    ``{setting, export, import, note}``. ``required`` holds what Microsoft says must match
    (express files; languages, where "all" differs from any list and lists compare as sets).
    ``informational`` holds what the import overrides or ignores: deferred download,
    products, classifications, schedule, source and proxy (the last four only when both sides
    are full ``server_state`` answers). ``match`` is true when ``required`` is empty.
    """
    exp, imp = fingerprint(export), fingerprint(import_)
    required, informational = [], []
    if exp['express_files'] != imp['express_files']:
        required.append({'setting': 'express_files', 'export': exp['express_files'], 'import': imp['express_files'],
                         'note': 'express installation files must match: the import server can only offer the files the export server downloaded'})
    exp_lang, imp_lang = _languages_view(exp), _languages_view(imp)
    if exp_lang != imp_lang:
        required.append({'setting': 'languages', 'export': exp_lang, 'import': imp_lang,
                         'note': 'update languages must match: updates in a language only one server selected are missing or useless on the other'})
    if exp['deferred_download'] != imp['deferred_download']:
        informational.append({'setting': 'deferred_download', 'export': exp['deferred_download'], 'import': imp['deferred_download'],
                              'note': 'deferred download has no effect on the import server; on the export server, approve updates '
                                      'and let them download before content moves'})
    if exp['host_binaries_on_mu'] != imp['host_binaries_on_mu']:
        informational.append({'setting': 'host_binaries_on_mu', 'export': exp['host_binaries_on_mu'], 'import': imp['host_binaries_on_mu'],
                              'note': 'checked separately: both servers must keep update files locally'})
    if 'config' in export and 'config' in import_:
        views = (('products', lambda info: _subscription_view(info, 'products')),
                 ('classifications', lambda info: _subscription_view(info, 'classifications')),
                 ('schedule', lambda info: _subscription_view(info, 'schedule')),
                 ('source', _source_view),
                 ('proxy', _proxy_view))
        for setting, view in views:
            exp_value, imp_value = view(export), view(import_)
            if exp_value != imp_value:
                informational.append({'setting': setting, 'export': exp_value, 'import': imp_value,
                                      'note': 'need not match: the import replaces it'})
    return {'required': required, 'informational': informational, 'match': not required}


def _diff_text(fp):
    lines = [f'express_files: {str(fp["express_files"]).lower()}',
             f'all_languages: {str(fp["all_languages"]).lower()}',
             f'languages: [{", ".join(fp["languages"])}]']
    return '\n'.join(lines) + '\n'


def plan_enforce(current, reference, server_name: str = 'the server') -> dict:
    """Plan the smallest ``config_set`` call that makes ``current`` match ``reference``.

    ``current`` is the server to change (a ``server_state`` answer or a fingerprint);
    ``reference`` is what it must match (usually the other server or a manifest's
    ``settings``). Returns ``{'changed', 'params', 'diff', 'warnings'}``: ``params`` holds only
    the ``config_set`` inputs that must change (``DownloadExpressPackages``,
    ``AllUpdateLanguagesEnabled``, ``EnabledUpdateLanguages``) and is empty when nothing
    changes; ``diff`` is ``{'before', 'after', 'before_header', 'after_header'}`` text for
    Ansible's ``--diff``. Raises :class:`ParityError` for a change WSUS's ``Save()`` refuses.
    """
    cur, ref = fingerprint(current), fingerprint(reference)
    params = {}
    after = dict(cur)
    warnings = []
    if cur['express_files'] != ref['express_files']:
        params['DownloadExpressPackages'] = ref['express_files']
        after['express_files'] = ref['express_files']
    if ref['all_languages']:
        if not cur['all_languages']:
            params['AllUpdateLanguagesEnabled'] = True
            after['all_languages'] = True
    else:
        if not ref['languages']:
            raise ParityError('the reference settings select no update language and not all languages; WSUS refuses to save that. '
                              'Enable at least one language (or all languages) on the reference server')
        if cur['host_binaries_on_mu']:
            raise ParityError(f'{server_name} hosts update files on Microsoft Update (HostBinariesOnMicrosoftUpdate=true), and WSUS '
                              'refuses a language list with it; turn that option off first (the import network cannot reach Microsoft anyway)')
        if cur['all_languages']:
            params['AllUpdateLanguagesEnabled'] = False
            after['all_languages'] = False
        if cur['all_languages'] or cur['languages'] != ref['languages']:
            params['EnabledUpdateLanguages'] = list(ref['languages'])
            after['languages'] = list(ref['languages'])
    if 'AllUpdateLanguagesEnabled' in params or 'EnabledUpdateLanguages' in params:
        warnings.append(f'changing the update languages of {server_name} can leave approvals permanently inactive; '
                        'check with "wsusutil listinactiveapprovals" and remove them with "wsusutil removeinactiveapprovals"')
    return {
        'changed': bool(params),
        'params': params,
        'diff': {'before': _diff_text(cur), 'after': _diff_text(after),
                 'before_header': f'{server_name} (before)', 'after_header': f'{server_name} (after)'},
        'warnings': warnings,
    }


def _server_name(server_info, default):
    name = server_info.get('computer_name') if isinstance(server_info, Mapping) else None
    return name if isinstance(name, str) and name else default


def import_side_problems(server_info) -> list:
    """List what stops ``server_info``'s server from importing, each ``{'problem', 'message', 'blocking'}``.

    A replica (centrally managed) server cannot import; a server that hosts update files on
    Microsoft Update sends its clients to a network they cannot reach.
    """
    config = _config(server_info)
    name = _server_name(server_info, 'the import server')
    problems = []
    if config.get('is_replica_server'):
        upstream = config.get('upstream_wsus_server_name') or 'its upstream server'
        problems.append({
            'problem': 'replica',
            'blocking': True,
            'message': f'the import server {name} is a replica of {upstream}; WSUS cannot import into a centrally managed server. '
                       'Turn replica mode off (Options > Update Source and Proxy Server, or IsReplicaServer=false) '
                       'or choose an autonomous server',
        })
    if config.get('host_binaries_on_microsoft_update'):
        problems.append({
            'problem': 'host_binaries_on_mu',
            'blocking': False,
            'message': f'the import server {name} tells its clients to download update files from Microsoft Update '
                       '(HostBinariesOnMicrosoftUpdate=true), which a disconnected network cannot reach; turn it off so clients use the copied content',
        })
    return problems


def _listed(names):
    shown = [str(name) for name in names[:MAX_LISTED]]
    more = len(names) - len(shown)
    return ', '.join(shown) + (f' and {more} more' if more > 0 else '')


def export_side_problems(server_info, counts: Mapping | None = None) -> list:
    """List what stops the export server's content from being complete, each ``{'problem', 'message', 'blocking'}``.

    ``counts`` may hold ``approved_needing_files`` (how many approved updates still lack their
    files) and ``needing_files`` (their titles or ids, listed up to :data:`MAX_LISTED`).
    """
    config = _config(server_info)
    name = _server_name(server_info, 'the export server')
    counts = counts or {}
    problems = []
    if config.get('host_binaries_on_microsoft_update'):
        problems.append({
            'problem': 'host_binaries_on_mu',
            'blocking': True,
            'message': f'the export server {name} leaves update files on Microsoft Update (HostBinariesOnMicrosoftUpdate=true), '
                       'so its WsusContent lacks them; turn that option off and let the files download before exporting',
        })
    needing = counts.get('approved_needing_files') or 0
    names = list(counts.get('needing_files') or [])
    needing = max(needing, len(names))
    if needing:
        which = f': {_listed(names)}' if names else ''
        if config.get('download_update_binaries_as_needed'):
            cause = (f'the export server {name} downloads files only for approved updates (deferred download), and {needing} approved '
                     f'update(s) still need their files{which}')
        else:
            cause = f'{needing} approved update(s) on the export server {name} still need their files{which}'
        problems.append({
            'problem': 'files_pending',
            'blocking': True,
            'message': cause + '; wait for the downloads to finish (Update Services console > Updates, or '
                               'GetContentDownloadProgress()) and export again, or the import server will show them as failed downloads',
        })
    return problems
