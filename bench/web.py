"""The member dashboard's page load: server time and browser time.

A scored city (the page tests' world: 800 members, four quarterly scores each) is built once
into --workdir. The service runs on uvicorn in this process on a loopback port, and:

1. Server time: time to first byte of ``GET /me`` over httpx (signed in), median and p90 of
   --loads loads. "cold" empties the pages' feature cache before each load (the first view
   of a new score record: the member's features are computed online, with their network);
   "warm" is every later view of the same record.
2. Browser time: Playwright (Debian's Chromium) loads ``/me`` --browser-loads times with a
   warm HTTP cache (plotly.js is cached for a year): navigation timing's domContentLoaded
   and load, and when the gauge's Plotly SVG was drawn (a performance mark the page's
   chart script sets), each from navigation start.

    python bench/web.py [--loads 30] [--browser-loads 15] [--workdir .openscore/bench-web]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.world import PASSWORD, build_world

from openscore.api.app import create_app
from openscore.config import Settings
from openscore.web.memberdata import FeatureCache

CHROMIUM = "/usr/bin/chromium"


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _line(name: str, values: Sequence[float]) -> str:
    return (
        f"  {name:<34} median {statistics.median(values):7.1f} ms   "
        f"p90 {_quantile(values, 0.9):7.1f} ms   (n={len(values)})"
    )


def _serve(data_dir: Path) -> tuple[uvicorn.Server, str, object]:
    app = create_app(Settings(data_dir=data_dir))
    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}", app


def _signed_in(base: str, member: str) -> httpx.Client:
    client = httpx.Client(base_url=base)
    page = client.get("/signin").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/signin", data={"member_id": member, "password": PASSWORD, "csrf_token": token}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in answered {answer.status_code}")
    return client


def _ttfb(client: httpx.Client, before: Callable[[], None]) -> float:
    before()
    start = time.perf_counter()
    with client.stream("GET", "/me") as answer:
        chunks = answer.iter_raw()
        next(chunks)  # the first bytes of the body
        elapsed = time.perf_counter() - start
        for _ in chunks:
            pass
    if answer.status_code != 200:
        raise RuntimeError(f"GET /me answered {answer.status_code}")
    return elapsed * 1000


def server_time(base: str, app: object, member: str, loads: int) -> None:
    client = _signed_in(base, member)
    state = app.state  # type: ignore[attr-defined]

    def empty_cache() -> None:
        state.web_feature_cache = FeatureCache()

    cold = [_ttfb(client, empty_cache) for _ in range(loads)]
    warm = [_ttfb(client, lambda: None) for _ in range(loads)]
    print(_line("server TTFB, cold (features online)", cold))
    print(_line("server TTFB, warm", warm))


def browser_time(base: str, member: str, loads: int) -> None:
    from playwright.sync_api import sync_playwright

    dcl, load, gauge = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(base_url=base)
        page.goto("/signin")
        page.fill("#member_id", member)
        page.fill("#password", PASSWORD)
        page.click("form[action='/signin'] button[type=submit]")
        page.wait_for_selector("#gauge[data-drawn='true'] svg.main-svg")
        for _ in range(loads):
            page.goto("/me")
            page.wait_for_selector("#gauge[data-drawn='true'] svg.main-svg")
            drawn = page.evaluate(
                "performance.getEntriesByName('openscore:drawn:gauge')[0].startTime"
            )
            timing = page.evaluate(
                "(() => { const n = performance.getEntriesByType('navigation')[0];"
                " return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()"
            )
            dcl.append(timing[0])
            load.append(timing[1])
            gauge.append(drawn)
        browser.close()
    print(_line("browser domContentLoaded", dcl))
    print(_line("browser load", load))
    print(_line("browser gauge SVG drawn", gauge))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument("--browser-loads", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=Path(".openscore/bench-web"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"world in {args.workdir} (built once; 800 members, 4 quarterly scores) ...", flush=True)
    world = build_world(args.workdir)
    server, base, app = _serve(world.data_dir)
    try:
        print(f"member dashboard (GET /me) of {world.weak}, loopback, uvicorn in-process:")
        server_time(base, app, world.weak, args.loads)
        if Path(CHROMIUM).exists():
            browser_time(base, world.weak, args.browser_loads)
        else:
            print(f"  browser time skipped: no Chromium at {CHROMIUM}")
    finally:
        server.should_exit = True


if __name__ == "__main__":
    main()
