"""``IUpdateServerConfiguration``: a copy of the server settings, written back by ``save()``.

``GetConfiguration()`` hands out a copy; changes stay local until ``Save()``, which checks the
rules Microsoft documents for it (``errors.py``) and refuses a copy that is stale: another
caller saved after this copy was loaded (a version counter in SUSDB).
"""
from __future__ import annotations

import dataclasses
import typing as t

from . import constants as C
from . import errors

# Python attribute -> UpdateServices API property name, in the order scripts list them.
API_NAMES = {
    'download_express_packages': 'DownloadExpressPackages',
    'all_update_languages_enabled': 'AllUpdateLanguagesEnabled',
    'download_update_binaries_as_needed': 'DownloadUpdateBinariesAsNeeded',
    'host_binaries_on_microsoft_update': 'HostBinariesOnMicrosoftUpdate',
    'get_content_from_mu': 'GetContentFromMU',
    'is_replica_server': 'IsReplicaServer',
    'sync_from_microsoft_update': 'SyncFromMicrosoftUpdate',
    'upstream_wsus_server_name': 'UpstreamWsusServerName',
    'upstream_wsus_server_port_number': 'UpstreamWsusServerPortNumber',
    'upstream_wsus_server_use_ssl': 'UpstreamWsusServerUseSsl',
    'use_proxy': 'UseProxy',
    'proxy_name': 'ProxyName',
    'proxy_server_port': 'ProxyServerPort',
    'local_content_cache_path': 'LocalContentCachePath',
    'server_id': 'ServerId',
}


@dataclasses.dataclass
class WsusConfiguration:  # pylint: disable=too-many-instance-attributes
    """A loaded copy of the configuration. Attribute names are the API's, in snake_case."""

    download_express_packages: bool
    all_update_languages_enabled: bool
    download_update_binaries_as_needed: bool
    host_binaries_on_microsoft_update: bool
    get_content_from_mu: bool
    is_replica_server: bool
    sync_from_microsoft_update: bool
    upstream_wsus_server_name: str
    upstream_wsus_server_port_number: int
    upstream_wsus_server_use_ssl: bool
    use_proxy: bool
    proxy_name: str
    proxy_server_port: int
    local_content_cache_path: str
    server_id: str
    enabled_languages: list[str]
    loaded_version: int
    _saver: t.Optional[t.Callable[['WsusConfiguration'], None]] = dataclasses.field(default=None, repr=False, compare=False)

    def get_enabled_update_languages(self) -> list[str]:
        """``GetEnabledUpdateLanguages()``: the explicit language list, lowercase codes."""
        return list(self.enabled_languages)

    def set_enabled_update_languages(self, languages: t.Iterable[str]) -> None:
        """``SetEnabledUpdateLanguages(StringCollection)``: replaces the list (local copy)."""
        codes = []
        for code in languages:
            norm = str(code).strip().lower()
            if norm not in C.LANGUAGE_CODES:
                raise errors.WsusArgumentError(
                    f"The language '{code}' is not supported by this server. Use a lowercase RFC 1766 code such as en, de or pt-br.")
            if norm not in codes:
                codes.append(norm)
        self.enabled_languages = codes

    def validate(self, synchronizing: bool, saving: bool, current_version: int) -> None:
        """Raise what ``Save()`` raises for this copy, or return."""
        if current_version != self.loaded_version:
            raise errors.WsusInvalidOperationError(errors.SAVE_STALE)
        if synchronizing:
            raise errors.WsusInvalidOperationError(errors.SAVE_SYNCHRONIZING)
        if saving:
            raise errors.WsusInvalidOperationError(errors.SAVE_PREVIOUS_SAVE)
        if self.is_replica_server and self.sync_from_microsoft_update:
            raise errors.WsusInvalidOperationError(errors.SAVE_REPLICA_SYNC_FROM_MU)
        if self.host_binaries_on_microsoft_update and not self.all_update_languages_enabled:
            raise errors.WsusInvalidDataError(errors.SAVE_HOST_ON_MU_NEEDS_ALL_LANGUAGES)
        if not self.host_binaries_on_microsoft_update and not self.all_update_languages_enabled and not self.enabled_languages:
            raise errors.WsusInvalidDataError(errors.SAVE_NEEDS_A_LANGUAGE)
        if not self.sync_from_microsoft_update and not (self.upstream_wsus_server_name or '').strip():
            raise errors.WsusInvalidDataError(errors.SAVE_NEEDS_UPSTREAM)
        if self.use_proxy and not (self.proxy_name or '').strip():
            raise errors.WsusInvalidDataError('If UseProxy is true, ProxyName cannot be empty and ProxyServerPort must be valid.')

    def save(self) -> None:
        """``Save()``: validate and write this copy; it becomes the current version."""
        if self._saver is None:
            raise errors.WsusInvalidOperationError('This configuration copy is not attached to a server.')
        self._saver(self)

    def as_api(self) -> dict[str, t.Any]:
        """The properties under their API names, plus ``EnabledUpdateLanguages``."""
        out = {api: getattr(self, attr) for attr, api in API_NAMES.items()}
        out['EnabledUpdateLanguages'] = self.get_enabled_update_languages()
        return out
