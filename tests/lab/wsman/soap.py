"""SOAP envelopes of WS-Management (DSP0226) and the Windows Shell resource (MS-WSMV).

Requests are parsed with ElementTree; responses are rendered from text, the way Windows
writes them (prefixes ``s a x w rsp p``, ``xml:lang="en-US"``).
"""
from __future__ import annotations

import dataclasses
import re
import typing as t
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

NS = {
    's': 'http://www.w3.org/2003/05/soap-envelope',
    'a': 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
    'x': 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
    'w': 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
    'p': 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
    'rsp': 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
    'f': 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
}

SHELL_CMD_URI = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd'
SHELL_NS = NS['rsp']
ACTION_CREATE = 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create'
ACTION_DELETE = 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete'
ACTION_COMMAND = SHELL_NS + '/Command'
ACTION_SEND = SHELL_NS + '/Send'
ACTION_RECEIVE = SHELL_NS + '/Receive'
ACTION_SIGNAL = SHELL_NS + '/Signal'
ACTION_FAULT = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault'
ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous'

SIGNAL_TERMINATE = SHELL_NS + '/signal/terminate'
SIGNAL_CTRL_C = SHELL_NS + '/signal/ctrl_c'
SIGNAL_CTRL_BREAK = SHELL_NS + '/signal/ctrl_break'
STATE_RUNNING = SHELL_NS + '/CommandState/Running'
STATE_DONE = SHELL_NS + '/CommandState/Done'

_DURATION = re.compile(r'^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?'
                       r'(?:(?P<s>\d+(?:\.\d+)?)S)?)?$')


class MalformedRequest(ValueError):
    """The request is not a WS-Management SOAP envelope the service can read."""


@dataclasses.dataclass
class Request:
    """The parts of a request envelope the Shell resource uses."""

    action: str
    resource_uri: str
    message_id: str
    selectors: dict[str, str]
    options: dict[str, str]
    operation_timeout: t.Optional[float]
    max_envelope_size: t.Optional[int]
    body: ET.Element

    def find(self, path: str) -> t.Optional[ET.Element]:
        """Find an element under ``s:Body`` (``rsp:`` prefixes allowed)."""
        return self.body.find(path, NS)

    def findall(self, path: str) -> list[ET.Element]:
        return self.body.findall(path, NS)


def parse_request(data: bytes) -> Request:
    """Parse a request envelope. Raises ``MalformedRequest`` on anything unreadable."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise MalformedRequest('the request is not well-formed XML: %s' % exc) from None
    if root.tag != '{%s}Envelope' % NS['s']:
        raise MalformedRequest('the request is not a SOAP 1.2 envelope (root element %s)' % root.tag)
    header = root.find('s:Header', NS)
    body = root.find('s:Body', NS)
    if header is None or body is None:
        raise MalformedRequest('the SOAP envelope has no Header or no Body')

    def text(path: str) -> str:
        node = header.find(path, NS)
        return (node.text or '').strip() if node is not None else ''

    selectors = {node.get('Name', ''): (node.text or '').strip()
                 for node in header.findall('w:SelectorSet/w:Selector', NS)}
    options = {node.get('Name', ''): (node.text or '').strip()
               for node in header.findall('w:OptionSet/w:Option', NS)}
    timeout_text = text('w:OperationTimeout')
    size_text = text('w:MaxEnvelopeSize')
    return Request(
        action=text('a:Action'),
        resource_uri=text('w:ResourceURI'),
        message_id=text('a:MessageID'),
        selectors=selectors,
        options=options,
        operation_timeout=parse_duration(timeout_text) if timeout_text else None,
        max_envelope_size=int(size_text) if size_text.isdigit() else None,
        body=body,
    )


def parse_duration(value: str) -> float:
    """Seconds in an xs:duration such as ``PT20S``, ``PT60.000S`` or ``P0DT2H``."""
    match = _DURATION.match(value.strip())
    if not match or value.strip() in ('P', 'PT'):
        raise MalformedRequest('invalid xs:duration %r' % value)
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return parts['d'] * 86400 + parts['h'] * 3600 + parts['m'] * 60 + parts['s']


def format_duration(seconds: float) -> str:
    return 'PT%.3fS' % seconds


def new_uuid() -> str:
    """A GUID as Windows prints it in ShellId, CommandId and MessageID: upper case."""
    return str(uuid.uuid4()).upper()


def envelope(action: str, relates_to: str, body: str) -> bytes:
    """A full response envelope around ``body`` (already-rendered XML)."""
    return (
        '<s:Envelope xml:lang="en-US" xmlns:s="{s}" xmlns:a="{a}" xmlns:x="{x}" xmlns:w="{w}" xmlns:rsp="{rsp}" '
        'xmlns:p="{p}"><s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{mid}</a:MessageID>'
        '<a:To>{anon}</a:To><a:RelatesTo>{rel}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>'
    ).format(action=escape(action), mid=new_uuid(), anon=ANONYMOUS, rel=escape(relates_to), body=body,
             **NS).encode('utf-8')


def element(tag: str, text: str = '', **attrs: t.Any) -> str:
    """Render one element with escaped text and attributes (``None`` attributes are left out)."""
    rendered = ''.join(' %s=%s' % (k, quoteattr(str(v))) for k, v in attrs.items() if v is not None)
    if text:
        return '<%s%s>%s</%s>' % (tag, rendered, escape(text), tag)
    return '<%s%s/>' % (tag, rendered)


def bool_option(value: t.Optional[str], default: bool = False) -> bool:
    """WinRS options carry ``TRUE``/``FALSE`` (any case)."""
    if value is None or value == '':
        return default
    return value.strip().lower() in ('true', '1', 'yes')
