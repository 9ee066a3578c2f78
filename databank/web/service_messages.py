"""The services' and schemas' messages for the account, staff, token, audit and error pages, in
the user's language.

The services and schemas speak English to every caller (the API, the CLI, the logs) and know
nothing of the request; the pages show these messages next to a field or in a notice, so they are
translated here, as `outreach_forms.plain` does for the outreach pages. A message with no
translation here is shown as it was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from databank.crypto.passwords import MIN_PASSWORD_LENGTH, MIN_PASSWORD_SCORE, OWN_WORDS, TOO_EASY
from databank.schemas.audit import PERSON_BY_POST
from databank.services.access import NO_SUCH_CASE, NO_SUCH_PERSON
from databank.services.accounts.tokens import MAX_DAYS, MAX_NAME_LENGTH

_PLAIN: Mapping[str, object] = {
    # services/access.py: every refusal of the policy decision point
    "you are not allowed to do this with this record for this purpose": _l(
        "You are not allowed to do this with this record for this purpose."
    ),
    # services/access/unheld.py: another organisation's record is answered as a missing one
    NO_SUCH_PERSON: _l("There is no such person in your organisation's records."),
    NO_SUCH_CASE: _l("There is no such case in your organisation's records."),
    # services/accounts.py and services/orgs.py
    "is required": _l("Please fill this in."),
    "is already set up": _l("Two-factor sign-in is already set up."),
    "is not the current code of your authenticator app": _l(
        "This is not the current code of your authenticator app. Check the code and try again."
    ),
    "set up two-factor first": _l("Set up two-factor sign-in first."),
    "two-factor sign-in is required for your role and cannot be turned off": _l(
        "Two-factor sign-in is required for your role and cannot be turned off."
    ),
    "is not set up": _l("Two-factor sign-in is not set up."),
    "is not a valid code": _l(
        "This code is not valid. Type the current code of your app or an unused recovery code."
    ),
    "is not your password": _l("This is not your current password."),
    f"must be at least {MIN_PASSWORD_LENGTH} characters": _l(
        "Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH
    ),
    TOO_EASY: _l(
        "This password is too easy to guess: it must score at least %(n)s out of 4 on the "
        "zxcvbn strength check. A few unrelated words make a strong password.",
        n=MIN_PASSWORD_SCORE,
    ),
    OWN_WORDS: _l("The password must not contain your username or your organisation’s name."),
    "must be at most 200 characters": _l("Use at most %(n)s characters.", n=200),
    "must be at most 100 characters": _l("Use at most %(n)s characters.", n=100),
    "choose at least one role": _l("Choose at least one role."),
    "name at least one role": _l("Choose at least one role."),
    "is your own account": _l("You cannot deactivate your own account."),
    "is inactive": _l("This account is already deactivated."),
    "is active": _l("This account is already active."),
    "tick the box to confirm": _l("Tick the box to confirm."),
    "is already taken": _l("This username is taken. Please choose another one."),
    # services/tokens.py
    f"is longer than {MAX_NAME_LENGTH} characters": _l(
        "Use at most %(n)s characters.", n=MAX_NAME_LENGTH
    ),
    "name at least one scope": _l("Tick at least one scope."),
    f"must be between 1 and {MAX_DAYS}": _l("Choose between 1 and %(n)s days.", n=MAX_DAYS),
    "enforcement purposes are refused for every token": _l(
        "Enforcement purposes are refused for every token."
    ),
    "is deactivated": _l("This account is deactivated."),
    "no such user or token in your organisation": _l("there is no such token in your organisation"),
    "the token is already revoked": _l("the token is already revoked"),
    # services/alerts.py
    "no such alert": _l("there is no such alert"),
    "this alert was already reviewed and closed": _l("this alert was already reviewed and closed"),
    "an alert cannot be reopened by a review": _l("an alert cannot be reopened by a review"),
    "a review needs a note": _l("a review needs a note"),
    "say what was checked": _l("Say what was checked."),
    "must be one of: justified, escalated, closed": _l("Choose one of the listed outcomes."),
    # marshmallow and databank/schemas, on the pages that show them (audit filters, tokens)
    "Missing data for required field.": _l("Please fill this in."),
    "Must not be blank.": _l("Please fill this in."),
    "Not a valid UUID.": _l("This is not a valid id (UUID)."),
    "Not a valid integer.": _l("Please give a whole number."),
    "Not a valid string.": _l("Please type some text."),
    "Unknown field.": _l("This field is not expected here."),
    "Not a valid date or date-time (ISO 8601, e.g. 2026-03-01 or 2026-03-01T08:00:00Z).": _l(
        "Give a date like 2026-03-01, or a date and time like 2026-03-01T08:00:00Z."
    ),
    "Must be after since.": _l("The end date must be after the start date."),
    "Must be an event name like access.read, or a prefix access.": _l(
        "Give an event name like access.read, or a prefix like access."
    ),
    PERSON_BY_POST: _l(
        "Look a person up with the form for a person’s access history: a person is never part "
        "of an address."
    ),
}

# Messages that end with a list of the valid values: the page lists them already.
_PREFIXES: Mapping[str, object] = {
    "must be among: ": _l("Choose among the roles listed."),
    "unknown scope; use some of: ": _l("Choose among the scopes listed."),
}


# marshmallow's messages that quote their limits.
_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"Must be greater than or equal to (-?\d+) and less than or equal to (-?\d+)\."),
        lambda m: _("Give a number from %(min)s to %(max)s.", min=m[1], max=m[2]),
    ),
    (
        re.compile(r"Length must be between (\d+) and (\d+)\."),
        lambda m: _("The length must be between %(min)s and %(max)s.", min=m[1], max=m[2]),
    ),
    (
        re.compile(r"Longer than maximum length (\d+)\."),
        lambda m: _("This is longer than the maximum length of %(max)s.", max=m[1]),
    ),
    (
        re.compile(r"Shorter than minimum length (\d+)\."),
        lambda m: _("This is shorter than the minimum length of %(min)s.", min=m[1]),
    ),
    (
        re.compile(r"Must be one of: (.*)\."),
        lambda m: _("Must be one of: %(choices)s.", choices=m[1]),
    ),
)


def message(text: str) -> str:
    """One message in the user's language (as it is when we have no translation)."""
    known = _PLAIN.get(text)
    if known is not None:
        return str(known)
    for prefix, translated in _PREFIXES.items():
        if text.startswith(prefix):
            return str(translated)
    for pattern, translate in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return translate(match)
    return text


def plain(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The same errors by field, each message in the user's language."""
    return {field: [message(m) for m in messages] for field, messages in errors.items()}
