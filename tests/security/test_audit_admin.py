"""The audit trail in the admin: viewable, filterable, searchable by jti, never editable."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from embeds import issuing
from embeds.admin.audit import AccessRecordAdmin, EmbedErrorReportAdmin
from embeds.exceptions import Refusal
from embeds.models import AccessRecord, EmbedErrorReport
from tests.conftest import CANARY_SECRET

CHANGELIST = "admin:embeds_accessrecord_changelist"


@pytest.fixture
def records(alice, bob, embed_factory):
    embed = embed_factory(slug="sales")
    signed = issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE)
    try:
        issuing.issue_embed_url(user=bob, embed=embed, source=AccessRecord.Source.PAGE)
    except Refusal:
        pass
    return signed


def test_audit_models_are_registered_with_read_only_admins():
    assert isinstance(admin.site._registry[AccessRecord], AccessRecordAdmin)
    assert isinstance(admin.site._registry[EmbedErrorReport], EmbedErrorReportAdmin)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [AccessRecord, EmbedErrorReport])
def test_audit_admin_refuses_add_change_delete_even_to_superuser(rf, admin_user, model):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = admin_user
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.get_actions(request) == {}


@pytest.mark.django_db
def test_audit_changelist_lists_records_without_token_or_secret(client, admin_user, records):
    client.force_login(admin_user)
    response = client.get(reverse(CHANGELIST))
    html = response.content.decode()
    assert response.status_code == 200
    assert records.jti in html
    assert "no_team" in html
    token = records.url.split(":jwt=")[1].split("&")[0]
    assert token not in html
    assert CANARY_SECRET not in html
    for title in (
        "By outcome",
        "By rule",
        "By is preview",
        "By created at",
        "By user",
        "By embed",
        "By credential",
        "By source",
    ):
        assert title in html, title


@pytest.mark.django_db
def test_audit_search_by_exact_jti_finds_one_record(client, admin_user, records):
    client.force_login(admin_user)
    response = client.get(reverse(CHANGELIST), {"q": records.jti})
    assert list(response.context["cl"].result_list) == [AccessRecord.objects.get(jti=records.jti)]
    partial = client.get(reverse(CHANGELIST), {"q": records.jti[:8]})
    assert list(partial.context["cl"].result_list) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"outcome__exact": "refused"}, ["no_team"]),
        ({"outcome__exact": "issued"}, [""]),
        ({"rule__exact": "no_team"}, ["no_team"]),
        ({"is_preview__exact": "1"}, []),
        ({"q": "bob"}, ["no_team"]),
        ({"q": "alice@example.com"}, [""]),
    ],
)
def test_audit_filters_and_search(client, admin_user, records, query, expected):
    client.force_login(admin_user)
    response = client.get(reverse(CHANGELIST), query)
    assert response.status_code == 200
    assert [r.rule for r in response.context["cl"].result_list] == expected


@pytest.mark.django_db
def test_audit_filter_by_user_embed_and_credential(client, admin_user, alice, records):
    client.force_login(admin_user)
    record = AccessRecord.objects.get(jti=records.jti)
    for key, value in (
        ("user__id__exact", alice.pk),
        ("embed__id__exact", record.embed_id),
        ("credential__id__exact", record.credential_id),
    ):
        response = client.get(reverse(CHANGELIST), {key: value})
        rows = list(response.context["cl"].result_list)
        assert record in rows, key


@pytest.mark.django_db
def test_audit_change_page_is_read_only_and_post_is_refused(client, admin_user, records):
    client.force_login(admin_user)
    record = AccessRecord.objects.get(jti=records.jti)
    url = reverse("admin:embeds_accessrecord_change", args=[record.pk])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert records.jti in html
    assert 'name="_save"' not in html
    assert CANARY_SECRET not in html
    assert client.post(url, {"rule": "tampered"}).status_code == 403
    assert (
        client.post(
            reverse("admin:embeds_accessrecord_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:embeds_accessrecord_add")).status_code == 403
    record.refresh_from_db()
    assert record.rule == ""


@pytest.mark.django_db
def test_audit_needs_view_permission(client, user_factory, records):
    staff = user_factory("auditor", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse(CHANGELIST)).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_accessrecord"))
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert records.jti in response.content.decode()
