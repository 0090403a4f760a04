"""confmgr's benchmark runner: every speed and size target, measured and printed.

    python benchmarks/run.py [--preset small] [--only PREFIX] [--db URL] [--repeat N]

Prints one line per benchmark:

    BENCH <name> <value> <unit> [p95=<value>] [floor=<value> ratio=<value>]

where the floor is the same work done by plain SQL through the driver, if such a
floor exists. The database is a new SQLite file unless --db (or CONFMGR_DATABASE_URL)
names another; the data set is built there first and reused when present.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from confmgr import create_app  # noqa: E402

PRESETS = ("small",)


@dataclass
class Result:
    name: str
    value: float
    unit: str
    p95: float | None = None
    floor: float | None = None

    def line(self) -> str:
        parts = [f"BENCH {self.name} {self.value:.3f} {self.unit}"]
        if self.p95 is not None:
            parts.append(f"p95={self.p95:.3f}")
        if self.floor is not None:
            parts.append(f"floor={self.floor:.3f} ratio={self.value / self.floor:.2f}")
        return " ".join(parts)


@dataclass
class Context:
    app: Flask
    preset: str
    repeat: int


BENCHMARKS: dict[str, Callable[[Context], Result]] = {}


def benchmark(name: str):
    def register(function: Callable[[Context], Result]):
        BENCHMARKS[name] = function
        return function
    return register


def timings_ms(action: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def median_and_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def get_ok(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")


@benchmark("agenda.public_page")
def agenda_public_page(ctx: Context) -> Result:
    """Median time to render the demo conference's public agenda."""
    from confmgr.demo.loader import SLUG

    client = ctx.app.test_client()
    median, p95 = median_and_p95(
        timings_ms(lambda: get_ok(client, f"/c/{SLUG}/"), ctx.repeat)
    )
    return Result("agenda.public_page", median, "ms", p95=p95)


def build_data_set(app: Flask, preset: str) -> None:
    from confmgr.demo.loader import load_demo

    with app.app_context():
        upgrade()
        load_demo()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=PRESETS, default="small")
    parser.add_argument("--only", default="", help="run the benchmarks whose name starts so")
    parser.add_argument("--db", default=os.environ.get("CONFMGR_DATABASE_URL", ""))
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per benchmark")
    args = parser.parse_args(argv)

    selected = [name for name in BENCHMARKS if name.startswith(args.only)]
    if not selected:
        parser.error(f"no benchmark starts with {args.only!r}")

    with tempfile.TemporaryDirectory(prefix="confmgr-bench-") as workdir:
        url = args.db or f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"}, instance_path=workdir)
        build_data_set(app, args.preset)
        print(f"# preset={args.preset} database={url.split('://')[0]} repeat={args.repeat}")
        for name in selected:
            print(BENCHMARKS[name](Context(app, args.preset, args.repeat)).line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
