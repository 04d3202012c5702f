"""Benchmarks of the signing path, as ratios against baselines measured in the same run.

    make bench                      # or: .venv/bin/python -m bench [--n 300]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python -m bench

What is timed (median of --repeat runs of --n calls each):
  jwt_encode      PyJWT's jwt.encode of the same claims: the floor of any signer.
  build_and_sign  embeds.protocol.signing: claims + token + URL, no database.
  issue_url       embeds.issuing.issue_embed_url as the page calls it: the cached
                  snapshot, the checks, sign, the audit INSERT ... SELECT.
  issue_fresh     the same from an Embed (admin preview, command): read afresh.
  page_view       GET /embeds/<slug>/ through Django's test client (session, CSRF,
                  CSP, template), signed afresh on every request.
  refresh         POST /embeds/<slug>/url/ (the JSON refresh endpoint).

The "SQL" column is the number of statements one warm call runs. Sessions are
kept in the cache (SESSION_ENGINE), as in production.

Ratios are printed against jwt_encode and against issue_url, so they compare on any
machine; absolute times are shown for orientation only. Nothing here is asserted.
The benchmark uses a throw-away database (a temporary SQLite file by default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="calls per run (default 300)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (default 5)")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="sigma-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)  # one log line per issued URL would dominate the output
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    # On PostgreSQL, work in a throw-away test database, never the named one.
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        settings.ALLOWED_HOSTS = ["testserver"]
        # The limiter stays on (its cache hit is part of the cost), but high enough
        # that thousands of calls by one user are not refused.
        settings.SIGMA_RATE_LIMIT = "100000000/60"
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
        call_command("seed_demo", "--force", verbosity=0)
        return run(args, Client)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args, Client) -> int:
    import jwt
    from django.contrib.auth import get_user_model

    from embeds.models import AccessRecord, Embed
    from embeds.protocol import signing

    alice = get_user_model().objects.get(username="alice")
    embed = Embed.objects.select_related("credential").get(slug="sales-overview")
    secret = embed.credential.signing_secret()
    client_id = embed.credential.client_id
    now = int(time.time())

    def claims() -> dict:
        return signing.build_claims(
            client_id=client_id,
            email="alice@example.com",
            account_type="View",
            teams=["Sales"],
            user_attributes={"region": "West"},
            now=now,
            ttl=3600,
            jti=str(uuid.uuid4()),
        )

    def jwt_encode() -> None:
        jwt.encode(claims(), secret, algorithm="HS256", headers={"kid": client_id})

    def build_and_sign() -> None:
        token = signing.sign_token(claims(), secret=secret, client_id=client_id)
        signing.build_embed_url(embed.url, token=token, interface_options=embed.interface_options())

    from embeds.issuing import issue_embed_url
    from embeds.issuing.snapshots import embed_snapshot

    def issue_url() -> None:
        target = embed_snapshot(slug=embed.slug)
        issue_embed_url(user=alice, embed=target, source=AccessRecord.Source.PAGE)

    def issue_fresh() -> None:
        issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE)

    client = Client()
    client.force_login(alice)
    path = embed.get_absolute_url()

    def page_view() -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"page view failed with {response.status_code}")

    refresh_path = f"/embeds/{embed.slug}/url/"

    def refresh() -> None:
        response = client.post(refresh_path, data="{}", content_type="application/json")
        if response.status_code != 200:
            raise SystemExit(f"refresh failed with {response.status_code}")

    cases = {
        "jwt_encode": jwt_encode,
        "build_and_sign": build_and_sign,
        "issue_url": issue_url,
        "issue_fresh": issue_fresh,
        "page_view": page_view,
        "refresh": refresh,
    }
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results: dict[str, float] = {}
    statements: dict[str, int] = {}
    for name, call in cases.items():
        call()  # warm up
        with CaptureQueriesContext(connection) as queries:
            call()
        statements[name] = len(queries)
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            for _ in range(args.n):
                call()
            runs.append((time.perf_counter() - start) / args.n)
        results[name] = statistics.median(runs)

    print(f"database: {connection.vendor}; {args.n} calls x {args.repeat} runs, median per call")
    print(f"{'case':<16}{'per call':>12}{'x jwt_encode':>14}{'x issue_url':>13}{'SQL':>6}")
    for name, seconds in results.items():
        print(
            f"{name:<16}{seconds * 1e6:>10.0f}us"
            f"{seconds / results['jwt_encode']:>14.1f}{seconds / results['issue_url']:>13.2f}"
            f"{statements[name]:>6}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
