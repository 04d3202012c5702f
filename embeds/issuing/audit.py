"""The audit rows of issuing: the issued URL's commit point and recorded refusals."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from django.db import connection
from django.utils import timezone

from embeds.conf import sigma_settings
from embeds.exceptions import (
    Refusal,
)
from embeds.issuing.identity import identity_from_mappings
from embeds.issuing.snapshots import EmbedSnapshot
from embeds.models import (
    AccessRecord,
    Credential,
    Embed,
    SigmaProfile,
)
from embeds.observability import metrics

logger = logging.getLogger(__name__)


def record_issue(record: AccessRecord, *, target: EmbedSnapshot, user) -> bool:
    """Insert the audit row of an issued URL if the database still allows it.

    This single ``INSERT ... SELECT`` is the commit point of issuing: it inserts
    the row only while the credential is active and still has the secret that
    signed (its fingerprint), the embed is enabled and still on that credential,
    and (with the default identity resolver) the user's mapping is not blocked.
    Returns whether the row was inserted; the URL must be discarded otherwise.

    On PostgreSQL the credential and embed rows are read ``FOR SHARE``: signers do
    not block one another, but a revoke (``UPDATE``/``FOR UPDATE``) waits for the
    inserts in flight, and an insert that starts while a revoke is in flight waits
    for it and then sees the revoked row. So when a revoke returns, every URL
    issued with the credential already has its committed row, and no later insert
    succeeds. SQLite runs one write at a time, which gives the same order.
    """
    fields = [f for f in AccessRecord._meta.local_concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    # Parameters in a SELECT list have no type on PostgreSQL: cast to the column's.
    values = ", ".join(
        f"CAST(%s AS {cast(Any, f).cast_db_type(connection)})" if postgres else "%s" for f in fields
    )
    params = [f.get_db_prep_save(f.pre_save(record, True), connection) for f in fields]
    # S608: the SQL text holds only table and column names from the models; every
    # value is a parameter.
    not_blocked = ""
    if sigma_settings.identity_resolver() is identity_from_mappings:
        not_blocked = (
            f"AND NOT EXISTS (SELECT 1 FROM {quote(SigmaProfile._meta.db_table)} p"  # noqa: S608
            " WHERE p.user_id = %s AND p.is_blocked = %s)"
        )
    sql = (
        f"INSERT INTO {quote(AccessRecord._meta.db_table)}"  # noqa: S608
        f" ({', '.join(quote(f.column) for f in fields)})"
        f" SELECT {values}"
        f" FROM {quote(Credential._meta.db_table)} c"
        f" JOIN {quote(Embed._meta.db_table)} e ON e.credential_id = c.id"
        " WHERE c.id = %s AND c.is_active = %s AND c.secret_fingerprint = %s"
        " AND e.id = %s AND e.is_enabled = %s "
        f"{not_blocked}{' FOR SHARE OF c, e' if postgres else ''}"
    )
    params += [target.credential.pk, True, target.credential.secret_fingerprint, target.pk, True]
    if not_blocked:
        params += [user.pk, True]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def record_refusal(
    refusal: Refusal,
    *,
    user,
    embed: Embed | EmbedSnapshot | None,
    source: str,
    client_ip: str | None = None,
    actor=None,
    now: datetime | None = None,
) -> AccessRecord:
    """Record and log a refusal (its rule code, never a value)."""
    credential = embed.credential if embed is not None else None
    # Names the credential (name and client ID), so "credential_broken" says which
    # one did not decrypt; never a secret, ciphertext or token.
    logger.warning(
        "Refused Sigma embed URL rule=%s embed=%s user=%s source=%s credential=%r "
        "client_id=%s actor=%s",
        refusal.code,
        embed.slug if embed else "-",
        getattr(user, "pk", None),
        source,
        credential.name if credential else "-",
        credential.client_id if credential else "-",
        getattr(actor, "pk", "-"),
    )
    metrics.count_refused(code=refusal.code, source=source)
    return AccessRecord.objects.create(
        created_at=now or timezone.now(),
        outcome=AccessRecord.Outcome.REFUSED,
        rule=refusal.code,
        source=source,
        is_preview=source == AccessRecord.Source.PREVIEW,
        user=user if getattr(user, "pk", None) else None,
        username=user.get_username() if user is not None else "",
        actor=actor,
        embed_id=embed.pk if embed else None,
        embed_slug=embed.slug if embed else "",
        credential_id=credential.pk if credential else None,
        client_id=credential.client_id if credential else "",
        client_ip=client_ip,
    )
