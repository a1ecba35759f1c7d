"""The load generator: wrk, a compiled one from the system packages, found or installed here.

Every request takes the next line of a file of pre-built paths (bench/rotate.lua), so each approval
hits a different run. wrk's own CPU time is measured from its rusage: the figure that says whether
the load generator, not the service, was the limit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("rotate.lua")
LIMIT_CORES = 0.5
"""wrk busier than half a core: it may be what caps the rate, and the report says so."""


def find_wrk(say: Any = print) -> Path:
    """wrk on PATH, else `apt-get install -y wrk` when that can work (root, Debian)."""
    found = shutil.which("wrk")
    if found:
        say(f"Load generator: {found} (found on PATH).")
        return Path(found)
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise SystemExit("wrk is not installed; install it (Debian: apt-get install -y wrk)")
    say("Load generator: wrk not found; installing it with apt-get install -y wrk ...")
    install = [apt, "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True, check=False).returncode != 0:
        subprocess.run([apt, "update", "-q"], capture_output=True, check=False)
        subprocess.run(install, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get installed no wrk")
    say(f"Load generator: {found} (installed from the system packages).")
    return Path(found)


def wrk_version(wrk: Path) -> str:
    done = subprocess.run([str(wrk), "-v"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" [")[0] if first else "wrk"


@dataclass(frozen=True)
class WrkRun:
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    """Non-2xx answers, socket errors and timeouts: a run with any is not a clean figure."""
    repeated: int
    """Requests sent after the stock of pre-built paths ran out (each repeats an earlier one)."""
    wrk_cpu_seconds: float
    server_cpu_seconds: float
    unused: list[str]
    """The target's lines no request took, in their order: the stock for the next run."""

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def wrk_cores(self) -> float:
        return self.wrk_cpu_seconds / self.seconds if self.seconds else 0.0

    @property
    def server_cores(self) -> float:
        return self.server_cpu_seconds / self.seconds if self.seconds else 0.0

    @property
    def server_cpu_ms(self) -> float:
        """The server's CPU per answered request: unlike the rate, it holds on a loaded machine."""
        return self.server_cpu_seconds * 1000 / self.requests if self.requests else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "per_s": round(self.per_s, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "errors": self.errors,
            "repeated_requests": self.repeated,
            "load_generator_cores": round(self.wrk_cores, 3),
            "server_cores": round(self.server_cores, 2),
            "server_cpu_ms_per_request": round(self.server_cpu_ms, 2),
        }


@dataclass(frozen=True)
class Target:
    """Where wrk sends its requests: a base URL, its headers, and the lines it rotates through."""

    base_url: str
    lines: list[str]
    """"METHOD /path?query" each; requests take them in turn."""
    headers: dict[str, str]


def run_wrk(
    wrk: Path,
    target: Target,
    connections: int,
    seconds: float,
    server_cpu: Any = lambda: 0.0,
    once: bool = False,
) -> WrkRun:
    """One closed-loop run: `connections` keep-alive connections, each sending its next request
    as soon as the last one is answered. `server_cpu()` is read before and after. `once`: each
    line is sent at most once, and the run ends early when they are all answered."""
    threads = min(2, connections)
    with tempfile.TemporaryDirectory(prefix="ledger-wrk-") as folder:
        paths = Path(folder) / "paths.txt"
        paths.write_text("\n".join(target.lines) + "\n")
        out = Path(folder) / "out.txt"
        command = [str(wrk), f"--threads={threads}", f"--connections={connections}"]
        command += [f"--duration={max(1, round(seconds))}s", "--timeout=60s", "--latency"]
        for name, value in target.headers.items():
            command += ["--header", f"{name}: {value}"]
        command += ["--script", str(SCRIPT), target.base_url, "--", str(paths), str(threads)]
        command += ["once"] if once else []
        server_before, began = server_cpu(), time.perf_counter()
        with out.open("w") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        elapsed, server_after = time.perf_counter() - began, server_cpu()
        text = out.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{text}")
    line = next((ln for ln in text.splitlines() if ln.startswith("BENCH-JSON ")), None)
    if line is None:
        raise RuntimeError(f"no summary from wrk:\n{text}")
    got = json.loads(line.removeprefix("BENCH-JSON "))
    errors = sum(got[k] for k in ("status_errors", "connect_errors", "read_errors"))
    taken = {
        index
        for thread, issued in enumerate(got["issued"])
        for index in range(thread, len(target.lines), threads)[:issued]
    }
    return WrkRun(
        connections=connections,
        requests=got["requests"],
        seconds=got["duration_us"] / 1e6 or elapsed,
        p50_ms=got["p50_us"] / 1000,
        p99_ms=got["p99_us"] / 1000,
        errors=errors + got["write_errors"] + got["timeouts"],
        repeated=got["repeated"],
        wrk_cpu_seconds=usage.ru_utime + usage.ru_stime,
        server_cpu_seconds=server_after - server_before,
        unused=[line for i, line in enumerate(target.lines) if i not in taken],
    )
