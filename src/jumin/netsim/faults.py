"""Fault injection for tests (only with ``JUMIN_NETSIM_FAULTS=1``).

Armed through ``POST /v1/_faults`` with a JSON object; each of the next requests to
``/v1/messages`` takes one unit from every armed counter:

- ``{"unavailable": N}``: the next N requests answer 503 without being read or logged
  (netsim is "down");
- ``{"delay_ms": T, "delay_count": N}``: the next N requests wait T ms before being handled;
- ``{"drop": N}``: the next N requests are applied and logged, then the connection is
  closed without a reply (the sender must retry; the retry meets the idempotency rules);
- ``{"crash": N}``: the next N batch items fail inside the server as a bug would (an
  unexpected exception while applying): each such item alone is answered 500 and nothing of
  it is kept; the other items of the batch are applied (no poison batch).

``DELETE /v1/_faults`` clears everything; ``GET`` shows what is armed.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

DROP_REPLY = "jumin.netsim.drop_reply"  # WSGI environ key read by the server
MAX_DELAY_MS = 60_000


@dataclass
class State:
    unavailable: int = 0
    delay_ms: int = 0
    delay_count: int = 0
    drop: int = 0
    crash: int = 0


@dataclass(frozen=True)
class Plan:
    unavailable: bool = False
    delay_ms: int = 0
    drop: bool = False


_lock = threading.Lock()
_state = State()


class FaultError(ValueError):
    pass


def arm(spec: object) -> State:
    """Add the counters of ``spec`` (a decoded JSON object) to the armed faults."""
    if not isinstance(spec, dict) or not spec:
        raise FaultError(
            "障害の指定は JSON オブジェクトです"
            "（unavailable, delay_ms, delay_count, drop, crash）。"
        )
    allowed = set(asdict(State()))
    unknown = set(spec) - allowed
    if unknown:
        raise FaultError(f"未定義の項目です: {', '.join(sorted(unknown))}")
    values: dict[str, int] = {}
    for name, value in spec.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FaultError(f"{name} は0以上の整数です。")
        values[name] = value
    if values.get("delay_ms", 0) > MAX_DELAY_MS:
        raise FaultError(f"delay_ms は {MAX_DELAY_MS} 以下です。")
    with _lock:
        _state.unavailable += values.get("unavailable", 0)
        _state.drop += values.get("drop", 0)
        _state.crash += values.get("crash", 0)
        if "delay_ms" in values:
            _state.delay_ms = values["delay_ms"]
            _state.delay_count += values.get("delay_count", 1)
        elif "delay_count" in values:
            _state.delay_count += values["delay_count"]
        return State(**asdict(_state))


def clear() -> None:
    with _lock:
        _state.unavailable = _state.delay_ms = _state.delay_count = _state.drop = 0
        _state.crash = 0


def snapshot() -> State:
    with _lock:
        return State(**asdict(_state))


def take() -> Plan:
    """The faults for one request (each armed counter goes down by one)."""
    with _lock:
        if not (_state.unavailable or _state.delay_count or _state.drop):
            return Plan()
        if _state.unavailable:
            _state.unavailable -= 1
            return Plan(unavailable=True)
        delay = 0
        if _state.delay_count:
            _state.delay_count -= 1
            delay = _state.delay_ms
        drop = False
        if _state.drop:
            _state.drop -= 1
            drop = True
        return Plan(delay_ms=delay, drop=drop)


class InjectedCrash(RuntimeError):
    """A simulated server bug (the ``crash`` fault)."""


def take_crash() -> None:
    """Raise ``InjectedCrash`` when a ``crash`` is armed (one unit per batch item)."""
    with _lock:
        if not _state.crash:
            return
        _state.crash -= 1
    raise InjectedCrash("netsim: injected crash of a batch item")
