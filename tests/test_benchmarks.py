"""The benchmark runner keeps working (its figures are read by people, not asserted here)."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def load_runner():
    spec = importlib.util.spec_from_file_location("benchmarks_run", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_runner_prints_one_bench_line_per_benchmark(capsys, monkeypatch):
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    runner = load_runner()
    assert runner.main(["--only", "agenda.", "--repeat", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "# preset=small database=sqlite repeat=2"
    names = []
    for line in lines[1:]:
        match = re.fullmatch(r"BENCH (\S+) \d+\.\d{3} ms p95=\d+\.\d{3}", line)
        assert match, line
        names.append(match.group(1))
    assert names == ["agenda.public_page", "agenda.public_page_200", "agenda.edit_page_200"]


def test_result_line_with_a_floor():
    runner = load_runner()
    line = runner.Result("x.y", 30.0, "ms", p95=40.0, floor=10.0).line()
    assert line == "BENCH x.y 30.000 ms p95=40.000 floor=10.000 ratio=3.00"
