"""The upstream update catalog, generated deterministically from a seed.

Each update is a pure function of ``(seed, index)``: the catalog can grow later ("new updates
appear upstream") and any file's bytes can be rebuilt on demand, without storing content.
Files carry real bytes, are named by the upper-case SHA-1 of those bytes plus an extension,
and live in the WsusContent folder named by the digest's last byte.

File references are spread evenly: update ``i`` gets ``floor((i+1)*r) - floor(i*r)`` of them,
with ``r = files / updates``, so a catalog holds exactly ``files`` references whatever its
size and growing it keeps the ratio. Kinds, in order: the main payload (language neutral),
then an EULA (``.txt``, shared by every update of a product), an express file (``.psf``,
Windows products only), and language-specific files for the catalog's languages.
"""
from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import math
import random
import typing as t
import uuid

from . import constants as C

MAX_SUPERSEDE_LOOKBACK = 20


@dataclasses.dataclass(frozen=True)
class CatalogOptions:
    """How the upstream catalog looks. ``files`` counts file references (see module doc)."""

    seed: str = '1'
    updates: int = 40
    files: t.Optional[int] = None
    languages: tuple[str, ...] = ('en', 'de', 'fr', 'ja')
    file_size_min: int = 200
    file_size_max: int = 3000
    express_ratio: float = 0.6
    eula_ratio: float = 0.2
    superseded_ratio: float = 0.3
    declined_ratio: float = 0.05
    approved_ratio: float = 0.5
    start: datetime.datetime = datetime.datetime(2019, 1, 8, 18, 0, 0)

    @property
    def files_per_update(self) -> float:
        """The file-reference ratio ``r``."""
        if self.files is None:
            return 3.0
        if self.updates <= 0:
            return 0.0
        return self.files / self.updates

    @classmethod
    def from_spec(cls, spec: t.Optional[t.Mapping[str, t.Any]], default_updates: int = 40) -> 'CatalogOptions':
        """Build options from a lab spec's ``catalog`` mapping (unknown keys are ignored)."""
        spec = dict(spec or {})
        kwargs: dict[str, t.Any] = {'updates': int(spec.get('updates', default_updates))}
        if 'seed' in spec:
            kwargs['seed'] = str(spec['seed'])
        if spec.get('files') is not None:
            kwargs['files'] = int(spec['files'])
        if 'languages' in spec:
            kwargs['languages'] = tuple(str(code).lower() for code in spec['languages'])
        for key in ('file_size_min', 'file_size_max'):
            if key in spec:
                kwargs[key] = int(spec[key])
        for key in ('express_ratio', 'eula_ratio', 'superseded_ratio', 'declined_ratio', 'approved_ratio'):
            if key in spec:
                kwargs[key] = float(spec[key])
        options = cls(**kwargs)
        unknown = set(options.languages) - C.LANGUAGE_CODES
        if unknown:
            raise ValueError(f'catalog.languages has codes WSUS does not know: {sorted(unknown)}; use lowercase RFC 1766 codes such as en, de, pt-br')
        if options.file_size_min < 64 or options.file_size_max < options.file_size_min:
            raise ValueError('catalog.file_size_min must be at least 64 bytes and no larger than file_size_max')
        return options


@dataclasses.dataclass
class CatalogFile:
    """One file of an update revision, with its bytes."""

    digest: bytes
    sha256: bytes
    name: str
    size: int
    kind: str
    """``main``, ``eula``, ``express`` or ``language``."""
    language: str
    """Lowercase language code, or ``''`` for a language-neutral file."""
    modified: datetime.datetime
    data: bytes = dataclasses.field(repr=False, default=b'')

    @property
    def is_eula(self) -> bool:
        return self.kind == 'eula'

    @property
    def is_express(self) -> bool:
        return self.kind == 'express'

    @property
    def hex(self) -> str:
        return self.digest.hex().upper()

    @property
    def folder(self) -> str:
        """The WsusContent sub-folder: the digest's last byte, two upper-case hex digits."""
        return '%02X' % self.digest[-1]


