"""The admin activity page's queries on a large audit trail (PostgreSQL).

    .venv/bin/python -m bench.activity [--rows 1000000] [--days 30]

Creates its own database (``ACTIVITY_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/sigma_activity``, dropped and created afresh),
migrates it, inserts ``--rows`` access records spread over 90 days (2,000 users,
20 embeds, one in ten refused under four codes), runs VACUUM ANALYZE, then times
``embeds.selectors.activity_summary`` for the window (median of five) and prints
each query's ``EXPLAIN (ANALYZE, BUFFERS)``. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadtest import recreate_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sigma_activity"

INSERT = """
INSERT INTO {table} (created_at, outcome, rule, source, is_preview, username,
                     sigma_email, embed_slug, client_id, jti)
SELECT now() - random() * interval '90 days',
       CASE WHEN g %% 10 = 0 THEN 'refused' ELSE 'issued' END,
       CASE WHEN g %% 10 = 0
            THEN (ARRAY['no_team', 'rate_limited', 'user_blocked', 'credential_inactive'])
                 [1 + (g / 10) %% 4]
            ELSE '' END,
       'page', false, 'user' || (g %% 2000), '', 'embed-' || (g %% 20), 'client-1',
       md5(g::text)
FROM generate_series(1, %s) AS g
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()

    database_url = os.environ.get("ACTIVITY_DATABASE_URL", DEFAULT_DATABASE_URL)
    recreate_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from embeds.models import AccessRecord
    from embeds.selectors import activity_summary

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(INSERT.format(table=AccessRecord._meta.db_table), [args.rows])
    print(f"Inserted {args.rows} access records in {time.perf_counter() - started:.1f} s")
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {AccessRecord._meta.db_table}")

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            activity = activity_summary(days=args.days, now=timezone.now())
        timings.append(time.perf_counter() - started)
    print(
        f"activity_summary(days={args.days}): {len(captured.captured_queries)} queries, "
        f"median {statistics.median(timings) * 1000:.0f} ms "
        f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}); "
        f"{activity.issued + activity.refused} records in the window, "
        f"{len(activity.embeds)} embeds, {len(activity.refusals)} refusal codes"
    )
    for query in captured.captured_queries:
        print("\n" + query["sql"])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
