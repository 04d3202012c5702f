"""Every state change around credentials, and the one path that issues a signed URL.

The page view, the refresh endpoint, the admin preview and ``sigma_embed_url``
all call :func:`issue_embed_url`; revoke, re-activate and secret replacement are
one function each, so every path records the same facts.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import metrics, oauth, ratelimit, remote, signing, snapshots
from .access import check_access, check_previewable, check_visible, token_lifetime
from .conf import sigma_settings
from .controls import ControlValue, parse_control_value
from .exceptions import (
    ChangedWhileSigning,
    CredentialBroken,
    EmbedDisabled,
    EmbedMisconfigured,
    Refusal,
)
from .identity import SigmaIdentity, identity_from_mappings
from .models import (
    AccessRecord,
    Credential,
    Embed,
    EmbedErrorReport,
    SecurityEvent,
    SigmaProfile,
)
from .redaction import redact_untrusted
from .snapshots import EmbedSnapshot

logger = logging.getLogger(__name__)

# last_used_at is informational; writing it on every view would turn every page
# view into a credential-row update, so it is refreshed at most this often.
LAST_USED_GRANULARITY = timedelta(minutes=1)
# credential pk -> time.monotonic() of this process's last touch_last_used.
_last_touched: dict[int, float] = {}


@dataclass(frozen=True)
class SignedEmbed:
    """A freshly signed, single-use embed URL and what went into it."""

    url: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    header: dict
    claims: dict

    @property
    def redacted_url(self) -> str:
        return signing.redact_url(self.url)


@sensitive_variables("secret", "token", "url")
def issue_embed_url(
    *,
    user,
    embed: Embed | EmbedSnapshot,
    source: str,
    client_ip: str | None = None,
    ttl: int | None = None,
    now: datetime | None = None,
    actor=None,
    control_values: list[tuple[str, ControlValue]] | None = None,
) -> SignedEmbed:
    """Sign a new single-use URL for ``user`` on ``embed``, and record it.

    Claims come only from the user's identity (``check_access``), never from
    request input. Refusals (``embeds.exceptions``) are recorded with their rule
    and re-raised. ``actor`` is the admin previewing as ``user``; such tokens are
    marked as previews.

    ``embed`` is a snapshot read through the shared cache (the page and the
    refresh endpoint, ``embeds.snapshots``) or an ``Embed`` (admin preview,
    command), which is read afresh from the database. The URL is returned only
    once its audit row is inserted, and that insert succeeds only while the
    credential is active with the secret that signed and the embed is enabled
    (:func:`record_issue`): once a revoke has returned, no process issues another
    URL with that credential. Signers never wait for one another.
    """
    now = now or timezone.now()
    target = embed if isinstance(embed, EmbedSnapshot) else None
    attempt = partial(
        _sign_and_record,
        user=user,
        source=source,
        client_ip=client_ip,
        ttl=ttl,
        now=now,
        actor=actor,
        control_values=control_values or [],
    )
    try:
        # Abuse limit first, on every path, so refused attempts count too.
        ratelimit.check_issue_rate(user=user, actor=actor, now=now.timestamp())
        signed, target = _issue_with_one_retry(target, pk=embed.pk, user=user, attempt=attempt)
    except Refusal as refusal:
        record_refusal(
            refusal,
            user=user,
            embed=embed,
            source=source,
            client_ip=client_ip,
            actor=actor,
            now=now,
        )
        raise
    logger.info(
        "Issued Sigma embed URL jti=%s embed=%s user=%s credential=%s source=%s actor=%s",
        signed.jti,
        target.slug,
        user.pk,
        target.credential.client_id,
        source,
        getattr(actor, "pk", "-"),
    )
    metrics.count_issued(source=source)
    return signed


def _issue_with_one_retry(
    target: EmbedSnapshot | None, *, pk: int, user, attempt
) -> tuple[SignedEmbed, EmbedSnapshot]:
    """One attempt with the cached snapshot (if any), then one read afresh."""
    if target is not None:
        signed = attempt(target)
        if signed is not None:
            return signed, target
        # The database disagreed with the cached snapshot (a write the cache has
        # not caught up with, or one racing this request).
        snapshots.bump_generation()
    target = _read_afresh(pk)
    signed = attempt(target)
    if signed is None:
        # Changed again between that read and the insert (a revoke racing this
        # request, usually): report the rule the rows now break.
        target = _read_afresh(pk)
        check_access(user=user, embed=target)
        raise ChangedWhileSigning(f"Embed {target.slug!r} changed while signing.")
    return signed, target


def _read_afresh(pk: int) -> EmbedSnapshot:
    target = snapshots.load_embed(pk=pk)
    if target is None:
        raise EmbedDisabled(f"Embed pk={pk} no longer exists.")
    return target


@sensitive_variables("secret", "url")
def _sign_and_record(
    target: EmbedSnapshot,
    *,
    user,
    source: str,
    client_ip: str | None,
    ttl: int | None,
    now: datetime,
    actor,
    control_values: list[tuple[str, ControlValue]],
) -> SignedEmbed | None:
    """Check, sign and record once; None when the database refused the record.

    A cached snapshot whose secret does not decrypt also gives None: the stored
    ciphertext may have been re-encrypted since, so the caller reads afresh.
    """
    identity = check_access(user=user, embed=target)
    if source == AccessRecord.Source.PREVIEW:
        check_previewable(identity=identity, embed=target)
    try:
        secret = snapshots.signing_secret(target.credential)
    except CredentialBroken:
        if target.generation is None:
            raise
        return None
    claims, url = sign_url(
        target,
        identity=identity,
        secret=secret,
        now=now,
        ttl=token_lifetime(embed=target.embed, source=source, ttl=ttl),
        control_values=control_values,
        # OAuth tokens come from the host's provider, never from the request.
        oauth_claims=oauth.oauth_claims_for(user, target.embed, secret=secret),
    )
    expires_at = datetime.fromtimestamp(claims["exp"], tz=UTC)
    record = AccessRecord(
        created_at=now,
        outcome=AccessRecord.Outcome.ISSUED,
        source=source,
        is_preview=source == AccessRecord.Source.PREVIEW,
        user=user,
        username=user.get_username(),
        actor=actor,
        sigma_email=identity.email,
        embed_id=target.pk,
        embed_slug=target.slug,
        credential_id=target.credential.pk,
        client_id=target.credential.client_id,
        jti=claims["jti"],
        expires_at=expires_at,
        client_ip=client_ip,
    )
    if not record_issue(record, target=target, user=user):
        return None
    touch_last_used(target.credential.pk, now=now)
    return SignedEmbed(
        url=signing.SignedURL(url),  # repr() hides the token (tracebacks, debug logs)
        jti=claims["jti"],
        issued_at=now,
        expires_at=expires_at,
        header=signing.build_header(target.credential.client_id),
        claims=claims,
    )


@sensitive_variables("secret", "token", "url")
def sign_url(
    target: EmbedSnapshot,
    *,
    identity: SigmaIdentity,
    secret: str,
    now: datetime,
    ttl: int,
    control_values: list[tuple[str, ControlValue]],
    oauth_claims: dict[str, Any] | None = None,
) -> tuple[dict, str]:
    """The claims and the signed URL for ``identity`` on ``target`` (no I/O).

    ``oauth_claims`` are already encrypted (``embeds.oauth``). The connection is the
    most specific one set: the user's or their groups' mapping, then the embed's.
    Control defaults are encoded by their type (``embeds.controls``).
    """
    client_id = target.credential.client_id
    try:
        claims = signing.build_claims(
            client_id=client_id,
            email=identity.email,
            account_type=identity.account_type,
            teams=list(identity.teams),
            user_attributes=identity.attributes,
            now=int(now.timestamp()),
            ttl=ttl,
            jti=str(uuid.uuid4()),
            internal=identity.internal,
            first_name=identity.first_name,
            last_name=identity.last_name,
            eval_connection_id=identity.eval_connection_id or target.embed.eval_connection_id,
            **(oauth_claims or {}),
        )
        token = signing.sign_token(claims, secret=secret, client_id=client_id)
        defaults = [
            (c.control_id, parse_control_value(c.type, c.default_value))
            for c in target.controls
            if c.default_value
        ]
        url = signing.build_embed_url(
            target.embed.content.url,
            token=token,
            interface_options=target.embed.interface_options(),
            control_values=_merge_controls(defaults, control_values),
        )
    except signing.SigningError as exc:
        raise EmbedMisconfigured(f"Embed {target.slug!r}: {exc}.") from None
    except ValidationError:  # a stored control default no longer fits its type
        detail = f"Embed {target.slug!r}: a control default does not fit its type."
        raise EmbedMisconfigured(detail) from None
    return claims, url


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


def touch_last_used(credential_pk: int, *, now: datetime) -> None:
    """Set ``last_used_at`` at most once per LAST_USED_GRANULARITY across all processes.

    Informational only. Each process asks the shared cache at most once per
    interval (a local clock), and the cache elects one request per interval, so
    the credential row is written once a minute, not on every view.
    """
    interval = LAST_USED_GRANULARITY.total_seconds()
    tick = time.monotonic()
    if tick - _last_touched.get(credential_pk, -interval) < interval:
        return
    _last_touched[credential_pk] = tick
    key = f"{snapshots.KEY_PREFIX}:last-used:{credential_pk}"
    if cache.add(key, 1, timeout=int(interval)):
        Credential.objects.filter(pk=credential_pk).update(last_used_at=now)


def _merge_controls(
    defaults: list[tuple[str, ControlValue]], overrides: list[tuple[str, ControlValue]]
) -> list[tuple[str, ControlValue]]:
    merged = dict(defaults)
    merged.update(overrides)
    return list(merged.items())


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


# --- Errors reported from inside the iframe ---------------------------------------

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")


def _clean_report_text(value: str, limit: int | None) -> str:
    # A report is browser input; it must never carry a token, even one without
    # the usual "eyJ" prefix.
    text = redact_untrusted(value)
    return _CONTROL_CHARS.sub(" ", text).strip()[:limit]


def record_embed_error(*, user, embed: Embed, code: str, message: str = "") -> EmbedErrorReport:
    """Store a ``workbook:error`` the browser reported for ``embed``.

    ``code`` and ``message`` come from a cross-origin frame via the browser: every
    signed token in them is replaced, control characters become spaces, and both
    are cut to their column lengths. Refuses (``ValueError``) an empty code.
    """
    code_limit = EmbedErrorReport._meta.get_field("code").max_length
    message_limit = EmbedErrorReport._meta.get_field("message").max_length
    clean_code = _clean_report_text(code, code_limit)
    if not clean_code:
        raise ValueError("An error report needs a code.")
    report = EmbedErrorReport.objects.create(
        embed=embed,
        embed_slug=embed.slug,
        user=user,
        username=user.get_username(),
        code=clean_code,
        message=_clean_report_text(message, message_limit),
    )
    logger.info(
        "Sigma embed error reported id=%s embed=%s user=%s code=%r",
        report.pk,
        embed.slug,
        user.pk,
        clean_code[:40],
    )
    return report


# --- Credential lifecycle -------------------------------------------------------


@sensitive_variables("secret")
def create_credential(
    *,
    name: str,
    client_id: str,
    secret: str,
    description: str = "",
    owner_email: str = "",
    owner_is_admin: bool = False,
    embed_privilege: bool = True,
    api_privilege: bool = False,
    actor=None,
) -> Credential:
    """Create credentials; validates everything before writing; recorded as an event.

    ``embed_privilege`` and ``api_privilege`` record what Sigma granted the client
    ID: only embed credentials sign URLs, only API credentials ask Sigma's REST API.
    """
    if not (embed_privilege or api_privilege):
        raise ValidationError(
            "Credentials need the embed privilege, the REST API privilege, or both.",
            code="no_privilege",
        )
    credential = Credential(
        name=name,
        client_id=client_id,
        description=description,
        owner_email=owner_email,
        owner_is_admin=owner_is_admin,
        embed_privilege=embed_privilege,
        api_privilege=api_privilege,
        secret_rotated_at=timezone.now(),
    )
    credential.set_secret(secret)
    credential.full_clean()
    with transaction.atomic():
        credential.save()
        record_security_event(
            SecurityEvent.Kind.CREDENTIAL_CREATED, credential=credential, actor=actor
        )
    logger.info("Created Sigma credential %s (%s)", credential.name, credential.client_id)
    return credential


def revoke_credential(*, credential: Credential, actor=None, reason: str) -> Credential:
    """Switch credentials off: the next request for any embed using them is refused.

    The credential's ``revoked_*`` fields describe the current revocation; the
    event trail (``SecurityEvent``) keeps every one.
    """
    if not reason or not reason.strip():
        raise ValueError("A reason is required to revoke credentials.")
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        locked.is_active = False
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor if getattr(actor, "pk", None) else None
        locked.revoked_reason = reason.strip()
        locked.save(
            update_fields=["is_active", "revoked_at", "revoked_by", "revoked_reason", "updated_at"]
        )
        record_security_event(
            SecurityEvent.Kind.CREDENTIAL_REVOKED,
            credential=locked,
            actor=actor,
            reason=locked.revoked_reason,
            now=locked.revoked_at,
        )
    logger.warning(
        "Revoked Sigma credential %s by user=%s", locked.name, getattr(actor, "pk", None)
    )
    return locked


def activate_credential(*, credential: Credential, actor=None, reason: str = "") -> Credential:
    """Re-activate revoked credentials.

    The credential's current-revocation fields are cleared; the revocation and this
    re-activation both stay in the event trail.
    """
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        locked.is_active = True
        locked.revoked_at = None
        locked.revoked_by = None
        locked.revoked_reason = ""
        locked.save(
            update_fields=["is_active", "revoked_at", "revoked_by", "revoked_reason", "updated_at"]
        )
        record_security_event(
            SecurityEvent.Kind.CREDENTIAL_REACTIVATED,
            credential=locked,
            actor=actor,
            reason=reason.strip(),
        )
    logger.warning(
        "Re-activated Sigma credential %s by user=%s", locked.name, getattr(actor, "pk", None)
    )
    return locked


@sensitive_variables("secret")
def replace_credential_secret(*, credential: Credential, secret: str, actor=None) -> Credential:
    """Replace the embed secret; the old value is overwritten, not kept."""
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        locked.set_secret(secret)
        locked.secret_rotated_at = timezone.now()
        locked.save(
            update_fields=["secret", "secret_fingerprint", "secret_rotated_at", "updated_at"]
        )
        # Names the credential only: never the secret or its fingerprint.
        record_security_event(
            SecurityEvent.Kind.SECRET_REPLACED,
            credential=locked,
            actor=actor,
            now=locked.secret_rotated_at,
        )
    logger.warning(
        "Replaced the secret of Sigma credential %s by user=%s",
        locked.name,
        getattr(actor, "pk", None),
    )
    return locked


def refuse_unknown_embed(
    *, user, source: str, client_ip: str | None = None, now: datetime | None = None
) -> Refusal:
    """The refusal for a slug that names no embed, counted and recorded like a real one.

    It is exactly what a user who shares no team with an existing embed gets
    (rate limit first, then the user-level rules, then ``no_team``), so a 403 and
    a 404 never tell which slugs exist.
    """
    now = now or timezone.now()
    try:
        ratelimit.check_issue_rate(user=user, now=now.timestamp())
        check_visible(user=user, embed=None)
    except Refusal as refusal:
        record_refusal(refusal, user=user, embed=None, source=source, client_ip=client_ip, now=now)
        return refusal
    raise AssertionError("check_visible accepted a missing embed")  # pragma: no cover


# --- Registry sync from Sigma ----------------------------------------------------------


@dataclass(frozen=True)
class RegistrySyncResult:
    added: int
    renamed: int
    linked: int
    retired: int
    kept: tuple[str, ...]  # retirements skipped (still used, or the name is taken)


def sync_registries(*, changes, actor=None) -> RegistrySyncResult:
    """Apply a plan from ``embeds.remote.plan_registry_sync`` in one transaction.

    Adds and links record Sigma's id; renames change the host's name in place, so
    every embed and mapping that uses the row follows Sigma's new name; a row is
    retired (deleted) only while nothing uses it. A rename onto a name another host
    row already has is skipped and reported, never merged.
    """
    counts = {"add": 0, "rename": 0, "link": 0, "retire": 0}
    kept: list[str] = []
    with transaction.atomic():
        for change in changes:
            model = remote.registry_model(change.kind)
            if change.action == "add":
                _, created = model.objects.get_or_create(
                    name=change.name, defaults={"sigma_id": change.sigma_id}
                )
                counts["add"] += created
            elif change.action == "link":
                counts["link"] += model.objects.filter(name=change.name).update(
                    sigma_id=change.sigma_id
                )
            elif change.action == "rename":
                if model.objects.filter(name=change.name).exists():
                    kept.append(f"{change.kind} {change.old_name!r}: {change.name!r} is taken")
                    continue
                counts["rename"] += model.objects.filter(
                    sigma_id=change.sigma_id, name=change.old_name
                ).update(name=change.name)
            elif change.action == "retire":
                row = model.objects.filter(name=change.name).first()
                if row is None:
                    continue
                users = remote.registry_users(change.kind, row)
                if users:
                    kept.append(f"{change.kind} {change.name!r}: used by {', '.join(users)}")
                    continue
                row.delete()
                counts["retire"] += 1
        # Renames and links are QuerySet updates, which send no signals: the cached
        # identities would keep the old team names until they expire.
        snapshots.invalidate()
    logger.warning(
        "Synced Sigma registries by user=%s: %s added, %s renamed, %s linked, %s retired, %s kept",
        getattr(actor, "pk", None),
        counts["add"],
        counts["rename"],
        counts["link"],
        counts["retire"],
        len(kept),
    )
    return RegistrySyncResult(
        added=counts["add"],
        renamed=counts["rename"],
        linked=counts["link"],
        retired=counts["retire"],
        kept=tuple(kept),
    )


# --- Security events and switches -------------------------------------------------
#
# One function per switch (embeds on/off, which credential signs an embed, a user's
# kill switch), used by the admin forms and actions, the commands and the config
# import. Each writes its row and its ``SecurityEvent`` in one transaction.


def _actor_name(actor) -> str:
    if getattr(actor, "pk", None):
        return actor.get_username()
    return ""


def _target(kind: str, *, credential=None, embed=None, subject=None) -> str:
    """The event's target as named now (the row may be renamed or deleted later)."""
    if kind.startswith("user_") and subject is not None:
        return subject.get_username()
    if kind.startswith("embed_") and embed is not None:
        return f"{embed.title} ({embed.slug})"
    if credential is not None:
        return str(credential)  # name and client ID, never the secret
    return ""


