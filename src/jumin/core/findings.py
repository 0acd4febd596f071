"""Validation findings: the one result type every procedure returns.

std 11.1 (j1440): checks either block the operation (errors) or warn and need an explicit,
recorded acknowledgement (alerts). A finding names the rule (``code``), the field, the
Japanese message a clerk reads, and how to resolve it (``remedy``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    """エラー blocks; アラート warns and must be acknowledged."""

    ERROR = "error"
    ALERT = "alert"

    @property
    def label(self) -> str:
        return "エラー" if self is Severity.ERROR else "アラート"


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of a check.

    ``code`` is stable (``"move_in.late_notification"``) and is what an acknowledgement
    refers to; ``message`` and ``remedy`` are Japanese.
    """

    code: str
    severity: Severity
    message: str
    field: str = ""
    remedy: str = ""

    def __post_init__(self) -> None:
        if not self.code:
            raise ValueError("a finding needs a code")
        if not self.message:
            raise ValueError("a finding needs a message")

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "field": self.field,
            "remedy": self.remedy,
        }


def error(code: str, message: str, *, field: str = "", remedy: str = "") -> Finding:
    return Finding(code, Severity.ERROR, message, field, remedy)


def alert(code: str, message: str, *, field: str = "", remedy: str = "") -> Finding:
    return Finding(code, Severity.ALERT, message, field, remedy)


@dataclass(slots=True)
class Findings:
    """An ordered collection of findings with the questions a procedure asks of it."""

    items: list[Finding] = field(default_factory=list)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, finding: Finding) -> None:
        self.items.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.items.extend(findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.items if f.severity is Severity.ERROR]

    @property
    def alerts(self) -> list[Finding]:
        return [f for f in self.items if f.severity is Severity.ALERT]

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.items)

    def unacknowledged(self, acknowledged: Iterable[str]) -> list[Finding]:
        """Alerts whose code is not in ``acknowledged``."""
        done = set(acknowledged)
        return [f for f in self.alerts if f.code not in done]

    def blocks(self, acknowledged: Iterable[str] = ()) -> bool:
        """True when the operation may not go ahead: any error, or an unacknowledged alert."""
        return self.has_errors or bool(self.unacknowledged(acknowledged))

    def for_field(self, name: str) -> list[Finding]:
        return [f for f in self.items if f.field == name]

    def as_list(self) -> list[dict[str, str]]:
        return [f.as_dict() for f in self.items]


class FindingsError(Exception):
    """A service refused an operation; ``findings`` says why, field by field.

    Raised only when nothing was written (the service's transaction rolled back).
    """

    def __init__(self, findings: Findings | Iterable[Finding]) -> None:
        self.findings = findings if isinstance(findings, Findings) else Findings(list(findings))
        super().__init__("; ".join(f"{f.field}: {f.message}" for f in self.findings))
