"""Admin pages that ask Sigma: check against Sigma, sync the registries, pick content.

Every page asks Sigma's REST API with the credential that carries the REST API
privilege (``embeds.remote.usage``); when Sigma cannot answer, the page says why and what
to fix, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import ngettext

from embeds import services
from embeds.models import Embed
from embeds.remote.client import SigmaAPIError
from embeds.remote.usage import (
    RETIRE,
    api_client,
    check_against_sigma,
    plan_registry_sync,
    quick_check,
)
from embeds.services.sigma_members import (
    MEMBERS_CACHE_SECONDS,
    deactivate_embed_users,
    stale_embed_users,
)

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import User

    from embeds.admin.common import ModelAdmin

_ModelT = TypeVar("_ModelT", bound=Model)
# A Sigma REST API answer: a JSON object.
JSONObject = dict[str, Any]
_View = Callable[[HttpRequest], HttpResponse]

SYNC_PERMISSIONS = (
    "embeds.add_team",
    "embeds.change_team",
    "embeds.delete_team",
    "embeds.add_accounttype",
    "embeds.change_accounttype",
    "embeds.delete_accounttype",
    "embeds.add_userattribute",
    "embeds.change_userattribute",
    "embeds.delete_userattribute",
)


def _render(request: HttpRequest, template: str, context: dict[str, object]) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context})


def _api_problem(request: HttpRequest, title: str, exc: SigmaAPIError) -> TemplateResponse:
    # The message names the path, status or credential, never a secret or token.
    return _render(
        request,
        "admin/embeds/sigma_problem.html",
        {"title": title, "problem": str(exc)},
    )


def asks_sigma(problem_title: str) -> Callable[[_View], _View]:
    """A page that asks Sigma's REST API: when Sigma cannot answer (``SigmaAPIError``),
    the problem page titled ``problem_title`` says why instead, and nothing changes."""

    def decorate(view: _View) -> _View:
        @wraps(view)
        def page(request: HttpRequest) -> HttpResponse:
            try:
                return view(request)
            except SigmaAPIError as exc:
                return _api_problem(request, problem_title, exc)

        return page

    return decorate


# --- "Check against Sigma" (an action on embeds) ------------------------------------------


@admin.action(description="Check selected embeds against Sigma")
def check_against_sigma_action(
    modeladmin: ModelAdmin[Embed], request: HttpRequest, queryset: QuerySet[Embed]
) -> TemplateResponse | None:
    return _check_selected(
        modeladmin, request, "embed", set(queryset.values_list("slug", flat=True))
    )


@admin.action(description="Check selected users' Sigma mappings against Sigma")
def check_users_against_sigma_action(
    modeladmin: ModelAdmin[User], request: HttpRequest, queryset: QuerySet[User]
) -> TemplateResponse | None:
    names = {user.get_username() for user in queryset}
    return _check_selected(modeladmin, request, "user", names)


def _check_selected(
    modeladmin: ModelAdmin[_ModelT], request: HttpRequest, kind: str, names: set[str]
) -> TemplateResponse | None:
    """Run every remote check; show the findings that name one of ``names``."""
    try:
        with api_client() as client:
            findings = check_against_sigma(client=client)
    except SigmaAPIError as exc:
        return _api_problem(request, "Check against Sigma", exc)
    relevant = [
        f
        for f in findings
        if any(f"{kind} {name}" in f.message or f.obj == f"{kind} {name!r}" for name in names)
    ]
    if not relevant:
        modeladmin.message_user(
            request,
            ngettext(
                "The selected %(kind)s matches Sigma: no finding.",
                "The %(count)d selected %(kind)ss match Sigma: no finding.",
                len(names),
            )
            % {"count": len(names), "kind": kind},
            messages.SUCCESS,
        )
        return None
    return _render(
        request,
        "admin/embeds/sigma_check.html",
        {"title": "Check against Sigma", "findings": relevant, "slugs": sorted(names)},
    )


def check_embed(request: HttpRequest, object_id: str) -> HttpResponse:
    """*Check against Sigma* on an embed's change page: the checks of that embed,
    its teams and its credential (time-boxed, like the checks on save)."""
    if not request.user.has_perm("embeds.view_embed"):
        raise PermissionDenied
    embed = get_object_or_404(Embed.objects.select_related("credential"), pk=object_id)
    check = quick_check(embeds=[embed], credentials=[embed.credential])
    opts = Embed._meta
    context = {
        "title": "Check against Sigma",
        "app_verbose_name": opts.app_config.verbose_name,
        "changelist_url": reverse("admin:embeds_embed_changelist"),
        "changelist_title": capfirst(opts.verbose_name_plural),
        "object_url": reverse("admin:embeds_embed_change", args=[embed.pk]),
        "object_title": str(embed),
        "slugs": [embed.slug],
    }
    if not check.checked:
        return _render(
            request, "admin/embeds/sigma_problem.html", {**context, "problem": check.notice}
        )
    return _render(
        request, "admin/embeds/sigma_check.html", {**context, "findings": check.findings}
    )


# --- Registry sync -----------------------------------------------------------------------


def registry_sync(request: HttpRequest) -> HttpResponse:
    """GET: what a sync would change. POST: apply exactly that plan, re-read from Sigma."""
    if not all(request.user.has_perm(p) for p in SYNC_PERMISSIONS):
        raise PermissionDenied
    try:
        with api_client() as client:
            changes = plan_registry_sync(client)
    except SigmaAPIError as exc:
        return _api_problem(request, "Sync teams, account types and attributes", exc)
    if request.method == "POST":
        result = services.sync_registries(changes=changes, actor=request.user)
        messages.success(
            request,
            f"Synced from Sigma: {result.added} added, {result.renamed} renamed, "
            f"{result.linked} linked, {result.retired} retired.",
        )
        for kept in result.kept:
            messages.warning(request, f"Kept {kept}. Remap it, then sync again.")
        return HttpResponseRedirect(reverse("admin:embeds_team_changelist"))
    return _render(
        request,
        "admin/embeds/sigma_sync.html",
        {
            "title": "Sync teams, account types and attributes from Sigma",
            "changes": [c for c in changes if c.action != "link"],
            "links": sum(1 for c in changes if c.action == "link"),
            "retire": RETIRE,
        },
    )


# --- Content and connection pickers ------------------------------------------------------


@asks_sigma("Pick Sigma content")
def content_picker(request: HttpRequest) -> HttpResponse:
    """Browse Sigma's workbooks → pages → elements (and data models, connections).

    Each "Use" link opens the embed add form with the URL (and title) filled in,
    so nothing is pasted by hand; the form still validates what it receives.
    """
    if not request.user.has_perm("embeds.add_embed"):
        raise PermissionDenied
    workbook_id = request.GET.get("workbook", "")
    page_id = request.GET.get("page", "")
    add_url = reverse("admin:embeds_embed_add")
    with api_client() as client:
        workbooks = client.list_workbooks()
        workbook = next((w for w in workbooks if w.get("workbookId") == workbook_id), None)
        # A version tag the workbook has (Sigma's listWorkbooks ``tags``); pages and
        # elements are then the tagged version's, and URLs carry /tag/{name}.
        tag = request.GET.get("tag", "")
        if workbook is None or tag not in _tag_names(workbook):
            tag = ""
        rows: list[dict[str, str]] = []
        if workbook is None:
            level = "workbooks"
            rows = [
                {
                    **_pick_row(add_url, title, url),
                    "browse": "?" + urlencode(query),
                }
                for w in workbooks
                if not w.get("isArchived")
                for title, url, query in _workbook_versions(w)
            ]
            data_models = [
                _pick_row(add_url, str(d.get("name", "")), str(d.get("url", "")))
                for d in client.list_data_models()
                if not d.get("isArchived")
            ]
            connections = client.list_connections()
        elif not page_id:
            level = "pages"
            base, title = _version_url(workbook, tag), _version_title(workbook, tag)
            rows = [
                {
                    **_pick_row(
                        add_url, f"{title} — {p.get('name')}", f"{base}/page/{p.get('pageId')}"
                    ),
                    "browse": "?"
                    + urlencode(
                        {"workbook": workbook_id, "page": p.get("pageId")}
                        | ({"tag": tag} if tag else {})
                    ),
                }
                for p in client.list_workbook_pages(workbook_id, tag=tag or None)
            ]
            data_models, connections = [], []
        else:
            level = "elements"
            base, title = _version_url(workbook, tag), _version_title(workbook, tag)
            rows = [
                _pick_row(
                    add_url,
                    f"{title} — {e.get('name')}",
                    f"{base}/element/{e.get('elementId')}",
                )
                for e in client.list_page_elements(workbook_id, page_id, tag=tag or None)
            ]
            data_models, connections = [], []
    return _render(
        request,
        "admin/embeds/sigma_pick.html",
        {
            "title": "Pick Sigma content",
            "level": level,
            "workbook": workbook,
            "tag": tag,
            "rows": rows,
            "data_models": data_models,
            "connections": connections,
            "add_url": add_url,
        },
    )


def _tag_names(workbook: JSONObject) -> list[str]:
    """The workbook's version tags: Sigma's ``tags``, a list of objects with a
    ``name``; whatever else it holds names no tag."""
    tags = workbook.get("tags")
    if not isinstance(tags, list):
        return []
    return [
        t["name"]
        for t in tags
        if isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"]
    ]


def _version_url(workbook: JSONObject, tag: str) -> str:
    url = str(workbook.get("url", ""))
    return f"{url}/tag/{quote(tag, safe='')}" if tag else url


def _version_title(workbook: JSONObject, tag: str) -> str:
    name = str(workbook.get("name", ""))
    return f"{name} (tag {tag})" if tag else name


def _workbook_versions(workbook: JSONObject) -> list[tuple[str, str, dict[str, str]]]:
    """The workbook's published version, then each tagged version: (title, URL, query)."""
    ident = str(workbook.get("workbookId", ""))
    return [
        (_version_title(workbook, tag), _version_url(workbook, tag), {"workbook": ident})
        if not tag
        else (
            _version_title(workbook, tag),
            _version_url(workbook, tag),
            {"workbook": ident, "tag": tag},
        )
        for tag in ["", *_tag_names(workbook)]
    ]


