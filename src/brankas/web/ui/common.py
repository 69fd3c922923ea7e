"""What every view shares: the acting user, refusals as pages, errors in the active language,
a page of a long list, a file handed over as a download."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, cast

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.translation import get_language

from brankas.core.access import Action
from brankas.core.errors import AccessDenied, BrankasError, NotFound
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def language() -> str:
    """``en`` or ``id``: the language a ``BrankasError`` message is shown in."""
    return "en" if (get_language() or "id").lower().startswith("en") else "id"


def message_of(exc: BrankasError, **override: Any) -> str:
    """The error's message in the active language; ``override`` replaces parameters (e.g. the
    field's name by its label on the form)."""
    if override:
        exc = type(exc)(exc.code, **{**exc.params, **override})
    return exc.message(language())


def actor(request: HttpRequest) -> User:
    """The signed-in user (views that call this are behind ``login_required``)."""
    user = request.user
    assert isinstance(user, User), "login_required must guard this view"
    return user


def require_role(request: HttpRequest, action: Action) -> User:
    """The signed-in user, or ``AccessDenied`` when the role may not do ``action``."""
    user = actor(request)
    require_audited(user, action, target=request.path, via="web")
    return user


def refusal(request: HttpRequest, exc: BrankasError, status: int) -> HttpResponse:
    return render(request, "ui/refused.html", {"message": message_of(exc), "status": status},
                  status=status)


def refusals(view: V) -> V:
    """Turn a refusal into a page: ``AccessDenied`` → 403, ``NotFound`` → 404, with the message."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except AccessDenied as exc:
            return refusal(request, exc, 403)
        except NotFound as exc:
            return refusal(request, exc, 404)

    return wrapper  # type: ignore[return-value]


class Pageable(Protocol):
    """A long list that is not a query set, read a page at a time (``count`` and slices)."""

    def count(self) -> int: ...

    def __getitem__(self, window: slice) -> Sequence[Any]: ...


class BoundedPage(Page):
    """A page of a ``BoundedPaginator``: whether a next page exists is known from the rows
    read (one more than a page), not from the count, which may stop short of them."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator, *,
                 more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


class BoundedPaginator(Paginator):
    """Counts at most ``cap`` matches (``capped`` says there are more): a search that no
    index serves (a substring of the subject) stops counting there instead of reading the
    whole table for the number. Only the count is bounded: every page is the one Django's
    Paginator gives (read with one row more, so "Next" is known without the count), also
    past the cap; a page number beyond the end gives the last page (then counted whole)."""

    def __init__(self, object_list: Any, per_page: int, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        items = cast(Any, self.object_list)
        if isinstance(items, QuerySet):
            # Any cap + 1 matches are as good as the first ones: counted without the list's
            # order, the database may read them in whatever order is cheapest (PostgreSQL:
            # the trigram indexes, or the table, instead of the ordering index tested row by
            # row: a common word at 100,000 documents 19.5 -> 6 ms).
            items = items.order_by()
        found = int(items[: self.cap + 1].count())
        self.capped = found > self.cap
        return min(found, self.cap)

    def get_page(self, number: Any) -> Page:
        try:
            wanted = 1 if number in (None, "") else int(number)
        except (TypeError, ValueError):
            wanted = 1  # as Paginator: not a number, the first page
        rows: list[Any] = []
        if wanted >= 1:
            bottom = (wanted - 1) * self.per_page
            rows = list(cast(Any, self.object_list)[bottom: bottom + self.per_page + 1])
        if rows or wanted == 1:
            more = len(rows) > self.per_page
            if wanted == 1 and not more:
                # The first page of a search that finds less than a page needs no count:
                # one read of the table instead of two (a word found nowhere reads all).
                self.__dict__["count"] = len(rows)
            else:
                self.count  # noqa: B018 (counted now: ``capped`` is read before ``count``)
            return BoundedPage(rows[: self.per_page], wanted, self, more=more)
        # Beyond the end (or below 1): the last page, as Paginator gives it.
        total = self.count  # first: it sets ``capped``
        if self.capped:
            total = int(cast(Any, self.object_list).count())
        last = max(1, -(-total // self.per_page))
        bottom = (last - 1) * self.per_page
        rows = list(cast(Any, self.object_list)[bottom: bottom + self.per_page])
        return BoundedPage(rows, last, self, more=False)


def paginate(request: HttpRequest, items: QuerySet[Any] | list[Any] | Pageable,
             per_page: int, *, cap: int | None = None) -> Page:
    """The page of ``items`` named by ``?page=`` (the first, or the last when out of range);
    with ``cap``, counted up to ``cap`` only (``page.paginator.capped``)."""
    # A Pageable has no ``__len__`` (``list()`` would call it before streaming); Paginator
    # asks ``count()`` first, which the stubs do not know.
    paginator = (Paginator(cast(Any, items), per_page) if cap is None
                 else BoundedPaginator(items, per_page, cap))
    return paginator.get_page(request.GET.get("page"))


def download(data: bytes | str, content_type: str, filename: str, *, inline: bool = False,
             no_store: bool = False) -> HttpResponse:
    """``data`` handed to the browser as a file named ``filename`` (shown in the browser when
    ``inline``); ``no_store`` for content no cache may keep."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = (
        f'{"inline" if inline else "attachment"}; filename="{filename}"')
    if no_store:
        response["Cache-Control"] = "no-store"
    return response


def pdf_response(buffer: io.BytesIO, filename: str, *, attachment: bool) -> FileResponse:
    """A PDF made or decrypted in memory (``buffer``), handed to the browser: shown in it, or
    as a download that no cache may keep (``attachment``: an opened exempted document or
    letter)."""
    buffer.seek(0)
    response = FileResponse(buffer, as_attachment=attachment, filename=filename,
                            content_type="application/pdf")
    if attachment:
        response["Cache-Control"] = "no-store"
    return response
