"""Several workers on PostgreSQL share the queue (SELECT … FOR UPDATE SKIP LOCKED); on
SQLite one worker runs at a time (the worker lock). DESIGN invariant 7, Scale section."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from jumin.jukinet.models import SentMessage
from jumin.jukinet.tests import helpers as h
from jumin.jukinet.worker import Worker, WorkerBusy, worker_lock
from jumin.outbox.models import OutboxMessage


@pytest.mark.postgres
@pytest.mark.django_db
def test_claim_uses_skip_locked(fake):
    h.move_in()
    with CaptureQueriesContext(connection) as ctx:
        h.batch()
    claims = [q["sql"] for q in ctx.captured_queries if "FOR UPDATE" in q["sql"]]
    assert any("SKIP LOCKED" in sql for sql in claims)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_queue_without_overlap(fake):
    people = [h.move_in()[1][0] for _ in range(8)]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            Worker(batch=3, concurrency=2).run(once=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    h.drain()  # whatever one worker left when the other held a person's head
    messages = OutboxMessage.objects.filter(ordering_key__in=[p.atena_no for p in people])
    assert messages.count() == 16
    assert set(messages.values_list("status", flat=True)) == {"delivered"}
    assert SentMessage.objects.count() == 16  # no message was claimed twice
    assert max(fake.effects.values()) == 1
    for p in people:
        keys = [m.idempotency_key for m in h.cs_outbox(p.atena_no)]
        arrived = [e.idempotency_key for e in fake.received if e.idempotency_key in keys]
        assert arrived == keys  # per-person order held across workers


def test_worker_lock_one_at_a_time_on_sqlite_shared_on_postgresql(cs_env):
    failure: list[BaseException] = []

    def second() -> None:
        try:
            with worker_lock():
                pass
        except BaseException as exc:
            failure.append(exc)

    with worker_lock():
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(10)
    if connection.vendor == "sqlite":
        assert len(failure) == 1 and isinstance(failure[0], WorkerBusy)
        assert "別のCS送信処理が実行中です" in str(failure[0])
    else:
        assert failure == []  # PostgreSQL workers share the queue with SKIP LOCKED
