"""Re-run the security review's probes against a running panel and judge each answer.

Usage: python scripts/security_review.py http://127.0.0.1:5000 [--pid PID]
       [--email admin@example.com --password demo-admin] [--perfex-url URL]

Start the panel with `make demo` first. The lockout probes run last: they lock the
account for 15 minutes. `--pid` (the panel's process id) adds the memory figures of
the chunked-body probe; `--perfex-url` (the demo's Perfex database) plants a customer
whose name is a formula before the export probe.
"""

from __future__ import annotations

import argparse
import http.client
import io
import re
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import requests

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
MIB = 1024 * 1024
RESULTS: list[tuple[str, bool, str]] = []


def judge(name: str, ok: bool, detail: str) -> None:
    """Record and print one probe's verdict."""
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)


def token(session: requests.Session, base: str, path: str) -> str:
    """The CSRF token of the form on a page."""
    match = CSRF.search(session.get(base + path, timeout=30).text)
    if not match:
        raise SystemExit(f"no CSRF token on {path}")
    return match.group(1)


def sign_in(
    base: str, email: str, password: str, next_: str | None = None
) -> tuple[requests.Session, requests.Response]:
    """Post the sign-in form; return the session and the (unfollowed) answer."""
    session = requests.Session()
    path = "/login" + (f"?next={next_}" if next_ is not None else "")
    data = {
        "email": email,
        "password": password,
        "csrf_token": token(session, base, "/login"),
    }
    answer = session.post(base + path, data=data, allow_redirects=False, timeout=30)
    return session, answer


def rss_kib(pid: int, field: str) -> int:
    """VmRSS or VmHWM of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def probe_chunked(base: str, pid: int | None) -> None:
    """A 300 MiB chunked body to /webhooks/xero is refused without being held."""
    parts = urlsplit(base)
    before = rss_kib(pid, "VmRSS") if pid else 0
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)
    chunk = b"x" * MIB

    def body() -> Iterator[bytes]:
        for _ in range(300):
            yield chunk

    started = time.monotonic()
    try:
        conn.request(
            "POST",
            "/webhooks/xero",
            body=body(),
            encode_chunked=True,
            headers={"x-xero-signature": "AAAA", "Content-Type": "application/json"},
        )
        status = conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        conn.close()
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80)
        status = 413  # the server answered and closed while we were sending
    seconds = time.monotonic() - started
    detail = f"answer {status} in {seconds:.1f} s"
    ok = status == 413
    if pid:
        after, peak = rss_kib(pid, "VmRSS"), rss_kib(pid, "VmHWM")
        detail += (
            f"; panel RSS idle {before / 1024:.1f} MB, after "
            f"{after / 1024:.1f} MB, peak (VmHWM) {peak / 1024:.1f} MB"
        )
        ok = ok and (after - before) < 16 * 1024
    judge("chunked 300 MiB webhook body", ok, detail)


def probe_redirects(base: str, email: str, password: str) -> None:
    """Sign-in never redirects off the panel, whatever `next` says."""
    for target in (
        "////evil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "%0d%0aSet-Cookie:x=1",
        "/sync/log",
    ):
        _, answer = sign_in(base, email, password, target)
        where = answer.headers.get("Location", "")
        local = where.startswith("/") and not where.startswith(("//", "/\\"))
        same_host = urlsplit(where).netloc in ("", urlsplit(base).netloc)
        ok = answer.status_code == 302 and (local or same_host)
        judge(f"next={target}", ok, f"{answer.status_code} -> {where!r}")


def probe_bad_queries(session: requests.Session, base: str) -> None:
    """Malformed query strings and ids get 4xx answers, never 500."""
    big = "9" * 25
    gets = [
        "/sync/log?page=%C2%B2",
        "/sync/log?page=-1",
        "/sync/log?from=0001-01-01&to=9999-12-31",
        "/sync/log?from=2026-13-45",
        f"/sync/log/{big}",
        f"/sync/runs/{big}.json",
        "/reset/relink?job=not-a-relink-job",
        "/login?next=%0d%0a",
    ]
    for path in gets:
        status = session.get(base + path, allow_redirects=False, timeout=30).status_code
        judge(f"GET {path}", status < 500, str(status))
    csrf = token(session, base, "/sync/log")
    status = session.post(
        base + f"/sync/retry/{big}",
        data={"csrf_token": csrf},
        allow_redirects=False,
        timeout=30,
    ).status_code
    judge(f"POST /sync/retry/{big}", status < 500, str(status))


class FormValues(HTMLParser):
    """The values a browser would submit from the first form with a given field."""

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field, self.values, self.forms = field, {}, []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        """Collect inputs, selects and their chosen options."""
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.values = {}
        elif tag == "input" and attr.get("name"):
            kind = attr.get("type", "text")
            if kind not in ("checkbox", "radio", "submit") or "checked" in attr:
                self.values[attr["name"]] = attr.get("value", "on")
        elif tag == "select":
            self._select = attr.get("name")
        elif (
            tag == "option"
            and self._select
            and ("selected" in attr or self._select not in self.values)
        ):
            self.values[self._select] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        """Close a select or a form."""
        if tag == "select":
            self._select = None
        elif tag == "form" and self.field in self.values:
            self.forms.append(dict(self.values))


def probe_schedules(session: requests.Session, base: str) -> None:
    """Schedules that cannot fire are refused, and the pages keep working."""
    for cron in ("60 * * * *", "0 0 31 2 *"):
        parser = FormValues("schedule")
        parser.feed(session.get(base + "/settings/", timeout=30).text)
        form = parser.forms[0] | {"sync_mode": "scheduled", "schedule": cron}
        answer = session.post(base + "/settings/", data=form, timeout=30)
        refused = re.search(r'name="schedule"[^>]*class="invalid"', answer.text)
        page = session.get(base + "/settings/", timeout=30)
        saved = re.search(rf'name="schedule"[^>]*value="{re.escape(cron)}"', page.text)
        dash = session.get(base + "/sync/", timeout=30).status_code
        judge(
            f"schedule {cron!r}",
            bool(refused) and page.status_code == 200 and not saved and dash == 200,
            f"answer {answer.status_code} (schedule marked invalid: "
            f"{bool(refused)}), settings {page.status_code}, saved={bool(saved)}, "
            f"dashboard {dash}",
        )


def plant_formula(perfex_url: str) -> str:
    """Rename one Perfex customer to a formula; return the name."""
    import sqlalchemy as sa

    name = '=HYPERLINK("http://evil.example","click")'
    engine = sa.create_engine(perfex_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE tblclients SET company = :n WHERE userid = "
                "(SELECT MIN(userid) FROM tblclients)"
            ),
            {"n": name},
        )
    engine.dispose()
    return name


def connect_xero(session: requests.Session, base: str) -> None:
    """Connect the demo's sandbox organisation through the real OAuth2 flow."""
    csrf = token(session, base, "/connection/")
    answer = session.post(
        base + "/connection/connect",
        data={"csrf_token": csrf},
        allow_redirects=False,
        timeout=30,
    )
    consent = answer.headers.get("Location", "")
    if not consent.startswith("http"):
        return  # already connected, or no credentials: the export probe says so
    query = dict(part.split("=", 1) for part in urlsplit(consent).query.split("&"))
    from urllib.parse import unquote_plus

    form = {key: unquote_plus(value) for key, value in query.items()}
    form["decision"] = "allow"
    back = requests.post(
        consent.split("?")[0], data=form, allow_redirects=False, timeout=30
    ).headers["Location"]
    session.get(back, timeout=60)


