# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the C(susdb) option, shared by every module that reads SUSDB."""
from __future__ import annotations


class ModuleDocFragment:
    """Options to reach the WSUS database (SUSDB)."""

    DOCUMENTATION = r'''
options:
  susdb:
    description:
      - How to reach SUSDB, the WSUS database, for the read-only queries this module runs.
      - When omitted, the queries run on the WSUS host itself, against the database named in
        the host's registry (the Windows Internal Database accepts only local connections,
        through its named pipe).
      - Give O(susdb.server) or O(susdb.connection_string) to query a SUSDB hosted on SQL Server
        from the Ansible controller instead, with C(pyodbc) and an ODBC driver for SQL Server.
    type: dict
    suboptions:
      via:
        description:
          - Where the queries run.
          - V(controller) uses C(pyodbc) on the Ansible controller and needs O(susdb.server) or
            O(susdb.connection_string).
          - V(host) runs them on the WSUS host with the task's connection and the account's
            Windows identity; O(susdb.server) and O(susdb.database) then override the registry.
          - V(auto) means V(controller) when O(susdb.server) or O(susdb.connection_string) is
            given, else V(host).
        type: str
        choices: [auto, controller, host]
        default: auto
      connection_string:
        description:
          - A complete ODBC connection string for SUSDB, used as is.
          - Mutually exclusive with O(susdb.server), O(susdb.port), O(susdb.username) and
            O(susdb.password). Never shown in output or messages.
        type: str
      server:
        description:
          - The SQL Server host (and instance, as C(host\instance)) that holds SUSDB.
        type: str
      port:
        description:
          - TCP port of the SQL Server. Omit to use the driver's default or the instance name.
        type: int
      database:
        description:
          - Database name. Defaults to C(SUSDB) on the controller and to the host registry's
            C(SqlDatabaseName) on the host.
        type: str
      driver:
        description:
          - Name of the ODBC driver on the controller.
        type: str
        default: ODBC Driver 18 for SQL Server
      username:
        description:
          - SQL login. Without it the controller connects with its Kerberos identity
            (C(Trusted_Connection=yes); run C(kinit) first).
        type: str
      password:
        description:
          - Password of O(susdb.username). Never shown in output or messages.
        type: str
      encrypt:
        description:
          - Encrypt the connection to SQL Server.
        type: bool
        default: true
      trust_server_certificate:
        description:
          - Accept the SQL Server's certificate without validating it. Use only on a network you
            trust.
        type: bool
        default: false
      timeout:
        description:
          - Seconds to wait for the connection to SQL Server.
        type: int
        default: 30
'''
