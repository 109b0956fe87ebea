"""Load test of the correction service: many readers at once, a flaky GitHub, no report lost.

Runs ``erratum serve`` as a real uvicorn process on 127.0.0.1 and 50 concurrent clients
(httpx, each solving the proof of work like the widget) sending 2,000 reports. With
``--backend github`` (the default) the service sends them to the GitHub stand-in of the
test suite, which answers 5% of requests with a 502 (half of them after doing the work,
the worst case for duplicates) and a burst of 403 secondary-limit answers with
Retry-After. At the end every accepted report must be in exactly one issue or pull
request (``--backend git``: exactly one branch). Prints accepted reports per second, the
p95 accept latency, the delivery rate and the none-lost / none-duplicated check.

    .venv/bin/python bench/service_load.py [--reports 2000] [--clients 50]

With ``--moderation`` the service holds every report (``moderation = true``): the run
checks that all of them are held and nothing was created, then approves them in bulk with
``erratum review --approve-all`` and prints how long the approval took, before the same
delivery check. The bench's reports share four paragraphs, so it turns duplicate
joining off (``forge_join_duplicates = false``) unless ``--join`` is given; then a joined
comment counts as the report's one delivery.

Exits non-zero when a report is lost or duplicated. Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mkdocs_erratum import gate  # noqa: E402
from mkdocs_erratum.forges.base import report_ids_in  # noqa: E402
from mkdocs_erratum.service.abuse import solve  # noqa: E402
from tests.service_support import (  # noqa: E402
    PARAGRAPHS,
    ServiceProcess,
    branches,
    free_port,
    make_report,
    make_site_repo,
    test_settings,
    write_manifest,
    write_toml,
)

REPOSITORY = "acme/news"
TOKEN = "maintainer-token"
ADMIN_TOKEN = "bench-admin-token-0123456789"
JOINED_RE = re.compile(r"<!-- erratum:(r-[0-9a-f]{16}):joined -->")


def approve_all(url: str) -> tuple[float, str]:
    """``erratum review --approve-all`` as a maintainer runs it: (seconds, its output)."""
    env = {**os.environ, "ERRATUM_ADMIN_TOKEN": ADMIN_TOKEN, "ERRATUM_SERVICE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.cli", "review", "--approve-all"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"erratum review failed: {done.stderr}")
    return took, done.stdout.strip().splitlines()[-1]


def serve_flaky_standin(git_dir: str, error_rate: float) -> None:
    """Child process: the GitHub stand-in, answering some requests with 502 at random."""
    from tests.standin import Fault, GitHubStandIn

    rng = random.Random(5)

    class FlakyStandIn(GitHubStandIn):
        def _take_fault(self, method, path):
            fault = super()._take_fault(method, path)
            if fault is None and not path.startswith("/_standin") and rng.random() < error_rate:
                # Half before doing the work, half after it (the worst case for duplicates).
                fault = Fault("bad_gateway" if rng.random() < 0.5 else "bad_gateway_after")
            return fault

    standin = FlakyStandIn(git_dir, REPOSITORY, known_users={"reader"})
    print(standin.url, flush=True)
    standin.serve_forever()


class StandInProcess:
    """The stand-in in its own process (as GitHub is), driven through its control API."""

    def __init__(self, repo: Path, error_rate: float):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--standin-child",
                str(repo),
                "--error-rate",
                str(error_rate),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the stand-in did not start: {self.url!r}")

    def inject(self, **fault) -> None:
        httpx.post(self.url + "/_standin/faults", json=fault, timeout=10).raise_for_status()

    def state(self) -> dict:
        return httpx.get(self.url + "/_standin/state", timeout=60).json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


async def client_loop(url, reports, latencies, accepted, address, deadline):
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for report in reports:
            body = None
            while time.monotonic() < deadline:
                try:
                    if body is None:
                        challenge = (await client.get("/api/challenge")).json()
                        body = {
                            "report": report.to_dict(),
                            "altcha": solve(challenge),
                            "honeypot": "",
                        }
                    started = time.perf_counter()
                    answer = await client.post(
                        "/api/reports",
                        json=body,
                        headers={"Idempotency-Key": report.id, "X-Forwarded-For": address},
                    )
                    if answer.status_code == 202:
                        latencies.append(time.perf_counter() - started)
                        accepted.append(report.id)
                        break
                    if answer.status_code == 429:
                        await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
                        continue
                    raise SystemExit(f"{report.id}: {answer.status_code} {answer.text}")
                except httpx.TransportError:
                    await asyncio.sleep(0.2)


async def send_all(url, reports, clients, deadline):
    latencies: list[float] = []
    accepted: list[str] = []
    share = [reports[i::clients] for i in range(clients)]
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client_loop(url, part, latencies, accepted, f"127.0.1.{i}", deadline)
            for i, part in enumerate(share)
        )
    )
    return accepted, latencies, time.perf_counter() - started


def store_counts(database: Path) -> dict[str, int]:
    """Reports per state, read from the service's SQLite file (``/healthz`` tells only "ok")."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout=5000")
        rows = db.execute("SELECT state, COUNT(*) FROM reports GROUP BY state").fetchall()
    return dict(rows)


