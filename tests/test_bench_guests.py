"""The guest bench (bench/guests.py) runs end to end, briefly: a fresh server, the guest's and
the room's bursts through the relay, each matched to its arrival on the other side."""

from __future__ import annotations

import json
from pathlib import Path

from bench import guests


def test_a_short_run_measures_both_ways(tmp_path: Path) -> None:
    report = tmp_path / "guests.json"
    guests.main(["--runs", "1", "--viewers", "0", "--bursts", "8", "--json", str(report)])
    figures = json.loads(report.read_text())
    [run] = figures["runs"]
    assert run["problems"] == []
    for path in guests.PATHS:
        assert run[path]["n"] >= run[path]["sent"] - 1 >= 5, run[path]
        assert 0 < run[path]["p50"] < 1000, run[path]  # on loopback: well under a second
