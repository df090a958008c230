"""Sign-in takes as long for an unknown email as for a staff member's."""

from __future__ import annotations

import statistics
import time

import sqlalchemy as sa

from pxflask.extensions import db
from pxflask.models import LoginFailure
from pxflask.perfex.passwords import hash_password
from tests.fixtures.webapp import ADMIN_EMAIL, csrf_token
from tests.test_auth import add_staff

TRIES = 15


def timed_sign_in(app, client, email: str) -> float:
    """Seconds one wrong-password sign-in takes, counters cleared first."""
    with app.app_context():
        db.session.execute(sa.delete(LoginFailure))
        db.session.commit()
    token = csrf_token(client, "/login")
    started = time.perf_counter()
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": "not-the-password",
            "csrf_token": token,
        },
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 401
    return elapsed


def test_unknown_email_costs_what_a_known_one_costs(app, client, perfex_copy_url):
    """Median timings of unknown, known, non-admin and odd-hash emails are alike."""
    add_staff(perfex_copy_url, "clerk@example.com", hash_password("x"), admin=0)
    add_staff(perfex_copy_url, "odd@example.com", "md5:abcdef")
    emails = [ADMIN_EMAIL, "nobody@example.com", "clerk@example.com", "odd@example.com"]
    timings: dict[str, list[float]] = {email: [] for email in emails}
    timed_sign_in(app, client, ADMIN_EMAIL)  # warm-up
    for _ in range(TRIES):
        for email in emails:
            timings[email].append(timed_sign_in(app, client, email))
    medians = {email: statistics.median(values) for email, values in timings.items()}
    known = medians[ADMIN_EMAIL]
    for email in emails[1:]:
        assert 0.5 * known <= medians[email] <= 2 * known, medians
