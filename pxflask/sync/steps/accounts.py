"""Accounts: Xero's chart of accounts cached in pxf_xero_accounts."""

from __future__ import annotations

from sqlalchemy import delete

from pxflask.models import XeroAccount

from ..engine import PlannedAction, StepContext, StepReport


def read_accounts(ctx: StepContext) -> list[dict]:
    """Xero's accounts, read once per run."""
    if "accounts" not in ctx.shared:
        ctx.shared["accounts"] = ctx.gateway.read_all("accounts")
    return ctx.shared["accounts"]


def run(ctx: StepContext) -> StepReport:
    """Replace the cached chart with Xero's (one read call)."""
    report = StepReport("accounts")
    accounts = read_accounts(ctx)
    report.pulled = len(accounts)
    report.planned.append(
        PlannedAction("accounts", "*", "pull", None, f"{len(accounts)} accounts")
    )
    if ctx.dry_run:
        return report
    ctx.session.execute(delete(XeroAccount))
    for a in accounts:
        if not a.get("AccountID"):
            continue
        ctx.session.add(
            XeroAccount(
                account_id=str(a["AccountID"]),
                code=a.get("Code"),
                name=str(a.get("Name") or ""),
                type=str(a.get("Type") or ""),
                account_class=a.get("Class"),
                status=str(a.get("Status") or "ACTIVE"),
                tax_type=a.get("TaxType"),
                currency_code=a.get("CurrencyCode"),
                bank_account_number=a.get("BankAccountNumber"),
                enable_payments=bool(a.get("EnablePaymentsToAccount")),
            )
        )
    ctx.session.commit()
    return report
