"""Customers: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import PUSH, Record, Target, Unit, Watch

UNIT = Unit(
    "customers",
    "Customers",
    PUSH,
    (),
    "pxflask.sync.entities.customers.step",
    description="tblclients + primary contact -> Contacts",
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