def record_security_event(
    kind: str,
    *,
    actor=None,
    credential: Credential | None = None,
    embed: Embed | None = None,
    subject=None,
    reason: str = "",
    detail: str = "",
    now: datetime | None = None,
) -> SecurityEvent:
    """Append one event to the security trail (call inside the switch's transaction)."""
    return SecurityEvent.objects.create(
        created_at=now or timezone.now(),
        kind=kind,
        target=_target(kind, credential=credential, embed=embed, subject=subject)[:300],
        credential=credential,
        embed=embed,
        subject=subject if getattr(subject, "pk", None) else None,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_actor_name(actor),
        reason=reason,
        detail=detail[:300],
    )


def disable_embed(*, embed: Embed, actor=None, reason: str) -> Embed:
    """Switch an embed off: every view of it is refused from the next request."""
    if not reason or not reason.strip():
        raise ValueError("A reason is required to disable an embed.")
    with transaction.atomic():
        locked = Embed.objects.select_for_update().get(pk=embed.pk)
        locked.is_enabled = False
        locked.disabled_reason = reason.strip()
        locked.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
        record_security_event(
            SecurityEvent.Kind.EMBED_DISABLED,
            embed=locked,
            credential=locked.credential,
            actor=actor,
            reason=locked.disabled_reason,
        )
    logger.warning("Disabled Sigma embed %s by user=%s", locked.slug, getattr(actor, "pk", None))
    return locked


