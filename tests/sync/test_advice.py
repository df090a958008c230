"""Xero's refusals get what to do next, naming the setting to map."""

from __future__ import annotations

from pxflask.sync.advice import Advisor, setting_keys, tax_setting_finder


def test_payment_to_a_non_bank_account_names_the_gateway_setting():
    """A gateway payment refused for its account: map payment_account.<gateway>."""
    text = Advisor().explain(
        "Payments can only be made to bank accounts or accounts with payments enabled.",
        {"mode": "stripe", "account": "200"},
    )
    assert text.startswith("Payments can only be made to bank accounts")
    assert "pxflask settings set payment_account.stripe <bank account code>" in text
    assert setting_keys(text) == ["payment_account.stripe"]


def test_invalid_account_code_names_the_setting_that_holds_it():
    """An account code Xero refuses: the settings key whose value it is."""
    advisor = Advisor({"sales_account": "999", "rounding_account": "860"})
    text = advisor.explain("Account code '999' is not a valid code for this document.")
    assert "pxflask settings set sales_account <account code>" in text
    assert setting_keys(text) == ["sales_account"]


def test_unusable_tax_type_names_the_perfex_tax_setting():
    """A TaxType Xero refuses: map the Perfex tax that uses it (tax_rate.<id>)."""
    finder = tax_setting_finder(
        {"Exempt@0.00": "EXEMPTOUTPUT"}, [(4, "Exempt", "0.00")]
    )
    text = Advisor({}, finder).explain(
        "The TaxType code 'EXEMPTOUTPUT' does not exist or cannot be used with this "
        "type of transaction."
    )
    assert "pxflask settings set tax_rate.4 <TaxType>" in text
    set_by_hand = Advisor({"tax_rate.2": "OUTPUT"}).explain(
        "The TaxType code 'OUTPUT' cannot be used with account code '200'."
    )
    assert "tax_rate.2" in set_by_hand


def test_archived_contact_currency_and_lock_date_say_what_to_do():
    """Archived contact, unsubscribed currency, lock date: each gets an action."""
    advisor = Advisor()
    archived = advisor.explain("The contact Acme Ltd is archived and cannot be used.")
    assert "restore the contact Acme Ltd in Xero" in archived
    currency = advisor.explain("Organisation is not subscribed to currency JPY")
    assert "add JPY in Xero" in currency
    lock = advisor.explain(
        "The document date cannot be before the period lock date, 30-Jun-2026"
    )
    assert "unlock the period in Xero" in lock


def test_unknown_message_is_kept_as_xero_said_it():
    """A refusal no rule knows is passed on unchanged."""
    assert (
        Advisor().explain("Something else went wrong.") == "Something else went wrong."
    )
