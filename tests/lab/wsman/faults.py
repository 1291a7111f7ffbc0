"""The SOAP faults Windows' WinRM service sends, with their real codes and texts.

Sources for the shapes and codes:
- operation timeout (``w:TimedOut``, 2150858793 = 0x80338029) and the operations quota
  (``w:InternalError`` carrying ``MSFT_WmiError`` with ``error_Code`` 2150859174 =
  0x803381A6, which Ansible's winrm plugin reads as ``wmierror_code``): pywinrm's
  ``tests/test_exceptions.py``, captured from Windows Server 2022;
- unknown shell (``w:InvalidSelectors``, 2150858843 = 0x8033805B ERROR_WSMAN_UNEXPECTED_SELECTORS,
  "The request for the Windows Remote Shell with ShellId ... was not found"): WinRb/WinRM#253,
  pypsrp#22, ansible GOAD#310 (``fault_subcode: w:InvalidSelectors``);
- the quota messages: masterzen/winrm#129 (1500 operations), hashicorp/vagrant#7489 (shells,
  2150859173 = 0x803381A5 ERROR_WSMAN_QUOTA_MAX_SHELLS);
- other codes: wsmerror.h as mirrored by Vanara's ``WsmError`` enum.
"""
from __future__ import annotations

import typing as t
from xml.sax.saxutils import quoteattr

from .soap import ACTION_FAULT, NS, element, envelope

ERROR_WSMAN_OPERATION_TIMEDOUT = 0x80338029
ERROR_WSMAN_UNEXPECTED_SELECTORS = 0x8033805B
ERROR_WSMAN_QUOTA_MAX_SHELLS = 0x803381A5
ERROR_WSMAN_QUOTA_MAX_OPERATIONS = 0x803381A6
ERROR_WSMAN_ACTION_NOT_SUPPORTED = 0x80338013
ERROR_WSMAN_INVALID_RESOURCE_URI = 0x8033803B
ERROR_WSMAN_SCHEMA_VALIDATION_ERROR = 0x80338041
ERROR_WSMAN_OPTIONS_INVALID_VALUE = 0x80338053
ERROR_INVALID_PARAMETER = 87


class WSManFault(Exception):
    """A fault the service answers with HTTP 500 and a SOAP ``s:Fault``."""

    def __init__(self, code: str, subcode: str, reason: str, wsman_code: t.Optional[int] = None,
                 wmi_code: t.Optional[int] = None, detail: t.Optional[str] = None) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.wsman_code = wsman_code
        self.wmi_code = wmi_code
        self.detail = detail

    def render(self, relates_to: str, machine: str) -> bytes:
        detail = ''
        if self.detail:
            detail += element('w:FaultDetail', self.detail)
        if self.wsman_code is not None:
            detail += '<f:WSManFault xmlns:f="%s" Code="%d" Machine=%s>%s</f:WSManFault>' % (
                NS['f'], self.wsman_code, quoteattr(machine), element('f:Message', self.reason))
        if self.wmi_code is not None:
            detail += _wmi_error(self.wmi_code, self.reason)
        body = (
            '<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{sub}</s:Value></s:Subcode></s:Code>'
            '<s:Reason>{reason}</s:Reason><s:Detail>{detail}</s:Detail></s:Fault>'
        ).format(code=self.code, sub=self.subcode, reason=element('s:Text', self.reason, **{'xml:lang': 'en-US'}),
                 detail=detail)
        return envelope(ACTION_FAULT, relates_to, body)


def _wmi_error(code: int, message: str) -> str:
    ns_p = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError'
    fields = [
        ('CIMStatusCode', 'cimUnsignedInt', '27'),
        ('ErrorSourceFormat', 'cimUnsignedShort', '0'),
        ('ErrorType', 'cimUnsignedShort', '0'),
        ('Message', 'cimString', message),
        ('MessageID', 'cimString', 'HRESULT 0x%08x' % code),
        ('PerceivedSeverity', 'cimUnsignedShort', '0'),
        ('ProbableCause', 'cimUnsignedShort', '0'),
        ('error_Category', 'cimUnsignedInt', '30'),
        ('error_Code', 'cimUnsignedInt', str(code)),
        ('error_Type', 'cimString', 'HRESULT'),
        ('error_WindowsErrorMessage', 'cimString', message),
    ]
    inner = ''.join(element('p:' + name, value, **{'xsi:type': 'cim:' + kind}) for name, kind, value in fields)
    return ('<p:MSFT_WmiError b:IsCIM_Error="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:b="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd" xmlns:p="%s" '
            'xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xsi:type="p:MSFT_WmiError_Type">%s'
            '</p:MSFT_WmiError>' % (ns_p, inner))


