# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that talk to the PingIDM REST API (module_utils/idm_api.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the IDM node, scheme, host and port without a path, for example
        C(http://127.0.0.1:8080). Reached from the managed host.
    type: str
    required: true
  admin_user:
    description: The IDM administrator.
    type: str
    default: openidm-admin
  admin_password:
    description: Password of O(admin_user). Never logged nor returned.
    type: str
    required: true
  auth_headers:
    description:
      - Send the credentials as C(X-OpenIDM-Username)/C(X-OpenIDM-Password) headers instead of
        HTTP Basic. IDM accepts both; the default matches what the collection's roles send.
    type: bool
    default: false
  validate_certs:
    description: Verify the node's TLS certificate on C(https) URLs.
    type: bool
    default: true
  ca_path:
    description: PEM file with the CA certificates to verify the node's certificate with.
    type: path
  request_timeout:
    description: Seconds one HTTP request may take.
    type: float
    default: 10
notes:
  - Every request sends C(X-OpenIDM-NoSession) set to C(true), so IDM creates no session.
  - Errors name the URL, the HTTP status and what to check (401 the credentials, a refused
    connection a node that does not listen); they never contain a password.
"""
