import jwt
import pytest

from tests.conftest import CANARY_SECRET


@pytest.mark.django_db
def test_alice_embed_page_signs_url(client, alice, embed_factory):
    embed = embed_factory()
    client.force_login(alice)
    response = client.get(embed.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert ":jwt=" in html
    assert CANARY_SECRET not in html
    token = html.split(":jwt=")[1].split("&")[0]
    claims = jwt.decode(token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")
    assert claims["sub"] == "alice@example.com"
    assert claims["teams"] == ["Sales"]
    assert claims["user_attributes"] == {"region": "West"}
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.django_db
def test_bob_gets_403(client, bob, embed_factory):
    embed = embed_factory()
    client.force_login(bob)
    response = client.get(embed.get_absolute_url())
    assert response.status_code == 403
