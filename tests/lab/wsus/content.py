"""The WsusContent folder of one server: ``<root>\\<XX>\\<SHA1>.<ext>`` on the host's drive.

``root`` is the real (sandbox) path of ``<ContentDir>\\WsusContent``. Writes go through
``writer`` when the host gives one (its drive model then counts capacity and can run out of
space); otherwise they go straight to disk.
"""
from __future__ import annotations

import hashlib
import os
import typing as t

Writer = t.Callable[[str, bytes], None]


def folder_of(name: str) -> str:
    """The sub-folder of a content file: the last two hex digits of its SHA-1 name."""
    stem = name.split('.', 1)[0]
    return stem[-2:].upper()


def _plain_write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.part'
    with open(tmp, 'wb') as handle:
        handle.write(data)
    os.replace(tmp, path)


class ContentStore:
    """Files of one WsusContent folder."""

    def __init__(self, root: str, writer: t.Optional[Writer] = None) -> None:
        self.root = root
        self._writer = writer or _plain_write
        os.makedirs(root, exist_ok=True)

    def set_writer(self, writer: t.Optional[Writer]) -> None:
        """Route later writes through ``writer(real_path, data)`` (None: straight to disk)."""
        self._writer = writer or _plain_write

    def path_for(self, name: str) -> str:
        return os.path.join(self.root, folder_of(name), name)

    def write(self, name: str, data: bytes) -> None:
        self._writer(self.path_for(name), data)

    def size_matches(self, name: str, size: int) -> bool:
        """True when the file exists with the expected size (a cheap presence check)."""
        try:
            return os.path.getsize(self.path_for(name)) == size
        except OSError:
            return False

    def verify(self, name: str, size: int) -> bool:
        """True when the file exists, has ``size`` bytes and hashes to its SHA-1 name."""
        path = self.path_for(name)
        try:
            if os.path.getsize(path) != size:
                return False
            digest = hashlib.sha1()
            with open(path, 'rb') as handle:
                for block in iter(lambda: handle.read(1 << 20), b''):
                    digest.update(block)
        except OSError:
            return False
        return digest.hexdigest().upper() == name.split('.', 1)[0].upper()

    def iter_files(self) -> t.Iterator[tuple[str, int]]:
        """``(relative path with backslashes, size)`` of every file under the root."""
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                full = os.path.join(folder, name)
                rel = os.path.relpath(full, self.root).replace(os.sep, '\\')
                yield rel, os.path.getsize(full)
