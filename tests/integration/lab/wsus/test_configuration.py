"""The configuration API: real property names, and what ``Save()`` refuses."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.tests.lab.wsus import errors


def test_saved_settings_reach_susdb_and_the_next_copy(wsus_server):
    server = wsus_server(settings={'languages': ['en']})
    cfg = server.get_configuration()
    cfg.download_express_packages = True
    cfg.set_enabled_update_languages(['EN', 'pt-BR'])
    cfg.save()
    again = server.get_configuration()
    assert again.download_express_packages is True
    assert sorted(again.get_enabled_update_languages()) == ['en', 'pt-br']
    assert server.db.scalar('SELECT DownloadExpressPackages FROM tbConfigurationC') == 1
    assert sorted(r[0] for r in server.db.query('SELECT ShortLanguage FROM tbLanguage WHERE Enabled = 1')) == ['en', 'pt-br']
    api = again.as_api()
    assert api['DownloadExpressPackages'] is True and api['EnabledUpdateLanguages'] == ['en', 'pt-br']
    assert api['LocalContentCachePath'].endswith('\\WsusContent')


def _refused(cfg, kind, message):
    with pytest.raises(kind) as info:
        cfg.save()
    assert info.value.message == message
    return info.value


def test_all_languages_off_needs_a_language(wsus_server):
    cfg = wsus_server(settings={'languages': 'all'}).get_configuration()
    cfg.all_update_languages_enabled = False
    exc = _refused(cfg, errors.WsusInvalidDataError, errors.SAVE_NEEDS_A_LANGUAGE)
    assert exc.type_name == 'Microsoft.UpdateServices.Administration.WsusInvalidDataException'


def test_host_binaries_on_mu_needs_all_languages(wsus_server):
    cfg = wsus_server(settings={'languages': ['en']}).get_configuration()
    cfg.host_binaries_on_microsoft_update = True
    _refused(cfg, errors.WsusInvalidDataError, errors.SAVE_HOST_ON_MU_NEEDS_ALL_LANGUAGES)


def test_replica_cannot_sync_from_microsoft_update(wsus_server):
    cfg = wsus_server(settings={'upstream': 'upstream.example', 'replica': True}).get_configuration()
    assert cfg.is_replica_server and not cfg.sync_from_microsoft_update
    cfg.sync_from_microsoft_update = True
    exc = _refused(cfg, errors.WsusInvalidOperationError, errors.SAVE_REPLICA_SYNC_FROM_MU)
    assert exc.type_name == 'System.InvalidOperationException'


def test_downstream_server_needs_an_upstream_name(wsus_server):
    cfg = wsus_server().get_configuration()
    cfg.sync_from_microsoft_update = False
    _refused(cfg, errors.WsusInvalidDataError, errors.SAVE_NEEDS_UPSTREAM)


def test_save_refused_while_synchronizing(wsus_server):
    server = wsus_server()
    cfg = server.get_configuration()
    cfg.download_express_packages = True
    server.set_synchronizing(True)
    _refused(cfg, errors.WsusInvalidOperationError, errors.SAVE_SYNCHRONIZING)
    server.set_synchronizing(False)
    cfg.save()
    assert server.get_configuration().download_express_packages


def test_stale_copy_is_refused(wsus_server):
    server = wsus_server()
    first, second = server.get_configuration(), server.get_configuration()
    first.download_express_packages = True
    first.save()
    second.download_update_binaries_as_needed = True
    _refused(second, errors.WsusInvalidOperationError, errors.SAVE_STALE)
    assert server.get_configuration().download_update_binaries_as_needed is False
    # the copy that saved stays current: it may save again
    first.download_express_packages = False
    first.save()


def test_previous_save_still_processing(wsus_server):
    server = wsus_server(settings={'save_busy_seconds': 60})
    cfg = server.get_configuration()
    cfg.download_express_packages = True
    cfg.save()
    cfg.download_express_packages = False
    _refused(cfg, errors.WsusInvalidOperationError, errors.SAVE_PREVIOUS_SAVE)


def test_unknown_language_code_is_rejected(wsus_server):
    cfg = wsus_server().get_configuration()
    with pytest.raises(errors.WsusArgumentError, match="'klingon' is not supported"):
        cfg.set_enabled_update_languages(['en', 'klingon'])
    assert cfg.get_enabled_update_languages() == ['en']


def test_spec_settings_map_to_api_properties(wsus_server):
    cfg = wsus_server(settings={'download_express_packages': True, 'languages': 'all', 'deferred_download': True,
                                'upstream': 'up.example', 'upstream_port': 8531, 'upstream_ssl': True}).get_configuration()
    assert cfg.download_express_packages and cfg.all_update_languages_enabled and cfg.download_update_binaries_as_needed
    assert (cfg.sync_from_microsoft_update, cfg.upstream_wsus_server_name, cfg.upstream_wsus_server_port_number,
            cfg.upstream_wsus_server_use_ssl) == (False, 'up.example', 8531, True)
    assert not cfg.is_replica_server and not cfg.host_binaries_on_microsoft_update