def shell_not_found(shell_id: str) -> WSManFault:
    return WSManFault(
        's:Sender', 'w:InvalidSelectors',
        'The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the '
        'server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. '
        'Provide the correct ShellId or create a new shell and retry the operation. ' % shell_id,
        wsman_code=ERROR_WSMAN_UNEXPECTED_SELECTORS)


def command_not_found(command_id: str) -> WSManFault:
    # Unconfirmed: no capture of Windows' answer to an unknown CommandId was found. It is
    # modelled on the InvalidParameter fault WinRS sends for a bad Command (masterzen/winrm#80).
    return WSManFault('s:Sender', 'w:InvalidParameter',
                      'The parameter is incorrect. (CommandId %s is not a command of this shell.) ' % command_id,
                      wsman_code=ERROR_INVALID_PARAMETER)


def operation_timed_out() -> WSManFault:
    return WSManFault('s:Receiver', 'w:TimedOut',
                      'The WS-Management service cannot complete the operation within the time specified in '
                      'OperationTimeout.  ', wsman_code=ERROR_WSMAN_OPERATION_TIMEDOUT)


def quota_max_operations(limit: int) -> WSManFault:
    return WSManFault('s:Receiver', 'w:InternalError',
                      'The WS-Management service cannot process the request. This user is allowed a maximum number of '
                      '%d concurrent operations, which has been exceeded. Close existing operations for this user, or '
                      'raise the quota for this user. ' % limit, wmi_code=ERROR_WSMAN_QUOTA_MAX_OPERATIONS)


def quota_max_shells(limit: int) -> WSManFault:
    # Same shape as the operations quota (both come from WinRM's quota manager).
    return WSManFault('s:Receiver', 'w:InternalError',
                      'The WS-Management service cannot process the request. This user is allowed a maximum number of '
                      '%d concurrent shells, which has been exceeded. Close existing shells or raise the quota for this '
                      'user. ' % limit, wmi_code=ERROR_WSMAN_QUOTA_MAX_SHELLS)


def action_not_supported(action: str) -> WSManFault:
    return WSManFault('s:Sender', 'a:ActionNotSupported',
                      'The WS-Management service does not support the specified action: %s ' % action,
                      wsman_code=ERROR_WSMAN_ACTION_NOT_SUPPORTED)


def invalid_resource_uri(uri: str) -> WSManFault:
    return WSManFault('s:Sender', 'w:InvalidResourceURI',
                      'The WS-Management service cannot process the request. The resource URI is missing or it has an '
                      'incorrect format: %s ' % (uri or '(none)'), wsman_code=ERROR_WSMAN_INVALID_RESOURCE_URI)


def schema_validation(message: str) -> WSManFault:
    return WSManFault('s:Sender', 'w:SchemaValidationError',
                      'The SOAP XML in the message does not match the corresponding XML schema definition. Change the '
                      'XML and retry. (%s) ' % message, wsman_code=ERROR_WSMAN_SCHEMA_VALIDATION_ERROR)


def invalid_option(name: str, value: str) -> WSManFault:
    return WSManFault('s:Sender', 'w:InvalidOptions',
                      'The WS-Management service cannot process the request because one or more of the options has an '
                      'invalid value: %s=%s ' % (name, value), wsman_code=ERROR_WSMAN_OPTIONS_INVALID_VALUE)


def host_error(exc: BaseException) -> WSManFault:
    """Not a Windows fault: the emulated host raised. Loud on purpose, so a lab bug never
    passes for a Windows behaviour."""
    return WSManFault('s:Receiver', 'w:InternalError',
                      'LAB EMULATOR ERROR (not a Windows behaviour): the emulated host raised %s: %s. See the lab log.'
                      % (type(exc).__name__, exc))
