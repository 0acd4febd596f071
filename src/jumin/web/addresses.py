"""住所辞書の検索 for the procedure screens: type a town (kanji or kana), a postal code or the
start of a 住所コード and pick the address; the field receives its 住所コード."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jumin.addresses.dictionary import AddressEntry, load_dictionary, normalise_postal_code
from jumin.web.common import staff_view

LIMIT = 30


def lookup_addresses(query: str) -> list[AddressEntry]:
    """Current dictionary entries matching a clerk's query, best first (at most LIMIT)."""
    query = query.strip()
    if not query:
        return []
    dictionary = load_dictionary()
    digits = normalise_postal_code(query)
    if digits.isdigit() and len(digits) == 7:
        found = dictionary.by_postal_code(digits)
        if found:
            return [e for e in found if e.is_current][:LIMIT]
    if query.isdigit():
        return [e for e in dictionary.current() if e.address_code.startswith(query)][:LIMIT]
    out = [e for e in dictionary.current() if query in e.address]
    if not out:
        out = dictionary.search_kana(query)
        out = [e for e in out if e.is_current]
    return out[:LIMIT]


@require_GET
@staff_view
def lookup(request: HttpRequest) -> HttpResponse:
    query = next(
        (str(v) for k, v in request.GET.items() if k.endswith("address_code") or k == "q"), ""
    )
    return render(
        request, "web/procedures/address_options.html", {"entries": lookup_addresses(query[:40])}
    )
