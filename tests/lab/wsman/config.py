"""WinRM service settings of one emulated host, with Windows' defaults."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class WinRMConfig:
    """The subset of ``winrm get winrm/config`` the lab enforces.

    Defaults are those of Windows Server 2012 and later (``winrm/config`` and
    ``winrm/config/winrs``).
    """

    max_envelope_size_kb: int = 500
    """``MaxEnvelopeSizekb``: a larger request gets HTTP 413."""
    max_concurrent_operations_per_user: int = 1500
    """``MaxConcurrentOperationsPerUser``: text shells never give back a command's operation
    (MS-WSMV product behaviour note 118), so a user's open shells can run this many commands
    in all before ``Command`` faults with 0x803381A6."""
    max_shells_per_user: int = 30
    """``winrs/MaxShellsPerUser``."""
    idle_timeout: float = 7200.0
    """``winrs/IdleTimeout`` in seconds: a shell with no request for this long is closed."""
    max_timeout_ms: int = 60000
    """``MaxTimeoutms``: the longest ``OperationTimeout`` a request may ask for."""
    allow_basic: bool = False
    """``Service/Auth/Basic``: Negotiate (NTLM) is always accepted, Basic only when enabled."""
    allow_unencrypted: bool = False
    """``Service/AllowUnencrypted``: over HTTP, a SOAP body not sealed with an NTLM session is
    refused with 401 unless this is true (jborean93 in hashicorp/packer#6205)."""

    @classmethod
    def from_spec(cls, winrm: dict, transport: str) -> 'WinRMConfig':
        """Build from a normalized spec's ``winrm`` section and the host's ``transport``."""
        return cls(
            max_envelope_size_kb=int(winrm['max_envelope_size_kb']),
            max_concurrent_operations_per_user=int(winrm['max_concurrent_operations_per_user']),
            max_shells_per_user=int(winrm['max_shells_per_user']),
            idle_timeout=float(winrm['idle_timeout']),
            max_timeout_ms=int(winrm['max_timeout_ms']),
            allow_basic=transport == 'basic',
            # Basic over HTTP cannot seal messages: a host meant for it has AllowUnencrypted on.
            allow_unencrypted=transport == 'basic',
        )
