"""The WsusUtil export package: gzip-compressed XML with root ``ExportPackage``.

Layout (one ``<update>`` per line)::

    <ExportPackage Version=".." ServerId=".." CreationDate=".." UpdateCount="..">
      <updates>
        <update UpdateId=".." RevisionNumber=".."><metadata>ESCAPED UPDATE XML</metadata></update>
      </updates>
    </ExportPackage>

The update's own metadata travels as escaped XML text inside ``<metadata>`` (WSUS stores
update XML as blobs), so nearly every byte of a package sits inside a ``metadata`` element:
a package cut short fails to import with the message real servers print, "The following
elements are not closed: metadata, update, updates, ExportPackage". The inner XML carries
each file's SHA-1 ``Digest`` and SHA-256 ``AdditionalDigest`` (base64), name, size and
language. Metadata only: never file contents, approvals or settings.

Reading emulates what .NET's ``GZipStream`` plus ``XmlReader`` report, message for message:
a truncated gzip stream simply ends early, and the XML reader then names the open elements.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import gzip
import typing as t
import xml.etree.ElementTree as ET
import zlib
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

GZIP_MAGIC = b'\x1f\x8b'
# expat's ways of saying "the input ended inside something".
_END_OF_INPUT = frozenset(expat.errors.codes[m] for m in (
    expat.errors.XML_ERROR_NO_ELEMENTS, expat.errors.XML_ERROR_UNCLOSED_TOKEN, expat.errors.XML_ERROR_PARTIAL_CHAR))


class PackageError(Exception):
    """The package cannot be read; ``str()`` is the .NET message WsusUtil would print.

    ``partial`` holds the updates read before the error: WsusUtil imports as it reads, so a
    package cut short leaves the updates before the cut imported.
    """

    def __init__(self, message: str, partial: t.Optional[list['PackageUpdate']] = None) -> None:
        super().__init__(message)
        self.partial = partial or []


@dataclasses.dataclass
class PackageFile:
    digest: bytes
    sha256: t.Optional[bytes]
    name: str
    size: int
    modified: t.Optional[datetime.datetime]
    is_eula: bool
    patching_type: int
    language: str


@dataclasses.dataclass
class PackageUpdate:  # pylint: disable=too-many-instance-attributes
    update_id: str
    revision: int
    title: str
    description: str
    kb: t.Optional[str]
    security_bulletin: t.Optional[str]
    msrc_severity: t.Optional[str]
    classification_id: t.Optional[str]
    product_id: t.Optional[str]
    update_type: str
    creation_date: datetime.datetime
    files: list[PackageFile]
    supersedes: list[str]


@dataclasses.dataclass
class PackageHeader:
    version: str
    server_id: str
    creation_date: str
    update_count: int


def _time(value: t.Optional[datetime.datetime]) -> str:
    return '' if value is None else value.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


def _parse_time(text: t.Optional[str]) -> t.Optional[datetime.datetime]:
    if not text:
        return None
    return datetime.datetime.strptime(text.rstrip('Z'), '%Y-%m-%dT%H:%M:%S.%f')


def update_xml(update: PackageUpdate) -> str:
    """The inner metadata document of one update revision."""
    attrs = {
        'UpdateId': update.update_id.lower(), 'RevisionNumber': str(update.revision), 'Title': update.title,
        'Description': update.description, 'KnowledgebaseArticle': update.kb or '',
        'SecurityBulletin': update.security_bulletin or '', 'MsrcSeverity': update.msrc_severity or '',
        'ClassificationId': (update.classification_id or '').lower(), 'ProductId': (update.product_id or '').lower(),
        'UpdateType': update.update_type, 'CreationDate': _time(update.creation_date),
    }
    parts = ['<Update ' + ' '.join(f'{k}={quoteattr(v)}' for k, v in attrs.items()) + '><Files>']
    for f in update.files:
        fattrs = {
            'Digest': base64.b64encode(f.digest).decode(), 'AdditionalDigest': base64.b64encode(f.sha256).decode() if f.sha256 else '',
            'DigestAlgorithm': 'SHA256', 'FileName': f.name, 'Size': str(f.size), 'Modified': _time(f.modified),
            'IsEula': 'true' if f.is_eula else 'false', 'PatchingType': str(f.patching_type), 'Language': f.language,
        }
        parts.append('<File ' + ' '.join(f'{k}={quoteattr(v)}' for k, v in fattrs.items()) + '/>')
    parts.append('</Files><SupersededUpdates>')
    parts.extend(f'<UpdateId>{escape(uid.lower())}</UpdateId>' for uid in update.supersedes)
    parts.append('</SupersededUpdates></Update>')
    return ''.join(parts)


def build(header: PackageHeader, updates: t.Iterable[PackageUpdate]) -> bytes:
    """The package bytes (gzip-compressed XML)."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<ExportPackage Version=%s ServerId=%s CreationDate=%s UpdateCount="%d">' % (
                 quoteattr(header.version), quoteattr(header.server_id.lower()), quoteattr(header.creation_date), header.update_count),
             '<updates>']
    for update in updates:
        lines.append('<update UpdateId=%s RevisionNumber="%d"><metadata>%s</metadata></update>' % (
            quoteattr(update.update_id.lower()), update.revision, escape(update_xml(update))))
    lines.append('</updates>')
    lines.append('</ExportPackage>')
    return gzip.compress(('\r\n'.join(lines) + '\r\n').encode('utf-8'), compresslevel=6, mtime=0)


