"""Moderation against a real ``erratum serve``: held reports, the admin API, page and CLI.

Each test runs the service as a uvicorn process on a git repository (the git backend: a
report's delivery is a branch, so "nothing created" is "no branch"), and drives it over
HTTP with httpx and through the ``erratum review`` command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import httpx
import pytest

from mkdocs_erratum.service.settings import SettingsError, load_settings
from tests.service_support import (
    ROOT,
    branches,
    git,
    live_service,
    make_report,
    post,
    wait_done,
)

TOKEN = "a-long-admin-token-for-tests"


def moderated(tmp_path, **changes):
    return live_service(tmp_path, moderation=True, admin_token=TOKEN, **changes)


def review(url: str, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess:
    """``erratum review`` as a maintainer runs it."""
    env = {**os.environ, "ERRATUM_ADMIN_TOKEN": token, "ERRATUM_SERVICE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.cli", "review", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def bearer(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def send(client, commit, count: int, **fields) -> list[str]:
    ids = []
    for i in range(count):
        report = make_report(commit, replacement=f"Le concert a eu lieu le {i + 1} mars.", **fields)
        answer = post(client, report)
        assert answer.status_code == 202, answer.text
        assert answer.json()["state"] == "held"
        ids.append(report.id)
    return ids


def sign_in(client) -> str:
    """Sign in to /admin with the token; returns the page's CSRF token."""
    answer = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=True)
    assert answer.status_code == 200 and "Held reports" in answer.text
    return re.search(r'name="csrf" value="([0-9a-f]+)"', answer.text).group(1)


def events(log_path, name: str) -> list[dict]:
    out = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == name:
                out.append(record)
    return out


def test_held_reports_create_nothing_until_approved(tmp_path):
    with moderated(tmp_path) as live, httpx.Client(base_url=live.url) as client:
        ids = send(client, live.commit, 3)
        time.sleep(1.5)  # the worker had every chance to send them
        assert branches(live.repo) == []
        assert [client.get(f"/api/reports/{i}").json()["state"] for i in ids] == ["held"] * 3
        held = client.get("/api/admin/held", headers=bearer()).json()
        assert [h["id"] for h in held["held"]] == ids
        assert "-Le concert a eu lieu le 32 mars devant 300 personnes." in held["held"][0]["diff"]
        assert "+Le concert a eu lieu le 1 mars." in held["held"][0]["diff"]
        assert held["held"][0]["comment"] == "Il n'y a pas de 32 mars."

        listed = review(live.url)
        assert listed.returncode == 0, listed.stderr
        assert all(i in listed.stdout for i in ids) and "3 held." in listed.stdout
        assert "+Le concert a eu lieu le 2 mars." in listed.stdout

        approved = review(live.url, "--approve", ids[0])
        assert approved.returncode == 0, approved.stderr
        assert "1 approved, 0 rejected, 2 still held." in approved.stdout
        assert wait_done(client, ids[0])["state"] == "branch_created"
        time.sleep(0.5)
        assert branches(live.repo) == [f"erratum/{ids[0]}"]
        assert client.get(f"/api/reports/{ids[1]}").json()["state"] == "held"
    accepted = events(live.log, "report_accepted")
    assert [e["held"] for e in accepted] == [1, 2, 3]
    (decided,) = events(live.log, "moderation_decided")
    assert (decided["approved"], decided["held"]) == (1, 2)


def test_kill_9_while_held_loses_nothing(tmp_path):
    with moderated(tmp_path) as live:
        with httpx.Client(base_url=live.url) as client:
            ids = send(client, live.commit, 5)
        live.service.kill()
        live.service.start()
        with httpx.Client(base_url=live.url) as client:
            held = client.get("/api/admin/held", headers=bearer()).json()
            assert sorted(h["id"] for h in held["held"]) == sorted(ids)
            assert branches(live.repo) == []
            decision = client.post(
                "/api/admin/decisions", json={"approve": "all"}, headers=bearer()
            ).json()
            assert sorted(decision["approved"]) == sorted(ids) and decision["held"] == 0
            for report_id in ids:
                assert wait_done(client, report_id)["state"] == "branch_created"
        assert sorted(branches(live.repo)) == sorted(f"erratum/{i}" for i in ids)
    (started,) = [e for e in events(live.log, "service_started") if e["held"] == 5]
    assert started["moderation"] is True


