"""scripts/bench_analytics.py stays runnable: a small run end to end prints every figure and both
verdicts (the table, pandas and DuckDB counted the same people, or it exits 1), and its
synthetic facts have the shape the brief asks for."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from tests.support import load_script, postgres_url

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_analytics.py"

# The bench makes SQLite files of its own, whichever database the suite runs on.
pytestmark = pytest.mark.skipif(
    postgres_url() is not None, reason="SQLite files: the SQLite pass runs these (same tests)"
)


def test_a_small_run_prints_every_figure_and_both_verdicts() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--cases", "3000", "--repeat", "2", "--database", "sqlite"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    figures = {}
    for name in (
        "cold load of the facts",
        "a change of 10 records",
        "table with disclosure control",
        "plain pandas group-by",
        "DuckDB COUNT(DISTINCT)",
        "ad-hoc table (DP path)",
    ):
        [line] = [line for line in lines if line.startswith(name)]
        found = re.search(r"([\d.]+) ms", line)
        assert found is not None, line
        figures[name] = float(found.group(1))
        assert figures[name] > 0
    [written] = [line for line in lines if line.startswith("fact rows written")]
    assert int(re.sub(r"\D", "", written.split(" in ")[0])) > 3000  # several rows a case
    # The deployment's 8 district cells' area groups and "other" x 15 needs, over 12 months.
    assert "135 rows x 12 columns" in done.stdout
    ratio = next(line for line in lines if line.startswith("ratio table / pandas"))
    shown = float(ratio.split()[-1].rstrip("x"))
    expected = figures["table with disclosure control"] / figures["plain pandas group-by"]
    assert shown == pytest.approx(expected, rel=0.05, abs=0.01)
    assert any(re.match(r"peak memory \(max RSS\) +\d+ MB", line) for line in lines)
    assert re.search(r"^goal table <= 500 ms +(MET|NOT MET)$", done.stdout, re.M)
    assert re.search(r"^goal table <= 3x pandas +(MET|NOT MET)$", done.stdout, re.M)


def test_the_synthetic_facts_have_the_asked_shape() -> None:
    bench = load_script("bench_analytics")
    areas = (*(f"area-{i}" for i in range(16)), "other")
    chunks = list(bench.fact_chunks(4000, areas, date(2026, 12, 6), seed=3))
    people = [t for chunk in chunks for t in chunk["person_tokens"]]
    subjects = [t for chunk in chunks for t in chunk["subject_tokens"]]
    assert {len(t) for t in (*people, *subjects)} == {16}
    assert 4000 / len(set(people)) == pytest.approx(1.15, abs=0.02)  # records a person
    assert len(set(subjects)) == 4000
    # Each record: 1 to 6 months, 1 to 3 distinct needs a month, one organisation.
    months: dict[bytes, set[object]] = {}
    needs: dict[tuple[bytes, object], set[str]] = {}
    orgs: dict[bytes, set[int]] = {}
    for chunk in chunks:
        for s, m, n, o in zip(
            chunk["subject_tokens"], chunk["month"], chunk["need"], chunk["org"], strict=True
        ):
            months.setdefault(s, set()).add(m)
            needs.setdefault((s, m), set()).add(str(n))
            orgs.setdefault(s, set()).add(int(o))
    assert {len(m) for m in months.values()} == set(range(1, 7))
    assert {len(n) for n in needs.values()} == {1, 2, 3}
    assert sum(len(n) for n in needs.values()) == sum(len(c["need"]) for c in chunks)
    assert {len(o) for o in orgs.values()} == {1}
    # Skewed: the busiest area and need hold many times the quietest's rows.
    area = Counter(a for chunk in chunks for a in chunk["area"])
    need = Counter(n for chunk in chunks for n in chunk["need"])
    assert max(area.values()) > 5 * min(area.values())
    assert max(need.values()) > 10 * min(need.values())
    # A person held twice is held by two organisations.
    by_person: dict[bytes, set[int]] = {}
    for chunk in chunks:
        for p, o in zip(chunk["person_tokens"], chunk["org"], strict=True):
            by_person.setdefault(p, set()).add(int(o))
    assert any(len(o) == 2 for o in by_person.values())
    assert np.mean([len(o) for o in by_person.values()]) < 1.2
