"""The organization's Developer Access page: create (secret shown once), list, revoke."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

import pytest
from django.test import Client

from sigma_emulator.forms import MSG_NO_PRIVILEGE
from sigma_emulator.models import Credential, Member, Team
from tests.emulator.conftest import (
    CLIENT_ID,
    SECRET,
    WORKBOOK_PATH,
    EmulatorClientHandler,
    claims,
    make_token,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "emulator_credential")]

PAGE = "/acme/admin/developer-access"


def create(client, **fields):
    owner = Member.objects.get(email="admin@example.com")
    data = {
        "name": "Host app",
        "description": "",
        "embed_privilege": "on",
        "owner": owner.member_id,
    }
    data.update(fields)
    return client.post(PAGE, {k: v for k, v in data.items() if v is not None})


def test_created_secret_is_shown_once_then_never_again(emulator_client):
    response = create(emulator_client, api_privilege="on")

    assert response.status_code == HTTPStatus.CREATED
    html = response.content.decode()
    secret = re.search(r'<code id="client-secret">([0-9a-f]{128})</code>', html).group(1)
    client_id = re.search(r'<code id="client-id">([0-9a-f]{32})</code>', html).group(1)
    credential = Credential.objects.get(client_id=client_id)
    assert credential.secret == secret
    assert (credential.embed_privilege, credential.api_privilege) == (True, True)
    assert response["Cache-Control"] == "no-store"
    assert "form-action 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    # No signed URL in an admin page's address; "no-referrer" would make browsers
    # post "Origin: null", which the CSRF check refuses (issue 22).
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in html

    listing = emulator_client.get(PAGE).content.decode()
    assert client_id in listing
    assert "Embedding, REST API" in listing
    assert secret not in listing
    assert SECRET not in listing
    assert secret not in emulator_client.get("/acme/admin/").content.decode()


def test_a_token_signed_with_new_credentials_opens_the_embed(emulator_client):
    html = create(emulator_client).content.decode()
    secret = re.search(r'<code id="client-secret">(\w+)</code>', html).group(1)
    client_id = re.search(r'<code id="client-id">(\w+)</code>', html).group(1)
    token = make_token(claims(iss=client_id), secret=secret, headers={"kid": client_id})

    response = emulator_client.get(f"{WORKBOOK_PATH}?:jwt={token}&:embed=true")

    assert response.status_code == HTTPStatus.OK
    assert "Signed in as alice@example.com" in response.content.decode()


def test_credentials_need_a_privilege(emulator_client):
    response = create(emulator_client, embed_privilege=None)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert MSG_NO_PRIVILEGE in response.content.decode()
    assert Credential.objects.count() == 1


def test_revoking_refuses_every_token_signed_with_the_credentials(emulator_client):
    signed_before = make_token()

    response = emulator_client.post(f"{PAGE}/{CLIENT_ID}/revoke")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{PAGE}?revoked={CLIENT_ID}"
    listing = emulator_client.get(response["Location"]).content.decode()
    assert f"Client credentials {CLIENT_ID} were revoked." in listing
    assert 'class="status-revoked"' in listing
    refused = emulator_client.get(f"{WORKBOOK_PATH}?:jwt={signed_before}&:embed=true")
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert "Invalid clientID" in refused.content.decode()


def test_revoke_is_post_only(emulator_client):
    response = emulator_client.get(f"{PAGE}/{CLIENT_ID}/revoke")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert Credential.objects.get(client_id=CLIENT_ID).is_active


def test_administration_lists_the_organization_and_renames_a_team(emulator_client):
    html = emulator_client.get("/acme/admin/").content.decode()
    for text in (
        "admin@example.com",
        "Sales",
        "Marketing",
        "region",
        "Sample warehouse",
        "Sales Overview",
        "bAGJb_-0AS",
        "Sales model",
    ):
        assert text in html
    sales = Team.objects.get(name="Sales")

    response = emulator_client.post(
        f"/acme/admin/teams/{sales.team_id}/rename", {"name": "Sales EU"}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert Team.objects.get(pk=sales.pk).name == "Sales EU"
    # Tokens that still name the old team are refused (EINVAL).
    refused = emulator_client.get(f"{WORKBOOK_PATH}?:jwt={make_token()}&:embed=true")
    assert refused.status_code == HTTPStatus.UNAUTHORIZED


def test_admin_pages_of_another_org_are_enoent(emulator_client):
    response = emulator_client.get("/other/admin/developer-access")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Invalid embed_path" in response.content.decode()


def test_developer_access_forms_need_the_csrf_token(emulator_enabled):
    client = Client(enforce_csrf_checks=True)
    client.handler = EmulatorClientHandler(enforce_csrf_checks=True)

    created = client.post(PAGE, {"name": "x", "embed_privilege": "on"})
    revoked = client.post(f"{PAGE}/{CLIENT_ID}/revoke")

    assert created.status_code == revoked.status_code == HTTPStatus.FORBIDDEN
    assert Credential.objects.count() == 1
    assert Credential.objects.get(client_id=CLIENT_ID).is_active


def test_no_secret_reaches_the_log(emulator_client, caplog):
    caplog.set_level(logging.DEBUG)

    html = create(emulator_client, api_privilege="on").content.decode()
    secret = re.search(r'<code id="client-secret">(\w+)</code>', html).group(1)
    client_id = re.search(r'<code id="client-id">(\w+)</code>', html).group(1)
    token = emulator_client.post(
        "/v2/auth/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ).json()["access_token"]
    emulator_client.post(f"{PAGE}/{client_id}/revoke")

    assert f"credentials {client_id} created" in caplog.text
    assert f"credentials {client_id} revoked" in caplog.text
    assert secret not in caplog.text
    assert token not in caplog.text
