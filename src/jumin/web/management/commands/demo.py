"""jumin demo: migrate, create the demo organisation and staff, write a synthetic city, serve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.accounts.actor import Actor
from jumin.accounts.demo import DEMO_PASSWORD, setup_demo

DEMO_OPERATOR = "admin01"  # the demo's administrator, who holds Perm.REGISTER_IMPORT


class Command(BaseCommand):
    help = "デモ環境を用意して起動する (set up and serve the demo)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--residents", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-serve", action="store_true", help="準備だけして起動しない")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.JUMIN["MODE"] != "demo":
            raise CommandError("jumin demo はデモモード（JUMIN_MODE=demo）でのみ使えます。")
        if opts["residents"] < 1:
            raise CommandError("--residents は 1 以上の整数で指定してください。")
        call_command("migrate", interactive=False, verbosity=0)
        accounts = setup_demo(Actor.system("cli", "demo"))

        city_dir = Path(settings.VAR_DIR) / "demo-city"
        if not (city_dir / "residents.csv").exists():
            from jumin.synth.cli import main as seed_main

            code = seed_main(
                [
                    "--residents",
                    str(opts["residents"]),
                    "--seed",
                    str(opts["seed"]),
                    "--out",
                    str(city_dir),
                    "--quiet",
                    "--force",
                ]
            )
            if code != 0:
                raise CommandError("架空の住民データの生成に失敗しました。")
        self.stdout.write(f"架空の住民データ: {city_dir}")
        self._import_city(city_dir)

        url = f"http://localhost:{opts['port']}/"
        self.stdout.write("")
        self.stdout.write("=" * 64)
        self.stdout.write(f" Jumin デモ: {url}")
        self.stdout.write(f" パスワード（全アカウント共通）: {DEMO_PASSWORD}")
        for account in accounts:
            self.stdout.write(f"   {account.staff_id:<11} {account.purpose}（{account.name}）")
        self.stdout.write("=" * 64)
        if not opts["no_serve"]:
            call_command("serve", port=opts["port"])

    def _import_city(self, city_dir: Path) -> None:
        """Load the synthetic city into an empty register (jumin import, operator admin01)."""
        from jumin.accounts.models import Staff
        from jumin.register.importer import import_register
        from jumin.register.models import Resident

        if not Resident.objects.exists():
            operator = Staff.objects.get(staff_id=DEMO_OPERATOR)
            report = import_register(Actor.system("cli", "demo"), city_dir, operator=operator)
            if not report.ok:
                for line in report.lines():
                    self.stderr.write(line)
                raise CommandError("架空の住民データを取り込めませんでした。")
        count = Resident.objects.filter(status="resident").count()
        removed = Resident.objects.filter(status="removed").count()
        self.stdout.write(f"住民: {count:,} 人（消除済み {removed:,} 人）")