def test_the_admin_doors_refuse_a_missing_or_wrong_token_and_cross_site_posts(tmp_path):
    with moderated(tmp_path) as live, httpx.Client(base_url=live.url) as client:
        (report_id,) = send(client, live.commit, 1)
        for headers in ({}, bearer("not-the-token"), {"Authorization": f"Basic {TOKEN}"}):
            assert client.get("/api/admin/held", headers=headers).status_code == 401
            answer = client.post("/api/admin/decisions", json={"approve": "all"}, headers=headers)
            assert answer.status_code == 401 and answer.json()["error"] == "unauthorised"
        page = client.get("/admin")
        assert page.status_code == 200 and 'name="token"' in page.text
        assert report_id not in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        wrong = client.post("/admin/login", data={"token": "not-the-token"})
        assert wrong.status_code == 401 and "erratum_admin" not in wrong.headers.get(
            "set-cookie", ""
        )
        # Without signing in, a decision is refused.
        assert (
            client.post("/admin/decide", data={"action": "approve", "id": report_id}).status_code
            == 401
        )
        # Signing in from another site is refused too (login CSRF).
        assert (
            client.post(
                "/admin/login", data={"token": TOKEN}, headers={"Origin": "https://evil.example"}
            ).status_code
            == 403
        )

        csrf = sign_in(client)
        assert report_id in client.get("/admin").text
        form = {"action": "approve", "id": report_id, "csrf": csrf}
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
        ):
            answer = client.post("/admin/decide", data=form, headers=headers)
            assert answer.status_code == 403, headers
        # The cookie alone does not do: the form must carry the page's CSRF token.
        assert (
            client.post("/admin/decide", data={"action": "approve", "id": report_id}).status_code
            == 403
        )
        assert (
            client.post(
                "/admin/decide", data={**form, "csrf": "0" * 64}, headers={"Origin": live.url}
            ).status_code
            == 403
        )
        time.sleep(0.5)
        assert client.get(f"/api/reports/{report_id}").json()["state"] == "held"
        assert branches(live.repo) == []

        done = client.post(
            "/admin/decide", data=form, headers={"Origin": live.url}, follow_redirects=True
        )
        assert done.status_code == 200 and "1 approved, 0 rejected" in done.text
        assert wait_done(client, report_id)["state"] == "branch_created"
        # A foreign site cannot even call the API from a browser.
        assert (
            client.get(
                "/api/admin/held", headers={**bearer(), "Origin": "https://evil.example"}
            ).status_code
            == 403
        )
    bad = review(live.url, token="not-the-token")
    assert bad.returncode == 1


def test_the_cli_and_the_page_give_the_same_result(tmp_path):
    with moderated(tmp_path) as live, httpx.Client(base_url=live.url) as client:
        # Two reports asking the same change, one decided by each door.
        by_cli, by_page = (send(client, live.commit, 1)[0] for _ in range(2))
        reject_cli, reject_page = send(client, live.commit, 2)

        assert review(live.url, "--approve", by_cli).returncode == 0
        rejected = review(live.url, "--reject", reject_cli, "--reason", "Spam")
        assert rejected.returncode == 0, rejected.stderr
        csrf = sign_in(client)
        headers = {"Origin": live.url}
        for action, report_id in (("approve", by_page), ("reject", reject_page)):
            form = {"action": action, "id": report_id, "csrf": csrf, "reason": "Spam"}
            assert client.post("/admin/decide", data=form, headers=headers).status_code == 303

        states = {i: wait_done(client, i) for i in (by_cli, by_page, reject_cli, reject_page)}
        assert states[by_cli]["state"] == states[by_page]["state"] == "branch_created"
        assert states[reject_cli] == {**states[reject_page], "id": reject_cli}
        assert states[reject_cli]["state"] == "rejected" and states[reject_cli]["reason"] == "Spam"
        texts = {
            i: git(live.repo, "show", f"erratum/{i}:docs/concert.md") for i in (by_cli, by_page)
        }
        assert texts[by_cli].splitlines()[2] == "Le concert a eu lieu le 1 mars."
        assert texts[by_page].splitlines()[2] == "Le concert a eu lieu le 1 mars."
        assert sorted(branches(live.repo)) == sorted([f"erratum/{by_cli}", f"erratum/{by_page}"])


def test_rejected_reports_are_purged_after_the_retention(tmp_path):
    # 0.00002 days: under two seconds.
    with moderated(tmp_path, rejected_retention_days=0.00002) as live:
        with httpx.Client(base_url=live.url) as client:
            kept, dropped = send(client, live.commit, 2)
            review(live.url, "--reject", dropped)
            assert client.get(f"/api/reports/{dropped}").json()["state"] == "rejected"
        time.sleep(2.5)
        live.service.stop()
        live.service.start()  # the service purges when it starts (and every 10 minutes)
        with httpx.Client(base_url=live.url) as client:
            assert client.get(f"/api/reports/{dropped}").status_code == 404
            assert client.get(f"/api/reports/{kept}").json()["state"] == "held"
    (purged,) = events(live.log, "reports_purged")
    assert purged["count"] == 1


def test_without_an_admin_token_there_is_no_admin_door(tmp_path):
    with live_service(tmp_path) as live, httpx.Client(base_url=live.url) as client:
        assert client.get("/admin").status_code == 404
        assert client.get("/api/admin/held", headers=bearer()).status_code == 404


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"moderation": True}, "admin_token: required with moderation"),
        ({"admin_token": "short"}, "admin_token: must be at least 16 characters"),
        ({"rejected_retention_days": -1}, "rejected_retention_days: must not be negative"),
    ],
)
def test_moderation_settings_are_checked(values, message):
    base = {"manifest": "m.json", "git_repository": "."}
    with pytest.raises(SettingsError, match=message):
        load_settings(env={}, overrides={**base, **values})
