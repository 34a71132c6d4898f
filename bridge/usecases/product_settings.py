"""The product settings a module offers (``_ConfigOptions``), with the bridge's packages to pick.

The catalog (:mod:`bridge.whmcs.catalog`) fixes the fields and their order; the "VoIP Package"
field becomes a dropdown of the packages stored in the bridge, led by an empty choice so that
saving a product whose package is not stored yet never silently picks another. With no package
stored it stays a text field, so a product can be set up before its package is imported.
"""

from __future__ import annotations

import dataclasses

from bridge.db import Database
from bridge.store.packages import list_package_names
from bridge.whmcs.catalog import VOIP_PACKAGE, ModuleSpec, SettingField


def list_setting_fields(database: Database, module: ModuleSpec) -> tuple[SettingField, ...]:
    """Return the module's product settings in ``configoptionN`` order, packages filled in."""
    with database.transaction() as conn:
        names = list_package_names(conn)
    if not names:
        return module.settings
    return tuple(
        dataclasses.replace(field, type="dropdown", default="", options=("", *names))
        if field.name == VOIP_PACKAGE
        else field
        for field in module.settings
    )
