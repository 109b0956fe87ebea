"""Each protection of the service refuses a bad request with a clear 4xx JSON error, and
nothing is stored or created for it."""

from __future__ import annotations

import io
import json
import logging
import time

import altcha
import httpx
import pytest
from fastapi.testclient import TestClient

from mkdocs_erratum.report import parse_issue_body, text_hash
from mkdocs_erratum.service.abuse import (
    ZWSP,
    ProofOfWork,
    RateLimiter,
    Rejected,
    neutralise,
    new_raw_html,
    solve,
)
from mkdocs_erratum.service.app import create_app
from mkdocs_erratum.service.logs import configure_logging, log_event
from mkdocs_erratum.service.settings import SettingsError, load_settings
from tests.service_support import (
    PAGE_URL,
    branches,
    envelope,
    git,
    live_service,
    make_report,
    make_site_repo,
    post,
    test_settings,
    wait_done,
    write_manifest,
)

HMAC_KEY = "test-hmac-key-0123456789"
TOKEN = "ghp_TESTTOKENdoNotLeak0123456789"


@pytest.fixture
def site(tmp_path):
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    manifest = write_manifest(tmp_path / "manifest.json", commit, repository="acme/news")
    return repo, commit, manifest


def client_for(tmp_path, site, **changes) -> TestClient:
    repo, _commit, manifest = site
    values = test_settings(
        tmp_path, repo, manifest, altcha_hmac_key=HMAC_KEY, github_token=TOKEN, **changes
    )
    app = create_app(load_settings(env={}, overrides=values))
    return TestClient(app, client=("127.0.0.1", 50000))


