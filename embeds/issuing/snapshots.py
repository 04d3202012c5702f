"""What the issuing path reads, as plain values kept in the shared cache.

A page view or a refresh needs the embed (URL, options, teams, controls), the
public fields of its credential and the user's Sigma identity. From the database
that is about ten statements; here it is one ``get`` per snapshot from Django's
default cache (Redis in production), under the current *generation*.

Every write that can change a snapshot moves the generation forward
(:func:`bump_generation`, from the model signals connected in
``EmbedsConfig.ready``, once at once and once after the commit), so a request
that starts after such a write has returned reads the database again. What the
cache may hold, and why staleness cannot grant access that was removed, is in
docs/architecture.md ("The issuing path").

Safety rules:

- the shared cache holds a secret's ciphertext, never the secret: it is decrypted
  in this process (:func:`signing_secret`) and kept in a per-process dict keyed by
  ciphertext, so a replaced secret or a re-encryption is a new key;
- the revocation of a credential and the disabling of an embed are checked again
  by the database at the audit insert (``services``): a stale snapshot can delay
  nothing there;
- a custom ``SIGMA_IDENTITY_RESOLVER`` reads data this module cannot watch, so its
  answers are never cached.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Model, TextField
from django.db.models.functions import Cast
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.views.decorators.debug import sensitive_variables
from encrypted_model_fields import fields as encrypted_fields

from embeds.conf import sigma_settings
from embeds.exceptions import ALL_REFUSALS, CredentialBroken, Refusal
from embeds.issuing.identity import SigmaIdentity, identity_for, identity_from_mappings
from embeds.models import (
    AccountType,
    Credential,
    Embed,
    EmbedControl,
    GroupMapping,
    SigmaProfile,
    SigmaProfileAttribute,
    Team,
    UserAttribute,
    secret_fingerprint,
)

logger = logging.getLogger(__name__)

# Bump the version when a snapshot's shape changes: processes of the old and the
# new release then never read each other's entries during a rolling deploy.
KEY_PREFIX = "sigma-issue:v1"
GENERATION_KEY = f"{KEY_PREFIX}:generation"
# Upper bound on the life of an entry, should a write ever bypass the signals
# (QuerySet.update, raw SQL): the kill switches are re-checked at the insert anyway.
SNAPSHOT_TTL = 300  # seconds
# Decrypted secrets kept by this process, at most (a site has a handful).
MAX_SECRETS = 64

_REFUSALS_BY_CODE = {refusal.code: refusal for refusal in ALL_REFUSALS}


# --- Generation -----------------------------------------------------------------


def current_generation() -> int | None:
    """The generation snapshots are stored under; None when the cache keeps nothing."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        # Evicted or never set: start from the clock, which is past every value
        # an earlier counter reached (one per write), so no old entry is reused.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        value = cache.get(GENERATION_KEY)
    return value


def bump_generation() -> None:
    """Make every cached snapshot unreachable: the next read goes to the database."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set (evicted): a fresh start is a new generation too
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)


def invalidate() -> None:
    """Bump the generation now and after the current transaction commits."""
    # Now: later reads in this transaction (and tests, whose transaction never
    # commits) see the change. After the commit: another process may have re-read
    # the old rows between the first bump and the commit and stored them under the
    # new generation; the second bump strands that entry.
    bump_generation()
    transaction.on_commit(bump_generation)


# --- Snapshots ------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialSnapshot:
    """The public fields of a credential, plus its ciphertext (never the secret)."""

    pk: int
    name: str
    client_id: str
    is_active: bool
    owner_email: str
    owner_is_admin: bool
    embed_privilege: bool
    secret_fingerprint: str
    ciphertext: str = field(repr=False)


@dataclass(frozen=True)
class ControlSnapshot:
    control_id: str
    default_value: str
    allow_from_query: bool
    type: str = "text"  # embeds.protocol.controls.ControlType


@dataclass(frozen=True)
class EmbedSnapshot:
    """An embed with everything signing reads. ``embed`` holds fields only: its
    relations are here as plain values and must not be followed (each would query)."""

    embed: Embed
    team_ids: frozenset[int]
    controls: tuple[ControlSnapshot, ...]
    credential: CredentialSnapshot
    generation: int | None

    @property
    def pk(self) -> int:
        return self.embed.pk

    @property
    def slug(self) -> str:
        return self.embed.slug


def _embed_key(generation: int, lookup: str, value) -> str:
    return f"{KEY_PREFIX}:{generation}:embed:{lookup}:{value}"


def _identity_key(generation: int, user_pk) -> str:
    return f"{KEY_PREFIX}:{generation}:identity:{user_pk}"


def load_embed(*, slug: str | None = None, pk: int | None = None) -> EmbedSnapshot | None:
    """Read an embed's snapshot from the database (three statements), or None."""
    lookup: dict[str, object] = {"slug": slug} if slug is not None else {"pk": pk}
    embed = Embed.objects.filter(**lookup).first()
    if embed is None:
        return None
    credential = (
        Credential.objects.filter(pk=embed.credential_id)
        # The stored text as is: a TextField output skips the decrypting converter.
        .annotate(ciphertext=Cast("secret", output_field=TextField()))
        .values(
            "pk",
            "name",
            "client_id",
            "is_active",
            "owner_email",
            "owner_is_admin",
            "embed_privilege",
            "secret_fingerprint",
            "ciphertext",
        )
        .get()
    )
    controls = EmbedControl.objects.filter(embed=embed).order_by("control_id")
    return EmbedSnapshot(
        embed=embed,
        team_ids=frozenset(
            Embed.teams.through.objects.filter(embed=embed).values_list("team_id", flat=True)
        ),
        controls=tuple(
            ControlSnapshot(c.control_id, c.default_value, c.allow_from_query, c.type)
            for c in controls
        ),
        credential=CredentialSnapshot(**credential),
        generation=None,
    )


