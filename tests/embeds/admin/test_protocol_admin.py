"""Admin fields for issue 13: internal users, eval_connection_id, typed controls."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.urls import reverse

from embeds.models import Embed, EmbedControl, GroupMapping, SigmaProfile
from embeds.protocol.controls import MSG_NUMBER
from embeds.protocol.validators import MSG_CONNECTION_ID
from tests.embeds.admin.conftest import change_form_data
from tests.embeds.admin.test_embed_admin import ADD_URL, embed_payload

CONNECTION = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
PROFILE = "sigma_profile-0-"


def inline_errors(response) -> list:
    return [
        (f.prefix, f.errors)
        for i in response.context["inline_admin_formsets"]
        for f in i.formset.forms
        if f.errors
    ]


def test_user_page_marks_a_user_internal_with_a_connection(admin_client, alice):
    url = reverse("admin:auth_user_change", args=[alice.pk])
    data = change_form_data(admin_client.get(url))
    data[f"{PROFILE}internal"] = "internal"
    data[f"{PROFILE}eval_connection_id"] = CONNECTION

    response = admin_client.post(url, data)

    assert response.status_code == 302, inline_errors(response)
    profile = SigmaProfile.objects.get(user=alice)
    assert (profile.internal, profile.eval_connection_id) == ("internal", CONNECTION)


def test_user_page_refuses_a_connection_that_is_not_a_uuid(admin_client, alice):
    url = reverse("admin:auth_user_change", args=[alice.pk])
    data = change_form_data(admin_client.get(url))
    data[f"{PROFILE}eval_connection_id"] = "prod-warehouse"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert (f"{PROFILE[:-1]}", {"eval_connection_id": [MSG_CONNECTION_ID]}) in inline_errors(
        response
    )


def test_group_page_shows_the_internal_checkbox_and_connection(admin_client):
    group = Group.objects.create(name="Sigma staff")
    GroupMapping.objects.create(group=group, internal=True, eval_connection_id=CONNECTION)

    html = admin_client.get(reverse("admin:auth_group_change", args=[group.pk])).content.decode()

    assert 'name="sigma_mapping-0-internal"' in html and "checked" in html
    assert f'value="{CONNECTION}"' in html


def control_rows(*rows) -> dict:
    data = {"controls-TOTAL_FORMS": str(len(rows))}
    for index, (control_id, control_type, default) in enumerate(rows):
        data[f"controls-{index}-control_id"] = control_id
        data[f"controls-{index}-type"] = control_type
        data[f"controls-{index}-default_value"] = default
    return data


def test_embed_admin_saves_typed_controls_and_a_connection(
    admin_client, credential_factory, team_factory
):
    data = embed_payload(
        credential_factory(),
        team_factory("Sales"),
        eval_connection_id=CONNECTION,
        **control_rows(("Customer", "text", "Smith, John"), ("Names", "list", "Smith\r\nJohn")),
    )

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 302, inline_errors(response)
    embed = Embed.objects.get()
    assert embed.eval_connection_id == CONNECTION
    assert dict(embed.controls.values_list("control_id", "type")) == {
        "Customer": "text",
        "Names": "list",
    }
    assert EmbedControl.objects.get(control_id="Names").default().encoded == "Smith,John"


def test_embed_admin_refuses_a_default_that_does_not_fit_the_type(
    admin_client, credential_factory, team_factory
):
    data = embed_payload(
        credential_factory(), team_factory("Sales"), **control_rows(("Amount", "number", "lots"))
    )

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert ("controls-0", {"default_value": [MSG_NUMBER]}) in inline_errors(response)
    assert not Embed.objects.exists()
