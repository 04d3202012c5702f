"""Revocation stays exact without queueing signers (embeds.services.record_issue).

The audit ``INSERT ... SELECT`` is the commit point of an issued URL: it inserts
only while the credential is active with the secret that signed and the embed is
enabled. A revoke that lands after the checks but before the insert therefore
refuses the URL. On PostgreSQL the rows are read ``FOR SHARE``: signers hold the
lock together, a revoke waits for the inserts in flight, and an insert after the
revoke sees it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import jwt
import pytest
from django.db import OperationalError, connection, transaction

from embeds import issuing, services
from embeds.exceptions import CredentialInactive, EmbedDisabled, UserBlocked
from embeds.issuing import audit as issuing_audit
from embeds.issuing import snapshots
from embeds.models import AccessRecord, Credential, Embed, SigmaProfile
from embeds.protocol import signing

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
NEW_SECRET = "a-brand-NEW-secret-9d8c7b6a5f4e3d2c1b0a"

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks are PostgreSQL's: run with DATABASE_URL=postgres://... (CI's second pass)",
)


def during_signing(monkeypatch, change) -> None:
    """Run ``change`` after the token is signed and before the audit insert."""
    sign = signing.sign_token

    def sign_then_change(*args, **kwargs):
        token = sign(*args, **kwargs)
        change()
        return token

    monkeypatch.setattr(signing, "sign_token", sign_then_change)


def cached(embed) -> snapshots.EmbedSnapshot:
    target = snapshots.embed_snapshot(slug=embed.slug)
    assert target.generation is not None
    return target


@pytest.mark.django_db
@pytest.mark.parametrize("through_cache", [True, False], ids=["page", "preview"])
def test_revoke_after_the_checks_refuses_the_url(monkeypatch, alice, embed_factory, through_cache):
    embed = embed_factory()
    during_signing(
        monkeypatch,
        lambda: services.revoke_credential(credential=embed.credential, reason="drill"),
    )
    with pytest.raises(CredentialInactive):
        issuing.issue_embed_url(
            user=alice, embed=cached(embed) if through_cache else embed, source="page"
        )
    assert not AccessRecord.objects.filter(outcome="issued").exists()
    assert AccessRecord.objects.get().rule == "credential_inactive"


@pytest.mark.django_db
def test_revoke_bypassing_the_service_after_the_checks_refuses_the_url(
    monkeypatch, alice, embed_factory
):
    embed = embed_factory()
    during_signing(
        monkeypatch,
        lambda: Credential.objects.filter(pk=embed.credential_id).update(is_active=False),
    )
    with pytest.raises(CredentialInactive):
        issuing.issue_embed_url(user=alice, embed=cached(embed), source="page")
    assert not AccessRecord.objects.filter(outcome="issued").exists()


@pytest.mark.django_db
def test_disable_after_the_checks_refuses_the_url(monkeypatch, alice, embed_factory):
    embed = embed_factory()
    during_signing(monkeypatch, lambda: Embed.objects.filter(pk=embed.pk).update(is_enabled=False))
    with pytest.raises(EmbedDisabled):
        issuing.issue_embed_url(user=alice, embed=cached(embed), source="page")
    assert not AccessRecord.objects.filter(outcome="issued").exists()


@pytest.mark.django_db
def test_block_after_the_checks_refuses_the_url(monkeypatch, alice, embed_factory):
    embed = embed_factory()
    during_signing(
        monkeypatch, lambda: SigmaProfile.objects.filter(user=alice).update(is_blocked=True)
    )
    with pytest.raises(UserBlocked):
        issuing.issue_embed_url(user=alice, embed=cached(embed), source="page")
    assert not AccessRecord.objects.filter(outcome="issued").exists()


@pytest.mark.django_db
def test_secret_replaced_after_signing_discards_the_old_url_and_signs_again(
    monkeypatch, alice, embed_factory
):
    embed = embed_factory()
    replaced = []

    def replace_once():
        if not replaced:
            replaced.append(True)
            services.replace_credential_secret(credential=embed.credential, secret=NEW_SECRET)

    during_signing(monkeypatch, replace_once)
    signed = issuing.issue_embed_url(user=alice, embed=cached(embed), source="page")
    token = signed.url.split(":jwt=")[1].split("&")[0]
    assert replaced == [True]
    assert jwt.decode(token, NEW_SECRET, algorithms=["HS256"], audience="sigmacomputing")
    assert list(AccessRecord.objects.filter(outcome="issued").values_list("jti", flat=True)) == [
        signed.jti
    ]


def _record(embed, user) -> AccessRecord:
    return AccessRecord(
        created_at=NOW,
        outcome=AccessRecord.Outcome.ISSUED,
        source=AccessRecord.Source.PAGE,
        user=user,
        username=user.username,
        embed_id=embed.pk,
        embed_slug=embed.slug,
        credential_id=embed.credential_id,
        client_id="client",
        jti="jti-1",
        expires_at=NOW,
        client_ip="10.0.0.7",
    )


CONDITIONS = {
    "allowed": (lambda e, u: None, True),
    "credential_revoked": (
        lambda e, u: Credential.objects.filter(pk=e.credential_id).update(is_active=False),
        False,
    ),
    "secret_changed": (
        lambda e, u: Credential.objects.filter(pk=e.credential_id).update(
            secret_fingerprint="0" * 12
        ),
        False,
    ),
    "embed_disabled": (lambda e, u: Embed.objects.filter(pk=e.pk).update(is_enabled=False), False),
    "embed_on_another_credential": ("switch", False),
    "user_blocked": (
        lambda e, u: SigmaProfile.objects.filter(user=u).update(is_blocked=True),
        False,
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CONDITIONS), ids=list(CONDITIONS))
def test_record_issue_inserts_only_while_the_database_allows(
    name, alice, embed_factory, credential_factory
):
    embed = embed_factory()
    target = snapshots.load_embed(pk=embed.pk)
    change, expected = CONDITIONS[name]
    if change == "switch":
        Embed.objects.filter(pk=embed.pk).update(credential=credential_factory())
    else:
        change(embed, alice)
    assert issuing_audit.record_issue(_record(embed, alice), target=target, user=alice) is expected
    assert AccessRecord.objects.count() == int(expected)
    if expected:
        row = AccessRecord.objects.get()
        assert (row.jti, row.client_ip, row.created_at, row.user) == (
            "jti-1",
            "10.0.0.7",
            NOW,
            alice,
        )


# --- PostgreSQL: who waits for whom ----------------------------------------------


def in_thread(work):
    """Run ``work`` on its own connection; return (thread, outcome list)."""
    outcome: list = []

    def run():
        try:
            outcome.append(work())
        except BaseException as exc:  # noqa: BLE001  (inspected by the test)
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def lock_timeout() -> None:
    # Turns "would wait for a lock" into an error: no wall-clock assertion needed.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '2s'")


def wait_until_a_backend_waits_for_a_lock() -> None:
    for _ in range(400):  # bounded: 20 s at most
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the insert never waited for the revoke's lock")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_signers_do_not_wait_for_each_other_but_a_revoke_waits_for_them(alice, embed_factory):
    embed = embed_factory()
    target = snapshots.load_embed(pk=embed.pk)
    holding = threading.Event()
    release = threading.Event()

    def first_signer():
        with transaction.atomic():
            inserted = issuing_audit.record_issue(_record(embed, alice), target=target, user=alice)
            holding.set()
            release.wait(timeout=60)
            return inserted

    first, first_outcome = in_thread(first_signer)
    assert holding.wait(timeout=60)
    try:

        def second_signer():
            with transaction.atomic():
                lock_timeout()
                record = _record(embed, alice)
                record.jti = "jti-2"
                return issuing_audit.record_issue(record, target=target, user=alice)

        thread, outcome = in_thread(second_signer)
        thread.join(timeout=60)
        assert outcome == [True]  # did not wait for the first signer's open transaction

        def revoke():
            with transaction.atomic():
                lock_timeout()
                services.revoke_credential(credential=embed.credential, reason="drill")

        thread, outcome = in_thread(revoke)
        thread.join(timeout=60)
        # The revoke cannot pass a signer whose insert has not committed yet.
        assert isinstance(outcome[0], OperationalError)
        assert Credential.objects.get(pk=embed.credential_id).is_active
    finally:
        release.set()
        first.join(timeout=60)
    assert first_outcome == [True]

    services.revoke_credential(credential=embed.credential, reason="drill")
    record = _record(embed, alice)
    record.jti = "jti-3"
    assert issuing_audit.record_issue(record, target=target, user=alice) is False
    assert sorted(AccessRecord.objects.values_list("jti", flat=True)) == ["jti-1", "jti-2"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_insert_waiting_on_a_revoke_sees_it(alice, embed_factory):
    embed = embed_factory()
    target = snapshots.load_embed(pk=embed.pk)
    revoking = threading.Event()
    release = threading.Event()

    def revoke():
        with transaction.atomic():
            services.revoke_credential(credential=embed.credential, reason="drill")
            revoking.set()
            release.wait(timeout=60)

    revoker, revoke_outcome = in_thread(revoke)
    assert revoking.wait(timeout=60)
    signer, outcome = in_thread(
        lambda: issuing_audit.record_issue(_record(embed, alice), target=target, user=alice)
    )
    wait_until_a_backend_waits_for_a_lock()
    release.set()  # the revoke commits while the insert waits for its lock
    revoker.join(timeout=60)
    signer.join(timeout=60)
    assert revoke_outcome == [None]
    assert outcome == [False]
    assert not AccessRecord.objects.exists()
