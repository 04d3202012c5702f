"""Preview as user: signs through issue_embed_url, never switches the admin's session."""

from __future__ import annotations

import json
import logging

import jwt
import pytest
from django.urls import reverse

from embeds.exceptions import NoTeam, OwnerMismatch
from embeds.models import AccessRecord
from tests.conftest import CANARY_SECRET

PREVIEW_URL = reverse("admin:embeds_embed_preview")


def test_preview_needs_the_preview_permission(client, staff_factory, alice, embed_factory):
    embed = embed_factory()
    client.force_login(staff_factory("editor", "embeds.view_embed", "embeds.change_embed"))

    assert client.get(PREVIEW_URL).status_code == 403
    assert client.post(PREVIEW_URL, {"user": alice.pk, "embed": embed.pk}).status_code == 403
    assert not AccessRecord.objects.exists()
    change = client.get(reverse("admin:embeds_embed_change", args=[embed.pk])).content.decode()
    assert "Preview as a user…" not in change


def test_preview_form_is_prefilled_from_the_link_without_signing(
    admin_client, alice, embed_factory
):
    embed = embed_factory()

    response = admin_client.get(PREVIEW_URL, {"user": alice.pk, "embed": embed.pk})

    assert response.context["form"].initial == {"user": alice.pk, "embed": embed.pk}
    assert response.context["result"] is None
    assert not AccessRecord.objects.exists()


