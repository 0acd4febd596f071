"""jumin netsim identity show <住民票コード> — what the national side holds on a person."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.netsim import selectors
from jumin.netsim.models import MyNumberAssignment

MASK = "*" * 8


class Command(BaseCommand):
    help = "全国の本人確認情報ファイル等に記録された、ある住民票コードの情報を表示する（運用者用）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="本人確認情報・履歴・個人番号・送付先情報を表示する")
        show.add_argument("juminhyo_code", help="住民票コード（11桁）")
        show.add_argument(
            "--show-my-number", action="store_true", help="個人番号を伏字にせず表示する"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        code = opts["juminhyo_code"].strip()
        reveal = opts["show_my_number"]
        person = selectors.person_file(code)
        if person.record is None and not (person.history or person.numbers or person.issued_to):
            raise CommandError(f"住民票コード {code} の情報はありません。")

        def number(value: str) -> str:
            if not value:
                return "（なし）"
            return value if reveal else MASK + value[-4:]

        out = self.stdout.write
        out(f"住民票コード: {code}")
        if person.issued_to:
            out(f"  交付先市区町村: {person.issued_to}")
        record = person.record
        if record is None:
            out("本人確認情報: （なし）")
        else:
            out("本人確認情報（現在）:")
            out(
                f"  氏名: {record.family_name}　{record.given_name} {record.name_alphabet}".rstrip()
            )
            out(f"  振り仮名: {record.name_kana}")
            out(f"  生年月日: {record.birth_date}  性別: {'男' if record.sex == '1' else '女'}")
            out(f"  住所: {record.address}")
            out(f"  市区町村: {record.municipality_code}  状態: {record.status}")
            out(f"  異動事由: {record.change_reason}  異動日: {record.occurred_on}")
            out(f"  履歴番号: {record.sequence}  個人番号: {number(record.my_number)}")
            out(f"  更新日時: {record.updated_at:%Y-%m-%d %H:%M:%S}")
        out(f"反映順序（市区町村ごとの最終履歴番号）: {len(person.sequences)} 件")
        for sequence in person.sequences:
            out(f"  {sequence.municipality_code}: {sequence.last_sequence}")
        out(f"本人確認情報の履歴: {len(person.history)} 件")
        for item in person.history:
            current = "反映" if item.became_current else "履歴のみ"
            out(
                f"  {item.applied_at:%Y-%m-%d %H:%M:%S} {item.municipality_code}#{item.sequence}"
                f" {item.identity.get('change_reason', '')} {item.identity.get('status', '')}"
                f" （{current}）"
            )
        out(f"個人番号の指定: {len(person.numbers)} 件")
        for assignment in person.numbers:
            state = "有効" if assignment.active else "無効"
            reason = MyNumberAssignment.Reason(assignment.reason).label
            out(
                f"  {number(assignment.my_number)} {reason} {state}"
                f" {assignment.created_at:%Y-%m-%d %H:%M:%S} 要求元 {assignment.requested_by}"
            )
        out(f"送付先情報: {len(person.mailing)} 件")
        for mailing in person.mailing:
            out(f"  {mailing.received_at:%Y-%m-%d} {mailing.postal_code} {mailing.address}")
        out(f"転出証明書情報: {len(person.move_outs)} 件")
        for entry in person.move_outs:
            certificate = entry.certificate
            used = f" 転入先 {certificate.consumed_by}" if certificate.consumed_by else ""
            out(
                f"  {certificate.from_municipality}/{certificate.certificate_id}"
                f" 予定日 {certificate.planned_on}{used}"
            )