def _pick_row(add_url: str, title: str, url: str) -> dict[str, str]:
    return {
        "title": title,
        "url": url,
        "use": f"{add_url}?{urlencode({'title': title, 'url': url})}",
    }


# --- Embed users no host user maps to ------------------------------------------------


@asks_sigma("Sigma embed users")
def stale_members(request: HttpRequest) -> HttpResponse:
    """Sigma's embed users that no active host user maps to; superusers deactivate.

    A GET reads Sigma's member list from the cache when it was read in the last
    minute (``?refresh`` reads it again). The list is read from Sigma again on POST
    and only members still on it are deactivated, whatever ids the form carries.
    """
    if not request.user.has_perm("embeds.change_embed"):
        raise PermissionDenied
    cached = request.method == "GET" and "refresh" not in request.GET
    with api_client() as client:
        stale = stale_embed_users(client, cached=cached)
        if request.method == "POST":
            # Deactivating changes the Sigma organization itself: superusers only.
            if not request.user.is_superuser:
                raise PermissionDenied
            chosen = set(request.POST.getlist("member"))
            done = deactivate_embed_users(
                client=client,
                members=[m for m in stale if m.member_id in chosen],
                actor=request.user,
                reason=request.POST.get("reason", "").strip(),
            )
            messages.success(
                request,
                ngettext(
                    "%(count)d embed user deactivated in Sigma.",
                    "%(count)d embed users deactivated in Sigma.",
                    len(done),
                )
                % {"count": len(done)},
            )
            return HttpResponseRedirect(reverse("admin:embeds_embed_sigma_members"))
    return _render(
        request,
        "admin/embeds/sigma_members.html",
        {
            "title": "Sigma embed users no active host user maps to",
            "stale": stale,
            "can_deactivate": request.user.is_superuser,
            "cache_seconds": MEMBERS_CACHE_SECONDS,
        },
    )
