"""Train the linkage model the app starts with (databank/linkage/data/model.json).

The model's m and u probabilities describe how often each field level agrees among matches and
among non-matches: they do not depend on the key, so a model trained here on generated outreach
data (scripts/gen_outreach.py, a seed the benchmark does not report on) serves any deployment
until `databank linkage run --train` trains one on its own pool. Run it again whenever the
encoding schema or the model's comparisons change (the app refuses a model of another version).

    .venv/bin/python scripts/train_linkage_model.py [--records 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_outreach import Generator  # noqa: E402

from databank.linkage.encoding import RecordEncoder  # noqa: E402
from databank.linkage.matching import Linker  # noqa: E402
from databank.linkage.normalise import normalise  # noqa: E402

OUT = HERE.parent / "databank" / "linkage" / "data" / "model.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = Generator(args.seed, 5).rows(args.records)
    normalised = [
        normalise(
            r["given_name"],
            r["family_name"],
            r["date_of_birth"] or None,
            r["sex"] or None,
            r["birth_place"] or None,
            r["postcode"] or None,
        )
        for r in rows
    ]
    # A throwaway key: the model's probabilities do not depend on it.
    frame = RecordEncoder(os.urandom(32)).encode(normalised, [r["record_id"] for r in rows])
    linker = Linker(seed=args.seed)
    linker.train(frame)
    document = linker.document()
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", "utf-8")
    seconds = time.perf_counter() - started
    print(f"trained on {len(rows)} generated records (seed {args.seed}) in {seconds:.1f} s")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