def assert_refused(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"].endswith((".", "?"))
    assert TOKEN not in answer.text
    return body


def assert_nothing_created(client, repo) -> None:
    time.sleep(0.1)  # would give a wrongly queued report time to be sent
    assert client.app.state.store.counts() == {}
    assert branches(repo) == []


def send(client, body: dict, report_id: str, **headers):
    return client.post("/api/reports", json=body, headers={"Idempotency-Key": report_id, **headers})


def test_origin_outside_the_allow_list_is_refused(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit)
        answer = send(client, envelope(client, report), report.id, Origin="https://evil.example")
        assert_refused(answer, 403, "origin_not_allowed")
        preflight = client.options(
            "/api/reports",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert_refused(preflight, 403, "origin_not_allowed")
        assert "access-control-allow-origin" not in preflight.headers
        assert_nothing_created(client, repo)
        allowed = client.options(
            "/api/reports",
            headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
        )
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == "https://example.org"
        assert "Idempotency-Key" in allowed.headers["access-control-allow-headers"]
        ok = send(client, envelope(client, report), report.id, Origin="https://example.org")
        assert ok.status_code == 202
        assert ok.headers["access-control-allow-origin"] == "https://example.org"


def test_per_address_rate_limit(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site, ip_reports_per_minute=1.0, ip_burst=2) as client:
        accepted = [make_report(commit), make_report(commit)]
        for report in accepted:
            assert post(client, report).status_code == 202
        extra = make_report(commit)
        answer = post(client, extra)
        assert_refused(answer, 429, "rate_limited")
        assert int(answer.headers["retry-after"]) >= 1
        assert client.get(f"/api/reports/{extra.id}").status_code == 404
        for report in accepted:
            wait_done(client, report.id)
        assert sorted(branches(repo)) == sorted(f"erratum/{r.id}" for r in accepted)


def test_global_rate_limit_across_addresses(tmp_path, site):
    _repo, commit, _ = site
    with client_for(
        tmp_path,
        site,
        trust_forwarded_for=["127.0.0.1"],
        global_reports_per_minute=1.0,
        global_burst=2,
    ) as client:
        for i in range(2):
            report = make_report(commit)
            body = envelope(client, report)
            answer = send(client, body, report.id, **{"X-Forwarded-For": f"10.0.0.{i}"})
            assert answer.status_code == 202
        extra = make_report(commit)
        body = envelope(client, extra)
        answer = send(client, body, extra.id, **{"X-Forwarded-For": "10.0.0.99"})
        assert_refused(answer, 429, "rate_limited")
        assert "right now" in answer.json()["message"]
        assert client.get(f"/api/reports/{extra.id}").status_code == 404


def _long_path(data):
    data["report"]["blocks"][0]["path"] = "docs/" + "a" * 600 + ".md"


def _long_url(data):
    data["report"]["page_url"] = PAGE_URL + "x" * 2100


def _long_comment(data):
    data["report"]["comment"] = "x" * 5001


def _long_replacement(data):
    data["report"]["blocks"][0]["replacement"] = "x" * 20_001


def _bad_login(data):
    data["report"]["reporter"] = "not a login!"


def _long_altcha(data):
    data["altcha"] = "A" * 5000


@pytest.mark.parametrize(
    ("spoil", "status", "code"),
    [
        (_long_path, 422, "field_too_long"),
        (_long_url, 422, "field_too_long"),
        (_long_comment, 422, "invalid_report"),
        (_long_replacement, 422, "invalid_report"),
        (_bad_login, 422, "invalid_report"),
        (_long_altcha, 422, "field_too_long"),
    ],
)
def test_field_size_limits(tmp_path, site, spoil, status, code):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit)
        body = envelope(client, report)
        spoil(body)
        assert_refused(send(client, body, report.id), status, code)
        assert_nothing_created(client, repo)


def test_body_size_limit(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site, max_body_bytes=4096) as client:
        report = make_report(commit, comment="x" * 4500)
        body = envelope(client, report)
        assert_refused(send(client, body, report.id), 413, "body_too_large")
        assert_nothing_created(client, repo)


def test_honeypot(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit)
        body = envelope(client, report)
        body["honeypot"] = "http://spam.example"
        assert_refused(send(client, body, report.id), 400, "honeypot_filled")
        assert_nothing_created(client, repo)


def test_proof_of_work_missing_wrong_reused_and_expired(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit)
        body = envelope(client, report)
        assert_refused(send(client, {**body, "altcha": ""}, report.id), 403, "altcha_missing")
        wrong_payload = altcha.PayloadV1.from_base64(body["altcha"])
        wrong_payload.number += 1
        spoilt = {**body, "altcha": wrong_payload.to_base64()}
        assert_refused(send(client, spoilt, report.id), 403, "altcha_invalid")
        assert_refused(send(client, {**body, "altcha": "%%%"}, report.id), 403, "altcha_invalid")
        forged = ProofOfWork("another key", max_number=50).challenge()
        assert_refused(
            send(client, {**body, "altcha": solve(forged)}, report.id), 403, "altcha_invalid"
        )
        expired = ProofOfWork(HMAC_KEY, max_number=50, expires_seconds=-60).challenge()
        assert_refused(
            send(client, {**body, "altcha": solve(expired)}, report.id), 403, "altcha_expired"
        )
        assert_nothing_created(client, repo)
        assert send(client, body, report.id).status_code == 202
        second = make_report(commit)
        reused = {**envelope(client, second), "altcha": body["altcha"]}
        assert_refused(send(client, reused, second.id), 403, "altcha_reused")
        assert client.get(f"/api/reports/{second.id}").status_code == 404


def _other_page(report):
    report.page_url = "https://example.org/elsewhere/"


def _other_path(report):
    report.blocks[0].path = "docs/secret.md"


def _other_range(report):
    report.blocks[0].start, report.blocks[0].end = 2, 3


def _other_text(report):
    report.blocks[0].original = "Le concert a eu lieu le 1er avril."
    report.blocks[0].original_sha256 = text_hash(report.blocks[0].original)


def _stale_commit(report):
    report.commit = "f" * 40


def _other_repository(report):
    report.repository = "someone/else"


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (_other_page, "unknown_page"),
        (_other_path, "unknown_path"),
        (_other_range, "unknown_range"),
        (_other_text, "hash_mismatch"),
        (_stale_commit, "stale_commit"),
        (_other_repository, "wrong_repository"),
    ],
)
def test_manifest_check(tmp_path, site, spoil, code):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit, repository="acme/news")
        spoil(report)
        assert_refused(post(client, report), 422, code)
        assert_nothing_created(client, repo)


def test_raw_html_in_a_replacement_is_refused(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit, replacement='Le concert <img src=x onerror="alert(1)">.')
        body = assert_refused(post(client, report), 422, "raw_html")
        assert "<img" in body["message"]
        assert_nothing_created(client, repo)


