"""The project's quality gates, run by ``make test`` through ``tests/tools/check.py``.

Modules in this package import each other relatively, so the package works both as ``tools``
(the ``check.py`` launcher puts ``tests/`` on ``sys.path``) and as
``ansible_collections.airgap.wsus.tests.tools`` (how the unit tests import it).
"""