def wait_delivered(database: Path, total: int, deadline: float) -> dict:
    counts = {}
    while time.monotonic() < deadline:
        counts = store_counts(database)
        if sum(counts.get(s, 0) for s in ("queued", "in_flight")) == 0 and (
            sum(counts.values()) >= total
        ):
            return counts
        time.sleep(0.5)
    return counts


def created_per_report_github(state: dict) -> dict[str, int]:
    """Report id -> issues, pull requests and joined comments carrying it."""
    found: dict[str, int] = {}
    for record in state["repos"][REPOSITORY]["records"]:
        ids = report_ids_in(record["body"])
        for comment in record.get("comments", []):
            ids += JOINED_RE.findall(comment)
        for report_id in ids:
            found[report_id] = found.get(report_id, 0) + 1
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--standin-child", metavar="GIT_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--backend", choices=["github", "git"], default="github")
    parser.add_argument("--error-rate", type=float, default=0.05, help="share of 502 answers")
    parser.add_argument("--secondary-burst", type=int, default=8, help="403 answers in a row")
    parser.add_argument(
        "--send-per-minute",
        type=float,
        default=6000.0,
        help="sender rate (GitHub's own limit is ~80/min: 2,000 reports would take 25 min)",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="worker concurrency")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after (s)")
    parser.add_argument(
        "--moderation", action="store_true", help="hold every report, then approve in bulk"
    )
    parser.add_argument(
        "--join",
        action="store_true",
        help="let reports of the same lines join the open issue or pull request (the "
        "service's default; the bench's 2,000 reports share four paragraphs, so nearly all "
        "become comments)",
    )
    args = parser.parse_args(argv)
    if args.standin_child:
        serve_flaky_standin(args.standin_child, args.error_rate)
        return 0
    deadline = time.monotonic() + args.timeout

    with tempfile.TemporaryDirectory(prefix="erratum-bench-") as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "repo"
        commit = make_site_repo(repo)
        manifest = write_manifest(tmp / "manifest.json", commit, REPOSITORY)
        values = test_settings(
            tmp,
            repo,
            manifest,
            send_per_minute=args.send_per_minute,
            send_burst=20,
            worker_concurrency=args.concurrency,
            retry_base_seconds=0.2,
            retry_max_seconds=5.0,
            altcha_max_number=1000,
            trust_forwarded_for=["127.0.0.1"],  # each client says its own address
            ip_reports_per_minute=600.0,
            ip_burst=100,
            log_level="info",
        )
        if args.moderation:
            values.update(moderation=True, admin_token=ADMIN_TOKEN)
        values["forge_join_duplicates"] = args.join
        standin = None
        if args.backend == "github":
            standin = StandInProcess(repo, args.error_rate)
            values.update(
                backend="github",
                github_repository=REPOSITORY,
                github_token=TOKEN,
                github_api_url=standin.url,
                # The stand-in's burst is short; GitHub's own advice is a minute.
                github_limit_pause_seconds=5.0,
            )
        config = write_toml(tmp / "service.toml", values)
        service = ServiceProcess(config, free_port(), tmp / "service.log").start()
        spans = [span for span in PARAGRAPHS if span != (1, 1)]
        reports = []
        for i in range(args.reports):
            start, end = spans[i % len(spans)]
            replacement = None if i % 3 == 0 else f"Texte corrigé numéro {i}."
            reports.append(make_report(commit, start, end, replacement, f"Rapport {i}"))
        try:
            if standin is not None:
                # A burst of secondary limits on content creation, early in the run.
                standin.inject(
                    kind="secondary_limit",
                    method="POST",
                    times=args.secondary_burst,
                    retry_after=2,
                )
            accepted, latencies, took = asyncio.run(
                send_all(service.url, reports, args.clients, deadline)
            )
            held_counts, created_while_held, approval = {}, 0, None
            if args.moderation:
                time.sleep(2.0)  # the worker had every chance to send something
                held_counts = store_counts(Path(values["database"]))
                if standin is not None:
                    created_while_held = len(standin.state()["repos"][REPOSITORY]["records"])
                else:
                    created_while_held = len(branches(repo))
                approval = approve_all(service.url)
            send_done = time.perf_counter()
            counts = wait_delivered(Path(values["database"]), len(accepted), deadline)
            after_approval = time.perf_counter() - send_done
            delivery_took = after_approval + took
        finally:
            service.stop()
            if standin is not None and sys.exc_info()[0] is not None:
                standin.stop()
        if standin is not None:
            state = standin.state()
            standin.stop()
            created = created_per_report_github(state)
            violations = len(state["violations"])
        else:
            created = {}
            for name in branches(repo):
                report_id = name.split("/", 1)[1]
                created[report_id] = created.get(report_id, 0) + 1
            violations = 0
        log = (tmp / "service.log").read_text(encoding="utf-8")
        token_leaks = log.count(TOKEN) if args.backend == "github" else 0
        retries = log.count('"event": "report_retry"')

    accepted_ids = set(accepted)
    lost = sorted(accepted_ids - set(created))
    duplicated = sorted(i for i, n in created.items() if n > 1)
    stray = sorted(set(created) - accepted_ids)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
    print(f"backend                 {args.backend}")
    print(f"reports accepted        {len(accepted)} of {len(reports)} from {args.clients} clients")
    print(f"accepted reports/s      {len(accepted) / took:.1f}")
    print(f"accept latency p50      {statistics.median(latencies) * 1000:.1f} ms")
    print(f"accept latency p95      {p95 * 1000:.1f} ms")
    print(f"delivered reports/s     {len(accepted) / delivery_took:.1f}")
    if args.moderation:
        print(f"held before approval    {json.dumps(held_counts, sort_keys=True)}")
        print(f"created while held      {created_while_held}")
        print(f"bulk approval           {approval[0]:.2f} s for {len(accepted)} ({approval[1]})")
        print(f"approved to delivered   {after_approval:.1f} s")
    print(f"final states            {json.dumps(counts, sort_keys=True)}")
    print(f"sends retried           {retries}")
    print(f"lost                    {len(lost)}")
    print(f"duplicated              {len(duplicated)}")
    print(f"created but not accepted {len(stray)}")
    if args.backend == "github":
        print(f"OpenAPI violations      {violations}")
        print(f"token in service log    {token_leaks}")
    # What the gate (scope, rendered replacement check) costs each report at intake.
    sample = reports[:200]
    gate_start = time.perf_counter()
    for report in sample:
        gate.check_report(report, ["docs"], gate.MarkdownConfig())
    gate_ms = (time.perf_counter() - gate_start) / len(sample) * 1000
    print(f"gate per report         {gate_ms:.2f} ms (in process, bench/gate_cost.py for more)")
    ok = not lost and not duplicated and not stray and len(accepted) == len(reports)
    if args.moderation:
        ok = ok and created_while_held == 0 and held_counts == {"held": len(accepted)}
    print("none lost, none duplicated: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
