"""Measure what OAuth token encryption costs per page view (docs/sigma-protocol.md).

    DJANGO_SETTINGS_MODULE=tests.settings .venv/bin/python scripts/oauth_cost.py

Prints the median time of a full node-embed-sdk encryption (PBKDF2 with 600 000
iterations, then AES-256-GCM) and of the per-process cached path the host uses.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from embeds.protocol import oauth  # noqa: E402

SECRET = "x" * 48  # a Sigma embed secret is a long random string
TOKEN = "t" * 1200  # an OAuth access token (a JWT) is ~1 KB


def median_seconds(function, number: int, repeat: int = 5) -> float:
    return statistics.median(timeit.repeat(function, number=number, repeat=repeat)) / number


def main() -> None:
    full = median_seconds(lambda: oauth.encrypt_token(SECRET, TOKEN), number=3)
    cache = oauth.KeyCache()
    oauth.encrypt_cached(SECRET, TOKEN, cache=cache)
    cached = median_seconds(lambda: oauth.encrypt_cached(SECRET, TOKEN, cache=cache), number=2000)
    print(f"full encryption (PBKDF2 600000 + AES-GCM): {full * 1000:.1f} ms")
    print(f"cached key (AES-GCM only):                 {cached * 1_000_000:.1f} us")


if __name__ == "__main__":
    main()
