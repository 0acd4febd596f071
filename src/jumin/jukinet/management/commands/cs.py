"""jumin cs — the city's 住基ネット CS (std 7.1.1, j1090–j1120).

jumin cs deliver [--once] [--batch N] [--concurrency N]   send the outbox to the national side
jumin cs status                                          backlog per topic, failures, manual mode
jumin cs manual on|off [--reason TEXT]                   手動連携 (the worker sends nothing)
jumin cs resend ID [--reason CODE]                       再送信 (optionally with a changed 異動事由)
jumin cs sent [--kind K] [--person A] [--from D] [--to D] [--outcome O]   送信履歴の一覧
jumin cs failures                                        CSへ連携できなかったもの
jumin cs reconcile [--repair] [--national [--national-limit N]]   整合性確認 (j1100)
jumin cs keygen [--force]                                create this city's node key
jumin cs register [--name NAME]                          demo: register the key with netsim
jumin cs trust CODE PUBLIC_KEY                           pin a national node's public key
jumin cs receive [--once] [--idle S]                     受信: pull the mailbox (転入通知 …)
jumin cs unarrived [--days N] [--as-of D] [--csv]         転入通知未着者一覧 (std 4.1.3.1.4, j710)
jumin cs numbers [--state S]                             個人番号の生成要求の状況 (j1130)

Operator commands act as the system actor (``cli:<user>``), which the operation log records.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jumin.accounts import services as account_services
from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.core.findings import FindingsError
from jumin.jukinet import inbound, keys, reconcile, selectors, services
from jumin.jukinet.client import HttpTransport, PeerKeys, TransportError, recipient_for
from jumin.jukinet.conf import config
from jumin.jukinet.models import MyNumberRequest, SentMessage
from jumin.jukinet.worker import BatchResult, Worker, WorkerBusy
from jumin.netproto.envelope import canonical
from jumin.netproto.messages import JLIS


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}秒"
    if seconds < 7200:
        return f"{seconds / 60:.0f}分"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}時間"
    return f"{seconds / 86400:.1f}日"


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{name} は YYYY-MM-DD で指定してください（指定値: {value}）。"
        ) from None


class Command(BaseCommand):
    help = "住基ネット CS: 送信・状態・手動連携・再送・整合性確認・鍵 (the city's CS)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        deliver = sub.add_parser("deliver", help="送信待ちのメッセージを全国側に送信する")
        deliver.add_argument("--once", action="store_true", help="送信できるものを送ったら終了する")
        deliver.add_argument("--batch", type=int, default=500, help="1回に取り出す件数（既定500）")
        deliver.add_argument("--concurrency", type=int, default=None, help="同時送信数")
        deliver.add_argument(
            "--idle", type=float, default=1.0, help="送信するものがないときの待ち秒数"
        )
        sub.add_parser("status", help="送信待ち・送信失敗・手動連携の状態を表示する")
        manual = sub.add_parser("manual", help="手動連携に切り替える（on）／自動送信に戻す（off）")
        manual.add_argument("state", choices=["on", "off"])
        manual.add_argument("--reason", default="", help="理由（操作ログに記録）")
        resend = sub.add_parser("resend", help="送信済み・送信失敗のメッセージを再送する")
        resend.add_argument("id", type=int, help="メッセージID（jumin cs status / failures）")
        resend.add_argument("--reason", default="", help="変更後の異動事由コード（本人確認情報）")
        sent = sub.add_parser("sent", help="送信履歴の一覧（個人番号はマスク）")
        sent.add_argument("--kind", default="")
        sent.add_argument("--person", default="", help="宛名番号")
        sent.add_argument("--from", dest="date_from", default="", help="送信日（から）YYYY-MM-DD")
        sent.add_argument("--to", dest="date_to", default="", help="送信日（まで）YYYY-MM-DD")
        sent.add_argument("--outcome", default="", choices=["", *SentMessage.Outcome.values])
        sent.add_argument("--limit", type=int, default=100)
        sub.add_parser("failures", help="CSへ連携できなかったメッセージの一覧")
        rec = sub.add_parser("reconcile", help="住民記録とCSの本人確認情報の整合性確認")
        rec.add_argument("--repair", action="store_true", help="不一致の人の本人確認情報を再送する")
        rec.add_argument("--national", action="store_true", help="全国側（J-LIS）にも照会する")
        rec.add_argument("--national-limit", type=int, default=None)
        rec.add_argument("--sample", type=int, default=10, help="種類ごとに表示する件数")
        rec.add_argument(
            "--operator",
            default="",
            help="実行する職員ID（「バッチ処理の実行」の権限が必要。省略時はOSの利用者）",
        )
        keygen = sub.add_parser("keygen", help="このCSの署名鍵を作成する")
        keygen.add_argument("--force", action="store_true", help="既存の鍵を作り直す")
        register = sub.add_parser("register", help="（デモ）公開鍵を netsim に登録する")
        register.add_argument("--name", default="", help="団体名（既定は設定の市区町村名）")
        trust = sub.add_parser("trust", help="全国側ノードの公開鍵を登録する")
        trust.add_argument("code", help="jlis / pref-NN")
        trust.add_argument("public_key", help="公開鍵（base64）")
        receive = sub.add_parser("receive", help="受信メッセージ（転入通知など）を取得して処理する")
        receive.add_argument("--once", action="store_true", help="1回取得したら終了する")
        receive.add_argument(
            "--idle", type=float, default=30.0, help="新しいメッセージがないときの待ち秒数"
        )

        unarrived = sub.add_parser("unarrived", help="転入通知未着者一覧（j710）")
        unarrived.add_argument(
            "--days",
            type=int,
            default=None,
            help="転出後の日数（既定14）",
        )
        unarrived.add_argument("--as-of", dest="as_of", default="", help="基準日 YYYY-MM-DD")
        unarrived.add_argument("--csv", action="store_true", help="CSV（UTF-8）で出力する")
        numbers = sub.add_parser("numbers", help="個人番号の生成要求の状況（j1130）")
        numbers.add_argument("--state", default="", choices=["", *MyNumberRequest.State.values])

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        try:
            getattr(self, f"_{action}")(opts)
        except FindingsError as exc:
            raise CommandError(
                " ".join(f"{f.message}{(' ' + f.remedy) if f.remedy else ''}" for f in exc.findings)
            ) from None
        except (ImproperlyConfigured, PermissionDenied, WorkerBusy) as exc:
            raise CommandError(str(exc)) from None

    @property
    def actor(self) -> Actor:
        return Actor.system("cli")

    # ------------------------------------------------------------------ deliver

    def _deliver(self, opts: dict[str, Any]) -> None:
        if opts["batch"] < 1 or (opts["concurrency"] is not None and opts["concurrency"] < 1):
            raise CommandError("--batch と --concurrency は1以上で指定してください。")
        worker = Worker(batch=opts["batch"], concurrency=opts["concurrency"])
        worker.client  # noqa: B018 - fails early on a missing key (production)
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        warned = [False]

        def report(result: BatchResult) -> None:
            if result.manual:
                if not warned[0]:
                    self.stdout.write(
                        "手動連携中のため送信しません（jumin cs manual off で再開）。"
                    )
                    warned[0] = True
                return
            warned[0] = False
            self.stdout.write(
                f"{timezone.localtime():%H:%M:%S} 送信 {result.claimed}件: 受理 {result.delivered}"
                f" 拒否 {result.refused} 再送待ち {result.retried}"
                + (
                    f" 作成不可 {result.failed_build + result.held}"
                    if result.failed_build + result.held
                    else ""
                )
            )
            for line in result.errors[:3]:
                self.stdout.write(f"  {line}")

        try:
            totals = worker.run(once=opts["once"], stop=stop, idle=opts["idle"], report=report)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(
            f"送信合計: 受理 {totals.delivered}件、拒否 {totals.refused}件、"
            f"再送待ち {totals.retried}件、作成不可 {totals.failed_build + totals.held}件"
        )

    # ------------------------------------------------------------------ receive

    def _receive(self, opts: dict[str, Any]) -> None:
        if opts["idle"] <= 0:
            raise CommandError("--idle は0より大きい秒数で指定してください。")
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        total = 0
        try:
            while not stop.is_set():
                try:
                    count = inbound.receive(self.actor)
                except inbound.ReceiveFailed as exc:
                    if opts["once"]:
                        raise CommandError(f"受信できませんでした: {exc.message}") from None
                    self.stderr.write(f"受信できませんでした（再試行します）: {exc.message}")
                    count = 0
                total += count
                if count:
                    self.stdout.write(f"{timezone.localtime():%H:%M:%S} 受信 {count}件")
                if opts["once"]:
                    break
                if not count:
                    stop.wait(opts["idle"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"受信合計: {total}件（一覧は /cs/inbound/）")

    # ------------------------------------------------------------------ status

    def _status(self, opts: dict[str, Any]) -> None:
        backlog = selectors.backlog_summary(self.actor)
        if backlog.manual is not None:
            m = backlog.manual
            when = f"{timezone.localtime(m.changed_at):%Y-%m-%d %H:%M}" if m.changed_at else ""
            self.stdout.write(
                f"手動連携中（{m.changed_by} {when}{'、理由: ' + m.reason if m.reason else ''}）"
                " — 自動送信は停止しています。"
            )
        else:
            self.stdout.write("自動送信中")
        self.stdout.write(
            f"{'種別':<16}{'送信待ち':>8}{'うち再送待ち':>12}{'送信失敗':>8}  最古の送信待ち"
        )
        for t in backlog.topics:
            self.stdout.write(
                f"{t.label:<16}{t.pending:>8}{t.retrying:>12}{t.failed:>8}  "
                f"{_age(t.oldest_age_seconds)}"
            )
        self.stdout.write(
            f"合計: 送信待ち {backlog.pending}件、送信失敗 {backlog.failed}件、"
            f"送信中 {backlog.in_flight}件"
        )
        if backlog.not_for_cs:
            others = "、".join(f"{k} {v}件" for k, v in sorted(backlog.not_for_cs.items()))
            self.stdout.write(f"CSの送信対象外（他システム宛て）の送信待ち: {others}")
        if backlog.failed:
            self.stdout.write(
                "送信失敗の内容は jumin cs failures で確認し、jumin cs resend ID で再送できます。"
            )

    def _failures(self, opts: dict[str, Any]) -> None:
        rows = selectors.failures(self.actor)
        if not rows:
            self.stdout.write("CSへ連携できなかったメッセージはありません。")
            return
        for f in rows:
            when = f"{timezone.localtime(f.created_at):%Y-%m-%d %H:%M}"
            self.stdout.write(
                f"ID {f.outbox_id} {f.topic_label} 宛名番号 {f.atena_no} {f.status_label}"
                f"（試行{f.attempts}回、{when}）: {f.last_error}"
            )

    def _sent(self, opts: dict[str, Any]) -> None:
        page = selectors.sent_messages(
            self.actor,
            kind=opts["kind"] or None,
            atena_no=opts["person"] or None,
            date_from=_date(opts["date_from"], "--from"),
            date_to=_date(opts["date_to"], "--to"),
            outcome=opts["outcome"] or None,
            limit=opts["limit"],
        )
        self.stdout.write(f"送信履歴 {page.total}件（うち{len(page.items)}件を表示）")
        for m in page.items:
            self.stdout.write(
                f"{timezone.localtime(m.started_at):%Y-%m-%d %H:%M:%S}"
                f" {selectors.kind_label(m.kind)}"
                f" → {m.recipient} 宛名番号 {m.atena_no or '-'} {m.get_outcome_display()}"
                f" 試行{m.attempt} ID {m.envelope_id}"
                + (f" {m.error_message}" if m.error_message else "")
            )

    def _unarrived(self, opts: dict[str, Any]) -> None:
        if opts["days"] is not None and opts["days"] < 0:
            raise CommandError("--days は0以上の日数で指定してください。")
        result = selectors.unarrived(
            self.actor,
            days=opts["days"],
            as_of=_date(opts["as_of"], "--as-of"),
            export=opts["csv"],
        )
        if opts["csv"]:
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerows(selectors.unarrived_rows(result))
            return
        self.stdout.write(
            f"転入通知未着者一覧（基準日 {result.as_of}、転出後{result.days}日以上）"
            f" {len(result.items)}人"
        )
        for u in result.items:
            self.stdout.write(
                f"宛名番号 {u.atena_no} {u.name} 生年月日 {u.birth_date} {u.removal_label}"
                f" {u.moved_out_on}（{u.days}日経過） 転出先 {u.destination or '（不明）'}"
            )
        if result.received_unprocessed:
            self.stdout.write(
                f"ほかに、受信済みで未処理の転入通知が{result.received_unprocessed}件あります"
                "（画面「受信（転入通知など）」で処理してください）。"
            )

    def _numbers(self, opts: dict[str, Any]) -> None:
        rows = selectors.my_number_requests(self.actor, state=opts["state"] or None)
        self.stdout.write(f"個人番号の生成要求 {len(rows)}件")
        for r in rows:
            self.stdout.write(
                f"宛名番号 {r.atena_no} {r.get_state_display()}"
                f"（{timezone.localtime(r.updated_at):%Y-%m-%d %H:%M}）"
                + (f" 異動#{r.change_id}" if r.change_id else "")
                + (f" {r.note}" if r.note else "")
            )

    # ------------------------------------------------------------------ manual / resend

    def _manual(self, opts: dict[str, Any]) -> None:
        row = services.set_manual_mode(self.actor, opts["state"] == "on", reason=opts["reason"])
        if row.manual:
            self.stdout.write(
                "手動連携に切り替えました。自動送信を停止します（送信待ちは保持されます）。"
            )
        else:
            self.stdout.write("自動送信に戻しました。送信待ちのメッセージを順に送信します。")

    def _resend(self, opts: dict[str, Any]) -> None:
        message = services.resend(self.actor, opts["id"], change_reason=opts["reason"] or None)
        if message.pk == opts["id"]:
            self.stdout.write(
                f"メッセージ {message.pk} を送信待ちに戻しました（同じ冪等キーで再送）。"
            )
        else:
            self.stdout.write(
                f"異動事由を {opts['reason']} に変更したメッセージ {message.pk} を"
                "送信待ちに追加しました。"
            )

    # ------------------------------------------------------------------ reconcile

    def _reconcile(self, opts: dict[str, Any]) -> None:
        actor = account_services.batch_operator(
            opts["operator"], Perm.BATCH_RUN, "住基ネット整合性確認"
        )
        report = reconcile.reconcile(
            actor,
            sample=max(0, opts["sample"]),
            national=opts["national"],
            national_limit=opts["national_limit"],
            repair=opts["repair"],
        )
        for line in report.lines():
            self.stdout.write(line)
        if not report.clean and not opts["repair"]:
            self.stdout.write("不一致を修復するには --repair を付けて実行してください。")

    # ------------------------------------------------------------------ keys

    def _keygen(self, opts: dict[str, Any]) -> None:
        cfg = config()
        key = keys.generate(cfg, force=opts["force"])
        self.stdout.write(f"CSの署名鍵を作成しました: {cfg.key_file}（団体コード {cfg.node}）")
        self.stdout.write(f"公開鍵: {key.public_b64}")
        self.stdout.write(
            "全国側に登録してください: jumin netsim node add --code "
            f"{cfg.node} --public-key {key.public_b64}"
        )

    def _trust(self, opts: dict[str, Any]) -> None:
        keys.pin(config(), opts["code"], opts["public_key"])
        self.stdout.write(f"全国側ノード {opts['code']} の公開鍵を登録しました。")

    def _register(self, opts: dict[str, Any]) -> None:
        cfg = config()
        key = keys.node_key(cfg)
        name = opts["name"] or str(settings.JUMIN.get("MUNICIPALITY_NAME") or cfg.node)
        raw = canonical({"code": cfg.node, "name": name, "public_key": key.public_b64})
        transport = HttpTransport(cfg.netsim_url, cfg.timeout)
        try:
            self._register_with(cfg, key, name, raw, transport)
        finally:
            transport.close()

    def _register_with(
        self, cfg: Any, key: Any, name: str, raw: bytes, transport: HttpTransport
    ) -> None:
        try:
            response = transport.request(
                "POST",
                "/v1/nodes",
                raw,
                {"Content-Type": "application/json", "X-Jukinet-Signature": key.sign(raw)},
            )
        except TransportError as exc:
            raise CommandError(exc.message) from None
        if response.status not in {200, 201}:
            try:
                detail = json.loads(response.body).get("message", "")
            except (ValueError, AttributeError):
                detail = ""
            raise CommandError(f"netsim に登録できませんでした（HTTP {response.status}）: {detail}")
        self.stdout.write(f"{name}（{cfg.node}）の公開鍵を netsim に登録しました。")
        peers = PeerKeys(cfg, transport)
        for code in (JLIS, recipient_for("identity.update", cfg.node)):
            try:
                b64 = peers.fetch(code)
            except TransportError as exc:
                raise CommandError(exc.message) from None
            keys.pin(cfg, code, b64)
            self.stdout.write(f"全国側ノード {code} の公開鍵を登録しました。")
