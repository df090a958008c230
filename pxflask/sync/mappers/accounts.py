"""Payment modes <-> Xero BANK accounts; Xero EXPENSE accounts -> expense categories."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pxflask.perfex.records import PaymentMode
from pxflask.sync.mappers.common import Mapped, clip, strip_html

ACCOUNT_CODE_MAX = 10
ACCOUNT_NAME_MAX = 150
_DIGITS = re.compile(r"\D+")
_SORT_CODE = re.compile(r"sort\s*code[:\s]*([0-9][0-9 -]{4,7}[0-9])", re.IGNORECASE)
_ACCOUNT_NO = re.compile(
    r"(?:account|acct|a/c)\s*(?:number|no\.?|#)?[:\s]*([0-9][0-9 -]{3,30}[0-9])",
    re.IGNORECASE,
)


def payment_mode_code(mode_id: int) -> str:
    """The Xero account Code of a Perfex payment mode: 'PXPM<id>' (≤ 10)."""
    return f"PXPM{mode_id}"[:ACCOUNT_CODE_MAX]


def bank_account_number(account_number: str, sort_code: str | None = None) -> str:
    """Xero's BankAccountNumber: UK sort code (6 digits) + account number digits."""
    number = _DIGITS.sub("", account_number or "")
    return _DIGITS.sub("", sort_code or "") + number


def split_bank_account_number(value: str | None) -> tuple[str | None, str | None]:
    """(account number, sort code) from a Xero BankAccountNumber (UK: 6 + 8 digits)."""
    digits = _DIGITS.sub("", value or "")
    if not digits:
        return None, None
    if len(digits) == 14:
        return digits[6:], f"{digits[0:2]}-{digits[2:4]}-{digits[4:6]}"
    return digits, None


def bank_details_from_text(text: str | None) -> tuple[str | None, str | None]:
    """(account number, sort code) found in a payment mode's description, if any."""
    plain = strip_html(text)
    sort = _SORT_CODE.search(plain)
    number = _ACCOUNT_NO.search(plain)
    return (
        _DIGITS.sub("", number.group(1)) if number else None,
        _DIGITS.sub("", sort.group(1)) if sort else None,
    )


def map_payment_mode_account(
    mode: PaymentMode,
    *,
    account_number: str | None = None,
    sort_code: str | None = None,
    currency_code: str | None = None,
) -> Mapped:
    """A Xero BANK account for a Perfex payment mode (needs an account number)."""
    found_number, found_sort = bank_details_from_text(mode.description)
    number = account_number or found_number
    if not number:
        return Mapped(
            key=str(mode.id),
            payload=None,
            skip=f"payment mode {mode.name!r} has no bank account number to create"
            " a Xero bank account; map it to an existing account instead",
        )
    payload: dict[str, Any] = {
        "Code": payment_mode_code(mode.id),
        "Name": clip(mode.name, ACCOUNT_NAME_MAX),
        "Type": "BANK",
        "BankAccountType": "BANK",
        "BankAccountNumber": bank_account_number(number, sort_code or found_sort),
    }
    if currency_code:
        payload["CurrencyCode"] = currency_code
    return Mapped(key=str(mode.id), payload=payload)


def is_payment_account(account: Mapping[str, Any]) -> bool:
    """True for an active BANK account or one with payments enabled."""
    if str(account.get("Status") or "ACTIVE").upper() != "ACTIVE":
        return False
    return account.get("Type") == "BANK" or bool(account.get("EnablePaymentsToAccount"))


def account_to_payment_mode(account: Mapping[str, Any]) -> dict[str, Any] | None:
    """A Perfex payment mode (name, description) for a Xero bank account.

    Perfex prints a mode's description on the customer's invoice page, so it names
    the Xero account by code only ("Xero bank account 090"): never the account
    number or sort code.
    """
    if not is_payment_account(account):
        return None
    code = account.get("Code")
    return {
        "name": clip(str(account.get("Name") or code or ""), 100),
        "description": f"Xero bank account {code}" if code else None,
    }


def legacy_payment_mode_description(account: Mapping[str, Any]) -> str | None:
    """The description pxflask wrote before 2026-12 (with bank details), to correct."""
    number, sort = split_bank_account_number(account.get("BankAccountNumber"))
    details = []
    if number:
        details.append(f"Account number {number}")
    if sort:
        details.append(f"sort code {sort}")
    if account.get("Code"):
        details.append(f"Xero account {account['Code']}")
    return ", ".join(details) or None


def account_to_expense_category(account: Mapping[str, Any]) -> dict[str, Any] | None:
    """A Perfex expense category (name, description) for an EXPENSE-class account."""
    if str(account.get("Class") or "").upper() != "EXPENSE":
        return None
    if str(account.get("Status") or "ACTIVE").upper() != "ACTIVE":
        return None
    code = account.get("Code")
    name = str(account.get("Name") or code or "").strip()
    description = f"Xero account {code}" if code else "Xero account"
    if account.get("Description"):
        description += f": {account['Description']}"
    return {"name": clip(name, 191), "description": description}
