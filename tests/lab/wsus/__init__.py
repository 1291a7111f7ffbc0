"""The emulated WSUS server of a lab host.

- ``server.py``: :class:`~.server.WsusServer` (configuration, catalog, approvals, file states,
  WsusUtil work) and ``attach_wsus(host, spec_entry)``; ``hostbinding.py`` installs the role on
  an emulated Windows host (registry, content folder, service, ``WsusUtil.exe``);
- ``susdb.py``, ``schema.py``: the SUSDB in SQLite with the real table, column and view names;
  ``odbc.py`` and ``sqlite_ext/``: ODBC access with ``dbo.`` and ``PUBLIC_VIEWS.`` names;
- ``catalog.py``: the upstream catalog, deterministic from a seed; ``content.py``: WsusContent;
- ``configuration.py``, ``errors.py``: ``IUpdateServerConfiguration`` and its ``Save()`` rules;
- ``package.py``: the WsusUtil export package.

The twins ``ops/server_state.py``, ``ops/config_set.py``, ``ops/susdb_query.py`` and the
program ``exe/wsusutil.py`` are built on it.
"""
from __future__ import annotations
