"""Throughput of ``bilstm-attention serve`` with and without request batching.

Starts the server twice on 127.0.0.1 (``--max-batch 1``: every request is its own model
call; ``--max-batch 64``: concurrent requests share one), sends the same requests from
several client threads and prints requests per second and model calls; the figures and the
load average go to ``--report`` (JSON). Compare the two rows as a ratio: the machine may be
shared.

    python benchmarks/serve_batching.py --model runs/imdb --requests 200 --clients 16
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TEXTS = [
    "the film was wonderful and the acting superb",
    "a dull, boring story with terrible dialogue",
    "i didn't like it at all",
    "one of the best movies i have seen this year",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def measure(model: str, max_batch: int, requests: int, clients: int, wait_ms: float) -> dict:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bilstm_attention",
            "serve",
            "--model",
            model,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-batch",
            str(max_batch),
            "--batch-wait-ms",
            str(wait_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"server did not start (exit code {server.poll()})") from None
                time.sleep(0.5)
        for text in TEXTS:  # warm up
            _post(f"{url}/predict", {"texts": [text]})
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            before = json.loads(response.read())["batching"]["model_calls"]
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda i: _post(f"{url}/predict", {"texts": [TEXTS[i % len(TEXTS)]]}), range(requests)))
        seconds = time.perf_counter() - started
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            calls = json.loads(response.read())["batching"]["model_calls"] - before
        return {
            "max_batch": max_batch,
            "requests": requests,
            "clients": clients,
            "seconds": round(seconds, 2),
            "requests_per_second": round(requests / seconds, 1),
            "model_calls": calls,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="run directory")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--wait-ms", type=float, default=5.0)
    parser.add_argument("--report", type=Path, help="JSON file to write")
    args = parser.parse_args()
    rows = []
    for max_batch in (1, 64):
        row = measure(args.model, max_batch, args.requests, args.clients, args.wait_ms)
        row["load_average"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(row))
        rows.append(row)
    speedup = rows[1]["requests_per_second"] / rows[0]["requests_per_second"]
    print(f"batched / unbatched throughput: {speedup:.2f}x")
    if args.report:
        args.report.write_text(json.dumps({"rows": rows, "speedup": round(speedup, 2)}, indent=2) + "\n")


if __name__ == "__main__":
    main()
