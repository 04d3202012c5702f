"""The admin activity page: who may see it, what it shows, and that it needs no script."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from embeds.models import AccessRecord
from tests.conftest import CANARY_SECRET

URL = "/admin/embeds/accessrecord/activity/"


@pytest.fixture
def some_activity(alice, bob, embed_factory):
    embed_factory(slug="sales")
    now = timezone.now()
    for user, rule in [(alice, ""), (alice, ""), (bob, "no_team")]:
        AccessRecord.objects.create(
            created_at=now,
            outcome=AccessRecord.Outcome.REFUSED if rule else AccessRecord.Outcome.ISSUED,
            rule=rule,
            source=AccessRecord.Source.PAGE,
            user=user,
            username=user.username,
            embed_slug="sales",
            client_id="client-0001",
        )


@pytest.mark.django_db
def test_activity_page_needs_the_view_permission(client, staff_factory):
    client.force_login(staff_factory("clerk"))
    assert client.get(URL).status_code == 403
    client.force_login(staff_factory("auditor", "embeds.view_accessrecord"))
    assert client.get(URL).status_code == 200


@pytest.mark.django_db
def test_activity_page_sends_anonymous_users_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_activity_page_charts_tables_and_no_script(client, admin_user, some_activity):
    client.force_login(admin_user)
    response = client.get(URL + "?days=7")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>2</strong> URLs issued, <strong>1</strong> refused" in html
    # One chart for the embed, seven days, each a stacked pair of bars.
    assert html.count('<svg class="activity-chart"') == 1
    assert len(re.findall(r'<rect class="issued"', html)) == 7
    assert f"{timezone.now():%Y-%m-%d}: 2 issued, 1 refused" in html
    assert "<td>alice</td><td>2</td><td>0</td>" in html
    assert "<td>bob</td><td>0</td><td>1</td>" in html
    assert "?outcome__exact=refused&amp;rule__exact=no_team" in html
    # CSP: no inline script or style anywhere on the page.
    assert "<script>" not in html and "<script type" not in html and " style=" not in html
    assert "embeds/admin-activity.css" in html
    assert CANARY_SECRET not in html


@pytest.mark.django_db
def test_activity_page_falls_back_to_30_days_for_an_unknown_window(client, admin_user):
    client.force_login(admin_user)
    response = client.get(URL + "?days=9999")
    assert response.context["days"] == 30
    assert "No URL was issued or refused in this period." in response.content.decode()


@pytest.mark.django_db
def test_access_record_list_links_to_the_activity_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/embeds/accessrecord/")
    assert f'href="{URL}"' in response.content.decode()
