"""The audit trail: every signing decision and every error reported from an iframe."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from embeds.models.common import user_reference
from embeds.models.credentials import Credential
from embeds.models.embeds import Embed


class AccessRecord(models.Model):
    """One signing decision: a URL issued, or a refusal with its rule.

    Never holds the token or the secret: the ``jti`` is enough to trace a Sigma-side
    incident back to a host user.
    """

    class Outcome(models.TextChoices):
        ISSUED = "issued", "Issued"
        REFUSED = "refused", "Refused"

    class SigmaOutcome(models.TextChoices):
        LOADED = "loaded", "Sigma opened it"
        ERROR = "error", "Sigma refused it"
        NO_ANSWER = "no_answer", "No answer from Sigma"

    class Source(models.TextChoices):
        PAGE = "page", "Embed page"
        REFRESH = "refresh", "Refresh endpoint"
        PREVIEW = "preview", "Admin preview"
        COMMAND = "command", "Command line"
        TAG = "tag", "Template tag"

    # Indexed by ``accessrecord_activity`` below (created_at first).
    created_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    rule = models.CharField(max_length=50, blank=True, help_text="Refusal code.")
    source = models.CharField(max_length=10, choices=Source.choices)
    is_preview = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="sigma_access_records",
    )
    username = models.CharField(max_length=150, blank=True)
    actor = user_reference("Who asked, when not the user (admin preview).")
    sigma_email = models.CharField(max_length=254, blank=True)
    embed = models.ForeignKey(Embed, null=True, on_delete=models.SET_NULL, related_name="+")
    embed_slug = models.CharField(max_length=100, blank=True)
    credential = models.ForeignKey(
        Credential, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_id = models.CharField(max_length=200, blank=True)
    jti = models.CharField("JWT ID (jti)", max_length=64, blank=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # Admin previews only: what Sigma answered in the previewer's browser, as that
    # browser reported it. Informational (it decides nothing), from a fixed set.
    sigma_outcome = models.CharField(
        "Sigma's answer", max_length=10, blank=True, choices=SigmaOutcome.choices
    )
    sigma_code = models.CharField("Sigma's error code", max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["outcome", "created_at"]),
            # The admin activity page (embeds.selectors) groups a time window by
            # these columns; on PostgreSQL it reads them from the index alone.
            # Elsewhere (no INCLUDE) it is the plain created_at index.
            models.Index(
                fields=["created_at"],
                include=["embed_slug", "outcome", "rule", "username"],
                name="accessrecord_activity",
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M:%S}"
        return f"{self.outcome} {self.embed_slug} for {self.username} at {when}"


class EmbedErrorReport(models.Model):
    """A ``workbook:error`` event the browser reported from inside the iframe."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    embed = models.ForeignKey(Embed, null=True, on_delete=models.SET_NULL, related_name="+")
    embed_slug = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    code = models.CharField(max_length=100)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code} on {self.embed_slug}"


class SecurityEvent(models.Model):
    """One security switch: what was turned on or off, by whom, when and why.

    Written only by ``embeds.services`` in the same transaction as the switch, and
    never changed or deleted (the admin refuses both), so every revocation and every
    re-activation of a credential stays on record even after the credential's own
    status fields moved on. ``target`` names the object as it was called at the
    time, so the trail still reads when the object is gone.
    """

    class Kind(models.TextChoices):
        CREDENTIAL_CREATED = "credential_created", "Credential created"
        CREDENTIAL_REVOKED = "credential_revoked", "Credential revoked"
        CREDENTIAL_REACTIVATED = "credential_reactivated", "Credential re-activated"
        SECRET_REPLACED = "secret_replaced", "Secret replaced"
        EMBED_ENABLED = "embed_enabled", "Embed enabled"
        EMBED_DISABLED = "embed_disabled", "Embed disabled"
        EMBED_CREDENTIAL_SWITCHED = (
            "embed_credential_switched",
            "Embed signs with another credential",
        )
        USER_BLOCKED = "user_blocked", "User's embeds blocked"
        USER_UNBLOCKED = "user_unblocked", "User's embeds unblocked"
        SIGMA_MEMBER_DEACTIVATED = (
            "sigma_member_deactivated",
            "Sigma embed user deactivated",
        )
        # What a user is signed in as: changes to these decide what Sigma shows.
        CREDENTIAL_OWNER_CHANGED = "credential_owner_changed", "Credential owner changed"
        EMBED_TEAMS_CHANGED = "embed_teams_changed", "Embed's teams changed"
        EMBED_CONTROLS_CHANGED = "embed_controls_changed", "Embed's controls changed"
        USER_MAPPING_CHANGED = "user_mapping_changed", "User's Sigma mapping changed"
        USER_ATTRIBUTES_CHANGED = "user_attributes_changed", "User's attributes changed"
        GROUP_MAPPING_CHANGED = "group_mapping_changed", "Group's Sigma mapping changed"

    created_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    target = models.CharField(max_length=300, help_text="What was switched, as named then.")
    credential = models.ForeignKey(
        Credential,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
    )
    embed = models.ForeignKey(
        Embed, null=True, blank=True, on_delete=models.SET_NULL, related_name="security_events"
    )
    subject = user_reference("The user whose embeds were blocked or unblocked.")
    actor = user_reference()
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="Who did it (a username, or the command)."
    )
    reason = models.TextField(blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        # No secret can be in here: targets are names and client IDs only.
        return f"{self.get_kind_display()}: {self.target} at {self.created_at:%Y-%m-%d %H:%M:%S}"
