r"""A small Windows registry: keys (case-insensitive, case-preserving) holding typed values.

Keys are written as Windows tools write them: ``HKLM\SOFTWARE\...``,
``HKEY_LOCAL_MACHINE\SOFTWARE\...``, or PowerShell's ``HKLM:\SOFTWARE\...`` and
``Registry::HKEY_LOCAL_MACHINE\...``. The store is saved as JSON after each change (when given
a file) so a test or a person can look at it.
"""
from __future__ import annotations

import json
import pathlib
import threading
import typing as t

from .errors import ERROR_FILE_NOT_FOUND, WinError
from .paths import fold

WSUS_SETUP_KEY = r'HKLM\SOFTWARE\Microsoft\Update Services\Server\Setup'

_HIVES = {
    'HKLM': 'HKEY_LOCAL_MACHINE', 'HKEY_LOCAL_MACHINE': 'HKEY_LOCAL_MACHINE',
    'HKCU': 'HKEY_CURRENT_USER', 'HKEY_CURRENT_USER': 'HKEY_CURRENT_USER',
    'HKCR': 'HKEY_CLASSES_ROOT', 'HKEY_CLASSES_ROOT': 'HKEY_CLASSES_ROOT',
    'HKU': 'HKEY_USERS', 'HKEY_USERS': 'HKEY_USERS',
}
KINDS = ('REG_SZ', 'REG_EXPAND_SZ', 'REG_DWORD', 'REG_QWORD', 'REG_MULTI_SZ', 'REG_BINARY')
_MISSING = object()


def normalize_key(key: str) -> str:
    """``HKLM:\\Software\\X`` -> ``HKEY_LOCAL_MACHINE\\Software\\X`` (case kept below the hive)."""
    text = key.strip()
    if fold(text).startswith('REGISTRY::'):
        text = text[len('Registry::'):]
    text = text.replace('/', '\\').strip('\\')
    hive, _sep, rest = text.partition('\\')
    hive = hive.rstrip(':')
    full = _HIVES.get(fold(hive))
    if full is None:
        raise ValueError('unknown registry hive in %r: use HKLM, HKCU, HKCR or HKU' % key)
    parts = [p for p in rest.split('\\') if p]
    return '\\'.join([full] + parts)


def infer_kind(value: t.Any) -> str:
    if isinstance(value, bool):
        return 'REG_DWORD'
    if isinstance(value, int):
        return 'REG_DWORD' if 0 <= value <= 0xFFFFFFFF else 'REG_QWORD'
    if isinstance(value, (bytes, bytearray)):
        return 'REG_BINARY'
    if isinstance(value, (list, tuple)):
        return 'REG_MULTI_SZ'
    return 'REG_SZ'


class Registry:
    """Keys -> values. ``REG_DWORD`` values are ints, ``REG_MULTI_SZ`` lists of strings."""

    def __init__(self, save_to: t.Optional[pathlib.Path] = None) -> None:
        self._lock = threading.RLock()
        self._keys: t.Dict[str, t.Tuple[str, t.Dict[str, t.Tuple[str, t.Any, str]]]] = {}
        self._file = save_to
        if save_to is not None and save_to.exists():
            self._load(save_to)

    # -- keys ------------------------------------------------------------------------------
    def create_key(self, key: str) -> None:
        with self._lock:
            full = normalize_key(key)
            parts = full.split('\\')
            for i in range(1, len(parts) + 1):
                sub = '\\'.join(parts[:i])
                self._keys.setdefault(fold(sub), (sub, {}))
            self._save()

    def key_exists(self, key: str) -> bool:
        with self._lock:
            return fold(normalize_key(key)) in self._keys

    def subkeys(self, key: str) -> t.List[str]:
        with self._lock:
            prefix = fold(normalize_key(key)) + '\\'
            names = {self._keys[k][0].split('\\')[prefix.count('\\')] for k in self._keys if k.startswith(prefix)}
            return sorted(names, key=fold)

    def delete_key(self, key: str) -> None:
        with self._lock:
            target = fold(normalize_key(key))
            for k in [k for k in self._keys if k == target or k.startswith(target + '\\')]:
                del self._keys[k]
            self._save()

    # -- values ----------------------------------------------------------------------------
    def set_value(self, key: str, name: str, value: t.Any, kind: t.Optional[str] = None) -> None:
        kind = kind or infer_kind(value)
        if kind not in KINDS:
            raise ValueError('unknown registry value type %r: use one of %s' % (kind, ', '.join(KINDS)))
        if kind in ('REG_DWORD', 'REG_QWORD'):
            value = int(value)
        elif kind == 'REG_MULTI_SZ':
            value = [str(v) for v in value]
        elif kind == 'REG_BINARY':
            value = bytes(value)
        else:
            value = str(value)
        with self._lock:
            self.create_key(key)
            self._keys[fold(normalize_key(key))][1][fold(name)] = (name, value, kind)
            self._save()

    def get_value(self, key: str, name: str, default: t.Any = _MISSING) -> t.Any:
        """The value, or ``default``; without a default a missing value is ERROR_FILE_NOT_FOUND."""
        with self._lock:
            entry = self._keys.get(fold(normalize_key(key)))
            if entry is not None and fold(name) in entry[1]:
                return entry[1][fold(name)][1]
        if default is _MISSING:
            raise WinError(ERROR_FILE_NOT_FOUND, '%s\\%s' % (key, name))
        return default

    def get_kind(self, key: str, name: str) -> t.Optional[str]:
        with self._lock:
            entry = self._keys.get(fold(normalize_key(key)))
            found = entry[1].get(fold(name)) if entry else None
            return found[2] if found else None

    def values(self, key: str) -> t.Dict[str, t.Any]:
        """All values of a key by their stored names (empty when the key does not exist)."""
        with self._lock:
            entry = self._keys.get(fold(normalize_key(key)))
            return {} if entry is None else {n: v for n, v, _kind in entry[1].values()}

    def delete_value(self, key: str, name: str) -> None:
        with self._lock:
            entry = self._keys.get(fold(normalize_key(key)))
            if entry is not None:
                entry[1].pop(fold(name), None)
                self._save()

    # -- persistence -------------------------------------------------------------------------
    def _save(self) -> None:
        if self._file is None:
            return
        data = {}
        for display, vals in sorted(self._keys.values()):
            data[display] = {n: {'type': k, 'value': v.hex() if isinstance(v, bytes) else v} for n, v, k in vals.values()}
        tmp = self._file.with_suffix('.tmp')
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding='utf-8')
        tmp.replace(self._file)

    def _load(self, path: pathlib.Path) -> None:
        data = json.loads(path.read_text(encoding='utf-8'))
        for key, vals in data.items():
            self.create_key(key)
            for name, item in vals.items():
                value = bytes.fromhex(item['value']) if item['type'] == 'REG_BINARY' else item['value']
                self.set_value(key, name, value, item['type'])