def enable_embed(*, embed: Embed, actor=None, reason: str = "") -> Embed:
    """Switch an embed back on; its disabled reason is cleared (the trail keeps it)."""
    with transaction.atomic():
        locked = Embed.objects.select_for_update().get(pk=embed.pk)
        locked.is_enabled = True
        locked.disabled_reason = ""
        locked.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
        record_security_event(
            SecurityEvent.Kind.EMBED_ENABLED,
            embed=locked,
            credential=locked.credential,
            actor=actor,
            reason=reason.strip(),
        )
    logger.warning("Enabled Sigma embed %s by user=%s", locked.slug, getattr(actor, "pk", None))
    return locked


def switch_embed_credential(*, embed: Embed, credential: Credential, actor=None) -> Embed:
    """Sign ``embed`` with ``credential`` from its next request.

    Tokens already handed out stay valid until they are used or expire. Recorded
    on the new credential's trail, naming the previous one.
    """
    with transaction.atomic():
        locked = Embed.objects.select_for_update().select_related("credential").get(pk=embed.pk)
        previous = locked.credential
        if previous.pk == credential.pk:
            return locked
        locked.credential = credential
        locked.save(update_fields=["credential", "updated_at"])
        record_security_event(
            SecurityEvent.Kind.EMBED_CREDENTIAL_SWITCHED,
            embed=locked,
            credential=credential,
            actor=actor,
            detail=f"Signs with {credential} (was {previous}).",
        )
    logger.warning(
        "Sigma embed %s now signs with %s (was %s) by user=%s",
        locked.slug,
        credential.client_id,
        previous.client_id,
        getattr(actor, "pk", None),
    )
    return locked


