"""The web page's response times and frame rate for a 2-8-8-1 network on 500 samples (issue 26): one traced
step, one parameter's chain rule, a train call, the heatmaps and the boundary through the API, and how many
times a second Play redraws the diagram in Chromium.  Run: .venv/bin/python benchmarks/web_page.py"""

import json
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import uvicorn
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from chainrule.web.server import create_app  # noqa: E402

SPEC = {"name": "2-8-8-1", "network": {"inputs": 2, "loss": "bce", "layers": [
    {"units": 8, "activation": "tanh", "init": {"kind": "xavier"}}, {"units": 8, "activation": "tanh", "init": {"kind": "xavier"}},
    {"units": 1, "activation": "sigmoid"}]},
    "training": {"learning_rate": 0.3, "batch": 10, "reduction": "mean", "epochs": 5000, "seed": 1, "shuffle": True},
    "data": {"generator": "circle", "samples": 625, "noise": 0.05, "test_fraction": 0.2, "seed": 0}}   # 500 to train on


def timed(call, repeat=20):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def api_times():
    client = TestClient(create_app())
    sid = client.post("/api/sessions", json={"spec": SPEC}).json()["id"]
    base = f"/api/sessions/{sid}"
    step = timed(lambda: client.post(base + "/step"))
    explain = timed(lambda: client.get(base + "/steps/1/explain", params={"param": "w17"}), 5)
    train = timed(lambda: client.post(base + "/train", json={"epochs": 1}), 10)
    heat = timed(lambda: client.get(base + "/heatmaps", params={"resolution": 14}))
    boundary = timed(lambda: client.get(base + "/boundary", params={"resolution": 48}))
    frame = timed(lambda: client.post(base + "/train", json={"epochs": 5, "seconds": 0.06,
                                                               "view": {"boundary": 48, "heatmaps": 14}}), 10)
    return {"step": step, "explain w17": explain, "train 1 epoch": train, "heatmaps 14×14": heat,
            "boundary 48×48": boundary, "Play frame (5 epochs + views)": frame}


def frame_rate(seconds=5.0):
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM_FLAGS
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=8799, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto("http://127.0.0.1:8799/#setup=" + json.dumps({"spec": SPEC}))
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        page.fill("#speed", "5")
        before = page.evaluate("window.chainrulePage.renders")
        page.click("#play")
        page.wait_for_timeout(1000 * seconds)
        page.click("#pause")
        renders = page.evaluate("window.chainrulePage.renders") - before
        times = page.evaluate("window.chainrulePage.times")
        print("  time in the page's drawing, ms a frame: " + ", ".join(
            f"{name} {total / max(renders, 1):.1f}" for name, total in times.items()))
        browser.close()
    server.should_exit = True
    return renders / seconds


if __name__ == "__main__":
    for name, ms in api_times().items():
        print(f"{name:34s} {ms:8.1f} ms (median)")
    print(f"{'Play: diagram redraws':34s} {frame_rate():8.1f} frames/s (5 epochs a frame)")