@dataclasses.dataclass
class CatalogUpdate:
    """One update (its latest revision) as the upstream server publishes it."""

    index: int
    update_id: str
    revision: int
    title: str
    description: str
    kb: str
    security_bulletin: t.Optional[str]
    msrc_severity: t.Optional[str]
    classification_id: str
    product_id: str
    update_type: str
    creation_date: datetime.datetime
    files: list[CatalogFile]
    supersedes: list[str]
    declined: bool
    approved_group: t.Optional[str]
    """Target group an export server approves it for initially, or None."""

    @property
    def languages(self) -> list[str]:
        return sorted({f.language for f in self.files if f.language})


LAB_GROUPS = (
    # (id, name, parent)
    ('6B1F3F1E-7D6B-4E39-9C52-1A2B3C4D5E01', 'Servers', C.ALL_COMPUTERS),
    ('6B1F3F1E-7D6B-4E39-9C52-1A2B3C4D5E02', 'Workstations', C.ALL_COMPUTERS),
    ('6B1F3F1E-7D6B-4E39-9C52-1A2B3C4D5E03', 'Pilot', '6B1F3F1E-7D6B-4E39-9C52-1A2B3C4D5E01'),
)


def _rng(seed: str, *parts: t.Any) -> random.Random:
    # random.Random seeds a str through SHA-512: stable across runs and platforms.
    return random.Random('airgap-wsus-lab/' + '/'.join([seed] + [str(p) for p in parts]))


def guid_for(seed: str, *parts: t.Any) -> str:
    """A stable upper-case GUID for ``parts`` under ``seed``."""
    digest = hashlib.sha1(('airgap-wsus-lab/' + '/'.join([seed] + [str(p) for p in parts])).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4)).upper()


@functools.lru_cache(maxsize=4096)
def product_of(seed: str, index: int) -> tuple[str, str, str]:
    """The product ``(id, title, main extension)`` of update ``index``."""
    return _rng(seed, index, 'product').choice(C.PRODUCTS)


def file_count(options: CatalogOptions, index: int) -> int:
    """How many file references update ``index`` has (see module doc)."""
    ratio = options.files_per_update
    return math.floor((index + 1) * ratio + 1e-9) - math.floor(index * ratio + 1e-9)


def _payload(header: str, size: int, rng: random.Random) -> bytes:
    head = header.encode('ascii')
    return head + rng.randbytes(max(0, size - len(head)))


def _make_file(data: bytes, ext: str, kind: str, language: str, modified: datetime.datetime) -> CatalogFile:
    sha1 = hashlib.sha1(data).digest()
    return CatalogFile(digest=sha1, sha256=hashlib.sha256(data).digest(), name=sha1.hex().upper() + ext,
                       size=len(data), kind=kind, language=language, modified=modified, data=data)


def eula_file(seed: str, product_id: str, modified: datetime.datetime) -> CatalogFile:
    """The EULA every update of ``product_id`` shares (one file, many references)."""
    title = C.PRODUCT_TITLES[product_id]
    text = (f'MICROSOFT SOFTWARE LICENSE TERMS\r\n{title.upper()}\r\n\r\n'
            f'These license terms are an agreement between Microsoft Corporation and you.\r\n'
            f'(airgap.wsus lab catalog {seed}: this text stands in for the real terms.)\r\n')
    return _make_file(text.encode('utf-8'), '.txt', 'eula', '', modified)


def _title(rng: random.Random, product_title: str, classification_title: str, kb: str, created: datetime.datetime) -> str:
    if classification_title == 'Definition Updates':
        return f'Security Intelligence Update for {product_title} - KB2267602 (Version 1.{300 + rng.randint(0, 99)}.{rng.randint(0, 9999)}.0)'
    if classification_title == 'Security Updates' and product_title.startswith('Windows'):
        return f'{created:%Y-%m} Cumulative Update for {product_title} for x64-based Systems (KB{kb})'
    if product_title.startswith('Office'):
        return f'{classification_title[:-1]} for Microsoft {product_title} (KB{kb}) 64-Bit Edition'
    return f'{classification_title[:-1]} for {product_title} (KB{kb})'


