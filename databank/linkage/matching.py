"""Probabilistic matching and clustering of encoded records with Splink (Fellegi-Sunter).

Usage (records are frames from :class:`~databank.linkage.encoding.RecordEncoder`)::

    linker = Linker()                     # mode "hardened": diffused filters
    linker.train(records)                 # u by random sampling, m by EM on blocking rules
    linker.save(path); linker = Linker.load(path)
    result = linker.link(records)         # clusters (record_id -> cluster) and grey pairs
    pool = linker.pool(records)           # an indexed pool for incremental matching
    linker.match_one(new_record, pool)    # best candidates for one new record

Splink sees encodings only: it never receives a name or a birth date. Scores stay in the
return values (the app keeps them inside the linkage zone).

The linker is written against Splink's database-agnostic ``Linker`` and a ``db_api``: the
backend is the ``backend`` argument (DuckDB here). A national deployment builds the same
settings (``model_spec.settings``) with ``SparkAPI(spark_session=...)`` in place of
``DuckDBAPI()``, loads the saved JSON model unchanged (its levels are SQL that Splink
transpiles, except the filter similarity, see ``model_spec.similarity_sql``) and runs
``predict`` and ``cluster_pairwise_predictions_at_threshold`` on the cluster: no home-made
distribution.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from databank.linkage import model_spec
from databank.linkage.clustering import constrained_clusters
from databank.linkage.encoding import BLOOM_COLUMNS, ENCODING_SCHEMA_VERSION

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MODEL_FORMAT_VERSION", "LinkResult", "Linker", "Pool"]

MODEL_FORMAT_VERSION = 2
_DETERMINISTIC = [
    "l.given_tok = r.given_tok AND l.family_tok = r.family_tok AND l.dob_tok = r.dob_tok"
]
# EM sessions. On records of one birth date, pairs that are not matches are random people, so
# the names' m are clean there. The birth date's m are trained on pairs with the same RARE full
# name (at most RARE_NAME_RECORDS records carry it): on common names (Mamadou Diallo, Mohamed
# Benali) most same-name pairs are different people who agree on area and birth place too, and
# EM took their differing dates for errors of one person (m of "all other dates" came out 0.05).
RARE_NAME_RECORDS = 5
EM_SAMPLE_ABOVE = 200_000
_EM_RULES = [
    "l.dob_tok = r.dob_tok",
    "l.given_tok = r.given_tok AND l.family_tok = r.family_tok "
    f"AND l.name_records <= {RARE_NAME_RECORDS}",
]


@dataclass(frozen=True)
class LinkResult:
    """What a batch run finds: scores stay here, inside the linkage zone.

    ``clusters``: ``record_id``, ``cluster`` (a record id of the cluster: a run-local label, the
    app maps it to stable pooled pseudonyms). ``grey_pairs``: ``record_id_l``, ``record_id_r``,
    ``match_probability`` and one ``mw_<comparison>`` match weight per comparison (the
    non-identifying evidence a reviewer sees: which fields agree, how strongly) for pairs
    between the two thresholds that the clustering left in different clusters. ``pairs``:
    every scored candidate pair when asked for (``keep_pairs=True``), for evaluation.
    """

    clusters: pd.DataFrame
    grey_pairs: pd.DataFrame
    pairs: pd.DataFrame | None = None


@dataclass
class Pool:
    """Encoded records registered with the backend, with term frequencies, for ``match_one``."""

    splink_linker: Any
    table: Any
    size: int


class Linker:
    """A Splink model over the encodings, with its link and review thresholds."""

    def __init__(
        self,
        mode: str = "hardened",
        *,
        fields: list[str] | None = None,
        upper: float = 0.70,
        lower: float = 0.20,
        cannot: float | None = 0.01,
        backend: Any = None,
        seed: int = 1,
    ) -> None:
        if mode not in model_spec.MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if not 0 < lower <= upper < 1:
            raise ValueError("need 0 < lower <= upper < 1")
        self.mode = mode
        self.fields = fields
        self.upper = upper
        self.lower = lower
        #: Pairs scored below ``cannot`` never end in one cluster (None: plain components).
        self.cannot = cannot
        self.seed = seed
        self._backend = backend
        self._model: dict[str, Any] | None = None
        self._tables = 0

    # ----- backend plumbing -------------------------------------------------------------
    def _db_api(self) -> Any:
        if self._backend is None:
            from splink import DuckDBAPI

            self._backend = DuckDBAPI()
        return self._backend

    def _register(self, records: pd.DataFrame) -> Any:
        """Registers a frame; on DuckDB the filter bytes become BIT so SQL can count bits."""
        db_api = self._db_api()
        self._tables += 1
        name = f"databank_records_{self._tables}"
        con = getattr(db_api, "duckdb_con", None)
        if con is None:
            return db_api.register(records, table_name=name)
        con.register(f"{name}_src", records)
        # Table names are our own counters, never input.
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {self._rows(records, f'{name}_src')}")
        con.unregister(f"{name}_src")
        return db_api.register(name, table_name=f"{name}_t")

    def _rows(self, records: pd.DataFrame, source: str) -> str:
        """The SELECT of a registered frame's rows, its filter bytes as BIT so SQL can count
        bits (encoded modes). `source` is one of our own table names, never input."""
        if self.mode == "plaintext":
            return f"SELECT * FROM {source}"  # noqa: S608
        casts = ", ".join(f"{c}::BIT AS {c}" for c in BLOOM_COLUMNS if c in records.columns)
        return f"SELECT * REPLACE ({casts}) FROM {source}"  # noqa: S608

    def _splink(self, table: Any, model: dict[str, Any]) -> Any:
        from splink import Linker as SplinkLinker

        return SplinkLinker(table, dict(model), log_level=logging.WARNING)

    # ----- training and persistence -----------------------------------------------------
    def train(self, records: pd.DataFrame, *, max_pairs: float = 2e6) -> None:
        """Estimates the model on ``records``: lambda, u by random sampling, m by EM."""
        if self.fields is None:
            self.fields = [
                field
                for field, column in model_spec.OPTIONAL_FIELDS.items()
                if column in records.columns and records[column].notna().mean() >= 0.05
            ]
        spec = model_spec.settings(self.mode, self.fields)
        # How many records carry each full name (a count of equal tokens, training only).
        counts = records.groupby(["given_tok", "family_tok"], dropna=False)["record_id"]
        training_records = records.assign(name_records=counts.transform("size"))
        linker = self._splink(self._register(training_records), spec)
        training = linker.training
        training.estimate_probability_two_random_records_match(_DETERMINISTIC, recall=0.7)
        training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=self.seed)
        # Splink samples EM's pairs only on big data (a sample of a small set loses levels).
        em_pairs = max_pairs if len(records) > EM_SAMPLE_ABOVE else None
        for rule in _EM_RULES:
            training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=False, max_pairs=em_pairs
            )
        self._model = linker.misc.save_model_to_json()

    def _require_model(self) -> dict[str, Any]:
        if self._model is None:
            raise RuntimeError("the linker has no model: train() or load() it first")
        return self._model

    def document(self) -> dict[str, Any]:
        """The model, its thresholds and the versions it needs (what ``save`` writes)."""
        return {
            "format_version": MODEL_FORMAT_VERSION,
            "encoding_schema_version": ENCODING_SCHEMA_VERSION,
            "mode": self.mode,
            "fields": self.fields,
            "upper": self.upper,
            "lower": self.lower,
            "cannot": self.cannot,
            "splink_model": self._require_model(),
        }

    def save(self, path: str | Path) -> None:
        """Writes the model, its thresholds and the versions it needs, as JSON."""
        Path(path).write_text(json.dumps(self.document(), indent=1, sort_keys=True), "utf-8")

    @classmethod
    def load(cls, path: str | Path, *, backend: Any = None) -> Linker:
        """A linker from ``save``'s JSON; ValueError if made for another version."""
        return cls.from_document(json.loads(Path(path).read_text("utf-8")), backend=backend)

    @classmethod
    def from_document(cls, document: dict[str, Any], *, backend: Any = None) -> Linker:
        """A linker from ``document()``'s data; ValueError if made for another version."""
        if document.get("format_version") != MODEL_FORMAT_VERSION:
            raise ValueError("model file format version not supported")
        if document.get("encoding_schema_version") != ENCODING_SCHEMA_VERSION:
            raise ValueError("model was trained on another encoding schema: retrain it")
        linker = cls(
            document["mode"],
            fields=document["fields"],
            upper=document["upper"],
            lower=document["lower"],
            cannot=document["cannot"],
            backend=backend,
        )
        linker._model = document["splink_model"]
        return linker

    @property
    def model(self) -> dict[str, Any]:
        """The trained Splink settings (m and u of every level, lambda)."""
        return self._require_model()

    # ----- batch linkage ----------------------------------------------------------------
    def link(self, records: pd.DataFrame, *, keep_pairs: bool = False) -> LinkResult:
        """Scores blocked pairs, clusters above ``upper`` without joining contradictions, and
        lists the grey pairs (``lower`` and up, left in different clusters)."""
        table = self._register(records)
        model = self._blocked_model(table, len(records))
        linker = self._splink(table, model)
        # Every blocked pair is kept in the backend: the ones below ``cannot`` are the
        # contradictions the clustering respects.
        predictions = linker.inference.predict()
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=self.upper
        )
        pairs_table = predictions.physical_name
        clusters = self._split_contradictions(linker, pairs_table, clustered.physical_name)
        final = self._db_api().register(clusters, table_name=f"databank_clusters_{self._tables}")
        # Per-comparison evidence: Splink 5 names each comparison's match weight mw_<name>.
        wanted = {f"mw_{c['output_column_name']}" for c in self.model["comparisons"]}
        evidence = [c.name for c in predictions.columns if c.unquote().name in wanted]
        columns = ", ".join(f"p.{c}" for c in evidence)
        sql = f"""
            SELECT p.record_id_l, p.record_id_r, p.match_probability, {columns}
            FROM {pairs_table} p
            JOIN {final.physical_name} cl ON cl.record_id = p.record_id_l
            JOIN {final.physical_name} cr ON cr.record_id = p.record_id_r
            WHERE p.match_probability >= {self.lower} AND cl.cluster <> cr.cluster
        """  # noqa: S608  (table names and floats of our own, no input)
        grey = linker.misc.query_sql(sql, output_type="pandas")
        pairs = None
        if keep_pairs:
            pairs = linker.misc.query_sql(
                f"SELECT record_id_l, record_id_r, match_probability FROM {pairs_table}",  # noqa: S608
                output_type="pandas",
            )
        # The backend's table cache is shared by every Splink linker on it: clear it with
        # the tables, or a later pool() would find a dropped term-frequency table cached.
        final.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        linker.table_management.invalidate_cache()
        return LinkResult(clusters=clusters, grey_pairs=grey, pairs=pairs)

    def _blocked_model(self, table: Any, records: int) -> dict[str, Any]:
        """The model with the code's blocking rules for `records` records: blocking is not a
        trained parameter, so a model trained before a rule was added still compares what the
        batch run compares."""
        model = dict(self._require_model())
        model["blocking_rules_to_generate_predictions"] = model_spec.blocking_rules(
            self._pair_counter(table), records
        )
        return model

    def _pair_counter(self, table: Any) -> Callable[[str], float]:
        """Estimates a blocking rule's pairs from the sizes of its blocks (no join of records)."""
        db_api = self._db_api()

        def pairs_of(rule: str) -> float:
            sides = re.findall(r"l\.(\w+) = r\.(\w+)", rule)
            if not sides:
                return float("inf")

            def blocks(columns: list[str]) -> str:
                keys = ", ".join(f"{c} AS k{i}" for i, c in enumerate(columns))
                known = " AND ".join(f"{c} IS NOT NULL" for c in columns)
                group = ", ".join(f"k{i}" for i in range(len(columns)))
                return (
                    f"SELECT {keys}, count(*) AS n FROM {table.physical_name} "  # noqa: S608
                    f"WHERE {known} GROUP BY {group}"
                )

            on = " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(sides)))
            left, right = blocks([x for x, _ in sides]), blocks([y for _, y in sides])
            # Column names from our own rules, table names our own: no input in the SQL.
            sql = f"SELECT sum(a.n * b.n) AS pairs FROM ({left}) a JOIN ({right}) b ON {on}"  # noqa: S608
            value = db_api.query_sql(sql, output_type="pandas")["pairs"].iloc[0]
            return 0.0 if value is None or value != value else float(value) / 2

        return pairs_of

    def _split_contradictions(self, linker: Any, pairs: str, clusters: str) -> pd.DataFrame:
        """Splink's components, with the few that hold a contradiction re-clustered."""
        frame = linker.misc.query_sql(
            f"SELECT record_id, cluster_id AS cluster FROM {clusters}",  # noqa: S608
            output_type="pandas",
        )
        if self.cannot is None:
            return frame
        inside = f"""
            FROM {pairs} p
            JOIN {clusters} cl ON cl.record_id = p.record_id_l
            JOIN {clusters} cr ON cr.record_id = p.record_id_r
            WHERE cl.cluster_id = cr.cluster_id AND cl.cluster_id IN (
                SELECT cl.cluster_id FROM {pairs} p
                JOIN {clusters} cl ON cl.record_id = p.record_id_l
                JOIN {clusters} cr ON cr.record_id = p.record_id_r
                WHERE cl.cluster_id = cr.cluster_id AND p.match_probability < {self.cannot})
        """  # noqa: S608  (table names and floats of our own)
        found = linker.misc.query_sql(
            f"SELECT p.record_id_l, p.record_id_r, p.match_probability {inside} "
            f"AND (p.match_probability >= {self.upper} OR p.match_probability < {self.cannot})",
            output_type="pandas",
        )
        if found.empty:
            return frame
        strong = found["match_probability"] >= self.upper
        links = found[strong].itertuples(index=False, name=None)
        conflicts = found.loc[~strong, ["record_id_l", "record_id_r"]].itertuples(
            index=False, name=None
        )
        affected = set(frame["cluster"][frame["record_id"].isin(found["record_id_l"])])
        involved = frame["cluster"].isin(affected)
        labels = constrained_clusters(links, conflicts, frame.loc[involved, "record_id"])
        frame.loc[involved, "cluster"] = frame.loc[involved, "record_id"].map(labels)
        return frame

    # ----- incremental ------------------------------------------------------------------
    def pool(self, records: pd.DataFrame) -> Pool:
        """Registers an encoded pool and its term frequencies once, for many ``match_one``."""
        table = self._register(records)
        model = self._blocked_model(table, len(records))
        linker = self._splink(table, model)
        for comparison in model["comparisons"]:
            for level in comparison["comparison_levels"]:
                column = level.get("tf_adjustment_column")
                if column:
                    linker.table_management.compute_tf_table(column)
        return Pool(splink_linker=linker, table=table, size=len(records))

    def extend(self, pool: Pool, records: pd.DataFrame) -> None:
        """Adds records to a pool in place (its term-frequency tables stay as built: rebuild the
        pool from time to time). DuckDB only."""
        con = getattr(self._db_api(), "duckdb_con", None)
        if con is None:
            raise NotImplementedError("extending a pool needs the DuckDB backend")
        name = pool.table.physical_name
        con.register(f"{name}_more", records)
        con.execute(f"INSERT INTO {name} {self._rows(records, f'{name}_more')}")
        con.unregister(f"{name}_more")
        pool.size += len(records)

    def match_one(
        self, record: pd.DataFrame, pool: Pool | pd.DataFrame, *, limit: int = 5
    ) -> pd.DataFrame:
        """The pool's best candidates for one new encoded record (a one-row frame).

        Returns ``record_id`` (of the pool), ``match_probability``, ``decision`` ("link" at or
        above ``upper``, "review" from ``lower``) and the per-comparison match weights
        (``mw_<comparison>``, the evidence a reviewer sees), best first, at most ``limit`` rows.
        """
        if not isinstance(pool, Pool):
            pool = self.pool(pool)
        new = self._register(record)
        predictions = pool.splink_linker.inference.predict_between(
            pool.table, new, threshold_match_probability=self.lower, warning_mode="never"
        )
        found = predictions.as_pandas_dataframe()
        predictions.drop_table_from_database_and_remove_from_cache()
        self._db_api().delete_table_from_database(new.physical_name)
        new_ids = set(record["record_id"])
        found["record_id"] = found["record_id_l"].where(
            ~found["record_id_l"].isin(new_ids), found["record_id_r"]
        )
        found = found.sort_values("match_probability", ascending=False).head(limit)
        found["decision"] = found["match_probability"].map(
            lambda p: "link" if p >= self.upper else "review"
        )
        evidence = [c for c in found.columns if c.startswith("mw_")]
        columns = ["record_id", "match_probability", "decision", *evidence]
        return found[columns].reset_index(drop=True)
