"""Fixtures of the reliability suite: bundles built once per session, copied onto each test's own lab.

Building a bundle takes an export run; most import-side tests only need a bundle on the medium.
``bundles`` builds them in one lab of the default spec kept for the test session (per xdist
worker), each the first time a test asks for it:

- ``plant-a-000001``: the full bundle for ``plant-a`` (sequence 1);
- ``plant-a-000002``, ``plant-a-000003``: incremental bundles built without a receipt (base 1
  and 2), each after 20 new updates arrived upstream;
- ``plant-v-000001``: a full bundle for ``plant-v`` in four volumes;
- ``plant-b-000001``: a full bundle for ``plant-b``, another destination.

Every lab of the default spec knows the same catalog (same seed), so these bundles import on
any test's fresh import server. ``bundles.put(lab, 'plant-a-000001', ...)`` copies folders onto
that lab's medium under ``E:\\airgap``; ``bundles.catalogs[name]`` is what its package carries.
"""
from __future__ import annotations

import os
import shutil
import typing as t

import pytest

from ansible_collections.airgap.wsus.tests.integration import playbook as pb
from ansible_collections.airgap.wsus.tests.integration.reliability import reliability_helpers as rel

HMAC = rel.HMAC_KEY
PACKAGE = 'D:\\WSUS\\airgap-wsus-export.xml.gz'
SPLIT = 'plant-v-000001'
OTHER = 'plant-b-000001'


def _export_tasks(path: str, destination: str = rel.DESTINATION, export: bool = True, **options: t.Any) -> list:
    tasks = []
    if export:
        tasks.append({'name': 'Export', 'airgap.wsus.metadata': {'state': 'exported', 'package': PACKAGE}})
    args = {'state': 'built', 'path': path, 'destination': destination, 'package': PACKAGE, 'signing_key': '{{ key }}',
            'verify_keys': ['{{ key }}']}
    args.update(options)
    tasks.append({'name': f'Build {path} {destination}', 'airgap.wsus.bundle': args})
    return [{'hosts': pb.EXPORT, 'gather_facts': False, 'module_defaults': rel.FAST_JOBS, 'tasks': tasks}]


class Bundles:
    """Bundles built on demand in one export lab kept for the session, and the means to put them on a test's medium.

    ``plant-a-000001`` is built at once (nearly every test needs it); the others when first asked for.
    """

    def __init__(self, work: str) -> None:
        self.folder = os.path.join(work, 'cache')
        # bundle folder name -> the UpdateIDs its metadata package carries
        self.catalogs: dict = {}
        self._lab = pb.start_lab(pb.default_spec(), os.path.join(work, 'lab'))
        self._lab.export.host.fs.mkdir(rel.TRANSFER)
        self._exported: set = set()
        self._build(rel.TRANSFER, ['plant-a-000001'])

    def stop(self) -> None:
        self._lab.stop()

    def _build(self, root: str, names: list, export: bool = True, **options: t.Any) -> None:
        """Export the metadata (when asked), build one bundle under ``root`` and keep every bundle ``names`` lists."""
        wsus = self._lab.wsus(pb.EXPORT)
        self._lab.run_playbook(_export_tasks(root, export=export, **options), extra_vars={'key': HMAC})
        if export:
            self._exported = set(wsus.update_ids())
        for name in names:
            target = os.path.join(self.folder, name)
            if not os.path.exists(target):
                shutil.copytree(os.path.join(self._lab.sandbox_path(pb.EXPORT, root), os.path.basename(name)), target)
                self.catalogs[os.path.basename(name)] = set(self._exported)

    def _ensure(self, name: str) -> None:
        if os.path.exists(self.path(name)):
            return
        if name in ('plant-a-000002', 'plant-a-000003'):
            wsus = self._lab.wsus(pb.EXPORT)
            for sequence in (2, 3):
                wsus.synchronize(new_updates=20)
                wsus.finish_downloads()
                self._build(rel.TRANSFER, [f'plant-a-{sequence:06d}'])
        elif name == SPLIT:
            self._build('E:\\split', [SPLIT], export=False, destination='plant-v', volume_size='1150KB')
        elif name == OTHER:
            self._build('E:\\other', [OTHER], export=False, destination='plant-b')
        else:
            raise KeyError(f'no cached bundle {name}')

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def content(self, name: str) -> dict:
        """``{path relative to WsusContent: sha256}`` of the content files bundle ``name`` carries (every volume)."""
        self._ensure(name)
        found = {}
        for path, digest in rel.file_digests(self.path(name)).items():
            parts = path.split('/')
            if len(parts) > 2 and parts[1] == 'WsusContent':
                found['/'.join(parts[2:])] = digest
        return found

    def put(self, lab: pb.WsusLab, *names: str, target: str = rel.TRANSFER, host: str = pb.IMPORT) -> None:
        """Copy cached bundle folders onto the medium of ``host`` under ``target`` (the medium carried across)."""
        real = lab.sandbox_path(host, target)
        for name in names:
            self._ensure(name)
            shutil.copytree(self.path(name), os.path.join(real, name))
        for handle in lab.hosts.values():
            handle.host.fs.invalidate_usage()


@pytest.fixture(scope='session')
def bundles(tmp_path_factory: t.Any) -> t.Iterator[Bundles]:
    cache = Bundles(str(tmp_path_factory.mktemp('reliability-bundles')))
    try:
        yield cache
    finally:
        cache.stop()


@pytest.fixture
def control() -> t.Iterator[t.Callable[[pb.WsusLab], t.Any]]:
    """``control(lab)``: the lab's control endpoint (``tests/lab/control.py``), started for this test."""
    from ansible_collections.airgap.wsus.tests.lab.control import ControlServer  # pylint: disable=import-outside-toplevel

    servers: list = []

    def start(lab: pb.WsusLab) -> t.Any:
        server = ControlServer(lab.lab, on_shutdown=lambda: None).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
