#!/usr/bin/env python3
"""Plant each one-line bug of finding 13 (issue 15) in a copy of the tree and check that its
tests catch it.

For each bug: copy the project to a temporary folder, change the one line (the exact text must
be found once, or the bug is reported as no longer applying), run the tests that must catch it,
and report caught (at least one of them failed) or missed. The same tests are first run on the
unchanged copy, where they must pass. Nothing in the working tree is changed.

    .venv/bin/python scripts/planted_bugs.py             # every bug
    .venv/bin/python scripts/planted_bugs.py csrf keys   # some, by name
    .venv/bin/python scripts/planted_bugs.py --list

Exit status 0 only if every bug was caught and the unchanged copy passed. Runs on SQLite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("databank", "tests", "policies", "migrations", "pyproject.toml", "babel.cfg")


@dataclass(frozen=True)
class Bug:
    name: str
    what: str  # the bullet of finding 13 it stands for
    path: str
    old: str  # exact text, found once in the file
    new: str
    tests: tuple[str, ...]  # at least one of them must fail with the bug


ROUTE_WALK = "tests/web/test_policy_routes.py"
BUGS = (
    Bug(
        "identity",
        "the identity read falls back to another organisation's record",
        "databank/services/records/subjects.py",
        ".where(Subject.person_id == person_id, Subject.org_id == org_id)",
        ".where(Subject.person_id == person_id)"
        ".order_by((Subject.org_id == org_id).desc())",
        (
            "tests/services/records/test_people.py::"
            "test_finding13_the_identity_read_never_falls_back_to_another_orgs_record",
            f"{ROUTE_WALK}::test_finding13_identifiers_show_only_to_their_own_org",
        ),
    ),
    Bug(
        "names",
        "the home page's person-name lookup is not restricted to the actor's org",
        "databank/services/records/caseload.py",
        "                Identity.org_id == actor.org_id,\n",
        "",
        (
            "tests/services/records/test_caseload.py::"
            "test_finding13_display_names_look_only_in_the_own_orgs_records",
        ),
    ),
    Bug(
        "refusals",
        "refused items of a list read (caseload, timeline) are no longer logged",
        "databank/services/access/enforcement.py",
        "    auditlog.append(session, actor, entries)\n    return grants",
        "    auditlog.append(session, actor, [e for e in entries if e.decision != Decision.DENY])"
        "\n    return grants",
        (
            "tests/services/records/test_caseload.py::"
            "test_finding13_refused_rows_of_a_caseload_and_a_timeline_are_logged",
        ),
    ),
    Bug(
        "keys",
        "an erased person's unwrapped key stays in the keyring's cache",
        "databank/services/keys/erasure.py",
        "    keyring_of(session).forget_subject_keys(wrapped)\n",
        "",
        (
            "tests/services/keys/test_erasure.py::"
            "test_finding13_erasure_evicts_the_unwrapped_keys_from_the_cache",
        ),
    ),
    Bug(
        "csrf",
        "CSRF is not checked on PUT or DELETE",
        "databank/web/security.py",
        '_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}',
        '_UNSAFE = {"POST", "PATCH"}',
        (
            "tests/api/test_csrf.py::"
            "test_finding13_every_put_patch_delete_route_refuses_a_session_call_without_csrf",
        ),
    ),
    Bug(
        "timeline",
        'the "timeline is empty" test: the timeline reads cases the org may not see',
        "databank/services/records/timeline.py",
        "            visible,\n",
        "",
        (
            "tests/web/test_pages.py::"
            "test_finding13_timeline_is_empty_for_an_org_the_person_shared_nothing_with",
        ),
    ),
    Bug(
        "login",
        "the sign-in test: the sign-in page answers 404 (its form still works)",
        "databank/web/auth.py",
        '        return render_template("login.html")\n',
        '        return render_template("login.html"), 404\n',
        ("tests/web/test_accounts.py::test_finding13_sign_in_pages_work_signed_out",),
    ),
)


def _copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


def _pytest(copy: Path, tests: tuple[str, ...]) -> tuple[int, list[str]]:
    """Run the tests in the copy (its own `databank` first on the path); the failed ones."""
    env = {k: v for k, v in os.environ.items() if k != "DATABANK_TEST_DATABASE_URL"}
    env["PYTHONPATH"] = str(copy)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", *tests],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", result.stdout, re.MULTILINE)
    return result.returncode, failed


def _check_import(copy: Path) -> None:
    """The copy's own package is what the tests import (not the installed working tree)."""
    env = {**os.environ, "PYTHONPATH": str(copy)}
    out = subprocess.run(
        [sys.executable, "-c", "import databank; print(databank.__file__)"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(out).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy's tests would import {out}, not the copy")


def _line_of(text: str, old: str) -> int:
    return text[: text.index(old)].count("\n") + 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bugs", nargs="*", help="names of bugs to plant (default: all)")
    parser.add_argument("--list", action="store_true", help="list the bugs and their tests")
    args = parser.parse_args()
    names = {bug.name for bug in BUGS}
    if unknown := [n for n in args.bugs if n not in names]:
        parser.error(f"unknown bug {unknown[0]!r}: choose among {', '.join(sorted(names))}")
    chosen = [bug for bug in BUGS if not args.bugs or bug.name in args.bugs]
    if args.list:
        for bug in chosen:
            print(f"{bug.name}: {bug.what}\n  {bug.path}\n  " + "\n  ".join(bug.tests))
        return 0

    with tempfile.TemporaryDirectory(prefix="planted-bugs-") as tmp:
        copy = Path(tmp)
        _copy_tree(copy)
        _check_import(copy)
        every_test = tuple(dict.fromkeys(t for bug in chosen for t in bug.tests))
        code, failed = _pytest(copy, every_test)
        if code != 0:
            print(f"the unchanged tree fails its tests (exit {code}): {failed}")
            return 1
        print(f"unchanged tree: {len(every_test)} tests pass\n")
        rows: list[tuple[str, str, str, str]] = []
        for bug in chosen:
            path = copy / bug.path
            original = path.read_text("utf-8")
            if original.count(bug.old) != 1:
                rows.append((bug.name, bug.path, "NO LONGER APPLIES", "the line changed"))
                continue
            where = f"{bug.path}:{_line_of(original, bug.old)}"
            path.write_text(original.replace(bug.old, bug.new), "utf-8")
            try:
                code, failed = _pytest(copy, bug.tests)
            finally:
                path.write_text(original, "utf-8")
            caught = code != 0 and bool(failed)
            verdict = "caught" if caught else "MISSED"
            rows.append((bug.name, where, verdict, ", ".join(f.split("::")[-1] for f in failed)))
            print(f"{bug.name:9} {where:48} {verdict}", flush=True)
    print("\n| bug | planted at | result | failed tests |\n| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0 if all(row[2] == "caught" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