def test_reader_text_is_neutralised(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(
            commit, comment="@maintainers see #12 and acme/news#3 <script>x</script>"
        )
        assert post(client, report).status_code == 202
        wait_done(client, report.id)
    message = git(repo, "log", "-1", "--format=%B", f"erratum/{report.id}")
    assert f"@{ZWSP}maintainers see #{ZWSP}12 and acme/news#{ZWSP}3 &lt;script>x&lt;/script>" in (
        message
    )
    assert "<script>" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@alice", f"@{ZWSP}alice"),
        ("@org/team", f"@{ZWSP}org/team"),
        ("mail me: a@b.org", "mail me: a@b.org"),
        ("fixes #42", f"f{ZWSP}ixes #{ZWSP}42"),  # the closing keyword too
        ("GH-7", f"GH-{ZWSP}7"),
        ("o/r#5", f"o/r#{ZWSP}5"),
        ("a # heading", "a # heading"),
        ("<div>x</div>", "&lt;div>x&lt;/div>"),
        ("1 < 2", "1 < 2"),
        ("<!-- hidden -->", "&lt;!-- hidden -->"),
    ],
)
def test_neutralise(text, expected):
    assert neutralise(text) == expected


@pytest.mark.parametrize(
    ("original", "replacement", "added"),
    [
        ("a", "b", []),
        ("a <b>x</b>", "a <b>y</b>", []),
        ("a", "a <b>y</b>", ["<b>", "</b>"]),
        ("a", "<https://example.org> and <me@example.org>", []),
        ("a", "x <!-- y -->", ["<!--"]),
    ],
)
def test_new_raw_html(original, replacement, added):
    assert new_raw_html(original, replacement) == added


def test_idempotency_key_must_match_and_content_must_not_change(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit)
        body = envelope(client, report)
        assert_refused(send(client, body, "r-0000000000000000"), 400, "idempotency_key_mismatch")
        answer = client.post("/api/reports", json=body)
        assert_refused(answer, 400, "idempotency_key_mismatch")
        assert send(client, body, report.id).status_code == 202
        changed = make_report(commit, id=report.id, comment="something else")
        assert_refused(post(client, changed), 409, "idempotency_conflict")
        wait_done(client, report.id)
    message = git(repo, "log", "-1", "--format=%B", f"erratum/{report.id}")
    assert "something else" not in message


def test_malformed_requests(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit)
        key = {"Idempotency-Key": report.id}
        answer = client.post(
            "/api/reports", content=b"x", headers={**key, "Content-Type": "text/plain"}
        )
        assert_refused(answer, 415, "unsupported_media_type")
        answer = client.post(
            "/api/reports", content=b"{nope", headers={**key, "Content-Type": "application/json"}
        )
        assert_refused(answer, 400, "invalid_json")
        assert_refused(client.post("/api/reports", json=[1], headers=key), 400, "invalid_json")
        assert_refused(client.post("/api/reports", json={}, headers=key), 422, "invalid_report")
        body = envelope(client, report)
        body["report"]["version"] = 9
        assert_refused(send(client, body, report.id), 422, "invalid_report")
        assert_nothing_created(client, repo)