def save_embed(*, embed: Embed, actor=None) -> Embed:
    """Create or update ``embed`` from a validated form; switches go through their services.

    The plain fields are saved as given. A change of ``is_enabled`` or of the
    credential is applied by :func:`disable_embed` / :func:`enable_embed` /
    :func:`switch_embed_credential`, so it is recorded exactly as from an action.
    Many-to-many fields (teams) are the caller's (the form's ``save_m2m``).
    """
    with transaction.atomic():
        if embed._state.adding:  # a new embed: nothing to switch yet
            embed.save()
            return embed
        stored = Embed.objects.select_for_update().get(pk=embed.pk)
        enabled, reason, credential = embed.is_enabled, embed.disabled_reason, embed.credential
        # Save everything else with the stored switches, then flip them one by one.
        embed.is_enabled, embed.disabled_reason = stored.is_enabled, stored.disabled_reason
        embed.credential_id = stored.credential_id
        embed.save()
        if credential.pk != stored.credential_id:
            switch_embed_credential(embed=embed, credential=credential, actor=actor)
        if enabled != stored.is_enabled:
            if enabled:
                enable_embed(embed=embed, actor=actor)
            else:
                disable_embed(embed=embed, actor=actor, reason=reason)
        elif not enabled and reason != stored.disabled_reason:
            Embed.objects.filter(pk=embed.pk).update(disabled_reason=reason)
        embed.refresh_from_db()
    return embed


