"""Settings profiles, SQLite tuning and the ``jumin`` command, in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

JUMIN = [sys.executable, "-m", "jumin.config.cli"]


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JUMIN_") and k != "DJANGO_SETTINGS_MODULE"
    }
    environ["JUMIN_VAR_DIR"] = str(tmp_path / "var")
    environ.update(env)
    return subprocess.run(
        [*JUMIN, *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


def test_production_profile_passes_check_deploy(tmp_path):
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        JUMIN_MODE="production",
        JUMIN_SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        JUMIN_ALLOWED_HOSTS="jumin.example.jp",
        JUMIN_WEBAUTHN_RP_ID="jumin.example.jp",
        JUMIN_WEBAUTHN_ORIGINS="https://jumin.example.jp",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _run(["check"], tmp_path, JUMIN_MODE="production")
    assert result.returncode == 2
    assert "JUMIN_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_mode_is_a_clear_error(tmp_path):
    result = _run(["check"], tmp_path, JUMIN_MODE="staging")
    assert result.returncode == 2
    assert "JUMIN_MODE" in result.stderr and "Traceback" not in result.stderr


def test_bad_database_url_is_a_clear_error(tmp_path):
    result = _run(["check"], tmp_path, JUMIN_DATABASE_URL="nosuchdb://x")
    assert result.returncode == 2
    assert "JUMIN_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    code = (
        "import django; django.setup();"
        "from django.db import connection;"
        "c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0]);"
        "print(c.execute('PRAGMA busy_timeout').fetchone()[0]);"
        "print(c.execute('PRAGMA foreign_keys').fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMIN_")}
    env.update(
        DJANGO_SETTINGS_MODULE="jumin.config.settings",
        JUMIN_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000", "1"]
    assert (tmp_path / "jumin.sqlite3").exists()


def test_cli_end_to_end_on_a_fresh_database(tmp_path):
    """migrate → orgunit → staff add → audit verify, each in its own process."""
    assert _run(["migrate", "-v", "0"], tmp_path).returncode == 0
    result = _run(
        ["orgunit", "add", "--code", "shimin", "--name", "市民課", "--kind", "division"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    result = _run(
        [
            "staff",
            "add",
            "--staff-id",
            "admin01",
            "--name",
            "管理 六郎",
            "--kana",
            "カンリ ロクロウ",
            "--org-unit",
            "shimin",
            "--role",
            "administrator",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "初期パスワード" in result.stdout
    bad = _run(
        [
            "staff",
            "add",
            "--staff-id",
            "admin01",
            "--name",
            "重複",
            "--kana",
            "ジュウフク",
            "--org-unit",
            "shimin",
        ],
        tmp_path,
    )
    assert bad.returncode == 1
    assert "登録済み" in bad.stderr
    assert "Traceback" not in bad.stderr
    verify = _run(["audit", "verify"], tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert "改ざんなし" in verify.stdout


def test_help_lists_the_commands(capsys):
    from jumin.config.cli import main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("migrate", "serve", "demo", "seed", "staff", "audit verify"):
        assert command in out


@pytest.mark.django_db
def test_demo_setup_is_idempotent_and_lets_staff_log_in(tmp_path, settings):
    from django.contrib.auth import authenticate
    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    call_command("demo", "--no-serve", "--residents", "200")
    call_command("demo", "--no-serve", "--residents", "200")
    from jumin.accounts.demo import ACCOUNTS, DEMO_PASSWORD

    for account in ACCOUNTS:
        assert authenticate(username=account.staff_id, password=DEMO_PASSWORD) is not None
    assert (tmp_path / "demo-city" / "residents.csv").exists()
    # the synthetic city is imported once (the second run finds the register filled)
    from jumin.register.models import Resident, ResidentHistory
    from jumin.register.verify import verify_register

    assert Resident.objects.count() == 200
    assert Resident.objects.filter(status="resident").exists()
    assert ResidentHistory.objects.filter(change__procedure="import").count() >= 200
    assert verify_register().ok


@pytest.mark.django_db
def test_demo_is_refused_in_production(settings):
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from jumin.accounts.actor import Actor
    from jumin.accounts.demo import setup_demo

    settings.JUMIN = {**settings.JUMIN, "MODE": "production"}
    with pytest.raises(CommandError, match="デモモード"):
        call_command("demo", "--no-serve")
    with pytest.raises(ImproperlyConfigured):
        setup_demo(Actor.system())
    with pytest.raises(CommandError, match="WSGI"):
        call_command("serve")


@pytest.mark.django_db
def test_serve_rejects_a_bad_port():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ポート番号"):
        call_command("serve", "--port", "70000")