def test_token_never_reaches_a_log_line():
    stream = io.StringIO()
    configure_logging("info", [TOKEN], stream=stream)
    log_event("gateway_error", logging.WARNING, error=f"401 for token {TOKEN}")
    logging.getLogger("github").warning("Authorization: token %s", TOKEN)
    try:
        raise RuntimeError(f"bad credentials {TOKEN}")
    except RuntimeError:
        logging.getLogger("mkdocs_erratum.service").exception("send failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert all(TOKEN not in line for line in lines)
    records = [json.loads(line) for line in lines]
    assert records[0]["event"] == "gateway_error" and records[0]["error"] == "401 for token ***"
    assert records[1]["event"] == "Authorization: token ***"
    assert "bad credentials ***" in records[2]["exception"]


def test_page_on_another_site_is_refused(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        # The manifest knows no site_url: the path alone would match the page.
        report = make_report(commit, page_url="https://phishing.example/concert/")
        assert_refused(post(client, report), 422, "unknown_page")
        assert_nothing_created(client, repo)


def test_query_and_fragment_of_the_page_url_are_dropped(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit, page_url=PAGE_URL + "?utm_source=@alice#12")
        assert post(client, report).status_code == 202
        assert post(client, report).status_code == 202  # the retry is the same report
        wait_done(client, report.id)
    message = git(repo, "log", "-1", "--format=%B", f"erratum/{report.id}")
    assert f" on {PAGE_URL}\n" in message
    assert "utm_source" not in message


def test_reporter_login_is_not_trusted(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit, reporter="torvalds")
        assert post(client, report).status_code == 202
        wait_done(client, report.id)
    message = git(repo, "log", "-1", "--format=%B", f"erratum/{report.id}")
    stored = parse_issue_body(message)
    assert stored.reporter is None
    assert stored.comment.endswith("Signed: torvalds (unverified)")
    assert "Reported-by" not in message and "@torvalds" not in message


def test_comment_too_long_once_neutralised(tmp_path, site):
    repo, commit, _ = site
    with client_for(tmp_path, site) as client:
        report = make_report(commit, comment="<b" * 2000)
        body = assert_refused(post(client, report), 422, "field_too_long")
        assert "shorten" in body["message"]
        assert_nothing_created(client, repo)


# -- against a real `erratum serve` process -------------------------------------------


def hit(client, forwarded: str | None = None) -> int:
    """One counted request: a POST the limiter sees before anything else refuses it."""
    headers = {"Idempotency-Key": "r-0000000000000000"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    return client.post("/api/reports", json={}, headers=headers).status_code


def test_forged_forwarded_for_is_ignored_by_default(tmp_path):
    with (
        live_service(tmp_path, ip_reports_per_minute=1.0, ip_burst=3) as live,
        httpx.Client(base_url=live.url, timeout=10) as client,
    ):
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told otherwise: a new
        # forged address per request would then never be limited.
        statuses = [hit(client, f"198.51.100.{i}") for i in range(5)]
    assert statuses == [422, 422, 422, 429, 429]


def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_address(tmp_path):
    proxies = ["127.0.0.1", "10.0.0.0/8"]
    with (
        live_service(
            tmp_path, ip_reports_per_minute=1.0, ip_burst=3, trust_forwarded_for=proxies
        ) as live,
        httpx.Client(base_url=live.url, timeout=10) as client,
    ):
        # The client writes what it likes on the left; our proxies append on the right.
        forged = [hit(client, f"198.51.100.{i}, 203.0.113.7, 10.1.2.3") for i in range(4)]
        other_client = hit(client, "203.0.113.8")
        no_header = [hit(client) for _ in range(4)]  # the proxy itself, as a client
    assert forged == [422, 422, 422, 429]
    assert other_client == 422
    assert no_header == [422, 422, 422, 429]


def test_trust_forwarded_for_takes_proxy_addresses_only(tmp_path):
    repo = tmp_path / "repo"
    make_site_repo(repo)
    values = test_settings(tmp_path, repo, tmp_path / "manifest.json")
    for wrong in (["*"], ["proxy.example"], True):
        with pytest.raises(SettingsError, match="trust_forwarded_for"):
            load_settings(env={}, overrides={**values, "trust_forwarded_for": wrong})


def test_limiter_memory_is_bounded_without_resetting_anyone():
    limits = RateLimiter(1.0, 2, 1e9, 10**9)
    for _ in range(2):
        limits.check("192.0.2.1")
    for i in range(60_000):  # more addresses than the old limiter kept before clearing all
        limits.check(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
        if i % 1000 == 0:
            with pytest.raises(Rejected):
                limits.check("192.0.2.1")  # seen recently: still limited
    assert len(limits.buckets) <= 60_001
    small = RateLimiter(1.0, 2, 1e9, 10**9, max_addresses=100)
    for i in range(1000):
        small.check(f"10.0.{i >> 8}.{i & 255}")
    assert len(small.buckets) == 100
    assert list(small.buckets)[-1] == "10.0.3.231"  # the latest stay, the oldest go


def test_limiter_keeps_a_recent_address_limited_past_its_memory(tmp_path):
    with (
        live_service(
            tmp_path,
            ip_reports_per_minute=1.0,
            ip_burst=2,
            ip_memory=20,
            trust_forwarded_for=["127.0.0.1"],
        ) as live,
        httpx.Client(base_url=live.url, timeout=10) as client,
    ):
        spent = [hit(client, "192.0.2.1") for _ in range(3)]
        later = []
        for i in range(100):
            hit(client, f"198.51.100.{i}")
            if i % 10 == 9:
                later.append(hit(client, "192.0.2.1"))
    assert spent == [422, 422, 429]
    assert later == [429] * 10


def _post_raw(client, report_id: str, raw: bytes):
    return client.post(
        "/api/reports",
        content=raw,
        headers={"Idempotency-Key": report_id, "Content-Type": "application/json"},
    )


def test_controls_surrogates_and_deep_json_are_refused_at_the_door(tmp_path):
    with (
        live_service(tmp_path) as live,
        httpx.Client(base_url=live.url, timeout=30) as client,
    ):
        answers = {}
        for name, where, text in [
            ("nul", "comment", "Il y a\x00 une erreur."),
            ("escape", "replacement", "Le concert a eu lieu le 31 mars\x1b[2J."),
            ("bell", "path", "docs/concert\x07.md"),
        ]:
            report = make_report(live.commit)
            body = envelope(client, report)
            target = body["report"] if where != "path" else body["report"]["blocks"][0]
            target[where] = text
            answers[name] = _post_raw(client, report.id, json.dumps(body).encode())
        report = make_report(live.commit)
        raw = json.dumps(envelope(client, report)).replace('"comment": "', '"comment": "\\ud800', 1)
        answers["surrogate"] = _post_raw(client, report.id, raw.encode())
        body = envelope(client, report)
        body["report"]["extra"] = json.loads("[" * 40 + "]" * 40)
        answers["deep"] = _post_raw(client, report.id, json.dumps(body).encode())
        answers["very deep"] = _post_raw(client, report.id, b"[" * 100_000 + b"]" * 100_000)
        answers["unknown path"] = client.get("/api/nothing")
        answers["wrong method"] = client.delete("/api/reports")
        time.sleep(0.3)
        assert branches(live.repo) == []
    expected = {
        "nul": (422, "invalid_text"),
        "escape": (422, "invalid_text"),
        "bell": (422, "invalid_text"),
        "surrogate": (422, "invalid_text"),
        "deep": (422, "too_deep"),
        "very deep": (422, "too_deep"),
        "unknown path": (404, "not_found"),
        "wrong method": (405, "method_not_allowed"),
    }
    for name, (status, code) in expected.items():
        answer = answers[name]
        assert answer.headers["content-type"] == "application/json", (name, answer.text)
        assert (answer.status_code, answer.json()["error"]) == (status, code), name
        assert answer.json()["message"].endswith(".")
    assert "U+0000" in answers["nul"].json()["message"]
    assert "surrogate" in answers["surrogate"].json()["message"]


def test_crlf_from_a_textarea_becomes_lf(tmp_path):
    with (
        live_service(tmp_path) as live,
        httpx.Client(base_url=live.url, timeout=30) as client,
    ):
        report = make_report(
            live.commit,
            start=5,
            end=6,
            replacement="Le groupe a joué pendant deux heures,\r\nsans entracte.",
            comment="Faute :\r\nheurs.\tMerci.",
        )
        answer = post(client, report)
        assert answer.status_code == 202, answer.text
        assert wait_done(client, report.id)["state"] == "branch_created"
    branch = f"erratum/{report.id}"
    changed = git(live.repo, "show", f"{branch}:docs/concert.md")
    assert "deux heures,\nsans entracte." in changed and "\r" not in changed
    stored = parse_issue_body(git(live.repo, "log", "-1", "--format=%B", branch))
    assert stored.comment == "Faute :\nheurs.\tMerci."


def test_logs_carry_no_query_strings(tmp_path):
    with (
        live_service(tmp_path) as live,
        httpx.Client(base_url=live.url, timeout=30) as client,
    ):
        report = make_report(live.commit, page_url=PAGE_URL + "?session=SECRET1#SECRET2")
        assert post(client, report).status_code == 202
        wait_done(client, report.id)
        client.get(f"/api/reports/{report.id}?token=SECRET3")
        client.get("/api/nothing?token=SECRET4")
        client.post("/api/reports?token=SECRET5", json={}, headers={"Origin": "https://x.example"})
        time.sleep(0.2)
    log = live.log.read_text(encoding="utf-8")
    assert '"event": "report_accepted"' in log and PAGE_URL in log
    for secret in ("SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5"):
        assert secret not in log
