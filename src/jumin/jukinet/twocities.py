"""Two cities and the national side on loopback: the 特例転入 family move and the paper path.

Used by the test (``jukinet/tests/test_two_cities.py``) and by the demo (``make two-cities``,
``python -m jumin.jukinet.twocities``): the same steps, printed as they happen.

Three kinds of process, each with its own database and var dir:

- netsim (``jumin netsim serve --port 0``): J-LIS and the prefectures;
- city A (141500 相模原市) and city B (131016 千代田区): each ``jumin serve`` (the clerk UI and
  the API) plus ``jumin cs deliver --once`` / ``jumin cs receive --once`` run as commands with
  that city's environment, as an operator would.

People act through the screens and the API with their own sessions (the demo accounts:
clerk01 enters, review01 commits). Nothing here imports netsim or reaches into a city's
database: what is asserted is what a clerk, the API or ``jumin netsim identity show`` shows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jumin.core.identifiers import generate_juminhyo_code, generate_my_number

JUMIN = [sys.executable, "-m", "jumin.config.cli"]
DEMO_PASSWORD = "jumin-demo-2026"  # noqa: S105 - jumin.accounts.demo.DEMO_PASSWORD (demo only)
ADDRESS_CODE = "14152001000"  # an address in the bundled dictionary (相模原市中央区)
LISTENING = re.compile(rb"NETSIM_LISTENING port=(\d+)")
SETUP_STAFF = (
    "from jumin.accounts.actor import Actor; from jumin.accounts.demo import setup_demo; "
    "setup_demo(Actor.system('cli', 'two-cities'))"
)


class FormValues(HTMLParser):
    """The values a browser would submit from the first ``<form method="post">`` whose action
    ends with ``action`` (inputs, checked boxes and radios, selected options, textareas);
    buttons are left out — the caller names the one it presses."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.values: list[tuple[str, str]] = []
        self._inside = False
        self._done = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and a.get("action", "").endswith(self.action):
            self._inside = True
            return
        if not self._inside:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self.values.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            self._option = value
            if self._select_first is None:
                self._select_first = value if value is not None else ""
            if "selected" in a and not self._select_chosen and value is not None:
                self.values.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._inside:
            self._inside, self._done = False, True
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self.values.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.values.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None


def form_values(html: str, action: str) -> dict[str, str]:
    """``FormValues`` as a dict (the last value of a repeated name)."""
    parser = FormValues(action)
    parser.feed(html)
    return dict(parser.values)


