"""What every clerk screen shares: the acting staff member, refusals as Japanese pages,
findings placed beside their fields.

Views only call services and selectors (DESIGN); permission checks live in the services
(``authorize``), so a view turns ``PermissionDenied`` into the 403 page and
``FindingsError`` into findings shown on the form it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jumin.accounts.actor import Actor
from jumin.config.api import SESSION_TERMINAL_KEY, session_terminal
from jumin.core.findings import Finding, Findings

CHANNEL = "web"


def web_actor(request: HttpRequest) -> Actor:
    """The member of staff at this screen, on the terminal chosen at login, channel "web"."""
    cached = getattr(request, "_jumin_web_actor", None)
    if cached is not None:
        return cast(Actor, cached)
    actor = Actor.of(cast(Any, request.user), session_terminal(request), CHANNEL)
    request._jumin_web_actor = actor  # type: ignore[attr-defined]
    return actor


def set_terminal(request: HttpRequest, terminal_id: int | None) -> None:
    if terminal_id is None:
        request.session.pop(SESSION_TERMINAL_KEY, None)
    else:
        request.session[SESSION_TERMINAL_KEY] = terminal_id


def forbidden(request: HttpRequest, exc: PermissionDenied | None = None) -> HttpResponse:
    message = str(exc) if exc is not None and str(exc) else ""
    return render(request, "403.html", {"message": message}, status=403)


def staff_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A clerk screen: login required (else the login page, returning here afterwards);
    a refusal by a service becomes the Japanese 403 page (the refusal is already logged)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return forbidden(request, exc)

    return login_required(wrapper)


@dataclass
class PlacedFindings:
    """Findings split by the form field they belong to (dotted path, e.g.
    ``persons.0.birth_date``) and the rest, for the summary at the top of the form."""

    by_field: dict[str, list[Finding]] = field(default_factory=dict)
    general: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    alerts: list[Finding] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.errors or self.alerts)

    def for_field(self, path: str) -> list[Finding]:
        return self.by_field.get(path, [])


def place(findings: Findings | Iterable[Finding], known_fields: Iterable[str]) -> PlacedFindings:
    known = set(known_fields)
    placed = PlacedFindings()
    for f in findings:
        (placed.errors if f.is_error else placed.alerts).append(f)
        path = _field_path(f.field, known)
        if path:
            placed.by_field.setdefault(path, []).append(f)
        else:
            placed.general.append(f)
    return placed


def _field_path(name: str, known: set[str]) -> str:
    """The form field a finding names: exact, or the nearest known ancestor/descendant
    (a finding on ``persons.0`` belongs to the person's first field)."""
    if not name:
        return ""
    name = name.replace("[", ".").replace("]", "")
    if name in known:
        return name
    prefix = name + "."
    for candidate in sorted(known):
        if candidate.startswith(prefix):
            return candidate
    parts = name.split(".")
    while len(parts) > 1:
        parts.pop()
        if ".".join(parts) in known:
            return ".".join(parts)
    return ""
