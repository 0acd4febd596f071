"""Typed errors raised by ``jumin.core`` when input breaks a rule."""

from __future__ import annotations


class CoreError(ValueError):
    """Input broke a rule of ``jumin.core``.

    ``code`` is stable and machine-readable (``"my_number.check_digit"``); ``message`` is the
    Japanese text a clerk reads, naming the field, the rule and the fix. ``str(err)`` carries
    both, so a CLI can print it without a traceback.
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{message} [{code}]")


class IdentifierError(CoreError):
    """An identifier (個人番号, 住民票コード, 宛名番号, …) is malformed or fails its check."""


class WarekiError(CoreError):
    """A date could not be parsed, or lies outside the era or calendar rules."""


class NameRuleError(CoreError):
    """A name or reading breaks a rule (empty, too long, wrong script)."""


class RelationshipError(CoreError):
    """A 続柄 breaks the grammar of std 1.1.11 (j110)."""
