"""The ``jumin`` command: Django management plus the tools that need no database.

jumin migrate                      apply database migrations
jumin serve [--port P]             serve the clerk UI and the API
jumin demo                         set up a demo city and serve it
jumin seed --residents N --out D   write a synthetic city as CSV (no database)
jumin addresses build|show         the address dictionary (no database)
jumin import DIR --operator ID     validate and load a register (CSV layout), all or nothing
jumin register verify              rebuild the current view from history and compare
jumin keys init|status|rotate      the 個人番号 encryption keys
jumin codes load FILE|status       the pool of unused 住民票コード
jumin staff add|list|deactivate|apply-scheduled|import-roles|reset-password   staff
jumin authn enrol-link|list|revoke|reset|unlock|locks   staff authenticators (WebAuthn), lockout
jumin orgunit add|list, jumin terminal add|list
jumin audit verify|checkpoint|keygen|archive|verify-archive|tail   the operation log
jumin cs deliver|receive|status|manual|resend|reconcile|sent|failures|keygen|register|trust
                                   the city's 住基ネット CS (docs/guide/cs-operations.md)
jumin netsim <command>             the national side (netsim: its own settings and database),
                                   e.g. jumin netsim migrate, jumin netsim serve --port 8100
jumin <any Django command>         e.g. jumin check --deploy
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def _pure(name: str) -> Callable[[list[str]], int]:
    def run(argv: list[str]) -> int:
        if name == "seed":
            from jumin.synth.cli import main as seed_main

            return int(seed_main(argv))
        from jumin.addresses.cli import main as addresses_main

        return int(addresses_main(argv))

    return run


PURE_COMMANDS = {"seed": _pure("seed"), "addresses": _pure("addresses")}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in PURE_COMMANDS:
        return PURE_COMMANDS[args[0]](args[1:])
    if not args or (args[0] in {"-h", "--help", "help"} and len(args) == 1):
        print(__doc__)
        return 0
    if args[0] == "netsim":  # a separate service: its own settings module and database
        os.environ["DJANGO_SETTINGS_MODULE"] = "jumin.netsim.settings"
        args = args[1:] or ["help"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumin.config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["jumin", *args])
    except ImproperlyConfigured as exc:
        print(f"設定エラー / configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
