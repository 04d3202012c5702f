"""Revoking a credential while other threads sign with it: once the revoke has
committed, no further token is issued for it (the audit INSERT ... SELECT reads the
credential row FOR SHARE and inserts only while it is active; docs/architecture.md).
Needs PostgreSQL: SQLite has no row locks."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection

from embeds import issuing, services
from embeds.exceptions import CredentialInactive
from embeds.models import AccessRecord, Credential, Embed

WORKERS = 6
BEFORE = 30  # tokens to issue before revoking
AFTER = 60  # refusals to see after the revoke committed

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")),
    reason="row locking is only meaningful on PostgreSQL: run with "
    "DATABASE_URL=postgres://... (CI's second pass does)",
)


@pytest.mark.django_db(transaction=True)
def test_no_token_issued_after_revoke_commits(settings, alice, embed_factory):
    settings.SIGMA_RATE_LIMIT = "off"
    embed = embed_factory()
    revoked = threading.Event()
    enough_before = threading.Event()
    enough_after = threading.Event()
    lock = threading.Lock()
    issued_before: list[str] = []
    issued_after_commit: list[str] = []
    refused_after: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        # Fetched once: its credential stays "active" in memory, so only the
        # service's own locked re-read of the row can notice the revoke.
        stale = Embed.objects.select_related("credential").get(pk=embed.pk)
        try:
            while not enough_after.is_set():
                # Read before the call: a call that *starts* after the commit must fail.
                started_after_commit = revoked.is_set()
                try:
                    signed = issuing.issue_embed_url(
                        user=alice, embed=stale, source=AccessRecord.Source.PAGE
                    )
                except CredentialInactive:
                    with lock:
                        refused_after.append("x")
                        if started_after_commit and len(refused_after) >= AFTER:
                            enough_after.set()
                    continue
                with lock:
                    (issued_after_commit if started_after_commit else issued_before).append(
                        signed.jti
                    )
                    if len(issued_before) >= BEFORE:
                        enough_before.set()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
            enough_before.set()
            enough_after.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    assert enough_before.wait(timeout=60), "workers did not issue tokens"
    services.revoke_credential(credential=embed.credential, reason="concurrency drill")
    revoked.set()  # the revoke's transaction has committed
    assert enough_after.wait(timeout=60), "workers did not see the revoke"
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert issued_after_commit == []
    credential = Credential.objects.get(pk=embed.credential_id)
    issued = AccessRecord.objects.filter(credential=credential, outcome="issued")
    # Every issued record predates the revocation; every later attempt was refused.
    assert not issued.filter(created_at__gt=credential.revoked_at).exists()
    assert issued.count() == len(issued_before) >= BEFORE
    print(
        f"\n{WORKERS} threads: {len(issued_before)} tokens before the revoke committed, "
        f"{len(refused_after)} refusals, {len(issued_after_commit)} tokens after it"
    )
