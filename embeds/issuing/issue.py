"""The one path from a user and an embed to a signed, recorded URL.

The page view, the refresh endpoint, the template tag, the admin preview and
``sigma_embed_url`` all call :func:`issue_embed_url`: rate limit, access rules,
the cached snapshot (one retry read afresh), the secret, signing, and the audit
row whose insert is the commit point (``embeds.issuing.audit``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from embeds.exceptions import (
    ChangedWhileSigning,
    CredentialBroken,
    EmbedDisabled,
    EmbedMisconfigured,
    Refusal,
)
from embeds.issuing import oauth, ratelimit, snapshots
from embeds.issuing.access import check_access, check_previewable, check_visible, token_lifetime
from embeds.issuing.audit import IssueRequest, record_issue, record_refusal
from embeds.issuing.identity import SigmaIdentity
from embeds.issuing.snapshots import EmbedSnapshot
from embeds.models import (
    AccessRecord,
    Credential,
    Embed,
)
from embeds.observability import metrics
from embeds.protocol import signing
from embeds.protocol.controls import ControlValue, parse_control_value

if TYPE_CHECKING:
    from embeds.issuing.audit import AnyUser

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
    header: dict[str, str]
    claims: dict[str, Any]  # as signing.build_claims made them

    @property
    def redacted_url(self) -> str:
        return signing.redact_url(self.url)


@sensitive_variables("secret", "token", "url")
def issue_embed_url(
    *,
    user: AnyUser,
    embed: Embed | EmbedSnapshot,
    source: str,
    client_ip: str | None = None,
    ttl: int | None = None,
    now: datetime | None = None,
    actor: AnyUser | None = None,
    control_values: list[tuple[str, ControlValue]] | None = None,
    counted: int | None = None,
) -> SignedEmbed:
    """Sign a new single-use URL for ``user`` on ``embed``, and record it.

    Claims come only from the user's identity (``check_access``), never from
    request input. Refusals (``embeds.exceptions``) are recorded with their rule
    and re-raised. ``actor`` is the admin previewing as ``user``; such tokens are
    marked as previews.

    ``embed`` is a snapshot read through the shared cache (the page and the
    refresh endpoint, ``embeds.issuing.snapshots``) or an ``Embed`` (admin preview,
    command), which is read afresh from the database. The URL is returned only
    once its audit row is inserted, and that insert succeeds only while the
    credential is active with the secret that signed and the embed is enabled
    (:func:`record_issue`): once a revoke has returned, no process issues another
    URL with that credential. Signers never wait for one another.

    ``counted`` is the signing-rate counter after this attempt when the caller
    already counted it in its cache round trip (``snapshots.lookup``).
    """
    asked = IssueRequest(user, source, client_ip, now or timezone.now(), actor)
    target = embed if isinstance(embed, EmbedSnapshot) else None
    attempt = partial(_sign_and_record, asked=asked, ttl=ttl, control_values=control_values or [])
    try:
        # Abuse limit first, on every path, so refused attempts count too.
        ratelimit.check_issue_rate(
            user=user, actor=actor, now=asked.now.timestamp(), counted=counted
        )
        signed, target = _issue_with_one_retry(target, pk=embed.pk, user=user, attempt=attempt)
    except Refusal as refusal:
        record_refusal(refusal, asked, embed=embed)
        raise
    if logger.isEnabledFor(logging.INFO):  # nothing to build when the level is off
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
    target: EmbedSnapshot | None,
    *,
    pk: int,
    user: AnyUser,
    attempt: Callable[[EmbedSnapshot], SignedEmbed | None],
) -> tuple[SignedEmbed, EmbedSnapshot]:
    """One attempt with the cached snapshot (if any), then one read afresh."""
    if target is not None:
        signed = attempt(target)
        if signed is not None:
            return signed, target
        # The database disagreed with the cached snapshot (a write the cache has
        # not caught up with, or one racing this request): move the generation on,
        # so no other request signs from that snapshot either.
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
    asked: IssueRequest,
    ttl: int | None,
    control_values: list[tuple[str, ControlValue]],
) -> SignedEmbed | None:
    """Check, sign and record once; None when the database refused the record.

    A cached snapshot whose secret does not decrypt also gives None: the stored
    ciphertext may have been re-encrypted since, so the caller reads afresh.
    """
    user, source, now = asked.user, asked.source, asked.now
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
    # The row as column values: no model instance on the way to the INSERT.
    record = {
        "created_at": now,
        "outcome": AccessRecord.Outcome.ISSUED,
        "source": source,
        "is_preview": source == AccessRecord.Source.PREVIEW,
        "user_id": user.pk,
        "username": user.get_username(),
        "actor_id": getattr(asked.actor, "pk", None),
        "sigma_email": identity.email,
        "embed_id": target.pk,
        "embed_slug": target.slug,
        "credential_id": target.credential.pk,
        "client_id": target.credential.client_id,
        "jti": claims["jti"],
        "expires_at": expires_at,
        "client_ip": asked.client_ip,
    }
    # The commit point (record_issue): a URL whose row the database refused was
    # signed from rows a revoke or a switch-off has changed since; it is dropped.
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
) -> tuple[dict[str, Any], str]:
    """The claims and the signed URL for ``identity`` on ``target`` (no I/O).

    ``oauth_claims`` are already encrypted (``embeds.protocol.oauth``). The connection is the
    most specific one set: the user's or their groups' mapping, then the embed's.
    Control defaults are encoded by their type (``embeds.protocol.controls``).
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


def refuse_unknown_embed(
    *,
    user: AnyUser,
    source: str,
    client_ip: str | None = None,
    now: datetime | None = None,
    counted: int | None = None,
) -> Refusal:
    """The refusal for a slug that names no embed, counted and recorded like a real one.

    It is exactly what a user who shares no team with an existing embed gets
    (rate limit first, then the user-level rules, then ``no_team``), so a 403 and
    a 404 never tell which slugs exist.
    """
    asked = IssueRequest(user, source, client_ip, now or timezone.now())
    try:
        ratelimit.check_issue_rate(user=user, now=asked.now.timestamp(), counted=counted)
        check_visible(user=user, embed=None)
    except Refusal as refusal:
        record_refusal(refusal, asked, embed=None)
        return refusal
    raise AssertionError("check_visible accepted a missing embed")  # pragma: no cover
