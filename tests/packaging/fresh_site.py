"""Run inside the fresh project's virtualenv (never imported by the test suite).

Sets up one credential, team, embed and mapped user through the installed
``embeds`` package, signs alice in, renders ``/dashboard/`` (a page of the fresh
project that uses ``{% sigma_embed %}``) and prints the response as JSON. The
embed secret arrives on stdin, never in argv or the environment, and is never
printed.
"""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from embeds import services  # noqa: E402
from embeds.models import AccountType, Embed, SigmaProfile, Team  # noqa: E402


def main() -> None:
    params = json.load(sys.stdin)
    credential = services.create_credential(
        name="Fresh site",
        client_id=params["client_id"],
        secret=params["secret"],
        owner_email="owner@example.com",
        owner_is_admin=True,
    )
    team = Team.objects.create(name="Sales")
    embed = Embed(slug="sales", title="Sales overview", url=params["url"], credential=credential)
    embed.full_clean()
    embed.save()
    embed.teams.set([team])
    user = get_user_model().objects.create_user("alice", "alice@example.com", "unused")
    profile = SigmaProfile.objects.create(
        user=user, account_type=AccountType.objects.get_or_create(name="View")[0]
    )
    profile.teams.set([team])
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    response = client.get("/dashboard/")
    # The app's admin pages, templates included, as a superuser of the fresh site.
    admin = Client(HTTP_HOST="localhost")
    admin.force_login(
        get_user_model().objects.create_superuser("root", "root@example.com", "unused")
    )
    admin_pages = [
        "/admin/embeds/embed/",
        f"/admin/embeds/embed/{embed.pk}/change/",
        "/admin/embeds/embed/preview/",
        "/admin/embeds/credential/",
        f"/admin/embeds/credential/{credential.pk}/change/",
        f"/admin/embeds/credential/{credential.pk}/replace-secret/",
        f"/admin/embeds/credential/{credential.pk}/revoke/",
    ]
    json.dump(
        {
            "status": response.status_code,
            "headers": dict(response.headers),
            "html": response.content.decode(),
            "admin": {page: admin.get(page).status_code for page in admin_pages},
            # alice's session, for the browser that opens the page next (test only).
            "session": client.cookies["sessionid"].value,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
