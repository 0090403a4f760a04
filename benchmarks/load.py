"""A steady load of single check-ins, from its own processes, for attendance_bench.py.

    python benchmarks/load.py BASE_URL PLAN.json RATE SECONDS

Each of the plan's clients (a coordinator and their point) signs in, then sends one
check-in after another on a fixed schedule (open loop: a slow answer does not delay the
next request's start time), as a phone does with htmx. Prints one JSON line: requests,
achieved rate, errors and latency percentiles in milliseconds.
"""
from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import re
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

PROCESSES = 2
STATUSES = ("present", "late", "excused", "absent", "present", "present")


class Browser:
    """One keep-alive connection with a cookie jar of one session cookie."""

    def __init__(self, host: str, port: int):
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, str]:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, text


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def client(base: str, spec: dict, rate: float, seconds: float, start_at: float,
           results: list, lock: threading.Lock) -> None:
    parts = urlsplit(base)
    browser = Browser(parts.hostname, parts.port)
    _, page = browser.request("GET", "/login")
    browser.request("POST", "/login", {"csrf_token": token_of(page), "email": spec["email"],
                                       "password": spec["password"]})
    _, page = browser.request("GET", spec["sheet"])
    token = token_of(page)
    chooser = random.Random(spec["email"])
    interval = 1.0 / rate
    mine = []
    while time.time() < start_at:
        time.sleep(0.01)
    planned = start_at + chooser.random() * interval  # spread the clients over one interval
    end = start_at + seconds
    while planned < end:
        delay = planned - time.time()
        if delay > 0:
            time.sleep(delay)
        person = chooser.choice(spec["people"])
        body = {"csrf_token": token, "mark": f"{person}:{chooser.choice(STATUSES)}"}
        sent = time.perf_counter()
        try:
            status, _ = browser.request("POST", spec["mark"], body, {"HX-Request": "true"})
        except (OSError, http.client.HTTPException):
            status = 0
            cookie = browser.cookie
            browser = Browser(parts.hostname, parts.port)
            browser.cookie = cookie
        mine.append(((time.perf_counter() - sent) * 1000, status))
        planned += interval
    with lock:
        results.extend(mine)


def process(base: str, specs: list[dict], rate_each: float, seconds: float, start_at: float,
            queue) -> None:
    results: list = []
    lock = threading.Lock()
    threads = [threading.Thread(target=client, args=(base, spec, rate_each, seconds, start_at,
                                                     results, lock)) for spec in specs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def main() -> None:
    base, plan, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    specs = json.load(open(plan))
    rate_each = rate / len(specs)
    start_at = time.time() + 3  # time for every client to sign in first
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=process, args=(
        base, specs[i::PROCESSES], rate_each, seconds, start_at, queue))
        for i in range(PROCESSES)]
    for worker in workers:
        worker.start()
    results = []
    for _ in workers:
        results.extend(queue.get())
    for worker in workers:
        worker.join()
    latencies = sorted(ms for ms, status in results if status == 200)
    print(json.dumps({
        "rate": rate, "requests": len(results), "achieved": len(results) / seconds,
        "errors": sum(1 for _, status in results if status != 200),
        "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
    }))


if __name__ == "__main__":
    main()
