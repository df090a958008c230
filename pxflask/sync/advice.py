"""What to do next: Xero's refusals turned into the setting or record to fix.

Xero answers in its own words ("Payments can only be made to bank accounts or
accounts with payments enabled."); a log row that stops there leaves the admin
guessing which mapping is wrong. `Advisor.explain` keeps Xero's words and adds
the action: the settings key to map (with the command that sets it), the Perfex
record to fix or what to change in Xero. The panel turns every settings key
named in a message into a link to that field of the settings page
(`setting_keys`), so the same text serves the CLI and the web log.

Xero's messages matched here are the ones its API returns (and the sandbox
reproduces): "Payments can only be made to bank accounts…", "Account code 'X' is
not a valid code…", "The TaxType code 'X' does not exist or cannot be used…",
"The contact X is archived…", "Organisation is not subscribed to currency X",
"Invoice # must be unique.", and the lock-date refusals (lock_refusal.explain).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from pxflask.sync.lock_refusal import explain as explain_lock

log = logging.getLogger(__name__)

SETTING_KEY = re.compile(
    r"\b(payment_account\.(?:default|\d+|[a-z][a-z0-9_]{1,38})"
    r"|(?:expense_)?tax_rate\.\d+|expense_account\.\d+"
    r"|sales_account|rounding_account|discount_account|no_tax_type|expense_contact)\b"
)
"""Settings keys a message may name (pxflask.sync.settings validates the same forms)."""
SETTINGS_PAGE = "/settings/"

BANK_ONLY = "can only be made to bank accounts"
BAD_ACCOUNT = re.compile(r"Account code '([^']*)' is not a valid code")
BAD_TAX = re.compile(r"TaxType code '([^']*)' (?:does not exist|cannot be used)")
ARCHIVED = re.compile(r"contact (.+?) is archived", re.IGNORECASE)
CURRENCY = re.compile(r"not subscribed to currency ([A-Z]{3})", re.IGNORECASE)
NOT_UNIQUE = "must be unique"
NOT_AUTHORISED = "only be made against Authorised documents"


def setting_keys(message: str | None) -> list[str]:
    """The settings keys a message names, in order, each once."""
    seen: dict[str, None] = {}
    for found in SETTING_KEY.finditer(message or ""):
        seen.setdefault(found.group(1), None)
    return list(seen)


def settings_anchor(key: str) -> str:
    """The settings page with the field of one key in view."""
    return f"{SETTINGS_PAGE}#{key}"


def _set(key: str, what: str) -> str:
    """The command that maps one setting."""
    return f"pxflask settings set {key} <{what}>"


def payment_setting(mode: str | None) -> str:
    """The settings key of a payment mode or gateway id (else the default)."""
    mode = (mode or "").strip()
    if mode and (mode.isdigit() or re.fullmatch(r"[a-z][a-z0-9_]{1,38}", mode)):
        return f"payment_account.{mode}"
    return "payment_account.default"


@dataclass
class Advisor:
    """Explains Xero's refusals for one step, with what it knows of the run."""

    settings: Mapping[str, str] = field(default_factory=dict)
    tax_settings: Callable[[str], list[str]] | None = None
    """TaxType -> the `tax_rate.<id>` keys of the Perfex taxes that use it."""

    def explain(self, error: str, hint: Mapping[str, str] | None = None) -> str:
        """Xero's words followed by what to do (unchanged when nothing fits)."""
        plain = explain_lock(error)
        if plain != error:
            return plain
        try:
            action = self.action(error, hint or {})
        except Exception:  # advice is a help: never lose the record's error for it
            log.exception("no advice for %r", error)
            action = None
        return f"{error.rstrip('. ')}: {action}" if action else error

    def action(self, error: str, hint: Mapping[str, str]) -> str | None:
        """What to do about one refusal, or None when no rule fits."""
        if BANK_ONLY in error:
            key = payment_setting(hint.get("mode"))
            code = hint.get("account")
            used = f" (account {code} is not one)" if code else ""
            return (
                f"map {key} to a BANK account{used}, or to an account with payments"
                f" enabled in Xero: {_set(key, 'bank account code')}"
            )
        if NOT_AUTHORISED in error:
            return (
                "the invoice is not AUTHORISED in Xero: approve it in Xero or sync"
                " the invoice first, then retry"
            )
        if found := BAD_ACCOUNT.search(error):
            return self._account(found.group(1))
        if found := BAD_TAX.search(error):
            return self._tax(found.group(1))
        if found := ARCHIVED.search(error):
            return (
                f"restore the contact {found.group(1)} in Xero (Contacts, Archived),"
                " then retry"
            )
        if found := CURRENCY.search(error):
            code = found.group(1).upper()
            return (
                f"add {code} in Xero (Settings, Currencies; multi-currency needs a"
                f" plan that has it), or change the currency in Perfex, then retry"
            )
        if NOT_UNIQUE in error and "#" in error:
            return (
                "another Xero document holds this number: rename one of the two in"
                " Perfex or in Xero, then retry"
            )
        return None

    def _keys_holding(self, value: str, prefixes: Iterable[str]) -> list[str]:
        """Settings keys (of the given forms) whose value is `value`."""
        wanted = tuple(prefixes)
        return sorted(
            k
            for k, v in self.settings.items()
            if (v or "").strip() == value and k.startswith(wanted)
        )

    def _account(self, code: str) -> str:
        """Advice for an account code Xero does not accept on this document."""
        keys = self._keys_holding(
            code,
            (
                "sales_account",
                "rounding_account",
                "discount_account",
                "expense_account.",
                "payment_account.",
            ),
        )
        if not keys and code in ("200", "860"):
            keys = ["sales_account" if code == "200" else "rounding_account"]
        if not keys:
            return (
                f"account {code} is not an active revenue or expense account in Xero:"
                " fetch the chart of accounts and check the account mappings"
                " (sales_account, rounding_account)"
            )
        first = keys[0]
        named = ", ".join(keys)
        return (
            f"{named} names account {code}, which Xero does not accept here: map"
            f" {first} to an active account of the right class"
            f" ({_set(first, 'account code')})"
        )

    def _tax(self, tax_type: str) -> str:
        """Advice for a TaxType Xero does not accept (or does not have)."""
        keys = self._keys_holding(tax_type, ("tax_rate.", "expense_tax_rate."))
        if not keys and self.tax_settings is not None:
            keys = self.tax_settings(tax_type)
        if not keys:
            return (
                f"no mapped Perfex tax names {tax_type}: map the Perfex taxes on the"
                " settings page to Xero rates that can be used on this document"
            )
        first = keys[0]
        return (
            f"map the Perfex tax of {', '.join(keys)} to a Xero rate that can be"
            f" used here ({_set(first, 'TaxType')})"
        )


def tax_setting_finder(
    tax_links: Mapping[str, str | None], taxes: Iterable[tuple[int, str, str]]
) -> Callable[[str], list[str]]:
    """TaxType -> `tax_rate.<id>` keys, from tax links ('VAT@20.00' -> TaxType).

    `taxes` are Perfex's (id, name, rate as text) rows.
    """
    by_name = {(name, rate): tax_id for tax_id, name, rate in taxes}

    def find(tax_type: str) -> list[str]:
        keys: list[str] = []
        for link_key, used in tax_links.items():
            if used != tax_type:
                continue
            for part in link_key.split("+"):
                name, _, rate = part.rpartition("@")
                tax_id = by_name.get((name, rate))
                if tax_id is not None:
                    keys.append(f"tax_rate.{tax_id}")
        return sorted(set(keys))

    return find
