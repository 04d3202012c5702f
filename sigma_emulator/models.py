"""The emulated Sigma organization's own tables.

Nothing here refers to the host's apps: the organization has its own members,
teams, account types, user attributes, connections, credentials, workbooks and data
models, as a real Sigma organization would. ``SeenToken`` remembers the jti values
Sigma has accepted (spec §1.2, replay).
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid

from django.db import IntegrityError, models, transaction
from encrypted_model_fields.fields import EncryptedCharField

_ALPHANUMERIC = string.ascii_letters + string.digits


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_url_id() -> str:
    """A workbook or data model URL id: 22 alphanumerics, like ``4bq2ZtkLmV8xWn3pRs6HyA``."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(22))


def new_node_id() -> str:
    """A page or element id: 10 characters, like ``GHs4vJQxig``."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(10))


def new_client_id() -> str:
    """A client ID as Sigma shows it: 32 hex characters."""
    return secrets.token_hex(16)


class Organization(models.Model):
    """The one organization the emulator plays; its slug starts every content path."""

    organization_id = models.CharField(max_length=36, unique=True, default=new_uuid)
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.slug

    @classmethod
    def current(cls) -> Organization | None:
        return cls.objects.order_by("pk").first()


class DirectoryEntry(models.Model):
    """What account types, teams and user attributes share: a unique name, shown and
    listed by it, and a description."""

    name = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccountType(DirectoryEntry):
    """A default (Admin, Build, View) or custom account type."""

    account_type_id = models.CharField(max_length=36, unique=True, default=new_uuid)
    name = models.CharField(max_length=100, unique=True)
    is_custom = models.BooleanField(default=False)
    # Sigma's owner rule (spec §7) turns on this: only Admins sign in other people.
    is_admin = models.BooleanField(default=False)


class Member(models.Model):
    """A person in the organization: an internal member or an embed user."""

    class Kind(models.TextChoices):
        INTERNAL = "internal", "Internal member"
        EMBED = "embed", "Embed user"

    member_id = models.CharField(max_length=36, unique=True, default=new_uuid)
    # Stored casefolded: Sigma matches emails without regard to case.
    email = models.CharField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    account_type = models.ForeignKey(AccountType, on_delete=models.PROTECT, related_name="members")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INTERNAL)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_admin(self) -> bool:
        return self.account_type.is_admin


class Team(DirectoryEntry):
    """A team; embed tokens name teams, and workbooks are shared with teams."""

    team_id = models.CharField(max_length=36, unique=True, default=new_uuid)
    members = models.ManyToManyField(Member, related_name="teams", blank=True)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class UserAttribute(DirectoryEntry):
    """A user attribute (Administration > User attributes); drives row-level security."""

    user_attribute_id = models.CharField(max_length=36, unique=True, default=new_uuid)
    # Applies when a token does not send the attribute; empty means "no default",
    # and rows filtered on it then come back empty (spec §8, "No data").
    default_value = models.CharField(max_length=500, blank=True)


class Connection(models.Model):
    """A warehouse connection; ``eval_connection_id`` names one of these."""

    connection_id = models.CharField(max_length=36, unique=True, default=new_uuid)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=50, default="snowflake")
    is_sample = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Credential(models.Model):
    """Client credentials from the Developer Access page.

    The secret is shown once, when created; afterwards it is only used to verify
    (HMAC needs it, so it is kept, encrypted at rest) and never rendered again.
    Revoked credentials are kept, like Sigma keeps the client ID listed.
    """

    client_id = models.CharField(max_length=64, unique=True, default=new_client_id)
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    owner = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="credentials")
    embed_privilege = models.BooleanField("Embedding", default=True)
    api_privilege = models.BooleanField("REST API", default=False)
    secret = EncryptedCharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        # Never the secret: str() ends up in logs and admin history.
        return f"{self.name} ({self.client_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PublishedContent(models.Model):
    """What a workbook and a data model share: a name, its URL id and their URL form."""

    url_id = models.CharField(max_length=32, unique=True, default=new_url_id)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def url_name(self) -> str:
        """The name part of the browser URL: spaces become hyphens."""
        return "-".join(self.name.split())


class Workbook(PublishedContent):
    """A published workbook: pages of elements, shared with teams."""

    workbook_id = models.CharField(max_length=36, unique=True, default=new_uuid)
    owner = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="workbooks")
    connection = models.ForeignKey(
        Connection, on_delete=models.SET_NULL, null=True, blank=True, related_name="workbooks"
    )
    shared_with = models.ManyToManyField(Team, related_name="workbooks", blank=True)
    is_archived = models.BooleanField(default=False)


class Page(models.Model):
    page_id = models.CharField(max_length=32, unique=True, default=new_node_id)
    workbook = models.ForeignKey(Workbook, on_delete=models.CASCADE, related_name="pages")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["workbook", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class Element(models.Model):
    """A table or a bar chart over a small sample dataset.

    ``columns`` names the columns; ``rows`` holds lists in that order. With
    ``rls_attribute`` set, a viewer sees only rows whose ``rls_column`` equals the
    value of that user attribute (row-level security).
    """

    class Kind(models.TextChoices):
        TABLE = "table", "Table"
        CHART = "chart", "Bar chart"

    element_id = models.CharField(max_length=32, unique=True, default=new_node_id)
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="elements")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TABLE)
    columns = models.JSONField(default=list)
    rows = models.JSONField(default=list)
    # For charts: the label column and the value column.
    chart_label = models.CharField(max_length=100, blank=True)
    chart_value = models.CharField(max_length=100, blank=True)
    rls_attribute = models.CharField(max_length=200, blank=True)
    rls_column = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["page", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class Control(models.Model):
    """A workbook control: a URL value ``<control_id>=a,b`` keeps rows whose column is a or b."""

    workbook = models.ForeignKey(Workbook, on_delete=models.CASCADE, related_name="controls")
    control_id = models.CharField(max_length=100)
    column = models.CharField(max_length=100)

    class Meta:
        ordering = ["workbook", "control_id"]
        constraints = [
            models.UniqueConstraint(fields=["workbook", "control_id"], name="emulator_control_id")
        ]

    def __str__(self) -> str:
        return self.control_id


class DataModel(PublishedContent):
    data_model_id = models.CharField(max_length=36, unique=True, default=new_uuid)
    owner = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="data_models")
    shared_with = models.ManyToManyField(Team, related_name="data_models", blank=True)


class ApiToken(models.Model):
    """A REST API bearer token; only its SHA-256 is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="api_tokens")
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"API token of {self.credential.client_id}"


class ApiFault(models.Model):
    """Test knob: the next ``remaining`` API requests answer ``status`` (e.g. 429)."""

    status = models.PositiveSmallIntegerField(default=429)
    remaining = models.PositiveIntegerField(default=1)
    retry_after = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.status} x{self.remaining}"


def jti_key(jti: str) -> str:
    """What ``SeenToken`` stores for a jti: its SHA-256, 64 hex characters.

    Sigma documents no length limit for ``jti`` (255 characters is its legacy
    ``:nonce`` rule), so the column holds a digest of any length of jti.
    """
    return hashlib.sha256(jti.encode()).hexdigest()


class SeenToken(models.Model):
    """A token ID Sigma has accepted once (as ``jti_key``); a second use is a replay."""

    # The unique index, not a read-then-write check, is what makes two concurrent
    # loads of the same URL unable to both pass.
    jti = models.CharField("JWT ID (jti)", max_length=255, unique=True)
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return self.jti


def claim_jti(jti: str) -> bool:
    """Record ``jti``; False when it had been recorded before."""
    try:
        # A savepoint, so a duplicate does not break an outer transaction.
        with transaction.atomic():
            SeenToken.objects.create(jti=jti_key(jti))
    except IntegrityError:
        return False
    return True
