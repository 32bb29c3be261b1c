"""wrk as the load generator: installed when missing, fed pre-signed requests, results read as JSON.

Each wrk thread reads its share of a file of pre-signed requests (one `signature<TAB>body` per line) and
sends each once; wrk's `done()` prints the counts by status and the latency percentiles on one line.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA = r"""
-- Written by bench/loadgen.py: POSTs pre-signed Twilio webhooks, each line of the file once.
local started = 0
threads = {}

function setup(thread)
  thread:set("tid", started)
  started = started + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[2])
  reqs, sent, reused, statuses = {}, 0, 0, {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      local signature, body = line:match("^([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = signature,
      }, body)
    end
    i = i + 1
  end
end

function request()
  sent = sent + 1
  if sent > #reqs then reused = reused + 1 end
  return reqs[(sent - 1) % #reqs + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts, reused_total = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[#counts + 1] = string.format('"%d": %d', status, n)
    end
    reused_total = reused_total + thread:get("reused")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "socket_errors": %d, "reused": %d, "statuses": [{%s}]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, reused_total,
    table.concat(counts, "}, {")))
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int  # connect, read, write errors and timeouts
    reused: int  # requests sent twice because the pool ran out (should be 0)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def not_ok(self) -> int:
        """Answers other than 2xx, plus requests that got no answer at all."""
        return self.requests - self.ok + self.socket_errors


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's package when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].split(" [")[0] if (out.stdout or out.stderr) else "wrk"


class Wrk:
    def __init__(self, *, binary: str, workdir: Path, connections: int, threads: int, timeout_s: int = 10):
        self.binary = binary
        self.workdir = workdir
        self.connections = connections
        self.threads = min(threads, connections)
        self.timeout_s = timeout_s
        self.script = workdir / "replay.lua"
        self.script.write_text(LUA)
        self.runs = 0

    def run(self, url: str, requests: list[tuple[str, str]], seconds: float) -> LoadResult:
        """POST `requests` (signature, body) to `url` for `seconds` with the configured concurrency."""
        self.runs += 1
        data = self.workdir / f"requests-{self.runs}.tsv"
        data.write_text("".join(f"{signature}\t{body}\n" for signature, body in requests))
        command = [
            self.binary,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={self.timeout_s}s",
            "-s",
            str(self.script),
            url,
            "--",
            str(data),
            str(self.threads),
        ]
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
        data.unlink()
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if out.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        statuses: dict[int, int] = {}
        for entry in raw["statuses"]:
            for status, n in entry.items():
                statuses[int(status)] = statuses.get(int(status), 0) + n
        return LoadResult(
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            p50_ms=raw["p50_us"] / 1000,
            p90_ms=raw["p90_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
            max_ms=raw["max_us"] / 1000,
            socket_errors=raw["socket_errors"],
            reused=raw["reused"],
            statuses=statuses,
        )
