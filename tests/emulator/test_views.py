"""sigma_emulator.views: the content page, Sigma's error pages and the headers."""

from __future__ import annotations

import json
import re
from http import HTTPStatus

import pytest
from django.test import Client

from sigma_emulator.models import AccountType, Connection, Team
from sigma_emulator.services import revoke_credential
from sigma_emulator.verify import (
    MSG_EXP_PAST,
    MSG_INVALID_CLIENT_ID,
    MSG_INVALID_EMAIL,
    MSG_INVALID_KID,
    MSG_INVALID_PATH,
    MSG_INVALID_TEAMS,
    MSG_OWNER_ONLY,
    MSG_REPLAY,
)
from tests.emulator.conftest import MISSING, NOW, SECRET, WORKBOOK_PATH, claims, make_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def page_data(response) -> dict:
    match = re.search(
        r'<script id="sigma-emulator-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page carries its data in json_script"
    return json.loads(match.group(1))


def url(path: str = WORKBOOK_PATH, token: str | None = None, extra: str = "") -> str:
    query = f":jwt={token}&:embed=true" if token is not None else ":embed=true"
    return f"{path}?{query}{extra}"


def test_content_page_shows_the_signed_in_user(emulator_client, emulator_credential):
    Team.objects.create(name="Sales West")
    payload = claims(
        sub="alice@example.com",
        teams=["Sales", "Sales West"],
        account_type="View",
        user_attributes={"region": "West", "tier": "Gold"},
    )
    token = make_token(payload)

    response = emulator_client.get(
        url(token=token, extra="&:theme=Dark&:menu_position=none&Region=West,Southwest")
    )

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "<title>Sales-Overview - Sigma Computing</title>" in html
    assert "Signed in as alice@example.com" in html
    assert '<dd id="content-kind">workbook</dd>' in html
    assert '<dd id="workbook-id">4bq2ZtkLmV8xWn3pRs6HyA</dd>' in html
    assert '<dd id="account-type">View</dd>' in html
    assert '<dd id="teams">Sales, Sales West</dd>' in html
    assert "<tr><td>region</td><td>West</td></tr>" in html
    assert "<tr><td>tier</td><td>Gold</td></tr>" in html
    applied = '<td class="option-status">applied</td></tr>'
    for name, value in ((":theme", "Dark"), (":menu_position", "none"), (":embed", "true")):
        assert f'<tr data-option="{name}"><td>{name}</td><td>{value}</td>{applied}' in html
    assert "<tr><td>Region</td><td>West,Southwest</td></tr>" in html
    assert page_data(response) == {
        "frameAncestors": ["http://127.0.0.1:8000", "http://localhost:8000"],
        "responsiveHeight": False,
        "variables": {"Region": "West,Southwest"},
        "workbookId": "4bq2ZtkLmV8xWn3pRs6HyA",
    }
    # Neither the token nor the secret is ever echoed into the page.
    assert token not in html
    assert ":jwt" not in html
    assert SECRET not in html
    assert '<script src="/static/sigma_emulator/emulator.js"></script>' in html
    assert "<script>" not in html  # no inline script: CSP script-src 'self'


@pytest.mark.parametrize(
    ("suffix", "kind", "element_id"),
    [
        ("/page/GHs4vJQxig", "page", ('<dd id="page-id">GHs4vJQxig</dd>')),
        ("/element/bAGJb_-0AS", "element", ('<dd id="element-id">bAGJb_-0AS</dd>')),
        ("/tag/prod", "workbook", ('<dd id="tag">prod</dd>')),
    ],
)
def test_content_page_shows_page_element_and_tag(
    emulator_client, emulator_credential, suffix, kind, element_id
):
    response = emulator_client.get(url(WORKBOOK_PATH + suffix, make_token()))

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert f'<dd id="content-kind">{kind}</dd>' in html
    assert element_id in html


def test_content_page_turns_on_responsive_height(emulator_client, emulator_credential):
    response = emulator_client.get(url(token=make_token(), extra="&:responsive_height=true"))

    assert page_data(response)["responsiveHeight"] is True


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, MSG_INVALID_KID),
        (make_token(claims(sub="alice_smith@example.com")), MSG_INVALID_EMAIL),
        (make_token(claims(iat=NOW - 7200, exp=NOW - 3600)), MSG_EXP_PAST),
        (make_token(headers={"kid": "nobody"}), MSG_INVALID_CLIENT_ID),
    ],
)
def test_content_page_refuses_a_bad_token_with_401(
    emulator_client, emulator_credential, token, message
):
    response = emulator_client.get(url(token=token))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    html = response.content.decode()
    assert f'<p class="error-message" id="error-message">{message}</p>' in html
    assert '<code id="error-code">EINVAL</code>' in html
    assert page_data(response)["event"] == {
        "type": "workbook:error",
        "code": "EINVAL",
        "message": message,
    }
    assert response["Cache-Control"] == "no-store"


def test_content_page_refuses_a_replayed_url(emulator_client, emulator_credential):
    address = url(token=make_token())

    first = emulator_client.get(address)
    second = emulator_client.get(address)

    assert first.status_code == HTTPStatus.OK
    assert second.status_code == HTTPStatus.UNAUTHORIZED
    assert page_data(second)["event"]["message"] == MSG_REPLAY


