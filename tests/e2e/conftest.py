"""Browser tests: the `playwright` package driving Debian's Chromium (never a downloaded one).

Fixtures:

- ``pw_browser``: one Chromium for the test (the live server is already running);
- ``new_page()``: a page in a fresh browser context (its own cookies and sessionStorage: a
  second clerk, or a second terminal); ``browser_page`` is the first such page;
- ``counter``: a terminal and the staff at it (clerk, reviewer, supervisor);
- ``login(page, staff, terminal)``: the login screen filled in and submitted;
- ``shot(page, name)``: a full-page screenshot ``var/screenshots/<test>-<name>.png`` under
  the repository root (``var/`` is git-ignored);
- ``axe(page, name)``: axe-core on the page; the report goes next to the screenshot
  (``<test>-<name>.axe.txt``) and the test fails on a serious or critical violation;
- ``look(page, name)``: both — every screen a test visits is looked at this way.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("JUMIN_CHROMIUM", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "var" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 15_000
FAILING_IMPACTS = ("serious", "critical")


@pytest.fixture(autouse=True)
def _key_file(settings: Any, tmp_path: Path) -> Iterator[None]:
    """A field-encryption key of the test's own (the 個人番号 is stored encrypted)."""
    from jumin.register import crypto

    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


@pytest.fixture
def pw_browser(live_server: Any) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # synchronous and safe, so let Django allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            _close_connections()  # a connection left by an earlier test may be gone
            try:
                yield browser
            finally:
                browser.close()
                _close_connections()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        _end_other_sessions()


@pytest.fixture
def new_page(pw_browser: Any, live_server: Any) -> Iterator[Callable[[], Any]]:
    """``new_page()``: a page in a new browser context (a clerk at another terminal)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = pw_browser.new_context(
            viewport=VIEWPORT,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            base_url=live_server.url,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_page: Callable[[], Any]) -> Any:
    return new_page()


# --------------------------------------------------------------------------- people


@dataclass
class Counter:
    """A counter with its terminal: the clerk who enters, the reviewer who commits, and a
    supervisor (bulk commit, 個人番号 display)."""

    terminal: Any
    back_office: Any  # the reviewer's terminal
    clerk: Any
    reviewer: Any
    supervisor: Any


@pytest.fixture
def counter(transactional_db: None) -> Counter:
    from jumin.accounts.tests.factories import OrgUnitFactory, StaffFactory, TerminalFactory

    unit = OrgUnitFactory(code="shimin", name="市民課")
    return Counter(
        terminal=TerminalFactory(name="MADO-01", location="本庁舎 1階 市民課窓口", org_unit=unit),
        back_office=TerminalFactory(
            name="SHINSA-01", location="本庁舎 1階 市民課審査", org_unit=unit
        ),
        clerk=StaffFactory(
            staff_id="clerk01", name="窓口 一郎", org_unit=unit, roles=["counter_clerk"]
        ),
        reviewer=StaffFactory(
            staff_id="review01", name="審査 花子", org_unit=unit, roles=["reviewer"]
        ),
        supervisor=StaffFactory(
            staff_id="super01", name="監督 次郎", org_unit=unit, roles=["supervisor"]
        ),
    )


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, staff, terminal=None)``: log in through the login screen (the terminal
    is chosen when given; it stays selected by its cookie afterwards)."""
    from jumin.accounts.tests.factories import PASSWORD

    def do(page: Any, staff: Any, terminal: Any = None, *, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.get_by_label("職員ID").fill(staff.staff_id)
        page.get_by_label("パスワード").fill(password)
        if terminal is not None:
            page.locator("#id_terminal").select_option(str(terminal.pk))
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_load_state()
        assert "/login/" not in page.url, page.inner_text("main")

    return do


# --------------------------------------------------------------------------- looking


def _test_name(request: pytest.FixtureRequest) -> str:
    name = request.node.name.removeprefix("test_")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, name)``: the whole page as a clerk sees it at 1366×768."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    prefix = _test_name(request)

    def take(page: Any, name: str) -> Path:
        path = SHOTS / f"{prefix}-{name}.png"
        page.wait_for_load_state()
        # from the top, as the page opens (a sticky table head stays in its table)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe(request: pytest.FixtureRequest) -> Callable[[Any, str], list[dict[str, Any]]]:
    """``axe(page, name)``: axe-core's violations on the page, written to
    ``<test>-<name>.axe.txt``; fails on serious or critical ones, returns the rest."""
    from axe_playwright_python.sync_playwright import Axe

    SHOTS.mkdir(parents=True, exist_ok=True)
    prefix = _test_name(request)
    checker = Axe()

    def check(page: Any, name: str) -> list[dict[str, Any]]:
        page.wait_for_load_state()
        results = checker.run(page)
        violations = results.response["violations"]
        lines = [f"axe-core on {page.url} ({page.title()})", ""]
        for v in violations:
            lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])})")
            for node in v["nodes"]:
                lines.append(f"    {', '.join(map(str, node['target']))}")
                lines.append(f"      {node.get('failureSummary', '').replace(chr(10), ' / ')}")
        if not violations:
            lines.append("no violations")
        (SHOTS / f"{prefix}-{name}.axe.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        assert not failing, f"axe on {name}:\n" + "\n".join(lines)
        return violations

    return check


@pytest.fixture
def look(
    shot: Callable[[Any, str], Path], axe: Callable[[Any, str], list[dict[str, Any]]]
) -> Callable[[Any, str], None]:
    """``look(page, name)``: screenshot and axe check of one screen."""

    def both(page: Any, name: str) -> None:
        shot(page, name)
        axe(page, name)

    return both


# --------------------------------------------------------------------------- teardown


def _close_connections() -> None:
    """Close the Django connections of the code that runs while Playwright is active.

    Between its calls Playwright's sync API leaves its event loop marked as running in this
    thread, so Django (asgiref's ``Local``, thread-critical) keeps the connections used then
    — by the test and the fixtures set up after the browser — apart from the test's own
    connection. Closed here, they cannot outlive the test and be ended under the next one."""
    from django.db import connections

    connections.close_all()


def _end_other_sessions() -> None:
    """End the database sessions the test left open besides the main one, so PostgreSQL can
    drop the test database: the live server's request threads are daemons that may still
    hold one, and code run inside Playwright's sync API runs in a greenlet with its own
    context, hence its own Django connection."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
            cursor.execute(f"SELECT count(*) {others}")
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.1)
