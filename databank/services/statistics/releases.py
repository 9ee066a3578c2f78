"""An ad-hoc table as released, stored and read back (released numbers only: a `Shown` is a
value or nothing, and its mark). Its exports read this, never the query again."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from databank.analytics.disclosure import Mark, ReleasedTable, Shown
from databank.models import StatRelease
from databank.services.statistics.views import Granularity, Kind, Period, Result, TableRequest


def _key(value: object) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _back(value: Any) -> object:
    return tuple(value) if isinstance(value, list) else value


def _shown(number: Shown) -> list[Any]:
    return [number.value, number.mark.value]


def _read(pair: list[Any]) -> Shown:
    return Shown(pair[0], Mark(pair[1]))


def body_of(result: Result) -> dict[str, Any]:
    table = result.table
    return {
        "dimensions": list(result.request.dimensions),
        "filters": {d: sorted(v) for d, v in result.request.filters.items()},
        "period": [
            result.period.start.isoformat(),
            result.period.end.isoformat(),
            result.period.granularity.value,
        ],
        "epsilon": result.epsilon,
        "error_95": result.error_95,
        "rows": [_key(r) for r in table.rows],
        "columns": [_key(c) for c in table.columns],
        "cells": [[_key(r), _key(c), *_shown(s)] for (r, c), s in table.cells.items()],
        "row_totals": [[_key(r), *_shown(s)] for r, s in table.row_totals.items()],
        "column_totals": [[_key(c), *_shown(s)] for c, s in table.column_totals.items()],
        "total": _shown(table.total),
    }


def store(session: Session, user_id: uuid.UUID, result: Result) -> uuid.UUID:
    release = StatRelease(
        id=result.release_id or uuid.uuid4(), user_id=user_id, body=body_of(result)
    )
    session.add(release)
    session.flush()
    return release.id


def result_of(release: StatRelease) -> Result:
    body = release.body
    start, end, granularity = body["period"]
    period = Period(date.fromisoformat(start), date.fromisoformat(end), Granularity(granularity))
    table = ReleasedTable(
        rows=tuple(_back(r) for r in body["rows"]),
        columns=tuple(_back(c) for c in body["columns"]),
        cells={(_back(r), _back(c)): Shown(v, Mark(m)) for r, c, v, m in body["cells"]},
        row_totals={_back(r): Shown(v, Mark(m)) for r, v, m in body["row_totals"]},
        column_totals={_back(c): Shown(v, Mark(m)) for c, v, m in body["column_totals"]},
        total=_read(body["total"]),
    )
    request = TableRequest(
        tuple(body["dimensions"]),
        {d: frozenset(v) for d, v in body["filters"].items()},
        period,
    )
    return Result(
        Kind.ADHOC,
        "adhoc",
        request,
        period,
        table,
        epsilon=body["epsilon"],
        error_95=body["error_95"],
        release_id=release.id,
    )
