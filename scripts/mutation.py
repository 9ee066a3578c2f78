#!/usr/bin/env python3
"""Mutation testing of the security core with mutmut: crypto/, policy/ and the access point.

Each target is mutated in a copy of the project of its own (build/mutation/<target>/), with its
own selection of tests, so that one target's run never waits on another's tests. mutmut's
settings are `[tool.mutmut]` of pyproject.toml; this script changes, per target, only which files
are mutated (`only_mutate`) and which tests may kill them (`pytest_add_cli_args_test_selection`).
For each mutant mutmut runs only the selected tests that call the mutated function.

    scripts/mutation                         # every target, one after the other
    scripts/mutation crypto access           # some of them
    scripts/mutation --report                # only the summary of the last runs
    scripts/mutation --tests-from main access  # what the tests of another revision caught
    scripts/mutation --minutes 15 policy     # stop after 15 minutes: a partial score

Not run by CI: a run takes tens of minutes on a 2-core machine (scripts/MUTATION.md has the
figures). Run it under `nice`; the summary is printed and written to
build/mutation/<target>/summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
VENV_BIN = ROOT / ".venv" / "bin"
# What a run needs besides the package: the tests, and the files the code finds beside itself.
COPIED = ("databank", "tests", "policies", "migrations", "babel.cfg")


@dataclass(frozen=True)
class Target:
    name: str
    mutate: tuple[str, ...]  # globs, relative to the project root
    tests: tuple[str, ...]  # the tests that may kill its mutants


TARGETS = {
    t.name: t
    for t in (
        Target("crypto", ("databank/crypto/*",), ("tests/crypto", "tests/services/keys")),
        # The policy package's own tests (table-driven and property tests): every service test
        # also calls the engine, and running them for each of its ~1,500 mutants would take hours.
        Target("policy", ("databank/policy/*",), ("tests/policy",)),
        Target(
            "access",
            ("databank/services/access/enforcement.py",),
            (
                "tests/services/access",
                "tests/services/records",
                "tests/services/keys",
                "tests/services/accounts",  # the account gates (require_account_admin...)
            ),
        ),
    )
}


def _toml_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _pyproject_for(target: Target) -> str:
    """The project's pyproject.toml with [tool.mutmut]'s target-specific keys replaced."""
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    section = tomllib.loads(text)["tool"]["mutmut"]
    keys = {
        **section,
        "only_mutate": list(target.mutate),
        "pytest_add_cli_args_test_selection": list(target.tests),
    }
    start = text.index("[tool.mutmut]")
    end = text.find("\n[", start + 1)
    rest = "" if end == -1 else text[end:]
    body = "\n".join(f"{key} = {_toml_list(value)}" for key, value in keys.items())
    return f"{text[:start]}[tool.mutmut]\n{body}\n{rest}"


def _prepare(target: Target, tests_from: str | None) -> Path:
    """A fresh copy of the project for this target (a run never resumes an older copy's state);
    with `tests_from`, the tests as they were at that git revision (to measure what they caught
    then)."""
    work = WORK / target.name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "test-output")
    for name in COPIED:
        source = ROOT / name
        if name == "tests" and tests_from:
            archive = subprocess.run(
                ["git", "archive", tests_from, "tests"], cwd=ROOT, capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
        elif source.is_dir():
            shutil.copytree(source, work / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, work / name)
    (work / "pyproject.toml").write_text(_pyproject_for(target), "utf-8")
    return work


def _run(target: Target, children: int, tests_from: str | None, minutes: float | None) -> float:
    """Run mutmut on the target; past `minutes`, stop it as Ctrl-C would (the mutants checked
    so far keep their results, the others are reported as not checked)."""
    work = _prepare(target, tests_from)
    env = {k: v for k, v in os.environ.items() if k != "DATABANK_TEST_DATABASE_URL"}
    started = time.monotonic()
    with (work / "mutmut.log").open("w") as log:
        run = subprocess.Popen(
            [str(VENV_BIN / "mutmut"), "run", "--max-children", str(children)],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            run.wait(timeout=None if minutes is None else minutes * 60)
        except subprocess.TimeoutExpired:
            print(f"== {target.name}: stopped after {minutes} minutes", flush=True)
            run.send_signal(signal.SIGINT)
            try:
                run.wait(timeout=60)
            except subprocess.TimeoutExpired:
                run.kill()
                run.wait()
    return time.monotonic() - started


@dataclass(frozen=True)
class Summary:
    target: str
    total: int
    counts: dict[str, int]
    survived_by_function: dict[str, int]
    seconds: int | None

    @property
    def killed(self) -> int:
        """Killed, by a failing test or by a timeout (an endless loop the tests noticed)."""
        return self.counts.get("killed", 0) + self.counts.get("timeout", 0)


def _summary(target: Target, seconds: float | None) -> Summary | None:
    """The results of the target's last run, from mutmut's own files (written again if this
    run just ended)."""
    work = WORK / target.name
    metas = sorted((work / "mutants").rglob("*.py.meta")) if work.exists() else []
    if not metas:
        return None
    statuses: dict[str, str] = {}
    for meta in metas:
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        statuses.update({name: status_by_exit_code[code] for name, code in codes.items()})
    survived = sorted(name for name, status in statuses.items() if status == "survived")
    saved = work / "summary.json"
    if seconds is None and saved.exists():
        seconds = json.loads(saved.read_text("utf-8")).get("seconds")
    summary = Summary(
        target=target.name,
        total=len(statuses),
        counts=dict(sorted(Counter(statuses.values()).items())),
        survived_by_function=dict(
            Counter(re.sub(r"__mutmut_\d+$", "", name) for name in survived).most_common()
        ),
        seconds=None if seconds is None else round(seconds),
    )
    record = {**asdict(summary), "mutated": target.mutate, "tests": target.tests}
    saved.write_text(json.dumps({**record, "survived": survived}, indent=2) + "\n", "utf-8")
    return summary


def _print(summary: Summary) -> None:
    score = 100 * summary.killed / summary.total if summary.total else 0.0
    print(
        f"== {summary.target}: {summary.killed}/{summary.total} killed ({score:.1f} %) "
        f"in {summary.seconds} s; {summary.counts}"
    )
    for function, n in summary.survived_by_function.items():
        print(f"   {n:3d} survived in {function}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help=f"some of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--report", action="store_true", help="summarise the last runs only")
    parser.add_argument("--children", type=int, default=2, help="parallel mutants (default 2)")
    parser.add_argument(
        "--tests-from", metavar="REV", help="use the tests of this git revision (e.g. main)"
    )
    parser.add_argument(
        "--minutes", type=float, help="stop each target's run after this long (partial result)"
    )
    args = parser.parse_args()
    unknown = [name for name in args.targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}: choose among {', '.join(TARGETS)}")
    chosen = [TARGETS[name] for name in (args.targets or TARGETS)]
    if not (VENV_BIN / "mutmut").exists():
        print("mutmut is not installed: pip install -e '.[dev]'", file=sys.stderr)
        return 1
    for target in chosen:
        seconds = (
            None if args.report else _run(target, args.children, args.tests_from, args.minutes)
        )
        summary = _summary(target, seconds)
        if summary is None:
            print(f"== {target.name}: no results (see {WORK / target.name / 'mutmut.log'})")
            continue
        _print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
