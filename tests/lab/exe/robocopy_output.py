r"""robocopy.exe's output formats, from its en-US string table.

- header: the banner (79 dashes), ``Started``, ``Source``, ``Dest``, ``Files``, ``Options``,
  then a 78-dash line;
- a folder line: ``\t<class, 12><file count, 8>\t<path>`` (``  New Dir   ``, blank, or
  ``*EXTRA Dir  `` with a count of -1); a file line: ``\t  <class, 12>\t\t<size, 8>\t<name>``
  (``*EXTRA File`` lines lack the two spaces);
- errors: ``YYYY/MM/DD hh:mm:ss ERROR <n> (0x<8 hex>) <action> <path>`` then the system text;
- the summary: right-aligned 10-character columns; sizes as ``17.473 g`` unless ``/BYTES``.
"""
from __future__ import annotations

import datetime
import typing as t

BANNER = ('-------------------------------------------------------------------------------\n'
          '   ROBOCOPY     ::     Robust File Copy for Windows                              \n'
          '-------------------------------------------------------------------------------\n')
RULE = '------------------------------------------------------------------------------\n'
SIMPLE_USAGE = ('       Simple Usage :: ROBOCOPY source destination /MIR\n\n'
                '             source :: Source Directory (drive:\\path or \\\\server\\share\\path).\n'
                '        destination :: Destination Dir  (drive:\\path or \\\\server\\share\\path).\n'
                '               /MIR :: Mirror a complete directory tree.\n\n'
                '    For more usage information run ROBOCOPY /?\n\n\n'
                '****  /MIR can DELETE files as well as copy them !\n')

# file classes: copied (41xx) and skipped (42xx) spellings
COPIED = {'new': '  New File  ', 'newer': '  Newer     ', 'older': '  Older     ', 'changed': '  Changed   ',
          'same': '  Same      ', 'mismatch': '*MISMATCH   '}
SKIPPED = {'new': '      lonely', 'newer': '       newer', 'older': '       older', 'changed': '     changed',
           'same': '        same', 'mismatch': '*MISMATCH   '}
EXTRA_FILE = '*EXTRA File '
NEW_DIR = '  New Dir   '
EXTRA_DIR = '*EXTRA Dir  '
DIR_MISMATCH = '*MISMATCH   '
_UNITS = ' kmgt'


def long_date(moment: datetime.datetime) -> str:
    """``Tuesday, March 5, 2024 10:15:32 AM`` (en-US long date and time)."""
    hour = moment.hour % 12 or 12
    return '%s, %s %d, %d %d:%02d:%02d %s' % (
        moment.strftime('%A'), moment.strftime('%B'), moment.day, moment.year, hour, moment.minute, moment.second,
        'AM' if moment.hour < 12 else 'PM')


def header(started: datetime.datetime, source: str, dest: str, files: t.Sequence[str], options: str,
           exclude_files: t.Sequence[str] = (), exclude_dirs: t.Sequence[str] = (), valid: bool = True) -> str:
    sep = ':' if valid else '-'
    out = [BANNER, '\n', '  Started : %s\n' % long_date(started), '   Source %s %s\n' % (sep, source),
           '     Dest %s %s\n' % (sep, dest), '\n']
    out.append(_listing('    Files : ', files))
    if exclude_files:
        out.append(_listing('Exc Files : ', exclude_files))
    if exclude_dirs:
        out.append(_listing(' Exc Dirs : ', exclude_dirs))
    out.append('  Options : %s\n\n' % options)
    out.append(RULE)
    return ''.join(out)


def _listing(label: str, items: t.Sequence[str]) -> str:
    lines = [label + (items[0] if items else '') + '\n']
    lines += ['\t    %s\n' % item for item in items[1:]]
    lines.append('\t    \n')
    return ''.join(lines)


def size_text(value: int, exact: bool, threshold: int = 1024) -> str:
    """A size as robocopy shows it: exact with /BYTES or below ``threshold``, else ``38.1 k``."""
    if exact or value < threshold:
        return str(value)
    unit = 0
    scaled = float(value)
    while scaled >= 1024 and unit < len(_UNITS) - 1:
        scaled /= 1024
        unit += 1
    text = ('%.3f' % scaled).rstrip('0')
    if text.endswith('.'):
        text += '0'
    return '%s %s' % (text, _UNITS[unit])


def dir_line(klass: str, count: int, path: str) -> str:
    return '\t%s%8d\t%s\n' % (klass, count, path)


def file_line(klass: str, size: t.Optional[str], name: str, extra: bool = False) -> str:
    size_field = '%8s' % size if size is not None else ''
    if extra:
        return '\t%s\t\t%s\t%s\n' % (klass, size_field, name)
    return '\t  %s\t\t%s\t%s\n' % (klass, size_field, name)


def error_lines(moment: datetime.datetime, code: int, action: str, path: str, message: str) -> str:
    return '%d/%02d/%02d %02d:%02d:%02d ERROR %d (0x%08X) %s %s\n%s\n' % (
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, code, code, action, path,
        message)


def duration(seconds: float) -> str:
    whole = int(seconds)
    return '%d:%02d:%02d' % (whole // 3600, whole // 60 % 60, whole % 60)


def summary(dirs: t.Sequence[int], files: t.Sequence[int], nbytes: t.Sequence[int], times: t.Sequence[float],
            exact: bool, speed: t.Optional[t.Tuple[int, float]], ended: datetime.datetime) -> str:
    """The job summary table. ``times`` are total, copied, failed, extras (seconds);
    ``speed`` is (bytes per second, megabytes per minute) or None to leave the lines out."""
    def row(label: str, values: t.Sequence[str]) -> str:
        # Each cell is a space and the value right-aligned in 9: the 10-character columns of
        # the real table, where a 10-digit byte count (/BYTES, 1 GB and up) still stays apart
        # from its neighbour, as in robocopy logs of large copies.
        return '%10s' % label + ''.join(' %9s' % v for v in values) + '\n'
    out = [RULE, '\n',
           row('', ['Total', 'Copied', 'Skipped', 'Mismatch', 'FAILED', 'Extras']),
           row('Dirs :', [str(v) for v in dirs]),
           row('Files :', [str(v) for v in files]),
           row('Bytes :', [size_text(v, exact) for v in nbytes]),
           row('Times :', [duration(times[0]), duration(times[1]), '', '', duration(times[2]), duration(times[3])])]
    if speed is not None:
        out.append('   Speed :%20d Bytes/sec.\n' % speed[0])
        out.append('   Speed :%20.3f MegaBytes/min.\n' % speed[1])
    out.append('   Ended : %s\n\n' % long_date(ended))
    return ''.join(out)
