# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The login options of the collection's PostgreSQL modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  login_host:
    description: Database server host.
    type: str
    required: true
  login_port:
    description: Database server port.
    type: int
    default: 5432
  login_user:
    description: Role to log in as.
    type: str
    required: true
  login_password:
    description: Password of O(login_user).
    type: str
    required: true
  login_db:
    description: Database to connect to.
    type: str
    required: true
  connect_timeout:
    description: Seconds to wait for a connection.
    type: int
    default: 10
  ssl_mode:
    description:
      - libpq C(sslmode) of the connection. V(verify-ca) and V(verify-full) check the server
        certificate against O(ca_cert); V(verify-full) also checks that O(login_host) is a name of
        the certificate.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description:
      - Path, on the host that runs the module, of the CA certificates (PEM) that sign the server
        certificate (libpq C(sslrootcert)).
    type: str
    aliases: [ssl_rootcert]
requirements:
  - psycopg (3) or psycopg2 on the host that runs the module
"""
