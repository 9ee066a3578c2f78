"""Anonymised statistics for housing officers (issue 18, design.md section 9).

The only way to numbers about people: every function here decides who may ask (the roles
module), reads the coarse facts (never a case), releases through `analytics` (disclosure rules,
and differential privacy for ad-hoc tables), and logs the query (template, dimensions, filters,
epsilon; never the counts) in the caller's transaction.

    facts.py      the fact projection, kept by the services that write cases (a session hook)
    snapshot.py   the facts as a frame, cached per process and reloaded when they change
    queries.py    requests, published and ad-hoc tables, stored releases
    trends.py     flows, waiting-time medians, the dashboard, the monthly report
    ledger.py     the per-user, per-quarter privacy budget
    releases.py   an ad-hoc table as released, stored for its exports
    labels.py     category codes to words, in English and French
"""

from __future__ import annotations

from databank.services.statistics.labels import categories, dimension_label, label
from databank.services.statistics.ledger import BudgetSpent
from databank.services.statistics.queries import (
    MAX_EPSILON,
    StatsInputError,
    adhoc,
    budget,
    parse_month,
    parse_period,
    preview,
    published,
    released,
    request_from,
    require_statistics_reader,
    standard_tables,
)
from databank.services.statistics.trends import dashboard, flows, monthly_report, waiting_medians
from databank.services.statistics.views import (
    Budget,
    Granularity,
    Kind,
    Period,
    Preview,
    Report,
    Result,
    StandardTable,
    TableRequest,
)

__all__ = [
    "MAX_EPSILON",
    "Budget",
    "BudgetSpent",
    "Granularity",
    "Kind",
    "Period",
    "Preview",
    "Report",
    "Result",
    "StandardTable",
    "StatsInputError",
    "TableRequest",
    "adhoc",
    "budget",
    "categories",
    "dashboard",
    "dimension_label",
    "flows",
    "label",
    "monthly_report",
    "parse_month",
    "parse_period",
    "preview",
    "published",
    "released",
    "request_from",
    "require_statistics_reader",
    "standard_tables",
    "waiting_medians",
]
