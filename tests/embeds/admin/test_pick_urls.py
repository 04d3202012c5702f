"""Every URL Sigma produces goes through Pick from Sigma → Use → save (admin).

The URLs come from Sigma's answers themselves: the REST ``url`` of each workbook and
data model, and the page and element URLs the picker builds on them, from both the
emulator and a organization answering as Sigma's OpenAPI document says (the document
carries no example ``url``; its shape is the one in the issue's report, checked
against Sigma's "Create an embed API with JSON Web Tokens" page). The browser forms,
API syntax and tagged versions, which no API answer gives, are saved through the
same add form.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from embeds.admin import remote as remote_admin
from embeds.models import Embed
from embeds.remote.usage import api_client
from tests.embeds.admin.test_embed_admin import embed_payload
from tests.sigma_document_org import DocumentSigma
from tests.sigma_org import EmulatorTransport

PICK_URL = "admin:embeds_embed_pick"
ADD_URL = "admin:embeds_embed_add"
USE = re.compile(r'class="button" href="([^"]+)"')
BROWSE = re.compile(r'<a href="(\?workbook=[^"]*)">')


def walk_picker(client) -> list[str]:
    """Every Use link of the picker: workbooks, data models, pages, elements."""
    found: list[str] = []
    pending, seen = [""], set()
    while pending:
        query = pending.pop()
        if query in seen:
            continue  # the breadcrumb links back to the pages
        seen.add(query)
        page = client.get(reverse(PICK_URL) + query).content.decode()
        found += [unescape(link) for link in USE.findall(page)]
        pending += [unescape(link) for link in BROWSE.findall(page)]
    return sorted(set(found))


def use_then_save(client, use: str, credential, team) -> Embed:
    url = parse_qs(urlsplit(use).query)["url"][0]
    add_form = client.get(use).content.decode()
    assert f'value="{url}"' in add_form, url  # the form comes pre-filled
    slug = re.sub(r"[^a-z0-9]+", "-", url.lower())[-50:].strip("-")
    response = client.post(
        reverse(ADD_URL), embed_payload(credential, team, url=url, slug=slug, title=slug)
    )
    assert response.status_code == 302, (url, response.context and response.context["errors"])
    return Embed.objects.get(slug=slug)


def test_every_url_the_emulator_answers_is_saved(
    admin_client, sigma_org, team_factory, monkeypatch
):
    monkeypatch.setattr(
        remote_admin, "api_client", lambda: api_client(transport=EmulatorTransport())
    )
    team = team_factory("Sales")

    uses = walk_picker(admin_client)
    saved = [use_then_save(admin_client, use, sigma_org, team) for use in uses]

    kinds = sorted(embed.content.kind for embed in saved)
    assert kinds == ["data model", "element", "element", "element", "page", "page", "workbook"]
    assert all(
        "/workbook/4bq2ZtkLmV8xWn3pRs6HyA" in e.url for e in saved if e.content.kind != "data model"
    )


def test_every_url_a_document_shaped_sigma_answers_is_saved(
    admin_client, credential_factory, team_factory, monkeypatch
):
    monkeypatch.setattr(remote_admin, "api_client", lambda: DocumentSigma().client())
    credential, team = credential_factory(), team_factory("Sales")

    saved = [
        use_then_save(admin_client, use, credential, team) for use in walk_picker(admin_client)
    ]

    assert sorted(e.url for e in saved) == [
        "https://app.sigmacomputing.com/acme/data-model/7dKf3LmQ9wZx2Rt5Vb8NcA",
        "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA",
        "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/element/El1",
        "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/page/Pg1",
        # The tagged version "prod" (listWorkbooks tags; pages and elements with tag=prod).
        "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/tag/prod",
        "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/tag/prod/element/ElTagged",
        "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/tag/prod/page/PgTagged",
    ]


APP = "https://app.sigmacomputing.com/acme"
UUID = "2f1e0d9c-8b7a-4655-9443-322110ffeedd"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (f"{APP}/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA", "workbook"),  # browser
        (f"{APP}/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA/tag/prod", "workbook"),
        (f"{APP}/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA/page/Pg1", "page"),
        (f"{APP}/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA/tag/prod/element/El1", "element"),
        (f"{APP}/workbook/4bq2ZtkLmV8xWn3pRs6HyA", "workbook"),  # REST url
        (f"{APP}/workbook/4bq2ZtkLmV8xWn3pRs6HyA/tag/prod/page/Pg1", "page"),
        (f"{APP}/workbook/Sales-Overview/{UUID}", "workbook"),  # API syntax
        (f"{APP}/workbook/Sales-Overview/{UUID}/tag/prod", "workbook"),
        (f"{APP}/workbook/{UUID}/page/Pg1", "page"),
        (f"{APP}/workbook/{UUID}/element/El1", "element"),
        (f"{APP}/data-model/Sales-model-7dKf3LmQ9wZx2Rt5Vb8NcA", "data model"),  # browser
        (f"{APP}/data-model/Sales-model-7dKf3LmQ9wZx2Rt5Vb8NcA/tag/prod", "data model"),
        (f"{APP}/data-model/7dKf3LmQ9wZx2Rt5Vb8NcA", "data model"),  # REST url
        (f"{APP}/ask", "ask"),
    ],
)
def test_every_url_form_sigma_documents_is_saved(
    admin_client, credential_factory, team_factory, url, kind
):
    use = reverse(ADD_URL) + "?" + "url=" + url

    embed = use_then_save(admin_client, use, credential_factory(), team_factory("Sales"))

    assert (embed.url, embed.content.kind) == (url, kind)
