"""Customers: the unit (its step, mapper and contacts pull live beside it)."""

from pxflask.sync.units import BOTH, Record, Switch, Target, Unit, Watch

SWITCH = Switch(
    "contacts_from_xero",
    "Contacts changed in Xero",
    on="Update the linked Perfex customers",
    off="Leave Perfex customers as they are",
    hint=(
        "Name, e-mail, phones, addresses, tax number. A field changed on both"
        " sides keeps Perfex's value; try it with a dry run first."
    ),
)
"""Update linked Perfex customers from Xero."""
PULL_SETTING, PULL_DEFAULT = SWITCH.key, SWITCH.default_value

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
    switches=(SWITCH,),
)
