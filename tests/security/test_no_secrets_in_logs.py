"""Representative flows with every logger at DEBUG (SQL included): no record holds
the embed secret or an issued token."""

from __future__ import annotations

import logging
import re
from io import StringIO

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from encrypted_model_fields import fields

from embeds import services
from embeds.models import AccessRecord
from tests.conftest import CANARY_SECRET

TOKEN = re.compile(r":jwt=([A-Za-z0-9_.-]+)")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The formatted message, the raw args and any exception text: all of it.
        parts = [record.getMessage(), repr(record.args), str(record.msg)]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        self.texts.append(" ".join(parts))


@pytest.fixture
def every_log():
    """Attach to the root and to every named logger (some do not propagate)."""
    handler = Capture()
    manager = logging.root.manager
    loggers = [logging.root] + [
        logging.getLogger(name)
        for name in list(manager.loggerDict)
        if isinstance(manager.loggerDict[name], logging.Logger)
    ]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    previous_debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True  # SQL and its parameters are logged too
    yield handler
    connection.force_debug_cursor = previous_debug_cursor
    for lg, level, disabled in saved:
        lg.removeHandler(handler)
        lg.setLevel(level)
        lg.disabled = disabled


def tokens_in(html: str) -> list[str]:
    return TOKEN.findall(html)


@pytest.mark.django_db
def test_flows_log_neither_secret_nor_token(
    client,
    every_log,
    alice,
    bob,
    admin_user,
    embed_factory,
    settings,
    monkeypatch,
    pinned_rate_clock,
):
    settings.SIGMA_RATE_LIMIT = "3/60"
    embed = embed_factory(slug="sales")
    issued: list[str] = []

    # Page view, refresh endpoint, and the rate limit.
    client.force_login(alice)
    for _ in range(2):
        issued += tokens_in(client.get(embed.get_absolute_url()).content.decode())
    refresh = client.post(
        reverse("embeds:refresh", args=["sales"]), "{}", content_type="application/json"
    )
    issued += tokens_in(refresh.content.decode().replace("\\u0026", "&"))
    assert client.get(embed.get_absolute_url()).status_code == 429
    settings.SIGMA_RATE_LIMIT = "off"

    # Refusal.
    client.force_login(bob)
    assert client.get(embed.get_absolute_url()).status_code == 403

    # Admin: preview, credential pages, audit trail.
    client.force_login(admin_user)
    preview = client.post(
        reverse("admin:embeds_embed_preview"), {"user": alice.pk, "embed": embed.pk}
    )
    issued += tokens_in(preview.content.decode())
    for name, args in (
        ("admin:embeds_credential_changelist", []),
        ("admin:embeds_credential_change", [embed.credential_id]),
        ("admin:embeds_accessrecord_changelist", []),
        ("admin:embeds_embed_change", [embed.pk]),
    ):
        page = client.get(reverse(name, args=args))
        assert page.status_code == 200, name
        assert CANARY_SECRET not in page.content.decode()

    # Commands.
    out, err = StringIO(), StringIO()
    call_command("sigma_embed_url", "--user", "alice", "--embed", "sales", stdout=out, stderr=err)
    issued += tokens_in(out.getvalue())
    call_command("sigma_prune_audit", stdout=StringIO(), stderr=StringIO())
    try:  # test settings allow the http emulator origin, which sigma_check flags
        call_command("sigma_check", stdout=StringIO(), stderr=StringIO())
    except CommandError:
        pass

    # Failed sign-in (the password must not be logged either).
    client.logout()
    client.post("/accounts/login/", {"username": "alice", "password": "Guess-" + CANARY_SECRET})

    # Revoke, then a page view refused for it.
    services.revoke_credential(credential=embed.credential, reason="leak drill")
    client.force_login(alice)
    assert client.get(embed.get_absolute_url()).status_code == 503

    # Wrong encryption key: signing refuses and the log names the credential.
    services.activate_credential(credential=embed.credential)
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    assert client.get(embed.get_absolute_url()).status_code == 503

    logged = "\n".join(every_log.texts)
    assert len(issued) >= 5, issued
    assert AccessRecord.objects.filter(outcome="issued").count() >= 5
    assert "SELECT" in logged  # SQL was really captured
    assert "rule=credential_broken" in logged
    assert f"credential={embed.credential.name!r}" in logged
    assert CANARY_SECRET not in logged
    for token in issued:
        assert token not in logged
        assert token.split(".")[2] not in logged  # not even the signature part
