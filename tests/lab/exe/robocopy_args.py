r"""robocopy.exe's command line and job files (``/JOB:file``).

``robocopy <source> <destination> [<file>...] [/switch[:value]]...``: the first two
non-switch arguments are the folders, further ones file names or wildcards (default
``*.*``). Switches are case-insensitive. ``/IF``, ``/XF`` and ``/XD`` take the arguments that
follow them, up to the next switch. A job file holds one switch per line (``/R:2``,
``/SD:C:\src\``), ``::`` starts a comment, and the lines after ``/IF``/``/XF``/``/XD`` are
their items. An unknown switch is ``ERROR : Invalid Parameter #n : "/X"``; a bad job file
line ``ERROR : Invalid Job File, Line #n :"..."``; both end with exit code 16.
"""
from __future__ import annotations

import dataclasses
import re
import typing as t

# Real robocopy switches this emulation does not implement: refused with a clear message
# rather than mistaken for typos.
REAL_NOT_EMULATED = frozenset([
    'LEV', 'B', 'ZB', 'EFSRAW', 'SEC', 'COPYALL', 'NOCOPY', 'SECFIX', 'TIMFIX', 'MOV', 'MOVE', 'A+', 'A-', 'CREATE',
    'FAT', '256', 'MON', 'MOT', 'RH', 'PF', 'IPG', 'SJ', 'SL', 'NODCOPY', 'NOOFFLOAD', 'COMPRESS', 'SPARSE', 'NOCLONE',
    'IOMAXSIZE', 'IORATE', 'THRESHOLD', 'A', 'M', 'IA', 'XA', 'IT', 'MAX', 'MIN', 'MAXAGE', 'MINAGE', 'MAXLAD', 'MINLAD',
    'DST', 'XJ', 'XJD', 'XJF', 'IM', 'REG', 'TBD', 'LFSM', 'X', 'TS', 'UNICODE', 'SAVE', 'QUIT', 'NOSD', 'NODD',
])
FLAGS = ('S', 'E', 'MIR', 'PURGE', 'Z', 'J', 'XO', 'XN', 'XC', 'XX', 'XL', 'IS', 'L', 'V', 'FP', 'NS', 'NC', 'NP', 'NFL',
         'NDL', 'NJH', 'NJS', 'BYTES', 'TEE', 'FFT', 'ETA')
LISTS = ('IF', 'XF', 'XD')


class UsageError(Exception):
    """What robocopy says about a command line or job file it refuses."""

    def __init__(self, line: str, note: t.Optional[str] = None) -> None:
        super().__init__(line)
        self.line = line
        self.note = note
        self.opts: t.Optional['Options'] = None     # what was parsed before the error
        self.positional: t.List[str] = []


@dataclasses.dataclass
class Options:
    source: t.Optional[str] = None
    dest: t.Optional[str] = None
    files: t.List[str] = dataclasses.field(default_factory=list)
    flags: t.Set[str] = dataclasses.field(default_factory=set)
    mt: t.Optional[int] = None
    retries: int = 1000000
    wait: int = 30
    copy: str = 'DAT'
    dcopy: str = 'DA'
    log: t.Optional[str] = None
    log_append: bool = False
    log_unicode: bool = False
    exclude_files: t.List[str] = dataclasses.field(default_factory=list)
    exclude_dirs: t.List[str] = dataclasses.field(default_factory=list)
    job: t.Optional[str] = None

    def has(self, flag: str) -> bool:
        return flag in self.flags

    @property
    def recurse(self) -> bool:
        return bool(self.flags & {'S', 'E', 'MIR'})

    @property
    def empty_dirs(self) -> bool:
        return bool(self.flags & {'E', 'MIR'})

    @property
    def purge(self) -> bool:
        return bool(self.flags & {'PURGE', 'MIR'})

    @property
    def file_specs(self) -> t.List[str]:
        return self.files or ['*.*']

    def options_line(self) -> str:
        """The ``Options :`` header line, in robocopy's own order."""
        words = list(self.file_specs)
        for flag in ('V', 'FP', 'NS', 'NC', 'NDL', 'NFL', 'L', 'TEE', 'NJH', 'NJS'):
            if self.has(flag):
                words.append('/' + flag)
        if self.recurse:
            words.append('/S')
        if self.empty_dirs:
            words.append('/E')
        words += ['/DCOPY:' + self.dcopy, '/COPY:' + self.copy]
        if self.purge:
            words.append('/PURGE')
        for flag in ('MIR', 'Z', 'J', 'XO', 'XN', 'XC', 'XX', 'XL', 'IS', 'FFT', 'NP', 'BYTES', 'ETA'):
            if self.has(flag):
                words.append('/' + flag)
        if self.mt is not None:
            words.append('/MT:%d' % self.mt)
        words += ['/R:%d' % self.retries, '/W:%d' % self.wait]
        return ' '.join(words) + ' '


