"""The child process of a large ``jumin import``: the read-and-validate pass.

``importer._Worker.start`` starts ``serve`` with ``multiprocessing``'s *spawn* context (a
fresh interpreter: the parent holds a database connection inside a transaction, which a
forked child must not share). The child configures Django from the same settings module,
with a database entry that names the parent's backend but no database — it never opens a
connection: the checks against rows already in the register run in the parent. It loads
the key ring from the parent's key file (never pickled), runs ``importer._Run`` — every
check, the snapshots, the row tuples, the AES-GCM encryption of the 個人番号 — and sends
ready-to-insert batches through the pipe (pickle protocol 5; the parent slices the current
view from the latest snapshots): the clear 個人番号 stays in this process.

Messages: the parent starts the pass with ``("go", fields of importer._Setup)`` (sent once
its transaction is open and the 個人番号 ids are reserved: the child sets Django up in the
meantime). The child sends ``("households", lines, rows)``, ``("persons", checks, batch,
counts)``, then ``("done", report, max_atena, max_household)`` or ``("error", type name,
traceback)``. The parent answers ``("stop",)`` when its checks found a problem (the pass
goes on validating, to report every problem, but builds no more rows).

This module imports nothing from Django at load time: the child imports it before Django is
set up.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import sys
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from jumin.register.importer import ImportReport, _Batch, _Check

PICKLE_PROTOCOL = 5


def serve(conn: Connection, config: dict[str, Any]) -> None:
    """The child's entry point (a ``multiprocessing`` target). ``config`` says how to set
    Django up and where the keys are (plain values: unpickling them needs no Django); the
    pass starts when the parent sends ``("go", fields of importer._Setup)``."""
    try:
        _configure(config)
        from jumin.addresses.dictionary import load_dictionary
        from jumin.register import importer

        load_dictionary()  # cached: ready before the parent is
        kind, values = pickle.loads(conn.recv_bytes())  # noqa: S301 - from our parent
        if kind != "go":  # pragma: no cover - the two sides are one module version
            raise RuntimeError(f"expected the setup, got {kind!r}")
        setup = importer._Setup(**values)
        # The pass makes millions of short-lived tuples and no reference cycles: automatic
        # collection would only walk them (and the startup heap, frozen) again and again.
        gc.freeze()
        gc.disable()

        report = importer.ImportReport(
            source=str(setup.directory), dry_run=False, max_problems=setup.max_problems
        )
        run = importer._Run(setup, report, PipeSink(conn, report))
        run.run()
        _send(conn, ("done", report, run.max_atena, run.max_household))
    except BaseException as exc:  # the parent reports it and rolls back
        with contextlib.suppress(OSError):  # unless the parent is gone
            _send(conn, ("error", type(exc).__name__, traceback.format_exc()))
        sys.exit(1)
    finally:
        conn.close()


def _configure(config: dict[str, Any]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = config["settings_module"]
    from django.conf import settings

    # the parent's backend (how values are adapted), but no database to connect to
    settings.DATABASES = {
        "default": {"ENGINE": config["engine"], "NAME": "", "TIME_ZONE": config["db_time_zone"]}
    }
    settings.KEY_FILE = config["key_file"]
    import django

    django.setup()
    from jumin.register.crypto import load_keyring

    active = load_keyring().active_id
    if active != config["key_id"]:
        raise RuntimeError(
            f"the key file changed since the import started (active key {active!r}, "
            f"expected {config['key_id']!r})"
        )


class PipeSink:
    """``importer._Sink`` of the child: every batch goes to the parent."""

    def __init__(self, conn: Connection, report: ImportReport) -> None:
        self.conn = conn
        self.report = report
        self.stopped = False

    def households(
        self, lines: list[tuple[str, int]] | None, rows: list[tuple[Any, ...]] | None
    ) -> None:
        self._listen()
        _send(self.conn, ("households", lines, rows))

    def persons(self, checks: list[_Check] | None, batch: _Batch | None) -> None:
        self._listen()
        _send(self.conn, ("persons", checks, batch, self.report.counts()))

    def close(self) -> None:
        pass

    def _listen(self) -> None:
        while self.conn.poll():
            message = pickle.loads(self.conn.recv_bytes())  # noqa: S301 - from our parent
            if message[0] == "stop":
                self.stopped = True


def _send(conn: Connection, message: tuple[Any, ...]) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=PICKLE_PROTOCOL))