def test_preview_signs_for_the_chosen_user_and_keeps_the_admin_logged_in(
    client, staff_factory, alice, embed_factory, caplog
):
    embed = embed_factory()
    previewer = staff_factory("previewer", "embeds.preview_embed")
    client.force_login(previewer)
    caplog.set_level(logging.INFO)

    response = client.post(PREVIEW_URL, {"user": alice.pk, "embed": embed.pk})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Allowed: alice may view" in html
    result = response.context["result"]
    claims = result["signed"].claims
    assert json.loads(result["claims_json"]) == claims
    assert json.loads(result["header_json"]) == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": embed.credential.client_id,
    }
    assert claims["sub"] == "alice@example.com"
    assert claims["teams"] == ["Sales"]
    assert claims["user_attributes"] == {"region": "West"}
    assert ":jwt=[redacted]" in result["redacted_url"]
    token = result["signed"].url.split(":jwt=")[1].split("&")[0]
    assert (
        jwt.decode(token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")["sub"]
        == "alice@example.com"
    )
    assert f'src="{result["signed"].url}"'.replace("&", "&amp;") in html
    # It carries a signed URL: never stored, no Referer, frames only Sigma, and no
    # POST form (under no-referrer it would be refused by CSRF as "Origin: null").
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "frame-src https://app.sigmacomputing.com" in response["Content-Security-Policy"]
    assert 'method="post"' not in html
    # The admin's own session is untouched: still the previewer.
    assert int(client.session["_auth_user_id"]) == previewer.pk
    assert response.wsgi_request.user == previewer
    record = AccessRecord.objects.get()
    assert record.source == AccessRecord.Source.PREVIEW
    assert record.is_preview
    assert record.actor == previewer
    assert record.user == alice
    assert record.jti == claims["jti"]
    # Headers: never cached, and this page alone may frame the Sigma origins.
    assert "no-store" in response["Cache-Control"]
    csp = response["Content-Security-Policy"]
    assert "frame-src https://app.sigmacomputing.com http://127.0.0.1:8001" in csp
    assert "script-src 'self'" in csp
    assert CANARY_SECRET not in html
    assert CANARY_SECRET not in caplog.text


def test_other_admin_pages_still_refuse_frames(admin_client, embed_factory):
    embed = embed_factory()

    response = admin_client.get(reverse("admin:embeds_embed_change", args=[embed.pk]))

    assert "frame-src 'none'" in response["Content-Security-Policy"]


def test_preview_refused_by_the_credential_owner_rule(
    admin_client, admin_user, alice, embed_factory, credential_factory
):
    credential = credential_factory(owner_email="admin@example.com", owner_is_admin=False)
    embed = embed_factory(credential=credential)

    response = admin_client.post(PREVIEW_URL, {"user": alice.pk, "embed": embed.pk})

    html = response.content.decode()
    result = response.context["result"]
    assert not result["allowed"]
    assert isinstance(result["refusal"], OwnerMismatch)
    assert '<code id="preview-rule">owner_mismatch</code>' in html
    assert OwnerMismatch.message in html
    assert "preview-frame" not in html
    assert ":jwt=" not in html
    record = AccessRecord.objects.get()
    assert (record.outcome, record.rule, record.is_preview, record.actor) == (
        AccessRecord.Outcome.REFUSED,
        "owner_mismatch",
        True,
        admin_user,
    )
    # What Sigma would have been told is still shown, for the admin to compare.
    assert result["identity"].email == "alice@example.com"
    assert CANARY_SECRET not in html


@pytest.mark.parametrize("rule", ["no_team", "user_blocked"])
def test_preview_names_the_rule_that_refuses(admin_client, bob, alice, embed_factory, rule):
    embed = embed_factory()
    user = bob
    if rule == "user_blocked":
        user = alice
        alice.sigma_profile.is_blocked = True
        alice.sigma_profile.blocked_reason = "test"
        alice.sigma_profile.save()

    response = admin_client.post(PREVIEW_URL, {"user": user.pk, "embed": embed.pk})

    assert response.context["result"]["refusal"].code == rule
    assert f'<code id="preview-rule">{rule}</code>' in response.content.decode()
    if rule == "no_team":
        assert isinstance(response.context["result"]["refusal"], NoTeam)
        assert response.context["result"]["identity"].teams == ()
    else:
        assert response.context["result"]["identity"] is None


# --- What Sigma said in the browser: the outcome endpoint ---------------------------

OUTCOME_URL = reverse("admin:embeds_embed_preview_outcome")


def _preview_record(client, alice, embed) -> AccessRecord:
    client.post(PREVIEW_URL, {"user": alice.pk, "embed": embed.pk})
    return AccessRecord.objects.get(is_preview=True)


def test_preview_outcome_notes_sigmas_answer_on_the_previewers_record(
    client, staff_factory, alice, embed_factory
):
    embed = embed_factory()
    client.force_login(staff_factory("previewer", "embeds.preview_embed"))
    record = _preview_record(client, alice, embed)

    response = client.post(OUTCOME_URL, {"jti": record.jti, "outcome": "loaded"})

    assert response.status_code == 200
    assert response.json() == {"recorded": "Sigma opened it"}
    record.refresh_from_db()
    assert (record.sigma_outcome, record.sigma_code) == ("loaded", "")


def test_preview_outcome_error_keeps_only_a_sigma_shaped_code_and_says_why_unchecked(
    client, staff_factory, alice, embed_factory
):
    embed = embed_factory()
    client.force_login(staff_factory("previewer", "embeds.preview_embed"))
    record = _preview_record(client, alice, embed)

    bad = client.post(OUTCOME_URL, {"jti": record.jti, "outcome": "error", "code": "<b>x"})
    assert bad.status_code == 400
    unknown = client.post(OUTCOME_URL, {"jti": record.jti, "outcome": "allowed"})
    assert unknown.status_code == 400
    response = client.post(OUTCOME_URL, {"jti": record.jti, "outcome": "error", "code": "EINVAL"})

    assert response.status_code == 200
    # No credential has the REST API privilege here: a notice, never an error.
    assert response.json() == {
        "recorded": "Sigma refused it",
        "checked": False,
        "notice": "Not checked against Sigma: no active credential has the REST API privilege.",
        "findings": [],
    }
    record.refresh_from_db()
    assert (record.sigma_outcome, record.sigma_code) == ("error", "EINVAL")


def test_preview_outcome_refuses_someone_elses_preview_and_non_previewers(
    client, staff_factory, alice, embed_factory
):
    embed = embed_factory()
    client.force_login(staff_factory("first", "embeds.preview_embed"))
    record = _preview_record(client, alice, embed)

    client.force_login(staff_factory("second", "embeds.preview_embed"))
    assert client.post(OUTCOME_URL, {"jti": record.jti, "outcome": "loaded"}).status_code == 404
    client.force_login(staff_factory("editor", "embeds.change_embed"))
    assert client.post(OUTCOME_URL, {"jti": record.jti, "outcome": "loaded"}).status_code == 403
    record.refresh_from_db()
    assert record.sigma_outcome == ""


def test_preview_outcome_needs_the_csrf_token(staff_factory, alice, embed_factory):
    from django.test import Client

    embed = embed_factory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_factory("previewer", "embeds.preview_embed"))
    page = client.get(PREVIEW_URL)
    token = page.cookies["csrftoken"].value
    client.post(PREVIEW_URL, {"user": alice.pk, "embed": embed.pk, "csrfmiddlewaretoken": token})
    record = AccessRecord.objects.get(is_preview=True)

    assert client.post(OUTCOME_URL, {"jti": record.jti, "outcome": "loaded"}).status_code == 403
    answer = client.post(
        OUTCOME_URL, {"jti": record.jti, "outcome": "loaded"}, HTTP_X_CSRFTOKEN=token
    )
    assert answer.status_code == 200
