"""Who is acting: the staff member, the terminal and the channel of an operation.

Every service takes an ``Actor``; the operation log records it.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from jumin.accounts.models import Staff, Terminal
from jumin.accounts.permissions import Perm


@dataclass(frozen=True)
class Actor:
    staff: Staff | None
    terminal: Terminal | None
    channel: str  # "web", "api", "cli", "batch"
    system_label: str = ""

    @classmethod
    def system(cls, channel: str = "cli", label: str | None = None) -> Actor:
        """An operator-run command (CLI, batch) with no logged-in staff member."""
        try:
            who = label or getpass.getuser()
        except (KeyError, OSError):  # no passwd entry in some containers
            who = "unknown"
        return cls(staff=None, terminal=None, channel=channel, system_label=who)

    @classmethod
    def of(cls, staff: Staff, terminal: Terminal | None, channel: str) -> Actor:
        return cls(staff=staff, terminal=terminal, channel=channel)

    @property
    def operator_code(self) -> str:
        if self.staff is not None:
            return self.staff.staff_id
        return f"{self.channel}:{self.system_label}"

    @property
    def terminal_name(self) -> str:
        return self.terminal.name if self.terminal is not None else ""

    @property
    def place(self) -> str:
        if self.terminal is not None:
            return self.terminal.org_unit.code
        if self.staff is not None:
            return self.staff.org_unit.code
        return ""

    @property
    def is_system(self) -> bool:
        return self.staff is None

    def can(self, perm: Perm) -> bool:
        """System actors (operator-run commands on the server) hold every permission."""
        return self.staff is None or self.staff.has_permission(perm)
