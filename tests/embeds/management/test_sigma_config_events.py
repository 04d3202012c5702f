"""sigma_config import switches embeds and users through the services, so they are recorded."""

from __future__ import annotations

import json

from embeds.config import export_config, import_config
from embeds.config.transfer import DEFAULT_BLOCKED_REASON
from embeds.models import SecurityEvent, SigmaProfile

Kind = SecurityEvent.Kind


def test_import_that_disables_switches_and_blocks_records_events(
    embed_factory, credential_factory, alice
):
    embed = embed_factory(slug="pipeline")
    other = credential_factory(name="Other")
    data = export_config()
    (item,) = [e for e in data["embeds"] if e["slug"] == "pipeline"]
    item.update(is_enabled=False, disabled_reason="Quarter closed", credential="Other")
    (user,) = [u for u in data["users"] if u["username"] == "alice"]
    user.update(is_blocked=True, blocked_reason="")

    import_config(json.dumps(data))

    embed.refresh_from_db()
    assert (embed.is_enabled, embed.disabled_reason, embed.credential) == (
        False,
        "Quarter closed",
        other,
    )
    assert list(embed.security_events.order_by("id").values_list("kind", "reason")) == [
        (Kind.EMBED_CREDENTIAL_SWITCHED, ""),
        (Kind.EMBED_DISABLED, "Quarter closed"),
    ]
    assert SigmaProfile.objects.get(user=alice).is_blocked is True
    blocked = SecurityEvent.objects.get(kind=Kind.USER_BLOCKED)
    assert (blocked.subject, blocked.reason) == (alice, DEFAULT_BLOCKED_REASON)
