"""jumin staff add|list|deactivate|roles|set-roles|reset-password|apply-scheduled|import-roles"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.accounts import selectors, services
from jumin.accounts.actor import Actor
from jumin.accounts.management.commands._util import run_service
from jumin.accounts.permissions import Perm


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日付は YYYY-MM-DD で指定してください: {value!r}") from exc


class Command(BaseCommand):
    help = "職員の登録・一覧・無効化 (staff accounts)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="職員を登録する")
        add.add_argument("--staff-id", required=True)
        add.add_argument("--name", required=True, help="氏名（例: 相模 花子）")
        add.add_argument("--kana", required=True, help="氏名フリガナ（例: サガミ ハナコ）")
        add.add_argument("--org-unit", required=True, help="所属の組織コード")
        add.add_argument("--role", action="append", default=[], help="ロールコード（複数可）")
        add.add_argument("--valid-from", type=str)
        add.add_argument("--valid-until", type=str)
        add.add_argument(
            "--password-stdin",
            action="store_true",
            help="パスワードを標準入力から読む（省略時は初期パスワードを生成して表示）",
        )
        sub.add_parser("list", help="職員の一覧")
        sub.add_parser("roles", help="ロールと権限の一覧")
        deact = sub.add_parser("deactivate", help="職員を無効にする")
        deact.add_argument("--staff-id", required=True)
        setr = sub.add_parser("set-roles", help="職員のロールを置き換える")
        setr.add_argument("--staff-id", required=True)
        setr.add_argument("--role", action="append", default=[])
        reset = sub.add_parser(
            "reset-password",
            help="初期パスワードを再発行して表示する（次回ログイン時に本人が変更）",
        )
        reset.add_argument("--staff-id", required=True)
        apply = sub.add_parser(
            "apply-scheduled",
            help="適用日が来た職員の予定変更を適用する（毎日 cron・systemd timer で実行）",
        )
        apply.add_argument("--date", type=str, help="この日付として適用する（既定: 今日）")
        apply.add_argument(
            "--operator",
            default="",
            help="実行する職員ID（「バッチ処理の実行」の権限が必要。省略時はOSの利用者）",
        )
        imp = sub.add_parser(
            "import-roles",
            help="CSV（staff_id,roles,valid_from,valid_until）でロールと有効期間を一括設定する",
        )
        imp.add_argument("file", help="CSV ファイル（UTF-8）。- は標準入力")

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = Actor.system("cli")
        action = opts["action"]
        if action == "add":
            generated = not opts["password_stdin"]
            if generated:
                password = services.generate_initial_password()
            else:
                password = sys.stdin.readline().rstrip("\n")
            staff = run_service(
                lambda: services.create_staff(
                    actor,
                    staff_id=opts["staff_id"],
                    name=opts["name"],
                    name_kana=opts["kana"],
                    org_unit_code=opts["org_unit"],
                    role_codes=opts["role"],
                    password=password,
                    valid_from=_date(opts["valid_from"]) if opts["valid_from"] else None,
                    valid_until=_date(opts["valid_until"]) if opts["valid_until"] else None,
                    must_change_password=generated,
                )
            )
            self.stdout.write(f"職員を登録しました: {staff.staff_id} {staff.name}")
            if generated:
                self.stdout.write(
                    f"初期パスワード: {password}  （本人に安全な方法で伝えてください）"
                )
        elif action == "list":
            for row in selectors.staff_list():
                roles = ",".join(r.code for r in row.roles.all())
                state = "有効" if row.is_active else "無効"
                ward = row.ward_scope or "市全域"
                self.stdout.write(
                    f"{row.staff_id}\t{row.name}\t{row.org_unit.code}\t{roles}\t{state}\t{ward}"
                )
        elif action == "roles":
            for role in selectors.role_list():
                self.stdout.write(f"{role.code}\t{role.name}")
                for perm in sorted(role.permissions):
                    self.stdout.write(f"    {perm}")
        elif action == "deactivate":
            staff = run_service(lambda: services.deactivate_staff(actor, staff_id=opts["staff_id"]))
            self.stdout.write(f"職員を無効にしました: {staff.staff_id}")
        elif action == "set-roles":
            staff = run_service(
                lambda: services.set_roles(
                    actor, staff_id=opts["staff_id"], role_codes=opts["role"]
                )
            )
            self.stdout.write(f"ロールを変更しました: {staff.staff_id}")
        elif action == "reset-password":
            password = run_service(
                lambda: services.reset_password(actor, staff_id=opts["staff_id"])
            )
            self.stdout.write(
                f"初期パスワード: {password}  （本人に安全な方法で伝えてください。"
                "次回ログイン時に変更が必要です）"
            )
        elif action == "apply-scheduled":
            batch = run_service(
                lambda: services.batch_operator(
                    opts["operator"], Perm.BATCH_RUN, "職員の予定変更の適用"
                )
            )
            today = _date(opts["date"]) if opts["date"] else None
            applied = run_service(lambda: services.apply_scheduled_changes(batch, today=today))
            self.stdout.write(f"予定変更を{len(applied)}件適用しました。")
        elif action == "import-roles":
            text = self._read(opts["file"])
            count = run_service(lambda: services.import_roles(actor, text))
            self.stdout.write(f"{count}人のロールと有効期間を設定しました。")

    def _read(self, name: str) -> str:
        if name == "-":
            return sys.stdin.read()
        try:
            with open(name, encoding="utf-8-sig", newline="") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"ファイルを読めません: {name}（{exc.strerror}）") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"ファイルが UTF-8 ではありません: {name}") from exc