def probe_exports(session: requests.Session, base: str) -> None:
    """No export cell is a live formula; amounts stay numbers."""
    import csv

    from openpyxl import load_workbook

    connect_xero(session, base)
    csrf = token(session, base, "/reconcile/")
    session.post(base + "/reconcile/refresh", data={"csrf_token": csrf}, timeout=300)
    page = session.get(base + "/reconcile/", timeout=30).text
    names = sorted(set(re.findall(r"/reconcile/download/([\w.\-]+)", page)))
    if not names:
        judge("exports", False, "no download links on /reconcile/")
        return
    for name in names:
        data = session.get(base + f"/reconcile/download/{name}", timeout=60).content
        live, escaped = 0, 0
        if name.endswith(".xlsx"):
            book = load_workbook(io.BytesIO(data))
            for cell in (c for sheet in book for row in sheet.iter_rows() for c in row):
                live += cell.data_type == "f"
                escaped += isinstance(cell.value, str) and cell.value.startswith("'")
        elif name.endswith(".csv"):
            text = data.decode("utf-8-sig")
            for row in csv.reader(io.StringIO(text)):
                for value in row:
                    live += value.startswith(DANGEROUS) and not _is_number(value)
                    escaped += value.startswith("'")
        else:
            continue
        judge(
            f"export {name}",
            live == 0,
            f"{live} live formula cell(s), {escaped} neutralised",
        )


def _is_number(text: str) -> bool:
    """True for a plain number such as -12.50."""
    return re.fullmatch(r"[+-]?\d+(\.\d+)?", text) is not None


def probe_lockout(base: str, email: str, password: str) -> None:
    """Case and accent variants share the account's counter; parallel guesses hold."""
    user, _, domain = email.partition("@")
    variants = [
        email.upper(),
        email.title(),
        "\u00e4" + email[1:] if user[:1] == "a" else email.swapcase(),
        f" {email} ",
        email.capitalize(),
    ]
    for variant in variants:
        sign_in(base, variant, "wrong-password")
    _, answer = sign_in(base, email, password)
    judge(
        "5 wrong guesses through variants, then the right password",
        answer.status_code != 302,
        f"{answer.status_code} (locked, as it should be)"
        if answer.status_code != 302
        else "signed in: the variants were not counted",
    )

    def guess(_: int) -> int:
        return sign_in(base, f"nobody-{domain}@{domain}", "wrong")[1].status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, range(40)))
    judge(
        "40 parallel guesses",
        500 not in statuses,
        f"statuses {sorted(set(statuses))}, {statuses.count(500)} x 500",
    )


def main(argv: list[str] | None = None) -> int:
    """Run every probe; exit 1 when one failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--email", default="admin@example.com")
    parser.add_argument("--password", default="demo-admin")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--perfex-url")
    args = parser.parse_args(argv)
    base = args.base.rstrip("/")
    probe_chunked(base, args.pid)
    probe_redirects(base, args.email, args.password)
    session, answer = sign_in(base, args.email, args.password)
    if answer.status_code != 302:
        raise SystemExit(f"cannot sign in as {args.email}: {answer.status_code}")
    steps: list[Callable[[], None]] = [
        lambda: probe_bad_queries(session, base),
        lambda: probe_schedules(session, base),
    ]
    if args.perfex_url:
        plant_formula(args.perfex_url)
    steps.append(lambda: probe_exports(session, base))
    for step in steps:
        step()
    probe_lockout(base, args.email, args.password)
    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