def _split_switch(arg: str) -> t.Tuple[str, t.Optional[str]]:
    body = arg[1:]
    name, sep, value = body.partition(':')
    return name.upper(), (value if sep else None)


def apply_switch(opts: Options, arg: str) -> t.Optional[str]:
    """Apply one switch; returns the list it opens (``IF``/``XF``/``XD``) or None.

    Raises ValueError for a switch robocopy would refuse, :class:`UsageError` for a real one
    the lab does not emulate."""
    name, value = _split_switch(arg)
    if name in FLAGS and value is None:
        opts.flags.add(name)
        return None
    if name in LISTS and value is None:
        return name
    if name == 'MT':
        if value is None:
            opts.mt = 8
        elif re.fullmatch(r'\d+', value) and 1 <= int(value) <= 128:
            opts.mt = int(value)
        else:
            raise ValueError(arg)
        return None
    if name in ('R', 'W'):
        if value is None or not re.fullmatch(r'\d+', value):
            raise ValueError(arg)
        if name == 'R':
            opts.retries = int(value)
        else:
            opts.wait = int(value)
        return None
    if name in ('COPY', 'DCOPY'):
        allowed = 'DATSOUX' if name == 'COPY' else 'DATEX'
        if not value or any(ch not in allowed for ch in value.upper()):
            raise ValueError(arg)
        setattr(opts, name.lower(), value.upper())
        return None
    if name in ('LOG', 'LOG+', 'UNILOG', 'UNILOG+'):
        if not value:
            raise ValueError(arg)
        opts.log = value
        opts.log_append = name.endswith('+')
        opts.log_unicode = name.startswith('UNI')
        return None
    if name in ('SD', 'DD') and value:
        if name == 'SD':
            opts.source = value
        else:
            opts.dest = value
        return None
    if name == 'JOB' and value:
        opts.job = value
        return None
    if name in REAL_NOT_EMULATED:
        raise UsageError(arg, 'robocopy switch %s is real, but the airgap.wsus lab does not emulate it' % arg)
    raise ValueError(arg)


def parse_command_line(args: t.Sequence[str], read_job: t.Callable[[str], str]) -> Options:
    """Parse robocopy's arguments (after the program name); ``read_job`` reads a job file's text."""
    opts = Options()
    positional: t.List[str] = []
    try:
        _parse_into(opts, args, positional, read_job)
    except UsageError as exc:
        exc.opts = opts
        exc.positional = positional
        raise
    for value in positional:
        if opts.source is None:
            opts.source = value
        elif opts.dest is None:
            opts.dest = value
        else:
            opts.files.append(value)
    return opts


def _parse_into(opts: Options, args: t.Sequence[str], positional: t.List[str],
                read_job: t.Callable[[str], str]) -> None:
    current_list: t.Optional[str] = None
    for number, arg in enumerate(args, 1):
        if arg.startswith('/'):
            try:
                current_list = apply_switch(opts, arg)
            except ValueError:
                raise UsageError('ERROR : Invalid Parameter #%d : "%s"' % (number, arg)) from None
            except UsageError as exc:
                raise UsageError('ERROR : Invalid Parameter #%d : "%s"' % (number, arg), exc.note) from None
            if _split_switch(arg)[0] == 'JOB':
                parse_job_file(opts, read_job(t.cast(str, opts.job)))
            continue
        if current_list is not None:
            _list_for(opts, current_list).append(arg)
        else:
            positional.append(arg)


def _list_for(opts: Options, name: str) -> t.List[str]:
    return {'IF': opts.files, 'XF': opts.exclude_files, 'XD': opts.exclude_dirs}[name]


def parse_job_file(opts: Options, text: str) -> None:
    """Apply a job file's switches and lists to ``opts``."""
    current_list: t.Optional[str] = None
    for number, raw in enumerate(text.splitlines(), 1):
        content = raw.split('::', 1)[0].strip()
        if not content:
            continue
        if content.startswith('/'):
            try:
                current_list = apply_switch(opts, content)
            except (ValueError, UsageError) as exc:
                raise UsageError('ERROR : Invalid Job File, Line #%d :"%s"' % (number, raw.rstrip('\r\n')),
                                 getattr(exc, 'note', None)) from None
            continue
        if current_list is None:
            raise UsageError('ERROR : Invalid Job File, Line #%d :"%s"' % (number, raw.rstrip('\r\n')))
        _list_for(opts, current_list).append(content)


def decode_job_file(data: bytes) -> str:
    """Job files are ANSI, or Unicode with a byte-order mark."""
    if data.startswith(b'\xff\xfe'):
        return data[2:].decode('utf-16-le', errors='replace')
    if data.startswith(b'\xef\xbb\xbf'):
        return data[3:].decode('utf-8', errors='replace')
    return data.decode('cp1252', errors='replace')