# --- processes --------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any Jumin/Django settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JUMIN_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - loopback
                if reply.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except (urllib.error.URLError, OSError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: Any = field(repr=False)

    @classmethod
    def start(cls, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> Process:
        log = log_path.open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        return cls(name, process, log_path, log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@dataclass
class Netsim:
    url: str
    env: dict[str, str]
    server: Process

    @classmethod
    def start(cls, var_dir: Path, database_url: str | None = None) -> Netsim:
        var_dir.mkdir(parents=True, exist_ok=True)
        env = clean_env(
            JUMIN_MODE="demo",
            JUMIN_NETSIM_VAR_DIR=str(var_dir),
            JUMIN_NETSIM_OPEN_REGISTRATION="1",
            JUMIN_NETSIM_FAULTS="0",
            JUMIN_NETSIM_PREFECTURES="13,14",
        )
        if database_url:
            env["JUMIN_NETSIM_DATABASE_URL"] = database_url
        log_path = var_dir / "serve.log"
        server = Process.start(
            "netsim",
            [*JUMIN, "netsim", "serve", "--host", "127.0.0.1", "--port", "0"],
            env,
            log_path,
        )
        deadline = time.monotonic() + 120
        port = 0
        while not port:
            match = LISTENING.search(log_path.read_bytes())
            if match:
                port = int(match.group(1))
            elif server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"netsim did not start:\n{log_path.read_text(errors='replace')}")
            else:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        _wait_http(f"{url}/v1/health", server.process, log_path, 60)
        return cls(url, env, server)

    def command(self, *args: str) -> str:
        """``jumin netsim <args>`` against this netsim's database; its output."""
        done = subprocess.run(  # noqa: S603 - our own CLI
            [*JUMIN, "netsim", *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"jumin netsim {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout

    def identity(self, code: str) -> dict[str, str]:
        """The national file's current record of ``code`` (``jumin netsim identity show``)."""
        text = self.command("identity", "show", code, "--show-my-number")
        out: dict[str, str] = {}
        for key, pattern in {
            "address": r"^\s+住所: (.*)$",
            "municipality_code": r"^\s+市区町村: (\d+)",
            "status": r"状態: (\S+)",
            "my_number": r"個人番号: (\d{12})",
            "certificate": r"^\s+(\d{6}/\S+) 予定日 \S+( 転入先 \d+)?",
        }.items():
            match = re.search(pattern, text, re.M)
            if match:
                out[key] = "".join(g for g in match.groups() if g)
        return out

    def stop(self) -> None:
        self.server.stop()


class Session:
    """A member of staff's browser: cookies, the CSRF token, form posts and API calls."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next((c.value or "" for c in self.jar if c.name == "csrftoken"), "")

    def request(
        self,
        method: str,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, str]:
        """(status, body, final URL after redirects)."""
        request = urllib.request.Request(  # noqa: S310 - loopback
            self.base + path, data=data, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(request, timeout=120) as reply:
                return reply.status, reply.read().decode(), reply.geturl()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), exc.geturl()

    def get(self, path: str) -> tuple[int, str, str]:
        return self.request("GET", path)

    def post_form(self, path: str, values: dict[str, Any]) -> tuple[int, str, str]:
        pairs: list[tuple[str, str]] = []
        for key, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append((key, "" if item is None else str(item)))
        if "csrfmiddlewaretoken" not in values:
            pairs.append(("csrfmiddlewaretoken", self._csrf()))
        body = urllib.parse.urlencode(pairs).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": self.base + path,
        }
        return self.request("POST", path, body, headers)

    def api(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        headers = {"X-CSRFToken": self._csrf(), "Referer": self.base + "/"}
        data = None
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False, default=str).encode()
            headers["Content-Type"] = "application/json"
        status, text, _ = self.request(method, "/api" + path, data, headers)
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text

    def login(self, staff_id: str, password: str = DEMO_PASSWORD) -> Session:
        status, html, _ = self.get("/login/")
        values = form_values(html, "/login/")
        terminal = re.search(r'<option value="(\d+)"[^>]*>\s*CHUO-MADO-01', html)
        values.update(username=staff_id, password=password)
        if terminal:
            values["terminal"] = terminal.group(1)
        status, html, url = self.post_form("/login/", values)
        if "/login/" in url:
            raise RuntimeError(f"login of {staff_id} failed ({status}): {_text(html)[:500]}")
        return self


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@dataclass
class City:
    code: str
    name: str
    var_dir: Path
    env: dict[str, str]
    url: str = ""
    server: Process | None = None

    @classmethod
    def start(cls, code: str, name: str, var_dir: Path, netsim: Netsim, database_url: str) -> City:
        var_dir.mkdir(parents=True, exist_ok=True)
        env = clean_env(
            JUMIN_MODE="demo",
            JUMIN_VAR_DIR=str(var_dir),
            JUMIN_DATABASE_URL=database_url,
            JUMIN_MUNICIPALITY_CODE=code,
            JUMIN_MUNICIPALITY_NAME=name,
            JUMIN_CS_NODE=code,
            JUMIN_CS_KEY_FILE=str(var_dir / "cs-key.json"),
            JUMIN_NETSIM_URL=netsim.url,
            JUMIN_CS_BACKOFF_BASE="0",
            JUMIN_CS_BACKOFF_CAP="0",
        )
        city = cls(code, name, var_dir, env)
        city.jumin("migrate", "--verbosity", "0")
        city.jumin("shell", "-c", SETUP_STAFF)
        city.jumin("cs", "register", "--name", name)
        port = free_port()
        city.url = f"http://127.0.0.1:{port}"
        city.server = Process.start(
            name,
            [*JUMIN, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            var_dir / "serve.log",
        )
        _wait_http(city.url + "/login/", city.server.process, city.server.log_path, 120)
        return city

    def jumin(self, *args: str) -> str:
        """Run ``jumin <args>`` as this city's operator; its output."""
        done = subprocess.run(  # noqa: S603 - our own CLI
            [*JUMIN, *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: jumin {' '.join(args)}:\n{done.stdout}{done.stderr}")
        return done.stdout

    def deliver(self) -> str:
        return self.jumin("cs", "deliver", "--once")

    def receive(self) -> str:
        return self.jumin("cs", "receive", "--once")

    def session(self, staff_id: str) -> Session:
        return Session(self.url).login(staff_id)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


# --- the scenario -----------------------------------------------------------------------------


class ScenarioFailed(AssertionError):
    """A step did not leave the state it should (the message says which and what was seen)."""


def expect(condition: bool, message: str, seen: Any = None) -> None:
    if not condition:
        raise ScenarioFailed(f"{message}" + (f" — seen: {seen!r}" if seen is not None else ""))


Say = Callable[[str], None]


def _draft(session: Session, procedure: str, data: dict[str, Any]) -> int:
    """Enter a draft through the API, acknowledging the alerts it answers with (std 11.1)."""
    acknowledged: list[str] = []
    for _ in range(2):
        status, body = session.api(
            "POST",
            f"/register/procedures/{procedure}/drafts",
            {"data": data, "acknowledged": acknowledged},
        )
        if status == 201:
            return int(body["id"])
        findings = body.get("findings", []) if isinstance(body, dict) else []
        if status != 422 or any(f["severity"] == "error" for f in findings) or acknowledged:
            raise ScenarioFailed(f"{procedure}: draft refused ({status}): {body}")
        acknowledged = [f["code"] for f in findings]
    raise ScenarioFailed(f"{procedure}: draft refused")


def _move_out(
    clerk: Session, reviewer: Session, to: City, atenas: list[str], *, today: str, card: bool
) -> None:
    """A 転出 to city ``to`` entered by ``clerk`` and committed by ``reviewer``: 特例転出 when
    ``card`` (the 転出証明書情報 goes through the CS), else the paper certificate."""
    change_id = _draft(
        clerk,
        "move_out",
        {
            "planned_on": today,
            "notified_on": today,
            "destination": {
                "kind": "domestic",
                "municipality_code": to.code,
                "address": f"{to.name}内",
            },
            "persons": atenas,
            "card_move_out": card,
        },
    )
    _commit(reviewer, change_id)


def _commit(session: Session, change_id: int) -> dict[str, Any]:
    status, body = session.api("POST", f"/register/changes/{change_id}/commit", {})
    expect(status == 200, f"異動 {change_id} の本登録", body)
    expect(body["status"] == "committed", f"異動 {change_id} が本登録になっていない", body)
    return dict(body)


def _resident(session: Session, atena_no: str) -> dict[str, Any]:
    status, body = session.api("GET", f"/register/residents/{atena_no}")
    expect(status == 200, f"宛名番号 {atena_no} の照会", body)
    return dict(body)


def _line(output: str) -> str:
    """A command's output on one line, for the demo's narration."""
    return " / ".join(line.strip() for line in output.strip().splitlines() if line.strip())


def _family(rng: Any) -> list[dict[str, Any]]:
    people = [
        ("太郎", "タロウ", "1", "1978-05-10", "世帯主"),
        ("花子", "ハナコ", "2", "1980-09-21", "妻"),
        ("一郎", "イチロウ", "1", "2010-01-20", "子"),
        ("桜", "サクラ", "2", "2014-03-03", "子"),
    ]
    return [
        {
            "family_name": "二都",
            "given_name": given,
            "name_kana": f"ニト {kana}",
            "sex": sex,
            "birth_date": born,
            "relationship": relationship,
            "honseki": "神奈川県相模原市中央区中央二丁目11番",
            "koseki_head": "二都 太郎",
            "juminhyo_code": generate_juminhyo_code(rng),
            "my_number": generate_my_number(rng),
        }
        for given, kana, sex, born, relationship in people
    ]


def _move_in_from_abroad(
    clerk: Session, reviewer: Session, persons: list[dict[str, Any]]
) -> list[str]:
    today = dt.date.today().isoformat()
    change_id = _draft(
        clerk,
        "move_in",
        {
            "kind": "abroad",
            "occurred_on": today,
            "notified_on": today,
            "address": {"address_code": ADDRESS_CODE, "banchi": "1番1号"},
            "previous_address": "アメリカ合衆国カリフォルニア州",
            "persons": persons,
        },
    )
    committed = _commit(reviewer, change_id)
    return [p["atena_no"] for p in committed["persons"]]


@dataclass
class Result:
    """What the scenario observed, step by step (the test asserts on it as well)."""

    family_codes: list[str] = field(default_factory=list)
    family_numbers: list[str] = field(default_factory=list)
    a_atena: list[str] = field(default_factory=list)
    b_atena: list[str] = field(default_factory=list)
    national_before: list[dict[str, str]] = field(default_factory=list)
    national_after: list[dict[str, str]] = field(default_factory=list)
    a_after: list[dict[str, Any]] = field(default_factory=list)
    notice_drafts: list[int] = field(default_factory=list)
    paper_code: str = ""
    paper_a_after: dict[str, Any] = field(default_factory=dict)
    paper_national: dict[str, str] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)


def family_move(a: City, b: City, netsim: Netsim, say: Say, result: Result) -> None:
    """特例転入: A records the card-holders' planned move-out; B's clerk fetches the 転出証明書
    情報 and records the move-in; the 転入通知 completes A's move-out."""
    import random

    today = dt.date.today().isoformat()
    a_clerk, a_review = a.session("clerk01"), a.session("review01")
    b_clerk, b_review = b.session("clerk01"), b.session("review01")

    rng = random.Random(secrets.randbits(32))  # noqa: S311 - test data
    family = _family(rng)
    result.family_codes = [p["juminhyo_code"] for p in family]
    result.family_numbers = [p["my_number"] for p in family]
    result.a_atena = _move_in_from_abroad(a_clerk, a_review, family)
    out = a.deliver()
    national = [netsim.identity(code) for code in result.family_codes]
    expect(
        all(n.get("municipality_code") == a.code for n in national),
        f"全国の本人確認情報が {a.name} になっていない",
        national,
    )
    say(
        f"1. {a.name}: 4人家族（個人番号カード所持）が住民"
        f"。CSが本人確認情報を送信 → 全国ファイルは {a.code}"
    )
    say(f"   {a.name}: residents with 住民票コード and 個人番号; identity sent ({_line(out)})")

    # 2. A: 特例転出 (planned move-out to B), committed; the CS sends the 転出証明書情報
    _move_out(a_clerk, a_review, b, result.a_atena, today=today, card=True)
    planned = [_resident(a_review, atena)["record"] for atena in result.a_atena]
    expect(
        all(r.get("moved_out_planned_on") == today for r in planned),
        f"{a.name}: 転出予定年月日が記載されていない",
        [r.get("moved_out_planned_on") for r in planned],
    )
    out = a.deliver()
    certificates = [netsim.identity(code).get("certificate", "") for code in result.family_codes]
    expect(
        all(c.startswith(f"{a.code}/") for c in certificates),
        "転出証明書情報が全国側に届いていない",
        certificates,
    )
    say(f"2. {a.name}: 特例転出（転出予定 {today}）を審査・本登録。CSが転出証明書情報を送信")
    say(f"   {a.name}: planned move-out committed; move_out.info sent: {', '.join(certificates)}")

    # 3. B: the clerk fetches the 転出証明書情報 on the 転入 screen and records the 特例転入
    status, html, _ = b_clerk.get("/procedures/move_in/")
    expect(status == 200, f"{b.name}: 転入の入力画面", status)
    values = form_values(html, "/procedures/move_in/")
    # a 住民票コード with no 転出証明書情報 is refused with the explanation, the form kept
    unknown = generate_juminhyo_code(rng)
    status, html, _ = b_clerk.post_form(
        "/procedures/move_in/",
        values | {"_action": "fetch", "_cs_codes": unknown, "_cs_from": a.code},
    )
    expect(
        status == 422 and f"転出証明書情報は住基ネットにありません: {unknown}" in html,
        f"{b.name}: 転出証明書情報のない住民票コードの説明",
        _text(html)[-800:],
    )
    values.update(_action="fetch", _cs_codes=" ".join(result.family_codes), _cs_from=a.code)
    status, html, _ = b_clerk.post_form("/procedures/move_in/", values)
    expect(
        status == 200 and "入力欄に反映しました" in html,
        f"{b.name}: 転出証明書情報の取得",
        _text(html)[-800:],
    )
    values = form_values(html, "/procedures/move_in/")
    planned_from = values.get("previous_address", "")
    expect(planned_from.startswith("神奈川県"), f"{b.name}: 転入前住所", planned_from)
    expect(
        values.get("kind") == "card",
        f"{b.name}: 特例転入として入力されていない",
        values.get("kind"),
    )
    fetched = sorted(
        v for k, v in values.items() if re.fullmatch(r"persons\.\d+\.juminhyo_code", k)
    )
    expect(fetched == sorted(result.family_codes), f"{b.name}: 取得した住民票コード", fetched)
    say(
        f"3. {b.name}: 転出証明書情報のない住民票コード {unknown} → 取得できない理由を表示"
        "（入力は保持）"
    )
    say(
        f"   {b.name}: 窓口で住民票コードと転出元を入力し「転出証明書情報を取得」"
        "→ 4人分が入力欄に反映"
    )
    say(f"   {b.name}: the clerk fetched move_out.info into the 転入 form ({len(fetched)} persons)")
    values.update(
        {
            "_action": "check",
            "occurred_on": today,
            "notified_on": today,
            "address.address_code": ADDRESS_CODE,
            "address.banchi": "5番8号",
        }
    )
    status, html, _ = b_clerk.post_form("/procedures/move_in/", values)
    expect(
        status == 200 and "住基ネット（CS）から取得した転出証明書情報による入力" in html,
        f"{b.name}: 確認画面",
        _text(html)[-1500:],
    )
    confirm: dict[str, Any] = dict(form_values(html, "/procedures/move_in/"))
    confirm["_action"] = "save"
    confirm["_ack"] = re.findall(r'name="_ack" value="([^"]+)"', html)
    status, html, url = b_clerk.post_form("/procedures/move_in/", confirm)
    match = re.search(r"/changes/(\d+)/", url)
    expect(match is not None, f"{b.name}: 転入の仮登録", _text(html)[-800:])
    assert match is not None
    committed = _commit(b_review, int(match.group(1)))
    result.b_atena = [p["atena_no"] for p in committed["persons"]]
    arrived = [_resident(b_review, atena) for atena in result.b_atena]
    expect(
        all(not p["is_removed"] and "5番8号" in p["record"]["address"] for p in arrived),
        f"{b.name}: 転入した住民の記載",
        [p["record"].get("address") for p in arrived],
    )
    expect(
        [p["record"].get("previous_address") for p in arrived] == [planned_from] * 4,
        f"{b.name}: 転入前住所が転出証明書情報と違う",
        [p["record"].get("previous_address") for p in arrived],
    )
    say(f"4. {b.name}: 特例転入を仮登録（異動 {match.group(1)}）、別の職員が審査・本登録")
    say(f"   {b.name}: move-in drafted from the fetched data and committed by a reviewer")

    out = b.deliver()
    result.national_after = [netsim.identity(code) for code in result.family_codes]
    expect(
        all(n.get("municipality_code") == b.code for n in result.national_after),
        f"全国の本人確認情報が {b.name} になっていない",
        result.national_after,
    )
    expect(
        [n.get("my_number") for n in result.national_after] == result.family_numbers,
        "個人番号が変わっている",
        result.national_after,
    )
    say(
        f"5. {b.name}: CSが転入通知と本人確認情報を送信"
        f" → 全国ファイルは {b.code}・新住所、個人番号は不変"
    )
    used = sum(" 転入先 " in n.get("certificate", "") for n in result.national_after)
    say(
        f"   national file: {result.national_after[0].get('address')} ({b.code})"
        f"; 個人番号 unchanged; 転出証明書情報 marked used: {used}/{len(family)}"
    )

    # 6. A receives the 転入通知: the CS enters drafts, a reviewer commits them
    out = a.receive()
    status, drafts = a_review.api("GET", "/register/drafts")
    expect(status == 200, f"{a.name}: 仮登録の一覧", drafts)
    notices = [d for d in drafts if d["procedure"] == "move_in_notice_receipt"]
    expect(
        len(notices) == len(family),
        f"{a.name}: 転入通知の受理の仮登録が {len(family)} 件ない",
        drafts,
    )
    expect(
        all(d["created_by"]["staff_id"] == "batch:cs" for d in notices),
        f"{a.name}: 転入通知の受理がCS（batch:cs）の入力になっていない",
        [d["created_by"] for d in notices],
    )
    result.notice_drafts = [int(d["id"]) for d in notices]
    say(
        f"6. {a.name}: CSが転入通知 {len(notices)} 件を受信"
        f" → 転入通知の受理を仮登録（入力者 batch:cs）"
    )
    say(f"   {a.name}: received the notices ({_line(out)}); drafts by the system for review")
    for change in result.notice_drafts:
        _commit(a_review, change)
    result.a_after = [_resident(a_review, atena) for atena in result.a_atena]
    for person in result.a_after:
        record = person["record"]
        expect(person["is_removed"], f"{a.name}: 除票になっていない", record)
        expect(
            record.get("moved_out_on") == today,
            f"{a.name}: 転出日（確定）",
            record.get("moved_out_on"),
        )
        expect(bool(record.get("moved_out_address")), f"{a.name}: 転出先（確定）", record)
    a.deliver()
    final = [netsim.identity(code) for code in result.family_codes]
    expect(
        all(n.get("municipality_code") == b.code for n in final),
        f"{a.name} の送信で全国の本人確認情報が {b.name} 以外に戻った",
        final,
    )
    say(
        f"7. {a.name}: 審査担当が本登録 → 除票（転出日 {today}"
        f"、転出先 {result.a_after[0]['record']['moved_out_address']}）"
    )
    say(f"   {a.name}: records closed with the confirmed date and destination")


def paper_move(a: City, b: City, netsim: Netsim, say: Say, result: Result) -> None:
    """The paper path: a 転出証明書 carried by the resident; B's clerk types it in."""
    import random

    today = dt.date.today().isoformat()
    a_clerk, a_review = a.session("clerk01"), a.session("review01")
    b_clerk, b_review = b.session("clerk01"), b.session("review01")
    rng = random.Random(secrets.randbits(32))  # noqa: S311 - test data
    person = _family(rng)[0] | {
        "family_name": "紙原",
        "given_name": "証子",
        "name_kana": "カミハラ ショウコ",
        "sex": "2",
        "koseki_head": "紙原 証子",
    }
    result.paper_code = person["juminhyo_code"]
    (atena,) = _move_in_from_abroad(a_clerk, a_review, [person])
    _move_out(a_clerk, a_review, b, [atena], today=today, card=False)
    a.deliver()
    say(f"8. 紙の転出証明書: {a.name} で通常の転出を本登録し、本人が転出証明書を持参")
    change_id = _draft(
        b_clerk,
        "move_in",
        {
            "kind": "domestic",
            "occurred_on": today,
            "notified_on": today,
            "address": {"address_code": ADDRESS_CODE, "banchi": "9番1号"},
            "previous_address": f"{a.name}中央区中央二丁目11番",
            "certificate": {"municipality_code": a.code, "planned_on": today, "issued_on": today},
            "persons": [{k: v for k, v in person.items() if k != "my_number"}],
        },
    )
    _commit(b_review, change_id)
    b.deliver()
    out = a.receive()
    status, drafts = a_review.api("GET", "/register/drafts")
    expect(status == 200, f"{a.name}: 仮登録の一覧", drafts)
    notices = [d for d in drafts if d["procedure"] == "move_in_notice_receipt"]
    expect(len(notices) == 1, f"{a.name}: 紙の転出証明書による転入の転入通知が届いていない", drafts)
    _commit(a_review, int(notices[0]["id"]))
    result.paper_a_after = _resident(a_review, atena)
    record = result.paper_a_after["record"]
    expect(result.paper_a_after["is_removed"], f"{a.name}: 除票になっていない", record)
    expect(record.get("moved_out_on") == today, f"{a.name}: 転出日（確定）", record)
    result.paper_national = netsim.identity(result.paper_code)
    expect(
        result.paper_national.get("municipality_code") == b.code,
        "全国ファイル（紙の経路）",
        result.paper_national,
    )
    say(
        f"9. {b.name}: 職員が転出証明書の内容を入力して転入を本登録"
        f" → 転入通知が {a.name} に届き、除票を本登録"
    )
    say(f"   paper path: B typed the certificate; the notice reached A ({_line(out)})")


@contextlib.contextmanager
def running(
    root: Path, databases: dict[str, str] | None = None, say: Say = print
) -> Iterator[tuple[Netsim, City, City]]:
    """netsim, city A (141500 相模原市) and city B (131016 千代田区) running under ``root``;
    ``databases`` maps "netsim", "a", "b" to database URLs (default: SQLite files)."""
    databases = databases or {}
    started: list[Any] = []
    try:
        netsim = Netsim.start(root / "netsim", databases.get("netsim"))
        started.append(netsim)
        say(f"netsim（J-LIS・都道府県）: {netsim.url}")
        a = City.start(
            "141500",
            "相模原市",
            root / "a",
            netsim,
            databases.get("a") or f"sqlite:///{root / 'a' / 'jumin.sqlite3'}",
        )
        started.append(a)
        say(f"市区町村A 141500 相模原市: {a.url}")
        b = City.start(
            "131016",
            "千代田区",
            root / "b",
            netsim,
            databases.get("b") or f"sqlite:///{root / 'b' / 'jumin.sqlite3'}",
        )
        started.append(b)
        say(f"市区町村B 131016 千代田区: {b.url}")
        yield netsim, a, b
    finally:
        for process in reversed(started):
            process.stop()


def run(root: Path, databases: dict[str, str] | None = None, say: Say = print) -> Result:
    """The whole scenario; raises ``ScenarioFailed`` at the first step that went wrong."""
    result = Result()

    def log(line: str) -> None:
        result.steps.append(line)
        say(line)

    with running(root, databases, log) as (netsim, a, b):
        family_move(a, b, netsim, log, result)
        paper_move(a, b, netsim, log, result)
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m jumin.jukinet.twocities [--keep DIR]``: the demo (``make two-cities``)."""
    import argparse

    parser = argparse.ArgumentParser(
        description="二つの市区町村と住基ネット（netsim）の転出・転入デモ"
    )
    parser.add_argument("--keep", type=Path, default=None, help="データを残すディレクトリ")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            root = args.keep
            root.mkdir(parents=True, exist_ok=True)
        else:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="two-cities-")))
        print("二都市デモ: netsim と二つの Jumin を起動します（数十秒かかります）…", flush=True)
        started = time.monotonic()
        try:
            run(root, say=lambda line: print(line, flush=True))
        except ScenarioFailed as exc:
            print(f"失敗 / FAILED: {exc}", file=sys.stderr)
            print(f"ログ: {root}/*/serve.log", file=sys.stderr)
            return 1
        print(f"完了 / done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
