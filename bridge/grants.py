"""The least privileges the bridge's database user needs, as GRANT statements (`bridge grants`).

WHMCS tables: SELECT on every table the bridge reads, plus the writes listed in
``bridge.whmcs.tables.WRITES``. The bridge's own tables: read and write. Creating and altering
tables is left to the user that runs ``bridge migrate`` (WHMCS's own database user will do), so the
running bridge can never change WHMCS's schema.
"""

from __future__ import annotations

import re

from bridge.errors import InvalidRequest
from bridge.store.tables import METADATA as STORE_METADATA
from bridge.store.tables import VERSION_TABLE
from bridge.whmcs.schema import table_privileges

_ACCOUNT = re.compile(r"^(?P<user>[A-Za-z0-9_.\-]{1,80})@(?P<host>[A-Za-z0-9_.%:\-]{1,255})$")
_DATABASE = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


def grant_statements(account: str, database: str) -> list[str]:
    """Return the GRANT statements for ``account`` (``user@host``) on WHMCS ``database``."""
    match = _ACCOUNT.match(account)
    if match is None:
        raise InvalidRequest(f"{account!r} is not USER@HOST (e.g. voipbridge@10.0.0.%).")
    if not _DATABASE.match(database):
        raise InvalidRequest(f"{database!r} is not a database name.")
    who = f"'{match['user']}'@'{match['host']}'"
    statements = []
    for table, privileges in table_privileges().items():
        statements.append(f"GRANT {', '.join(privileges)} ON `{database}`.`{table}` TO {who};")
    own = [*(table.name for table in STORE_METADATA.sorted_tables), VERSION_TABLE]
    statements.extend(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.`{table}` TO {who};" for table in own
    )
    return statements
