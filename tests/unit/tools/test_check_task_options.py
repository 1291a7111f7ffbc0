"""Options used with the collection's modules must be documented ones (ansible-lint skips action plugins)."""
from __future__ import annotations

from ansible_collections.airgap.wsus.tests.tools import task_options

MODULES = {'airgap.wsus.server_info': {'susdb', 'susdb_dsn', 'dsn'}, 'airgap.wsus.content_sync': {'source', 'destination'}}

PLAYBOOK = '''---
- name: Sync
  hosts: wsus
  module_defaults:
    group/airgap.wsus.wsus:
      susdb: true
      colour: blue
    airgap.wsus.content_sync:
      source: D:\\WSUS
  tasks:
    - name: Read the server
      airgap.wsus.server_info:
        dsn: x
        bogus: 1
    - name: Options under args
      airgap.wsus.content_sync:
      args:
        destination: E:\\WSUS
        destinaton: typo
    - name: Block
      block:
        - name: Nested
          airgap.wsus.server_info:
            susdb_dns: x
    - name: Other collections are not checked
      ansible.builtin.debug:
        anything: 1
'''


def test_unknown_options_are_reported_where_they_are_used():
    findings = task_options.yaml_findings(PLAYBOOK, 'site.yml', MODULES)
    assert [(f.line, f.message.split(' (')[0]) for f in findings] == [
        (7, "group/airgap.wsus.wsus has no option 'colour'"),
        (14, "airgap.wsus.server_info has no option 'bogus'"),
        (19, "airgap.wsus.content_sync has no option 'destinaton'"),
        (24, "airgap.wsus.server_info has no option 'susdb_dns'"),
    ]
    assert findings[1].col == 9
    assert 'documented: dsn, susdb, susdb_dsn' in findings[1].message


def test_option_names_include_aliases():
    doc = {'airgap.wsus.x': {'doc': {'options': {'path': {'aliases': ['dest']}, 'force': {}}}}}
    assert task_options.option_names(doc) == {'airgap.wsus.x': {'path', 'dest', 'force'}}


def test_examples_are_checked_and_broken_yaml_is_left_to_the_linters():
    doc = {'airgap.wsus.server_info': {'doc': {'options': {'dsn': {}}},
                                       'examples': '- name: Example\n  airgap.wsus.server_info:\n    dns: x\n'}}
    names = task_options.option_names(doc)
    findings = task_options.examples_findings(doc, names)
    assert [(f.path, f.line) for f in findings] == [('plugins/modules/server_info.py (EXAMPLES)', 3)]
    assert not task_options.yaml_findings('- name: [unclosed\n', 'x.yml', names)