def embed_snapshot(*, slug: str | None = None, pk: int | None = None) -> EmbedSnapshot | None:
    """The embed with this slug (or pk) through the cache; None if there is none.

    A missing embed is not cached: a new one is visible on its first request.
    """
    generation = current_generation()
    if generation is None:
        return load_embed(slug=slug, pk=pk)
    key = _embed_key(generation, "slug" if slug is not None else "pk", slug or pk)
    snapshot = cache.get(key)
    if snapshot is None:
        snapshot = load_embed(slug=slug, pk=pk)
        if snapshot is None:
            return None
        snapshot = _with_generation(snapshot, generation)
        cache.set(key, snapshot, timeout=SNAPSHOT_TTL)
    return snapshot


def _with_generation(snapshot: EmbedSnapshot, generation: int | None) -> EmbedSnapshot:
    return EmbedSnapshot(
        embed=snapshot.embed,
        team_ids=snapshot.team_ids,
        controls=snapshot.controls,
        credential=snapshot.credential,
        generation=generation,
    )


def identity_of(user, *, generation: int | None) -> SigmaIdentity:
    """``identity_for(user)`` through the cache, refusals included.

    Cached only for the default resolver, whose inputs (mappings, groups, the user
    row) all bump the generation when written. ``generation`` None reads afresh.
    """
    if generation is None or sigma_settings.identity_resolver() is not identity_from_mappings:
        return identity_for(user)
    key = _identity_key(generation, user.pk)
    cached = cache.get(key)
    if cached is None:
        try:
            cached = ("identity", identity_for(user))
        except Refusal as refusal:
            cached = ("refusal", refusal.code, refusal.detail)
        cache.set(key, cached, timeout=SNAPSHOT_TTL)
    if cached[0] == "identity":
        return cached[1]
    raise _REFUSALS_BY_CODE[cached[1]](cached[2])


# --- Secrets, in this process only -----------------------------------------------

# (key set, ciphertext) -> secret. The key set is part of the key: a value is
# reused only while the keys that decrypted it are the ones configured.
_secrets: dict[tuple[int, str], str] = {}


@sensitive_variables("secret")
def signing_secret(credential: CredentialSnapshot) -> str:
    """The decrypted secret of ``credential``, or :class:`CredentialBroken`.

    Decrypted once per process and ciphertext; the fingerprint is checked on every
    call, as ``Credential.signing_secret`` does, so nothing unproven is signed with.
    """
    cache_key = (id(encrypted_fields.CRYPTER), credential.ciphertext)
    secret = _secrets.get(cache_key)
    if secret is None:
        field: Any = Credential._meta.get_field("secret")
        # Same path as loading the row (from_db_value), then the model's own
        # fail-closed check: a value that did not decrypt comes back unchanged.
        secret = Credential(
            name=credential.name,
            secret=field.from_db_value(credential.ciphertext, None, connection),
            secret_fingerprint=credential.secret_fingerprint,
        ).signing_secret()
        if len(_secrets) >= MAX_SECRETS:
            _secrets.clear()
        _secrets[cache_key] = secret
        return secret
    if secret_fingerprint(secret) != credential.secret_fingerprint:
        raise CredentialBroken(f"Credential {credential.name!r} did not decrypt.")
    return secret


# --- Invalidation ----------------------------------------------------------------


def _on_write(sender, **kwargs) -> None:
    invalidate()


def _on_user_write(sender, update_fields=None, **kwargs) -> None:
    # Signing in saves last_login; that changes no identity, and bumping on every
    # sign-in would empty the cache for everyone.
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return
    invalidate()


def watched_models() -> list[type[Model]]:
    """Every model a snapshot is read from, with the auto-created m2m tables."""
    User = get_user_model()
    models: list[type[Model]] = [
        Credential,
        Embed,
        EmbedControl,
        Team,
        AccountType,
        UserAttribute,
        SigmaProfile,
        SigmaProfileAttribute,
        GroupMapping,
        Embed.teams.through,
        SigmaProfile.teams.through,
        GroupMapping.teams.through,
        User.groups.through,
    ]
    return models


def connect_invalidation() -> None:
    """Connect the signals that bump the generation (called from ``ready()``).

    Each sender is named: a receiver for every model would stop Django from
    fast-deleting audit rows when they are pruned.
    """
    User = get_user_model()
    for model in watched_models():
        uid = f"sigma-snapshots-{model._meta.label_lower}"
        post_save.connect(_on_write, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"{uid}-delete")
    for through in (
        Embed.teams.through,
        SigmaProfile.teams.through,
        GroupMapping.teams.through,
        User.groups.through,
    ):
        m2m_changed.connect(
            _on_write, sender=through, dispatch_uid=f"sigma-snapshots-m2m-{through._meta.label}"
        )
    post_save.connect(_on_user_write, sender=User, dispatch_uid="sigma-snapshots-user-save")
    post_delete.connect(_on_write, sender=User, dispatch_uid="sigma-snapshots-user-delete")
