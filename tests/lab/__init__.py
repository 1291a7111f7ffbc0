"""An emulated WSUS lab: WS-Management servers on loopback backed by emulated Windows hosts.

Real pywinrm and Ansible's ``winrm`` connection plugin talk to it unchanged. Sub-packages:

- ``wsman``: the WS-Management server (Shell resource, Basic/NTLM/HTTPS, WinRM limits, faults);
- ``windows``, ``exe``, ``ops``: the emulated Windows host;
- ``wsus``: the emulated WSUS server.

``lab.Lab`` builds hosts from a spec (``spec.py``) and serves them; ``cli.py`` runs a lab in a
background process. See ``docs/lab.md``.

Code here uses relative imports only, so the package works both as
``ansible_collections.airgap.wsus.tests.lab`` and as ``lab`` (how ``cli.py`` imports it).
"""
