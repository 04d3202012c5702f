"""What the issuing path reads, as plain values kept in the shared cache.

A page view or a refresh needs the embed (URL, options, teams, controls), the
public fields of its credential and the user's Sigma identity. From the database
that is about ten statements; here it is one round trip to Django's default cache
(Redis in production, :func:`lookup`), which also counts the signing-rate limit.

Each snapshot is stored *stamped* with the *generation* it was read under, and is
used only while that is still the current generation. Every write that can change
a snapshot moves the generation forward (:func:`bump_generation`, from the model
signals connected in ``EmbedsConfig.ready``, once at once and once after the
commit), so a request that starts after such a write has returned reads the
database again. Decoded snapshots are also kept in this process under the same
rule (a stamp equal to the generation just read), which spares unpickling them on
every request. What the cache may hold, and why staleness cannot grant access that
was removed, is in docs/architecture.md ("The issuing path").

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models import Model, TextField
from django.db.models.functions import Cast
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.views.decorators.debug import sensitive_variables

from embeds import encryption
from embeds.conf import sigma_settings
from embeds.exceptions import ALL_REFUSALS, CredentialBroken, Refusal
from embeds.issuing import ratelimit
from embeds.issuing.identity import (
    SigmaIdentity,
    check_identity_conflicts,
    identity_for,
    identity_from_mappings,
)
from embeds.models import (
    Credential,
    Embed,
    EmbedControl,
)

if TYPE_CHECKING:
    from embeds.issuing.audit import AnyUser

logger = logging.getLogger(__name__)

# Bump the version when a snapshot's shape changes: processes of the old and the
# new release then never read each other's entries during a rolling deploy.
KEY_PREFIX = "sigma-issue:v3"
GENERATION_KEY = f"{KEY_PREFIX}:generation"
# Upper bound on the life of an entry, should a write ever bypass the signals
# (QuerySet.update, raw SQL): the kill switches are re-checked at the insert anyway.
SNAPSHOT_TTL = 300  # seconds
# Decrypted secrets kept by this process, at most (a site has a handful).
MAX_SECRETS = 64
# Decoded snapshots kept by this process, at most (embeds and users of one generation).
MAX_LOCAL = 2048

_REFUSALS_BY_CODE = {refusal.code: refusal for refusal in ALL_REFUSALS}


# --- Generation -----------------------------------------------------------------


def current_generation() -> int | None:
    """The generation snapshots are stored under; None when the cache keeps nothing."""
    value: int | None = cache.get(GENERATION_KEY)
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


def _embed_key(lookup: str, value: str | int | None) -> str:
    return f"{KEY_PREFIX}:embed:{lookup}:{value}"


def _identity_key(user_pk: int | None) -> str:
    return f"{KEY_PREFIX}:identity:{user_pk}"


# key -> (generation, decoded value): what this process decoded or read last.
_local: dict[str, tuple[int, object]] = {}


def _remember(key: str, generation: int, value: object) -> None:
    if len(_local) >= MAX_LOCAL:
        _local.clear()
    _local[key] = (generation, value)


def _current(key: str, generation: int, stored: object) -> object:
    """The value of ``key`` if it was stamped with ``generation``, else None.

    ``stored`` is the cache's entry, ``(generation, value)`` (or None): this
    process's own copy is used when its stamp matches, without decoding again.
    """
    local = _local.get(key)
    if local is not None and local[0] == generation:
        return local[1]
    if stored is None:
        return None
    if callable(stored):  # undecoded bytes from the round trip: decode on demand
        stored = stored()
    if not isinstance(stored, tuple) or len(stored) != 2 or stored[0] != generation:
        return None
    _remember(key, generation, stored[1])
    return stored[1]


def _store(key: str, generation: int, value: object) -> None:
    cache.set(key, (generation, value), timeout=SNAPSHOT_TTL)
    _remember(key, generation, value)


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
    key = _embed_key("slug" if slug is not None else "pk", slug or pk)
    return _embed_at(generation, key, cache.get(key) if generation is not None else None, slug, pk)


def _embed_at(
    generation: int | None, key: str, stored: object, slug: str | None, pk: int | None
) -> EmbedSnapshot | None:
    if generation is None:  # a cache that keeps nothing
        return load_embed(slug=slug, pk=pk)
    snapshot = _current(key, generation, stored)
    if not isinstance(snapshot, EmbedSnapshot):  # None: not stored under this generation
        snapshot = load_embed(slug=slug, pk=pk)
        if snapshot is None:
            return None
        snapshot = _with_generation(snapshot, generation)
        _store(key, generation, snapshot)
    return snapshot


def _with_generation(snapshot: EmbedSnapshot, generation: int | None) -> EmbedSnapshot:
    return EmbedSnapshot(
        embed=snapshot.embed,
        team_ids=snapshot.team_ids,
        controls=snapshot.controls,
        credential=snapshot.credential,
        generation=generation,
    )


def _identity_cached() -> bool:
    """Only the default resolver's answers are cached: its inputs (mappings, groups,
    user rows, credentials' owner emails) all bump the generation when written, so
    another user taking this user's email invalidates this user's snapshot too."""
    return sigma_settings.identity_resolver() is identity_from_mappings


def checked_identity(user: AnyUser) -> SigmaIdentity:
    """``identity_for(user)``, refused when its email is someone else's
    (``identity.check_identity_conflicts``): the identity every signing path uses."""
    identity = identity_for(user)
    check_identity_conflicts(user, identity)
    return identity


def identity_of(user: AnyUser, *, generation: int | None) -> SigmaIdentity:
    """:func:`checked_identity` through the cache, refusals included.

    ``generation`` None reads afresh. After :func:`lookup` in the same request the
    identity is already in this process's copy: no second trip to the cache.
    """
    if generation is None or not _identity_cached():
        return checked_identity(user)
    key = _identity_key(user.pk)
    cached = _current(key, generation, lambda: cache.get(key))
    if cached is None:
        try:
            cached = ("identity", checked_identity(user))
        except Refusal as refusal:
            cached = ("refusal", refusal.code, refusal.detail)
        _store(key, generation, cached)
    # Refusals are cached as their code and detail: an exception does not pickle.
    match cached:
        case ("identity", SigmaIdentity() as identity):
            return identity
        case ("refusal", str() as code, str() | None as detail):
            raise _REFUSALS_BY_CODE[code](detail)
    raise AssertionError(f"unexpected identity entry under {key}")  # pragma: no cover


# --- One round trip per request ---------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """What one request's round trip to the cache found.

    ``embed`` is None when no embed has the slug. ``issue_count`` is the signing
    counter of ``ratelimit`` after this request's attempt (already counted), or
    None when the limit is off; ``issue_embed_url(counted=...)`` checks it.
    """

    embed: EmbedSnapshot | None
    issue_count: int | None


def lookup(*, slug: str, user: AnyUser, now: float | None = None) -> Lookup:
    """The embed ``slug`` and ``user``'s identity for one page or refresh request.

    On Redis this is one round trip, a pipeline of: the generation, the embed's
    snapshot, the user's identity snapshot, and the signing-rate counter (created
    with its expiry if new, then incremented). A snapshot missing or stamped with
    another generation is read from the database and stored (a second trip, once
    per change). Other caches (local memory in development and tests, memcached)
    get one ``get_many`` and the counter's own calls.
    """
    counter = ratelimit.issue_counter(user=user, now=now)
    embed_key = _embed_key("slug", slug)
    identity_key = _identity_key(user.pk) if _identity_cached() else None
    generation, stored_embed, stored_identity, count = _round_trip(embed_key, identity_key, counter)
    if generation is None:
        generation = current_generation()  # evicted or never set: start one
    elif identity_key is not None:
        # Decoded (if current) into this process's copy, where identity_of finds it.
        _current(identity_key, generation, stored_identity)
    target = _embed_at(generation, embed_key, stored_embed, slug, None)
    return Lookup(embed=target, issue_count=count)


# (generation, embed entry, identity entry, counter value); an entry is the cache's
# value or, from Redis, a callable that decodes it.
RoundTrip = tuple[int | None, object, object, int | None]


def _round_trip(
    embed_key: str, identity_key: str | None, counter: ratelimit.IssueCounter | None
) -> RoundTrip:
    """(generation, embed entry, identity entry, counter value) from the cache."""
    keys = [GENERATION_KEY, embed_key] + ([identity_key] if identity_key else [])
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        return _redis_round_trip(backend, keys, identity_key is not None, counter)
    found = cache.get_many(keys)
    count = ratelimit.count(counter) if counter is not None else None
    return (
        found.get(GENERATION_KEY),
        found.get(embed_key),
        found.get(identity_key) if identity_key else None,
        count,
    )


def _redis_round_trip(
    backend: RedisCache,
    keys: list[str],
    with_identity: bool,
    counter: ratelimit.IssueCounter | None,
) -> RoundTrip:
    redis_keys = [backend.make_and_validate_key(key) for key in keys]
    # Django's client object (RedisCacheClient): the pools, the serializer.
    client_of: Any = backend._cache  # type: ignore[attr-defined]
    client = client_of.get_client(redis_keys[0], write=True)
    pipe = client.pipeline(transaction=False)
    for key in redis_keys:
        pipe.get(key)
    if counter is not None:
        counter_key = backend.make_and_validate_key(counter.key)
        # As ratelimit's add-then-incr: never overwrites a counter that exists.
        pipe.set(counter_key, 0, ex=ratelimit.counter_timeout(counter.rate), nx=True)
        pipe.incr(counter_key)
    replies = pipe.execute()
    loads = client_of._serializer.loads

    def lazy(raw: bytes | None) -> Callable[[], object] | None:
        return None if raw is None else (lambda: loads(raw))

    generation: int | None = None if replies[0] is None else loads(replies[0])
    stored_identity = lazy(replies[2]) if with_identity else None
    count: int | None = replies[-1] if counter is not None else None
    return generation, lazy(replies[1]), stored_identity, count


# --- Secrets, in this process only -----------------------------------------------

# Why a per-process dict: the shared cache must never hold a usable secret (anyone
# who reads the cache would hold every credential), so it keeps the ciphertext, and
# each process decrypts a ciphertext once instead of on every request.
# (key set, ciphertext) -> secret. The key set is part of the key: a value is
# reused only while the keys that decrypted it are the ones configured. A new
# secret or a re-encryption is a new ciphertext, so a stale entry is never found.
_secrets: dict[tuple[int, str], str] = {}


@sensitive_variables("secret")
def signing_secret(credential: CredentialSnapshot) -> str:
    """The decrypted secret of ``credential``, or :class:`CredentialBroken`.

    Decrypted once per process and ciphertext (``embeds.encryption``, which raises
    on a value no key decrypts; the crypter is part of the key, so a value is reused
    only while the keys that decrypted it are the ones configured); proven against
    the fingerprint on every call, as ``Credential.signing_secret`` does.
    """
    cache_key = (id(encryption.crypter()), credential.ciphertext)
    try:
        secret = _secrets.get(cache_key)
        if secret is None:
            secret = encryption.decrypt_token(credential.ciphertext)
            if len(_secrets) >= MAX_SECRETS:
                # Emptied, not evicted one by one: a site has a handful of
                # credentials, so a full dict is mostly replaced ciphertexts.
                _secrets.clear()
            _secrets[cache_key] = secret
        return encryption.proven_secret(secret, credential.secret_fingerprint)
    except encryption.SecretUnproven:
        raise CredentialBroken(f"Credential {credential.name!r} did not decrypt.") from None


# --- Invalidation ----------------------------------------------------------------


def _on_write(sender: type[Model], **kwargs: object) -> None:
    invalidate()


def _on_user_write(
    sender: type[Model], update_fields: Iterable[str] | None = None, **kwargs: object
) -> None:
    # Signing in saves last_login; that changes no identity, and bumping on every
    # sign-in would empty the cache for everyone.
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return
    invalidate()


def connect_invalidation() -> None:
    """Connect the signals for writes from outside the app (called from ``ready()``).

    The app's own writes go through ``embeds.services``, which invalidate
    explicitly. What is left is what a snapshot reads from models the site owns: a
    user (active, email, names), their group memberships, and the deletion of a
    group (its mapping goes with it). Each sender is named: a receiver for every
    model would stop Django from fast-deleting audit rows when they are pruned.
    """
    User = get_user_model()
    post_save.connect(_on_user_write, sender=User, dispatch_uid="sigma-snapshots-user-save")
    post_delete.connect(_on_write, sender=User, dispatch_uid="sigma-snapshots-user-delete")
    m2m_changed.connect(
        _on_write, sender=User.groups.through, dispatch_uid="sigma-snapshots-user-groups"
    )
    post_delete.connect(_on_write, sender=Group, dispatch_uid="sigma-snapshots-group-delete")
