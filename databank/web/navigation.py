"""The navigation bar: which sections a signed-in user is offered, by role.

This only decides which links are shown, never what data a page returns: every page asks the
policy decision point (services/access.py) itself. A section whose blueprint is not registered
is left out, so the bar never links to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from databank.domain.enums import Role
from databank.services.access.roles import AUDITORS, CASE_WORKERS, LINKAGE_REVIEWERS


@dataclass(frozen=True)
class Section:
    endpoint: str
    label: object  # a lazy string, rendered in the user's language
    roles: frozenset[Role]
    # Pages under this section (marked current there too), e.g. a case page under the caseload.
    within: frozenset[str] = frozenset()


_STAFF = frozenset({Role.OUTREACH_WORKER, Role.HOUSING_OFFICER, Role.ORG_ADMIN})
_OFFICERS = frozenset({Role.HOUSING_OFFICER, Role.ORG_ADMIN})

SECTIONS = [
    Section("outreach.index", _l("Street"), frozenset({Role.OUTREACH_WORKER})),
    Section(
        "pages.home",
        _l("Caseload"),
        CASE_WORKERS,
        frozenset({"pages.case", "pages.emergency_case"}),
    ),
    Section("referrals.received", _l("Referrals"), _STAFF, frozenset({"referrals.sent"})),
    Section(
        "records.duplicates",
        _l("Duplicates"),
        _OFFICERS,
        frozenset({"records.person_records"}),
    ),
    Section(
        "statistics.dashboard",
        _l("Statistics"),
        _OFFICERS,
        frozenset({"statistics.tables", "statistics.release"}),
    ),
    Section("audit.index", _l("Audit"), AUDITORS),
    Section("linkage.reviews", _l("Linkage review"), LINKAGE_REVIEWERS),
    Section("admin.users", _l("Organisation"), frozenset({Role.ORG_ADMIN})),
    Section("account.security", _l("My account"), frozenset(Role)),
]


# Where a user lands after signing in: the first of these pages whose roles they hold, else the
# caseload for case workers (others start on their first section, see `outside_caseload`). An
# outreach worker works from a phone in the street: the street screen, not the desktop caseload.
LANDINGS = [("outreach.index", frozenset({Role.OUTREACH_WORKER}))]
DEFAULT_LANDING = "pages.home"


def landing_endpoint(roles: frozenset[Role]) -> str:
    """The page a user with these roles starts on (only a registered page): the street screen
    for an outreach worker, the caseload for other case workers, else their first section."""
    for endpoint, wanted in LANDINGS:
        if roles & wanted and endpoint in current_app.view_functions:
            return endpoint
    return outside_caseload(roles) or DEFAULT_LANDING


def nav_sections() -> list[dict[str, object]]:
    if not current_user.is_authenticated:
        return []
    roles = current_user.actor.roles
    here = request.endpoint or ""
    links = []
    for section in SECTIONS:
        if section.endpoint not in current_app.view_functions or not roles & section.roles:
            continue
        blueprint = section.endpoint.split(".")[0]
        links.append(
            {
                "endpoint": section.endpoint,
                "label": section.label,
                "current": here == section.endpoint
                or here in section.within
                or (blueprint not in {"pages"} and here.startswith(blueprint + ".")),
            }
        )
    return links


def landing() -> str:
    """The signed-in user's landing page (an endpoint), for "continue" links."""
    if not current_user.is_authenticated:
        return DEFAULT_LANDING
    return landing_endpoint(current_user.actor.roles)


def outside_caseload(roles: frozenset[Role]) -> str | None:
    """Where a user without a caseload starts (their first section), None for case workers:
    the caseload would only refuse an auditor, a logged denial at every sign-in."""
    if roles & CASE_WORKERS:
        return None
    for section in SECTIONS:
        if section.endpoint in current_app.view_functions and roles & section.roles:
            return section.endpoint
    return "account.security"


def context() -> dict[str, object]:
    return {"nav_sections": nav_sections, "landing": landing}
