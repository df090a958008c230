"""Customers: the unit (its step, mapper and contacts pull live beside it)."""

from pxflask.sync.units import BOTH, Record, Target, Unit, Watch

PULL_SETTING = "contacts_from_xero"
"""The setting that updates linked Perfex customers from Xero (settings.FIXED_KEYS)."""
PULL_DEFAULT = "no"

UNIT = Unit(
    "customers",
    "Customers",
    BOTH,
    (),
    "pxflask.sync.entities.customers.step",
    description="tblclients + primary contact <-> Contacts (changed in Xero: pulled)",
    parts=("customers-pull",),
    watches=(
        Watch(
            "clients",
            "userid",
            ("active", "country"),
            ("company", "vat", "phonenumber", "billing_street", "billing_city"),
        ),
        Watch(
            "contacts",
            "id",
            ("is_primary", "active"),
            ("firstname", "lastname", "email"),
            owner_key="userid",
        ),
    ),
    target=Target("clients", "userid"),
    record=Record("read_customers"),
    webhook_category="CONTACT",
    write_kind="contacts",
    order=50,
    xero_link="/Contacts/View/{id}",
)
