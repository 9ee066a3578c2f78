"""Every page addressed by an id takes it through the one `uuid` converter (web/paths.py): signed
out, the sign-in check answers first; signed in, a malformed id is a 404, never a 500."""

from __future__ import annotations

import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from databank.web.paths import UUIDConverter
from tests.web.conftest import csrf, login

BAD_IDS = ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g", "x" * 300, "null"]


def _page_rules(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/")
        and any(isinstance(c, UUIDConverter) for c in rule._converters.values())
    ]


def _fill(rule: Rule, value: str) -> str:
    return re.sub(r"<[^>]+>", value, rule.rule)


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def test_every_id_in_a_path_uses_the_one_converter(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if name.endswith("_id"):
                assert isinstance(converter, UUIDConverter), rule.rule
    assert len(_page_rules(app)) >= 10


def test_a_malformed_id_is_404_once_signed_in(app: Flask, client: FlaskClient) -> None:
    assert login(client, "worker") == 302
    token = csrf(client, "/account/tokens/")
    for rule in _page_rules(app):
        for method in _methods(rule):
            for bad in BAD_IDS:
                url = _fill(rule, bad)
                response = client.open(url, method=method, data={"csrf_token": token})
                assert response.status_code == 404, (method, url, response.status_code)


def test_signed_out_the_sign_in_check_answers_first(app: Flask, client: FlaskClient) -> None:
    for rule in _page_rules(app):
        if "GET" not in _methods(rule):
            continue
        for value in (BAD_IDS[0], str(uuid.uuid4())):
            response = client.get(_fill(rule, value))
            assert response.status_code == 302, rule.rule
            assert "/login" in response.headers["Location"]
