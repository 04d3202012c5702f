"""Prometheus counters of signing decisions: URLs issued, and refusals by code.

Counted in ``embeds.services`` where the audit row is written, so the counters and
the audit trail agree. Under gunicorn the counters of all workers of one server
are summed through ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess
mode, set up in ``hostsite/gunicorn.conf.py``); the host exposes them at
``/metrics`` behind a bearer token.
"""

from __future__ import annotations

import functools
from typing import Any

from prometheus_client import Counter

# Labels are small closed sets (sources, refusal codes): no user, embed or
# credential label, which would grow without bound and name people.
TOKENS_ISSUED = Counter("sigma_embed_tokens_issued", "Signed Sigma embed URLs issued.", ["source"])
TOKENS_REFUSED = Counter(
    "sigma_embed_tokens_refused",
    "Signed Sigma embed URLs refused, by refusal code.",
    ["code", "source"],
)


@functools.cache
def _issued(source: str) -> Any:
    # One labelled child per source, looked up once per process.
    return TOKENS_ISSUED.labels(source=source)


def count_issued(*, source: str) -> None:
    _issued(source).inc()


def count_refused(*, code: str, source: str) -> None:
    TOKENS_REFUSED.labels(code=code, source=source).inc()
