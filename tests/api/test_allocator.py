"""The serving commands run with glibc's per-thread allocator cache widened, once."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from openscore.api.allocator import TUNABLES, tuned_command
from openscore.demo.run import free_port

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not GLIBC, reason="glibc's tunables exist only on glibc")


@needs_glibc
@pytest.mark.parametrize("argv", [["openscore", "serve", "--port", "9"], ["x", "demo", "--check"]])
def test_a_serving_command_runs_again_under_the_tunables(argv: list[str]) -> None:
    tuned = tuned_command(argv, {"PATH": "/bin"})
    assert tuned is not None
    command, environ = tuned
    assert command == [sys.executable, "-m", "openscore", *argv[1:]]
    assert environ == {"PATH": "/bin", "GLIBC_TUNABLES": TUNABLES}


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["openscore", "ledger", "import", "serve"], {}),  # not a serving command
        (["openscore", "--help"], {}),
        (["openscore"], {}),
        (["openscore", "serve"], {"GLIBC_TUNABLES": TUNABLES}),  # the run again
        (["openscore", "serve"], {"GLIBC_TUNABLES": ""}),  # someone's own choice
    ],
)
def test_everything_else_goes_on_as_is(argv: list[str], environ: dict[str, str]) -> None:
    assert tuned_command(argv, environ) is None


@needs_glibc
def test_openscore_serve_serves_from_the_same_process_with_the_tunables(tmp_path: Path) -> None:
    port = free_port("127.0.0.1")
    environ = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    environ["OPENSCORE_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "openscore", "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answered = None
        for _ in range(600):
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/v1/ping")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answered is not None and answered.status_code == 200
        # The process that answers is the one started (run again in place, not a child).
        found = Path(f"/proc/{server.pid}/environ").read_bytes().split(b"\0")
        assert f"GLIBC_TUNABLES={TUNABLES}".encode() in found
    finally:
        server.terminate()
        server.wait(timeout=30)