def test_content_page_refuses_an_inactive_credential(emulator_client, emulator_credential):
    revoke_credential(credential=emulator_credential)

    response = emulator_client.get(url(token=make_token()))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert page_data(response)["event"]["message"] == MSG_INVALID_CLIENT_ID


def test_content_page_refuses_a_team_the_organization_does_not_have(
    emulator_client, emulator_credential
):
    response = emulator_client.get(url(token=make_token(claims(teams=["Sales", "Slaes"]))))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert page_data(response)["event"] == {
        "type": "workbook:error",
        "code": "EINVAL",
        "message": MSG_INVALID_TEAMS,
    }


def test_content_page_applies_the_owner_rule_of_non_admin_credentials(
    emulator_client, emulator_credential
):
    owner = emulator_credential.owner
    owner.account_type = AccountType.objects.get(name="View")
    owner.email = "Owner@example.com"
    owner.save()

    someone_else = emulator_client.get(url(token=make_token()))
    the_owner = emulator_client.get(url(token=make_token(claims(sub="owner@example.com"))))

    assert someone_else.status_code == HTTPStatus.UNAUTHORIZED
    assert page_data(someone_else)["event"]["message"] == MSG_OWNER_ONLY
    assert the_owner.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/admin/",
        "/embeds/sales/",
        "/embed/1-5ROVG8NwQrGNLF31mh1VJS",
        "/acme/workbook/Sales-short",
        WORKBOOK_PATH + "/page/a/element/b",
    ],
)
def test_other_paths_get_sigmas_enoent_page(emulator_client, emulator_credential, path):
    response = emulator_client.get(url(path, make_token()))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert page_data(response)["event"] == {
        "type": "workbook:error",
        "code": "ENOENT",
        "message": MSG_INVALID_PATH,
    }
    assert "Content-Security-Policy" in response


def test_emulator_pages_are_frameable_only_by_the_configured_host(
    emulator_client, emulator_credential, settings
):
    settings.SIGMA_EMULATOR_FRAME_ANCESTORS = ["http://localhost:8123"]

    for response in (
        emulator_client.get(url(token=make_token())),
        emulator_client.get(url(token="bad")),
    ):
        policy = response["Content-Security-Policy"]
        assert "frame-ancestors http://localhost:8123" in policy.split("; ")
        assert "script-src 'self'" in policy.split("; ")
        assert "unsafe-inline" not in policy
        assert "X-Frame-Options" not in response
        assert response["Cache-Control"] == "no-store"
        assert response["Referrer-Policy"] == "no-referrer"
        assert '<meta name="referrer" content="no-referrer">' in response.content.decode()


def test_emulator_pages_answer_404_when_disabled(emulator_client, emulator_credential, settings):
    settings.SIGMA_EMULATOR_ENABLED = False
    token = make_token()

    response = emulator_client.get(url(token=token))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"Signed in as" not in response.content
    assert b"workbook:error" not in response.content


def test_host_origin_never_serves_emulator_paths(emulator_enabled, emulator_credential):
    response = Client().get(url(token=make_token()))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"Signed in as" not in response.content
    assert b"Invalid embed_path" not in response.content


CONNECTION = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.mark.spec("1.2")
def test_content_page_shows_names_and_the_connection(emulator_client, emulator_credential):
    Connection.objects.create(connection_id=CONNECTION, name="Tenant warehouse")
    payload = claims(
        user_attributes=MISSING,
        first_name="Ada",
        last_name="Lovelace",
        eval_connection_id=CONNECTION,
    )

    response = emulator_client.get(url(token=make_token(payload)))

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert '<span id="first-name">Ada</span> <span id="last-name">Lovelace</span>' in html
    assert f'<dd id="eval-connection-id">{CONNECTION}</dd>' in html


@pytest.mark.spec("1.2")
def test_content_page_refuses_a_connection_the_organization_does_not_have(
    emulator_client, emulator_credential
):
    response = emulator_client.get(url(token=make_token(claims(eval_connection_id=CONNECTION))))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert page_data(response)["event"] == {
        "type": "workbook:error",
        "code": "EINVAL",
        "message": "Invalid eval_connection_id parameter",
    }


@pytest.mark.spec("2.3")
def test_content_page_shows_how_each_control_value_was_read(emulator_client, emulator_credential):
    extra = "&Customer=Smith%2C%20John&Names=Smith,John&Period=min:2024-01-01,max:2024-12-31"

    response = emulator_client.get(url(token=make_token(), extra=extra))

    html = response.content.decode()
    assert (
        '<tr data-control="Customer"><td>Customer</td><td class="control-kind">value</td>'
        '<td><span class="control-item">Smith, John</span></td></tr>'
    ) in html
    assert (
        '<td class="control-kind">list</td><td><span class="control-item">Smith</span>'
        '<span class="control-item">John</span></td>'
    ) in html
    assert '<span class="control-item" data-end="max">2024-12-31</span>' in html
    assert page_data(response)["variables"]["Names"] == "Smith,John"


@pytest.mark.spec("3")
@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/acme/ask", "ask"),
        ("/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/page/GHs4vJQxig", "page"),
    ],
)
def test_content_page_serves_every_content_kind(emulator_client, emulator_credential, path, kind):
    response = emulator_client.get(url(path, token=make_token()))

    assert response.status_code == HTTPStatus.OK
    assert f'<dd id="content-kind">{kind}</dd>' in response.content.decode()
