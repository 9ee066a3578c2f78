"""The harness itself: the accessibility scan fails on a serious violation and runs offline; the
sign-in helper handles the second factor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pyotp
import pytest
from flask import Flask, redirect, request
from playwright.sync_api import Browser, Page, Request, Route
from werkzeug.serving import make_server

from tests.browser.conftest import (
    World,
    axe_check,
    axe_violations,
    chromium_path,
    login,
    watch,
)


def test_chromium_is_debians_and_not_a_downloaded_one(browser: Browser) -> None:
    path = chromium_path()
    assert path is not None
    assert "ms-playwright" not in path
    assert browser.version  # Playwright speaks to this chromium over the DevTools protocol


def test_axe_fails_on_an_image_without_alt_text_and_names_it(page: Page) -> None:
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    page.set_content(
        '<html lang="en"><head><title>t</title></head>'
        '<body><main><h1>T</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main>'
        "</body></html>"
    )
    assert [v["id"] for v in axe_violations(page)] == ["image-alt"]
    with pytest.raises(AssertionError, match=r"\[critical\] image-alt"):
        axe_check(page)
    # axe-core is injected from the package: the scan fetched nothing.
    assert requests == []


def test_axe_passes_a_clean_page(page: Page) -> None:
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>T</h1>'
        '<label for="a">Name</label><input id="a"></main></body></html>'
    )
    axe_check(page)


# The sign-in helper's second-factor branches, against a stand-in of the flow's pages, so that a
# failure of the helper is told apart from one of the app (the journeys use the real pages).
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PAGES = {
    "/login": '<form method="post"><label for="u">Username</label><input id="u" name="username">'
    '<label for="p">Password</label><input id="p" name="password" type="password">'
    '<button type="submit">Sign in</button></form>',
    "/account/2fa/setup": f'<p>Secret: <code id="totp-secret">{SECRET[:8]} {SECRET[8:]}</code></p>'
    '<form method="post"><label for="c">Code from your app</label><input id="c" name="code">'
    '<button type="submit">Confirm</button></form>',
    "/login/2fa": '<form method="post"><label for="c">Code</label><input id="c" name="code">'
    '<button type="submit">Verify</button></form>',
    "/": "<h1>Caseload</h1>",
}


@pytest.fixture
def stand_in(browser: Browser) -> Iterator[tuple[Page, list[str], dict[str, str]]]:
    """A page on a stand-in sign-in flow; yields it, the codes it received, and its settings
    (`after_password`: where the password leads)."""
    app = Flask("stand_in")
    codes: list[str] = []
    settings = {"after_password": "/"}

    def show(path: str) -> str:
        head = '<html lang="en"><head><title>t</title></head>'
        return f"{head}<body><main>{PAGES[path]}</main></body></html>"

    @app.route("/login", methods=["GET", "POST"])
    def sign_in() -> Any:
        return (
            redirect(settings["after_password"], 303)
            if request.method == "POST"
            else show("/login")
        )

    @app.route("/account/2fa/setup", methods=["GET", "POST"], endpoint="setup")
    @app.route("/login/2fa", methods=["GET", "POST"], endpoint="code")
    def second_factor() -> Any:
        if request.method == "GET":
            return show(request.path)
        codes.append(request.form["code"])
        # Like the app: the steps either side of now are accepted (clock drift, a step boundary).
        ok = pyotp.TOTP(SECRET).verify(request.form["code"], valid_window=1)
        return redirect("/" if ok else request.path, 303)

    @app.route("/")
    def home() -> str:
        return show("/")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context(base_url=f"http://127.0.0.1:{server.server_port}")
    yield context.new_page(), codes, settings
    context.close()
    server.shutdown()
    server.server_close()


def test_login_enrols_in_the_second_factor_when_asked_and_keeps_the_secret(
    stand_in: tuple[Page, list[str], dict[str, str]], world: World
) -> None:
    page, codes, settings = stand_in
    settings["after_password"] = "/account/2fa/setup"
    login(page, world, "enrolling@test")
    assert urlparse(page.url).path == "/"
    assert world.totp_secrets.pop("enrolling@test") == SECRET
    assert len(codes) == 1


def test_login_answers_the_second_factor_with_a_known_secret(
    stand_in: tuple[Page, list[str], dict[str, str]], world: World
) -> None:
    page, codes, settings = stand_in
    settings["after_password"] = "/login/2fa"
    world.totp_secrets["enrolled@test"] = SECRET
    login(page, world, "enrolled@test")
    assert urlparse(page.url).path == "/"
    assert len(codes) == 1


def test_login_fails_clearly_when_the_code_is_refused(
    stand_in: tuple[Page, list[str], dict[str, str]], world: World
) -> None:
    page, _codes, settings = stand_in
    settings["after_password"] = "/login/2fa"
    world.totp_secrets["wrong@test"] = (
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"  # not the secret the page checks
    )
    with pytest.raises(AssertionError, match="wrong@test could not sign in"):
        login(page, world, "wrong@test")


def test_the_page_guard_catches_a_missing_csp_an_inline_script_and_a_js_error(
    browser: Browser,
) -> None:
    """`watch` (behind every `new_page`): a page without the strict CSP, an inline script blocked
    by it, and a JavaScript error are each reported; a clean page under the CSP is not."""
    base = "http://guard.test"
    strict = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"
    bodies = {
        "/clean": (strict, "<p>ok</p>"),
        "/no-csp": ("", "<p>ok</p>"),
        "/inline": (strict, "<script>document.title = 'x'</script>"),
        "/broken": (strict, '<script src="/broken.js"></script>'),
    }
    context = browser.new_context()
    target = context.new_page()

    def serve(route: Route) -> None:
        path = urlparse(route.request.url).path
        if path == "/broken.js":
            route.fulfill(body="undefinedFunction();", content_type="text/javascript")
            return
        policy, body = bodies[path]
        headers = {"Content-Security-Policy": policy} if policy else {}
        route.fulfill(
            body=f"<html><body>{body}</body></html>", headers=headers, content_type="text/html"
        )

    target.route(f"{base}/**", serve)
    problems: list[str] = []
    watch(target, base, problems)
    found = {}
    for path in bodies:
        problems.clear()
        target.goto(base + path)
        target.wait_for_timeout(200)
        found[path] = list(problems)
    context.close()
    assert found["/clean"] == []
    assert any(p.startswith("CSP header on") for p in found["/no-csp"])
    assert any(p.startswith("CSP:") for p in found["/inline"])
    assert any(p.startswith("JavaScript:") for p in found["/broken"])
