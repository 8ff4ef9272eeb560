"""Service benchmark: the server in its own process, a load generator on loopback.

Prints three figures:

- event to new score: one event POSTed, the member rescored online, the record committed
  (sequential requests; median and p99 latency);
- partner standing query with a signed attestation at 32 concurrent clients (requests per
  second and p99), beside a bare endpoint of the same app returning a constant (the limit of
  this server, client and machine);
- batch posting: events per second for batches of 1,000, accepted at once; their members are
  rescored in the background after the commit, and how fast that drains is printed too.

Usage: ``.venv/bin/python bench/service.py [--members 1000] [--seconds 10]``. Everything is
made in a temporary data directory (city, ledger, champion model, every member scored as of
the end of last month, partner, consents: every standing answer is a signed score). The
concurrent load comes from Debian's ``wrk`` when it is installed (a Python client costs a
core at a few hundred requests a second, which on two cores hides the server's own limit),
else from httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

CLIENTS = 32


def _first_of_month(months_back: int) -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    index = today.year * 12 + today.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def prepare(data_dir: Path, members: int) -> tuple[str, list[str], set[str]]:
    """City into the ledger, a champion, a partner; returns its key, the consenting members'
    pseudonyms and those of them who opted in to the connections dimension."""
    os.environ["OPENSCORE_DATA_DIR"] = str(data_dir)
    from sqlalchemy import text
    from sqlalchemy.orm import sessionmaker

    from openscore.accounts.repository import AccountsRepository
    from openscore.config import get_settings
    from openscore.db.engine import make_engine, upgrade
    from openscore.ledger.files import discover
    from openscore.ledger.imports import import_file
    from openscore.partners import service as partners
    from openscore.partners.repository import PartnersRepository
    from openscore.partners.schemas import Scope
    from openscore.rights import service as rights
    from openscore.rights.repository import RightsRepository
    from openscore.rights.schemas import GrantIn, Purpose
    from openscore.scoring import registry
    from openscore.scoring.batch import run_batch
    from openscore.scoring.cityset import city_training_set
    from openscore.scoring.registry import models_dir
    from openscore.scoring.training import train_and_register
    from openscore.simulate.config import load_config
    from openscore.simulate.writer import write_city

    settings = get_settings()
    city = data_dir / "city"
    config = load_config(None, members=members, months=24, seed=7, start=_first_of_month(24))
    write_city(config, city)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    for path in discover([city / "events"]):
        import_file(engine, path)
    start = _first_of_month(12)
    as_of = dt.datetime(start.year, start.month, 1, tzinfo=dt.UTC) - dt.timedelta(microseconds=1)
    train_and_register(city_training_set(as_of, 12, city), directory=models_dir(settings))
    # Every member scored as of the end of last month, as a running platform's would be, so
    # that partners' standing queries are answered with a signed score, not "no score yet".
    champion = registry.champion(models_dir(settings))
    assert champion is not None
    last_month_end = dt.datetime(*_first_of_month(0).timetuple()[:3], tzinfo=dt.UTC)
    run_batch(
        champion,
        last_month_end - dt.timedelta(microseconds=1),
        store=engine,
        lake=city,
        data_dir=data_dir,
    )
    now = dt.datetime.now(dt.UTC)
    with sessionmaker(engine).begin() as session:
        _, key = partners.add_partner(
            PartnersRepository(session),
            AccountsRepository(session),
            "bench-bank",
            "Bench Bank",
            list(Scope),
            600,
            now,
        )
        enrolled = session.execute(
            text(
                "SELECT member_id, connections_opt_in FROM members "
                "WHERE status = 'enrolled' ORDER BY member_id"
            )
        ).all()
        names, networked = [], set()
        for member_id, opted_in in enrolled:
            wanted = GrantIn(
                partner_id="bench-bank",
                purpose=Purpose.lending,
                expires_at=now + dt.timedelta(days=30),
            )
            out = rights.grant(
                RightsRepository(session), PartnersRepository(session), member_id, wanted, now
            )
            names.append(out.pseudonym)
            if opted_in:
                networked.add(out.pseudonym)
    engine.dispose()
    return key, names, networked


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OPENSCORE_DATA_DIR": str(data_dir),
        "OPENSCORE_RATE_LIMIT_PARTNER": "10000000/minute",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "openscore", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ping").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def _event(pseudonym: str, event_id: str) -> dict[str, Any]:
    occurred = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    return {
        "schema_version": 1,
        "event_id": event_id,
        "type": "payment_made",
        "member_id": pseudonym,
        "occurred_at": occurred.isoformat(),
        "amount": 2_500,
        "currency": "EUR",
        "merchant_category": "groceries",
        "channel": "card",
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def event_to_score(
    base: str, key: str, names: list[str], count: int, prefix: str
) -> list[tuple[str, float]]:
    """(pseudonym, seconds) of ``count`` sequential one-event POSTs, members in turn."""
    latencies = []
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as client:
        for i in range(count):
            body = {"events": [_event(names[i % len(names)], f"{prefix}-{i}")]}
            started = time.perf_counter()
            answer = client.post("/v1/events", json=body)
            latencies.append((names[i % len(names)], time.perf_counter() - started))
            if answer.status_code != 200 or answer.json()["rescoring"]["rescored"] != 1:
                raise RuntimeError(f"event not rescored: {answer.text}")
    return latencies


async def _load(base: str, paths: list[str], headers: dict[str, str], seconds: float) -> Any:
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=120
    ) as client:

        async def worker(offset: int) -> None:
            nonlocal failures
            i = offset
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                answer = await client.get(paths[i % len(paths)])
                latencies.append(time.perf_counter() - started)
                failures += answer.status_code != 200
                i += CLIENTS

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(CLIENTS)))
        wall = time.perf_counter() - started
    return len(latencies) / wall, _quantile(latencies, 0.99), failures


_WRK_SCRIPT = """
local paths = {%s}
local headers = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], headers)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%f %%f %%d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(99) / 1e6, summary.errors.status))
end
"""


def _wrk(base: str, paths: list[str], headers: dict[str, str], seconds: float) -> Any:
    """The same load from wrk (a C load generator, one thread): requests per second, p99
    and non-2xx answers. Python's own client costs a core at a few hundred requests a
    second, which on two cores caps what the server can be seen to do."""
    lua_paths = ", ".join(f'"{p}"' for p in paths)
    lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_SCRIPT % (lua_paths, lua_headers))
        script.flush()
        command = ["wrk", "-t1", f"-c{CLIENTS}", f"-d{seconds:.0f}s", "--timeout", "10s"]
        run = subprocess.run(
            [*command, "-s", script.name, base],
            check=True,
            capture_output=True,
            text=True,
        )
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
    requests, wall, p99, failures = line.split()[1:]
    return int(requests) / float(wall), float(p99), int(failures)


def batches(base: str, key: str, names: list[str], rounds: int, store: Path) -> None:
    """Batches of 1,000 events: how fast they are accepted, then how fast the background
    rescoring of their members drains (records counted in the store until all are there)."""
    events, seconds, queued = 0, 0.0, 0
    before = _batch_records(store)
    drain_started = time.perf_counter()
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=300
    ) as client:
        for r in range(rounds):
            body = {
                "events": [_event(names[i % len(names)], f"batch-{r}-{i}") for i in range(1_000)]
            }
            started = time.perf_counter()
            answer = client.post("/v1/events", json=body)
            seconds += time.perf_counter() - started
            if answer.status_code != 200:
                raise RuntimeError(answer.text)
            events += answer.json()["inserted"]
            queued += answer.json()["rescoring"]["queued"]
    print(
        f"batch posting, {rounds} batches of 1,000 events: {events / seconds:,.0f} events/s "
        f"accepted ({seconds / rounds * 1e3:,.0f} ms a batch; {queued:,} members queued)"
    )
    while _batch_records(store) - before < queued:
        time.sleep(0.5)
    drained = time.perf_counter() - drain_started
    print(
        f"  background rescoring: {queued:,} members in {drained:,.1f} s "
        f"({queued / drained:,.1f} members/s, while the batches were posted and after)"
    )


def _batch_records(store: Path) -> int:
    with sqlite3.connect(store) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM scores WHERE cause LIKE 'event:%/batch-%'"
        ).fetchone()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--events", type=int, default=300, help="events timed one by one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openscore-bench-service-") as scratch:
        data_dir = Path(scratch)
        print(f"preparing a city of {args.members:,} members, a champion and consents ...")
        key, names, networked = prepare(data_dir, args.members)
        port = _free_port()
        server = start_server(data_dir, port)
        base = f"http://127.0.0.1:{port}"
        try:
            report(base, key, names, networked, args, data_dir / "openscore.db")
        finally:
            server.terminate()
            server.wait(timeout=30)


def report(
    base: str,
    key: str,
    names: list[str],
    networked: set[str],
    args: argparse.Namespace,
    store: Path,
) -> None:
    event_to_score(base, key, names, 20, "warm")  # warm-up: each server thread's engines
    timed = event_to_score(base, key, names, args.events, "timed")
    groups = {
        "all members": [s for _, s in timed],
        "connections opted out": [s for n, s in timed if n not in networked],
        "connections opted in": [s for n, s in timed if n in networked],
    }
    print(f"event to new score ({args.events} sequential POSTs, rescoring included):")
    for label, latencies in groups.items():
        if latencies:
            print(
                f"  {label:<22} ({len(latencies):>3}): median "
                f"{statistics.median(latencies) * 1e3:6.1f} ms, "
                f"p99 {_quantile(latencies, 0.99) * 1e3:6.1f} ms (target < 30 ms, < 100 ms)"
            )
    headers = {"Authorization": f"Bearer {key}"}
    standing = [f"/v1/standing/{n}?purpose=lending" for n in names]
    asyncio.run(_load(base, standing, headers, 2.0))  # warm-up
    if shutil.which("wrk"):
        print("load generator: wrk, 1 thread")
        bare_rate, bare_p99, _ = _wrk(base, ["/v1/ping"], {}, args.seconds)
        rate, p99, failures = _wrk(base, standing, headers, args.seconds)
    else:
        print("load generator: httpx (install Debian's wrk for a lighter one)")
        bare_rate, bare_p99, _ = asyncio.run(_load(base, ["/v1/ping"], {}, args.seconds))
        rate, p99, failures = asyncio.run(_load(base, standing, headers, args.seconds))
    print(
        f"standing with attestation, {CLIENTS} clients: {rate:,.0f} req/s, "
        f"p99 {p99 * 1e3:.1f} ms, {failures} non-200"
    )
    print(
        f"bare constant endpoint, {CLIENTS} clients: {bare_rate:,.0f} req/s, "
        f"p99 {bare_p99 * 1e3:.1f} ms; standing = {rate / bare_rate:.0%} of bare "
        "(target >= 40%, p99 < 50 ms)"
    )
    batches(base, key, names, 3, store)


if __name__ == "__main__":
    main()
