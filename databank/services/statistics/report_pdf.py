"""The monthly city report laid out for reading (the page, the CLI's HTML) and as a PDF (fpdf2).

`layout(report, locale)` turns a `Report` (released tables only) into labelled lines: each
section's categories with this month, the month before and the change where both are shown
numbers; the flows; the method note. `pdf_bytes(report, locale)` prints that layout. Both are
pure: the numbers are the released ones, nothing is counted or logged here.

The PDF's font: fpdf2's core fonts are latin-1 only and no installed Python package ships a
TrueType font, so DejaVu Sans is used where the system has it (Debian `fonts-dejavu-core`); on
a machine without it the core Helvetica is used and the text transliterated to latin-1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from databank.analytics.disclosure import Shown
from databank.services.statistics.labels import dimension_label, label
from databank.services.statistics.views import Report, Result

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/local/share/fonts"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Monthly city report",
        "subtitle": "Homelessness services of the city: people seen, where, with which needs, "
        "in which living situations, and what happened to them.",
        "month": "Month",
        "previous": "Month before",
        "change": "Change",
        "total": "Total",
        "flows": "People entering and leaving homelessness",
        "entering": "Entering",
        "leaving": "Leaving",
        "method": "Method and disclosure rules",
        "report_area": "People by area",
        "report_age_band": "People by age band",
        "report_need": "People by need",
        "report_living": "People by living situation",
        "report_outcome": "People by outcome",
    },
    "fr": {
        "title": "Rapport mensuel de la ville",
        "subtitle": "Les services de la ville pour les personnes sans domicile : personnes "
        "rencontrées, où, avec quels besoins, dans quelles situations de logement, et ce qu’il "
        "en est advenu.",
        "month": "Mois",
        "previous": "Mois précédent",
        "change": "Évolution",
        "total": "Total",
        "flows": "Personnes entrant dans le sans-abrisme et en sortant",
        "entering": "Entrées",
        "leaving": "Sorties",
        "method": "Méthode et règles de diffusion",
        "report_area": "Personnes par secteur",
        "report_age_band": "Personnes par tranche d’âge",
        "report_need": "Personnes par besoin",
        "report_living": "Personnes par situation de logement",
        "report_outcome": "Personnes par issue",
    },
}
METHOD: Mapping[str, tuple[str, ...]] = {
    "en": (
        "Each number counts distinct people, pooled across the organisations that allow "
        "anonymised statistics; a person is counted once in each cell.",
        "0 is shown as 0; 1 to 9 people are shown as \u201c<10\u201d; other numbers are "
        "rounded to the nearest 5. Totals are computed from the exact numbers and rounded on "
        "their own, so they may differ from the sum of the cells shown.",
        "\u201cx\u201d marks a suppressed number: one category holding 90 % or more of a row, "
        "or a number hidden so that another one cannot be worked out from the totals.",
        "A change is given only where both months show a number.",
    ),
    "fr": (
        "Chaque nombre compte des personnes distinctes, mises en commun entre les "
        "organisations qui autorisent les statistiques anonymisées ; une personne est comptée "
        "une fois par case.",
        "0 est affiché 0 ; de 1 à 9 personnes, on affiche \u00ab <10 \u00bb ; les autres "
        "nombres sont arrondis au multiple de 5 le plus proche. Les totaux sont calculés sur "
        "les nombres exacts puis arrondis à part : ils peuvent différer de la somme des cases.",
        "\u00ab x \u00bb marque un nombre masqué : une catégorie qui réunit 90 % ou plus d’une "
        "ligne, ou un nombre caché pour qu’un autre ne puisse pas être déduit des totaux.",
        "L’évolution n’est donnée que lorsque les deux mois affichent un nombre.",
    ),
}


def words(locale: str) -> Mapping[str, str]:
    return TEXTS["fr" if locale == "fr" else "en"]


def month_code(month: date) -> str:
    return f"{month:%Y-%m}"


@dataclass(frozen=True)
class Line:
    label: str
    this: Shown
    previous: Shown
    change: str  # "+5", "-10", "0", or "" where either month is not a shown number


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    dimension: str  # the rows' dimension, in words
    lines: tuple[Line, ...]
    total: Line


@dataclass(frozen=True)
class FlowLine:
    label: str
    entering: Shown
    leaving: Shown


@dataclass(frozen=True)
class Layout:
    locale: str
    month: str  # "2026-11"
    title: str
    subtitle: str
    month_label: str  # "November 2026"
    previous_label: str
    words: Mapping[str, str]
    sections: tuple[Section, ...]
    flows: tuple[FlowLine, ...]
    method: tuple[str, ...]


def change(this: Shown, previous: Shown) -> str:
    """The difference of two released numbers, only where both are shown (never a "<10" or a
    suppressed one: a difference to it would estimate what was hidden)."""
    if this.value is None or previous.value is None:
        return ""
    delta = this.value - previous.value
    return f"{delta:+d}" if delta else "0"


def _row_dimension(result: Result) -> str:
    dims = [d for d in result.request.dimensions if d != "period"]
    return dims[0] if dims else result.request.dimensions[0]


def _row_code(row: object) -> str:
    return str(row[-1]) if isinstance(row, tuple) else str(row)


def _section(result: Result, this: str, previous: str, locale: str) -> Section:
    table, dimension = result.table, _row_dimension(result)
    if this not in table.columns or previous not in table.columns:
        raise ValueError(f"a report section must have the columns {this} and {previous}")
    lines = tuple(
        Line(
            label(dimension, _row_code(row), locale),
            table.cell(row, this),
            table.cell(row, previous),
            change(table.cell(row, this), table.cell(row, previous)),
        )
        for row in table.rows
    )
    now, before = table.column_totals[this], table.column_totals[previous]
    total = Line(words(locale)["total"], now, before, change(now, before))
    key = result.title_key
    title = words(locale).get(key) or dimension_label(dimension, locale)
    return Section(key, title, dimension_label(dimension, locale), lines, total)


def _flows(result: Result, locale: str) -> tuple[FlowLine, ...]:
    table = result.for_reading().table
    entering, leaving = table.columns[0], table.columns[-1]
    return tuple(
        FlowLine(
            label("period", _row_code(row), locale),
            table.cell(row, entering),
            table.cell(row, leaving),
        )
        for row in table.rows
    )


def layout(report: Report, locale: str) -> Layout:
    """The report in words: every label in `locale`, every number as released."""
    locale = "fr" if locale == "fr" else "en"
    this, previous = month_code(report.month), month_code(report.previous)
    said = words(locale)
    return Layout(
        locale=locale,
        month=this,
        title=f"{said['title']} \u2014 {label('period', this, locale)}",
        subtitle=said["subtitle"],
        month_label=label("period", this, locale),
        previous_label=label("period", previous, locale),
        words=said,
        sections=tuple(_section(s, this, previous, locale) for s in report.sections),
        flows=_flows(report.flows, locale),
        method=METHOD[locale],
    )


# Characters of the report's words outside latin-1, for the core font's fallback.
_LATIN1 = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2014": "-",
        "\u2013": "-",
        "\u2212": "-",
        "\u2265": ">=",
        "\u2264": "<=",
        "\u0153": "oe",
        "\u0152": "OE",
        "\u2026": "...",
        "\u202f": " ",
    }
)


class _Printer:
    """An fpdf2 document with a Unicode font where the system has one, else latin-1 text."""

    def __init__(self, title: str, month: str) -> None:
        self.pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_title(title)
        self.pdf.set_subject(month)
        self.pdf.set_keywords(f"databank statistics {month}")
        self.pdf.set_creator("databank")
        self.unicode = self._load_font()
        self.family = "dejavu" if self.unicode else "helvetica"
        self.pdf.add_page()

    def _load_font(self) -> bool:
        for folder in FONT_DIRS:
            files = {style: folder / name for style, name in FONT_FILES.items()}
            if all(f.is_file() for f in files.values()):
                for style, path in files.items():
                    self.pdf.add_font("dejavu", style, str(path))
                return True
        return False

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        return value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    def heading(self, value: str, size: float) -> None:
        self.pdf.set_font(self.family, "B", size)
        self.pdf.multi_cell(0, size * 0.5, self.text(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)

    def paragraph(self, value: str, size: float = 9.5) -> None:
        self.pdf.set_font(self.family, "", size)
        self.pdf.multi_cell(0, 5, self.text(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def table(self, header: list[str], rows: list[list[str]], bold_last: bool) -> None:
        self.pdf.set_font(self.family, "", 9.5)
        bold = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
        with self.pdf.table(
            col_widths=(3, 1.2, 1.2, 1.2)[: len(header)],
            text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")[: len(header)],
            headings_style=bold,
            line_height=6,
            first_row_as_headings=True,
        ) as table:
            for i, cells in enumerate([header, *rows]):
                style = bold if bold_last and i == len(rows) else None
                row = table.row(style=style)
                for cell in cells:
                    row.cell(self.text(cell))
        self.pdf.ln(4)


def pdf_bytes(report: Report, locale: str) -> bytes:
    """The report as a PDF (A4): title, each section's table, the flows, the method note."""
    made = layout(report, locale)
    said = made.words
    printer = _Printer(made.title, made.month)
    printer.heading(made.title, 16)
    printer.paragraph(made.subtitle, 10)
    header = [made.month_label, made.previous_label, said["change"]]
    for section in made.sections:
        printer.heading(section.title, 12)
        rows = [
            [line.label, line.this.text, line.previous.text, line.change or "\u2014"]
            for line in (*section.lines, section.total)
        ]
        printer.table([section.dimension, *header], rows, bold_last=True)
    printer.heading(said["flows"], 12)
    flows = [[f.label, f.entering.text, f.leaving.text] for f in made.flows]
    printer.table(["", said["entering"], said["leaving"]], flows, bold_last=False)
    printer.heading(said["method"], 12)
    for sentence in made.method:
        printer.paragraph(sentence)
    return bytes(printer.pdf.output())