def block_user(*, user, actor=None, reason: str) -> SigmaProfile:
    """The per-user kill switch: refuse every embed for ``user`` from the next request."""
    if not reason or not reason.strip():
        raise ValueError("A reason is required to block a user's embeds.")
    with transaction.atomic():
        profile, _ = SigmaProfile.objects.select_for_update().get_or_create(user=user)
        profile.is_blocked = True
        profile.blocked_reason = reason.strip()
        profile.save(update_fields=["is_blocked", "blocked_reason"])
        record_security_event(
            SecurityEvent.Kind.USER_BLOCKED,
            subject=user,
            actor=actor,
            reason=profile.blocked_reason,
        )
    logger.warning(
        "Blocked Sigma embeds of user=%s by user=%s", user.pk, getattr(actor, "pk", None)
    )
    return profile


def unblock_user(*, user, actor=None, reason: str = "") -> SigmaProfile:
    """Lift the per-user kill switch; the blocked reason is cleared (the trail keeps it)."""
    with transaction.atomic():
        profile, _ = SigmaProfile.objects.select_for_update().get_or_create(user=user)
        profile.is_blocked = False
        profile.blocked_reason = ""
        profile.save(update_fields=["is_blocked", "blocked_reason"])
        record_security_event(
            SecurityEvent.Kind.USER_UNBLOCKED, subject=user, actor=actor, reason=reason.strip()
        )
    logger.warning(
        "Unblocked Sigma embeds of user=%s by user=%s", user.pk, getattr(actor, "pk", None)
    )
    return profile


def save_sigma_profile(*, profile: SigmaProfile, actor=None) -> SigmaProfile:
    """Create or update a user's Sigma mapping from a validated form.

    Like :func:`save_embed`: a change of the kill switch goes through
    :func:`block_user` / :func:`unblock_user`; teams are the caller's ``save_m2m``.
    """
    with transaction.atomic():
        stored = (
            SigmaProfile.objects.select_for_update().filter(pk=profile.pk).first()
            if profile.pk
            else None
        )
        blocked, reason = profile.is_blocked, profile.blocked_reason
        was_blocked = stored.is_blocked if stored is not None else False
        profile.is_blocked = was_blocked
        profile.blocked_reason = stored.blocked_reason if stored is not None else ""
        profile.save()
        if blocked and not was_blocked:
            block_user(user=profile.user, actor=actor, reason=reason)
        elif was_blocked and not blocked:
            unblock_user(user=profile.user, actor=actor)
        elif blocked and reason != profile.blocked_reason:
            SigmaProfile.objects.filter(pk=profile.pk).update(blocked_reason=reason)
        profile.refresh_from_db()
    return profile