def generate_update(options: CatalogOptions, index: int) -> CatalogUpdate:
    """Update ``index`` of the catalog, with its files' bytes."""
    seed = options.seed
    rng = _rng(seed, index)
    product_id, product_title, main_ext = product_of(seed, index)
    if product_title == 'Microsoft Defender Antivirus':
        classification_id = 'E0789628-CE08-4437-BE74-2495B842F43B'
    else:
        classification_id = rng.choice([cid for cid, title in C.CLASSIFICATIONS if title != 'Definition Updates'])
    classification_title = C.CLASSIFICATION_TITLES[classification_id]
    created = options.start + datetime.timedelta(hours=3 * index, minutes=rng.randint(0, 170))
    kb = str(4480000 + index) if classification_title != 'Definition Updates' else '2267602'
    security = classification_title == 'Security Updates'
    update_id = guid_for(seed, 'update', index)
    revision = 100 + rng.randint(0, 150)

    files: list[CatalogFile] = []
    slots = file_count(options, index)
    has_eula = rng.random() < options.eula_ratio
    has_express = product_id in C.EXPRESS_PRODUCTS and rng.random() < options.express_ratio
    language_offset = rng.randrange(len(options.languages)) if options.languages else 0
    lang_count = 0
    for slot in range(slots):
        frng = _rng(seed, index, 'file', slot)
        if slot == 0:
            size = frng.randint(options.file_size_min, options.file_size_max)
            data = _payload(f'airgap.wsus lab payload {update_id} r{revision} main\r\n', size, frng)
            files.append(_make_file(data, main_ext, 'main', '', created))
        elif has_eula and not any(f.is_eula for f in files):
            files.append(eula_file(seed, product_id, options.start))
        elif has_express and not any(f.is_express for f in files):
            size = max(64, frng.randint(options.file_size_min, options.file_size_max) // 2)
            data = _payload(f'airgap.wsus lab express {update_id} r{revision}\r\n', size, frng)
            files.append(_make_file(data, '.psf', 'express', '', created))
        elif options.languages:
            language = options.languages[(language_offset + lang_count) % len(options.languages)]
            part = lang_count // len(options.languages)
            lang_count += 1
            size = frng.randint(options.file_size_min, options.file_size_max)
            data = _payload(f'airgap.wsus lab language {update_id} r{revision} {language} part{part}\r\n', size, frng)
            files.append(_make_file(data, '.cab', 'language', language, created))
        else:
            size = frng.randint(options.file_size_min, options.file_size_max)
            data = _payload(f'airgap.wsus lab payload {update_id} r{revision} part{slot}\r\n', size, frng)
            files.append(_make_file(data, main_ext, 'main', '', created))

    supersedes: list[str] = []
    if index > 0 and rng.random() < options.superseded_ratio:
        for older in range(index - 1, max(-1, index - 1 - MAX_SUPERSEDE_LOOKBACK), -1):
            if product_of(seed, older)[0] == product_id:
                supersedes.append(guid_for(seed, 'update', older))
                break

    declined = rng.random() < options.declined_ratio
    approved_group = None
    if not declined and rng.random() < options.approved_ratio:
        approved_group = rng.choice((C.ALL_COMPUTERS, C.ALL_COMPUTERS, LAB_GROUPS[0][0], LAB_GROUPS[2][0]))

    severity = rng.choice(('Critical', 'Important', 'Moderate')) if security else None
    title = _title(rng, product_title, classification_title, kb, created)
    return CatalogUpdate(
        index=index, update_id=update_id, revision=revision, title=title,
        description=f'Install this update to resolve issues in {product_title}. (airgap.wsus lab catalog {seed}, update {index})',
        kb=kb, security_bulletin=None, msrc_severity=severity, classification_id=classification_id,
        product_id=product_id, update_type='Software', creation_date=created, files=files,
        supersedes=supersedes, declined=declined, approved_group=approved_group)


def generate(options: CatalogOptions, start: int = 0, count: t.Optional[int] = None) -> t.Iterator[CatalogUpdate]:
    """Updates ``start`` to ``start + count - 1`` (default: the whole catalog)."""
    end = options.updates if count is None else start + count
    for index in range(start, end):
        yield generate_update(options, index)


def find_file(options: CatalogOptions, index: int, digest: bytes) -> t.Optional[CatalogFile]:
    """Rebuild the file ``digest`` of update ``index`` (None when it has no such file)."""
    for candidate in generate_update(options, index).files:
        if candidate.digest == digest:
            return candidate
    return None
