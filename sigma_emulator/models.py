"""The emulator's own state: the jti values it has seen (spec §1.2, replay)."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from .verify import MAX_JTI_LENGTH


class SeenToken(models.Model):
    """A token ID Sigma has accepted once; a second use is a replay."""

    # The unique index, not a read-then-write check, is what makes two concurrent
    # loads of the same URL unable to both pass.
    jti = models.CharField("JWT ID (jti)", max_length=MAX_JTI_LENGTH, unique=True)
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
            SeenToken.objects.create(jti=jti)
    except IntegrityError:
        return False
    return True