def _decompress(data: bytes) -> bytes:
    if not data:
        return b''
    if data[:2] != GZIP_MAGIC:
        raise PackageError('The magic number in GZip header is not correct. Make sure you are passing in a GZip stream.')
    inflater = zlib.decompressobj(wbits=31)
    try:
        # A truncated stream yields what it has and no error, as GZipStream does.
        return inflater.decompress(data)
    except zlib.error as exc:
        raise PackageError('Found invalid data while decoding.') from exc


def _update_from_xml(text: str) -> PackageUpdate:
    root = ET.fromstring(text)
    files = []
    for f in root.iter('File'):
        files.append(PackageFile(
            digest=base64.b64decode(f.get('Digest', '')), sha256=base64.b64decode(f.get('AdditionalDigest')) if f.get('AdditionalDigest') else None,
            name=f.get('FileName', ''), size=int(f.get('Size', '0')), modified=_parse_time(f.get('Modified')),
            is_eula=f.get('IsEula') == 'true', patching_type=int(f.get('PatchingType', '0')), language=f.get('Language', '')))
    supersedes = [(e.text or '').upper() for e in root.iter('UpdateId')]
    return PackageUpdate(
        update_id=root.get('UpdateId', '').upper(), revision=int(root.get('RevisionNumber', '0')), title=root.get('Title', ''),
        description=root.get('Description', ''), kb=root.get('KnowledgebaseArticle') or None,
        security_bulletin=root.get('SecurityBulletin') or None, msrc_severity=root.get('MsrcSeverity') or None,
        classification_id=(root.get('ClassificationId') or '').upper() or None, product_id=(root.get('ProductId') or '').upper() or None,
        update_type=root.get('UpdateType', 'Software'), creation_date=_parse_time(root.get('CreationDate')) or datetime.datetime(2000, 1, 1),
        files=files, supersedes=supersedes)


def read(data: bytes) -> tuple[PackageHeader, list[PackageUpdate]]:
    """Parse a package; raise :class:`PackageError` with the .NET message on failure."""
    xml = _decompress(data)
    parser = expat.ParserCreate()
    stack: list[str] = []
    header: dict[str, str] = {}
    updates: list[PackageUpdate] = []
    text: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if not stack:
            if name != 'ExportPackage':
                raise PackageError(f"The root element of the package is '{name}'; expected 'ExportPackage'. This is not a WSUS export package.")
            header.update(attrs)
        stack.append(name)
        if name == 'metadata':
            text.clear()

    def end(name: str) -> None:
        stack.pop()
        if name == 'metadata':
            try:
                updates.append(_update_from_xml(''.join(text)))
            except (ET.ParseError, ValueError) as exc:
                raise PackageError(f'The update metadata in the package is not valid: {exc}') from exc

    def chars(data_: str) -> None:
        if stack and stack[-1] == 'metadata':
            text.append(data_)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(xml, True)
    except PackageError as exc:
        exc.partial = updates
        raise
    except expat.ExpatError as exc:
        where = f'Line {parser.CurrentLineNumber}, position {parser.CurrentColumnNumber + 1}.'
        if not xml.strip():
            raise PackageError('Root element is missing.') from exc
        if stack and exc.code in _END_OF_INPUT:
            raise PackageError('Unexpected end of file has occurred. The following elements are not closed: '
                               + ', '.join(reversed(stack)) + '. ' + where, updates) from exc
        raise PackageError(f'{expat.errors.messages[exc.code]}. {where}', updates) from exc
    return PackageHeader(version=header.get('Version', ''), server_id=header.get('ServerId', ''),
                         creation_date=header.get('CreationDate', ''), update_count=int(header.get('UpdateCount', '0') or 0)), updates
