"""The audit rows of issuing: the issued URL's commit point and recorded refusals."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Field

from embeds.conf import sigma_settings
from embeds.exceptions import (
    IdentityConflict,
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

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import User

    # ``request.user`` as Django types it. The anonymous user is refused like a
    # deactivated one (``access.check_visible``), and recorded without a user row.
    AnyUser = User | AnonymousUser

logger = logging.getLogger(__name__)


def user_row(user: AnyUser | None) -> User | None:
    """The user row an audit row may point at: None for nobody, the anonymous user
    and an unsaved user (none of which has a row)."""
    if user is None or isinstance(user, AnonymousUser) or not user.pk:
        return None
    return user


@dataclass(frozen=True)
class IssueRequest:
    """Who asked for a signed URL, by which path, from where and when: what each
    signing attempt and the request's audit row (issued or refused) share.

    ``actor`` is the admin previewing as ``user`` (None otherwise).
    """

    user: AnyUser
    source: str
    client_ip: str | None
    now: datetime
    actor: AnyUser | None = None


@functools.cache
def _audit_fields() -> tuple[Field[Any, Any], ...]:
    """AccessRecord's columns but the primary key, in the order of the INSERT."""
    return tuple(f for f in AccessRecord._meta.local_concrete_fields if not f.primary_key)


@functools.cache
def _issue_sql(vendor: str, check_blocked: bool) -> str:
    """The text of the commit point's ``INSERT ... SELECT``, built once per process
    (per database vendor and identity resolver) instead of once per URL."""
    fields = _audit_fields()
    quote = connection.ops.quote_name
    postgres = vendor == "postgresql"
    # Parameters in a SELECT list have no type on PostgreSQL: cast to the column's.
    values = ", ".join(
        f"CAST(%s AS {cast(Any, f).cast_db_type(connection)})" if postgres else "%s" for f in fields
    )
    # S608: the SQL text holds only table and column names from the models; every
    # value is a parameter.
    not_blocked = ""
    if check_blocked:
        not_blocked = (
            f"AND NOT EXISTS (SELECT 1 FROM {quote(SigmaProfile._meta.db_table)} p"  # noqa: S608
            " WHERE p.user_id = %s AND p.is_blocked = %s)"
        )
    return (
        f"INSERT INTO {quote(AccessRecord._meta.db_table)}"  # noqa: S608
        f" ({', '.join(quote(f.column) for f in fields)})"
        f" SELECT {values}"
        f" FROM {quote(Credential._meta.db_table)} c"
        f" JOIN {quote(Embed._meta.db_table)} e ON e.credential_id = c.id"
        " WHERE c.id = %s AND c.is_active = %s AND c.secret_fingerprint = %s"
        " AND e.id = %s AND e.is_enabled = %s "
        f"{not_blocked}{' FOR SHARE OF c, e' if postgres else ''}"
    )


def record_issue(
    record: AccessRecord | Mapping[str, object], *, target: EmbedSnapshot, user: AnyUser
) -> bool:
    """Insert the audit row of an issued URL if the database still allows it.

    This single ``INSERT ... SELECT`` is the commit point of issuing: it inserts
    the row only while the credential is active and still has the secret that
    signed (its fingerprint), the embed is enabled and still on that credential,
    and (with the default identity resolver) the user's mapping is not blocked.
    Returns whether the row was inserted; the URL must be discarded otherwise.

    ``record`` is the row: an unsaved ``AccessRecord``, or (the issuing path, which
    builds no model instance) its column values by attribute name (``user_id``...);
    a column left out is stored as its default.

    On PostgreSQL the credential and embed rows are read ``FOR SHARE``: signers do
    not block one another, but a revoke (``UPDATE``/``FOR UPDATE``) waits for the
    inserts in flight, and an insert that starts while a revoke is in flight waits
    for it and then sees the revoked row. So when a revoke returns, every URL
    issued with the credential already has its committed row, and no later insert
    succeeds. SQLite runs one write at a time, which gives the same order.
    """
    fields = _audit_fields()
    if isinstance(record, AccessRecord):
        params = [f.get_db_prep_save(f.pre_save(record, True), connection) for f in fields]
    else:
        params = [
            f.get_db_prep_save(
                record[f.attname] if f.attname in record else f.get_default(), connection
            )
            for f in fields
        ]
    check_blocked = sigma_settings.identity_resolver() is identity_from_mappings
    params += [target.credential.pk, True, target.credential.secret_fingerprint, target.pk, True]
    if check_blocked:
        params += [user.pk, True]
    with connection.cursor() as cursor:
        cursor.execute(_issue_sql(connection.vendor, check_blocked), params)
        inserted: bool = cursor.rowcount == 1
        return inserted


def record_refusal(
    refusal: Refusal, asked: IssueRequest, *, embed: Embed | EmbedSnapshot | None
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
        asked.user.pk,
        asked.source,
        credential.name if credential else "-",
        credential.client_id if credential else "-",
        getattr(asked.actor, "pk", "-"),
    )
    if isinstance(refusal, IdentityConflict):
        # Both usernames (the detail), for whoever fixes the mappings; never a token.
        logger.warning("Sigma identity conflict: %s", refusal.detail)
    metrics.count_refused(code=refusal.code, source=asked.source)
    return AccessRecord.objects.create(
        created_at=asked.now,
        outcome=AccessRecord.Outcome.REFUSED,
        rule=refusal.code,
        source=asked.source,
        is_preview=asked.source == AccessRecord.Source.PREVIEW,
        user=user_row(asked.user),
        username=asked.user.get_username(),
        actor=user_row(asked.actor),
        embed_id=embed.pk if embed else None,
        embed_slug=embed.slug if embed else "",
        credential_id=credential.pk if credential else None,
        client_id=credential.client_id if credential else "",
        client_ip=asked.client_ip,
    )
