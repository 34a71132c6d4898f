"""The server modules the bridge serves and their product settings, as plain data (no I/O).

WHMCS stores a product's module settings positionally in ``tblproducts.configoption1..24``: the
Nth field returned by the module's ``_ConfigOptions`` is ``configoptionN``. This catalog is that
field list for each module, so the bridge can read a product's settings by name (and the billing
ones typed, :class:`BillingSettings`) and the shim's ``config-options`` action can return the same
list.

Fields are only ever appended: reordering or removing one would silently shift every saved
product's settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "password", "yesno", "dropdown", "textarea"]
MAX_CONFIG_OPTIONS = 24


@dataclass(frozen=True, slots=True)
class SettingField:
    """One product module setting as WHMCS shows it on the product's Module Settings tab."""

    name: str
    type: FieldType = "text"
    description: str = ""
    default: str = ""
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BillingSettings:
    """The product settings every VoIP module shares, typed: what billing and licensing read."""

    license_key: str = ""
    package: str = ""
    special_number_billing: bool = False


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    """A WHMCS server module the bridge answers for."""

    name: str
    display_name: str
    default_ssl_port: int
    settings: tuple[SettingField, ...]

    def read_settings(self, configoptions: Sequence[str | None]) -> dict[str, str]:
        """Map positional ``configoption1..24`` values to this module's setting names."""
        values = list(configoptions) + [None] * (len(self.settings) - len(configoptions))
        return {
            field.name: (values[index] if values[index] is not None else "") or ""
            for index, field in enumerate(self.settings)
        }


def read_billing_settings(settings: Mapping[str, str]) -> BillingSettings:
    """Return the shared billing settings out of a product's settings read by name."""
    return BillingSettings(
        license_key=settings.get(LICENSE_KEY, "").strip(),
        package=settings.get(VOIP_PACKAGE, "").strip(),
        # WHMCS stores a ticked yes/no setting as "on" and an unticked one as "".
        special_number_billing=settings.get(SPECIAL_NUMBER_BILLING, "") == "on",
    )


LICENSE_KEY = "License Key"
VOIP_PACKAGE = "VoIP Package"
SPECIAL_NUMBER_BILLING = "Special Number Billing"
_BILLING = (
    SettingField(LICENSE_KEY, "text", "voipbridge license key (Activate, then Verify)"),
    SettingField(VOIP_PACKAGE, "text", "Name of the bridge's rating package for this product"),
    SettingField(SPECIAL_NUMBER_BILLING, "yesno", "Bill only calls matching special rules"),
)

MODULES: Mapping[str, ModuleSpec] = {
    "fusionpbx": ModuleSpec(
        name="fusionpbx",
        display_name="FusionPBX (voipbridge)",
        default_ssl_port=443,
        settings=(
            *_BILLING,
            SettingField("Default Domain", "text", "Tenant domain used when a service names none"),
            SettingField("Extension Length", "text", "Digits in an extension", "4"),
        ),
    ),
    "vodia": ModuleSpec(
        name="vodia",
        display_name="Vodia PBX (voipbridge)",
        default_ssl_port=443,
        settings=(
            *_BILLING,
            SettingField("SIP Trunk", "text", "Trunk assigned to new tenants"),
            SettingField("Dial Plan", "text", "Dial plan assigned to new tenants"),
            SettingField("Extension Type", "text", "Vodia account type for extensions"),
            SettingField("VoiceMail", "yesno", "Enable voicemail on new extensions"),
            SettingField(
                "Mailbox",
                "dropdown",
                "Voicemail to email",
                "no",
                ("no", "email without attachment", "email with attachment"),
            ),
        ),
    ),
    "lesnet": ModuleSpec(
        name="lesnet",
        display_name="LesNet (voipbridge)",
        default_ssl_port=443,
        settings=_BILLING,
    ),
}

VOIP_MODULES: tuple[str, ...] = tuple(MODULES)


def get_module(name: str) -> ModuleSpec | None:
    """Return the catalog entry for module ``name`` (case-insensitive), or ``None``."""
    return MODULES.get(name.strip().lower())
