"""The monthly city report as a printable page and its PDF (issue 18 point 7): parse the month,
call `statistics.monthly_report` (which decides who may read and logs the query), render."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _

from databank.domain.errors import ValidationFailed
from databank.services import statistics
from databank.services.statistics import report_pdf
from databank.web.auth import current_actor, login_required
from databank.web.i18n import select_locale
from databank.web.unit_of_work import db

bp = Blueprint("stats_report", __name__)


def parse_month(text: str) -> date:
    """A month written YYYY-MM (the service's parser); anything else is a 422 naming `month`,
    said in the reader's language."""
    try:
        return statistics.parse_month(text)
    except statistics.StatsInputError:
        raise ValidationFailed(
            "the month is not valid", {"month": [_("Write the month as YYYY-MM.")]}
        ) from None


def _report(month: str) -> statistics.Report:
    return statistics.monthly_report(db(), current_actor(), parse_month(month))


@bp.route("/statistics/report/<string:month>")
@login_required
def report(month: str) -> str:
    """The report to read and print (the browser's print makes the same document on paper)."""
    made = _report(month)
    layout = report_pdf.layout(made, select_locale())
    return render_template(
        "statistics/report.html",
        layout=layout,
        previous_month=report_pdf.month_code(made.previous),
    )


@bp.route("/statistics/report/<string:month>/pdf")
@login_required
def report_pdf_file(month: str) -> Response:
    """The same report as a PDF file, in the reader's language."""
    made = _report(month)
    return Response(
        report_pdf.pdf_bytes(made, select_locale()),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="city-report-{month}.pdf"'},
    )
