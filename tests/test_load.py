"""Load (issue 14): `chainrule serve` on loopback, 16 clients for 20 s, each opening sessions that step,
train, explain, download and draw the boundary, then leaving them to expire (idle 3 s). It reports the
requests served, errors (must be 0), latency p50/p95/p99 and the server's memory, which must stay bounded
as sessions expire. Its figures go to .cache/load.json (and docs/reliability.md)."""

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

CLIENTS, SECONDS, IDLE = 16, 20.0, 3.0
REPORT = Path(__file__).parents[1] / ".cache" / "load.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_serve_under_load_answers_every_request_and_its_memory_stays_bounded():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "chainrule", "serve", "--port", str(port), "--sessions", "400",
                               "--idle-seconds", str(IDLE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    latencies, errors, lock = [], [], threading.Lock()

    def call(method, path, body=None):
        request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                content = response.read()
        except (urllib.error.URLError, OSError) as exc:
            with lock:
                errors.append(f"{method} {path}: {exc}")
            return None
        with lock:
            latencies.append(time.perf_counter() - start)
        return json.loads(content) if path[-5:] != ".toml" else content

    try:
        assert server.stdout.readline().startswith("chainrule: serving the page at")
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(base + "/api/health", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        memory = [rss_mb(server.pid)]
        end = time.time() + SECONDS

        def client(k):
            while time.time() < end:            # a visitor: a session, a few steps, then gone
                created = call("POST", "/api/sessions", {"example": ("mazur", "xor", "visual")[k % 3]})
                if created is None:
                    return
                sid = created["id"]
                for _ in range(3):
                    step = call("POST", f"/api/sessions/{sid}/step")
                    if step is None:
                        return
                    call("GET", f"/api/sessions/{sid}/steps/{step['trace']['step']}/explain?param=w1")
                    call("POST", f"/api/sessions/{sid}/train", {"epochs": 20})
                call("GET", f"/api/sessions/{sid}/spec.toml")
                call("GET", f"/api/sessions/{sid}")
                if k % 3 == 1:
                    call("GET", f"/api/sessions/{sid}/boundary?resolution=30")

        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            memory.append(rss_mb(server.pid))
            time.sleep(1.0)
        for thread in threads:
            thread.join(timeout=60)
        peak_sessions = call("GET", "/api/health")["sessions"]
        time.sleep(IDLE + 1)
        after = call("GET", "/api/health")["sessions"]          # every visitor left: all expired
        memory.append(rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=20)
    served = len(latencies)
    report = {"clients": CLIENTS, "seconds": SECONDS, "requests": served, "errors": len(errors),
              "requests_per_second": round(served / SECONDS, 1),
              "p50_ms": round(1000 * percentile(latencies, 0.50), 1), "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
              "p99_ms": round(1000 * percentile(latencies, 0.99), 1), "sessions_at_end": peak_sessions,
              "sessions_after_idle": after, "rss_start_mb": round(memory[0], 1), "rss_peak_mb": round(max(memory), 1),
              "rss_end_mb": round(memory[-1], 1), "rss_series_mb": [round(m) for m in memory]}
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1) + "\n")
    print(report)
    assert not errors, errors[:3]
    assert served > 200 and after == 0
    # bounded: the peak is the start plus what the live sessions hold, not growing with requests served
    assert max(memory) - memory[0] < 300, report
    half = len(memory) // 2                     # and level: the second half grows by little over the first
    assert max(memory[half:]) - max(memory[:half]) < 64, report
