"""Exceptions the emulated WSUS API throws, carrying the .NET type a PowerShell script would see.

A twin lets these propagate; the host turns them into the bootstrap's ``AIRGAP-WSUS-ERROR``
record, whose ``type`` field is :attr:`WsusApiError.type_name`.
"""
from __future__ import annotations


class WsusApiError(Exception):
    """An exception thrown by Microsoft.UpdateServices.Administration."""

    type_name = 'System.Exception'

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WsusInvalidDataError(WsusApiError):
    """``IUpdateServerConfiguration.Save()`` found the configuration inconsistent."""

    type_name = 'Microsoft.UpdateServices.Administration.WsusInvalidDataException'


class WsusInvalidOperationError(WsusApiError):
    """The server refused the operation in its current state."""

    type_name = 'System.InvalidOperationException'


class WsusArgumentError(WsusApiError):
    """An argument is out of range (an unknown language code, for example)."""

    type_name = 'System.ArgumentException'


# Save() refusals. The conditions are the ones Microsoft documents for
# IUpdateServerConfiguration.Save(); the documentation gives no message texts, so these are
# the documented condition sentences (plausible, not captured from a server).
SAVE_HOST_ON_MU_NEEDS_ALL_LANGUAGES = 'If HostBinariesOnMicrosoftUpdate is true, AllUpdateLanguagesEnabled must be true.'
SAVE_NEEDS_A_LANGUAGE = ('If HostBinariesOnMicrosoftUpdate is false and AllUpdateLanguagesEnabled is false, '
                         'you must use SetEnabledUpdateLanguages to enable at least one language.')
SAVE_NEEDS_UPSTREAM = 'If SyncFromMicrosoftUpdate is false, UpstreamWsusServerName cannot be empty.'
SAVE_REPLICA_SYNC_FROM_MU = 'If IsReplicaServer is true, SyncFromMicrosoftUpdate cannot be true.'
SAVE_SYNCHRONIZING = 'WSUS is currently synchronizing updates. Try again after the synchronization finishes.'
SAVE_PREVIOUS_SAVE = 'WSUS is currently processing a previous configuration save request. Try again later.'
SAVE_STALE = ('The configuration was changed by another application after this copy was loaded. '
              'Call GetConfiguration() again, reapply your changes and call Save().')
