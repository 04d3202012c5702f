"""gunicorn settings: the production server of `make serve` and the Dockerfile.

    gunicorn --config hostsite/gunicorn.conf.py hostsite.wsgi

Environment: HOST (default 127.0.0.1; 0.0.0.0 in a container), PORT (8000),
WEB_CONCURRENCY (worker processes, default one per CPU core), WEB_THREADS (threads
per worker, default 4; 1 for sync workers), LOG_FORMAT and
LOG_LEVEL (as the app's), ACCESS_LOG (true: one line per request; default false,
the reverse proxy usually keeps those). Anything else gunicorn knows can be added
with GUNICORN_CMD_ARGS. Before forking, the server refuses to start when
``hostsite.serving.preflight`` finds a problem (debug on, unapplied migrations...).
"""

import os
import shutil
import tempfile

import django
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from hostsite.logconfig import build_logging


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise RuntimeError(f"{name} must be a whole number of at least 1.")
    return int(raw)


_host = os.environ.get("HOST", "").strip() or "127.0.0.1"
_port = _int("PORT", 8000)
bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]
# One worker process per core, WEB_THREADS threads in each (gunicorn's gthread
# worker): measured on 2 cores against 3 and 5 sync workers and granian, it spent
# the least CPU per request (keep-alive connections, and a thread's wait on
# PostgreSQL or Redis overlaps another's work); docs/performance.md, "The server".
# WEB_THREADS=1 gives sync workers: each request holds one process. A reverse proxy
# in front buffers slow clients, as gunicorn's deployment notes recommend.
workers = _int("WEB_CONCURRENCY", os.cpu_count() or 1)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = 30
graceful_timeout = 20
# The workers import the app themselves (no preload): nothing opened in the
# master, such as the preflight's database connection, is shared across forks.
preload_app = False
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn), which
# two servers on one host would fight over; nothing here uses it.
control_socket_disable = True

_level = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
_format = os.environ.get("LOG_FORMAT", "").strip().lower() or "text"
_access = os.environ.get("ACCESS_LOG", "").strip().lower() in {"1", "true", "yes", "on"}
logconfig_dict = build_logging(
    fmt=_format, level=_level, extra_loggers=("gunicorn.error", "gunicorn.access")
)
logconfig_dict["loggers"]["gunicorn.access"]["level"] = "INFO" if _access else "WARNING"

# Token counters summed over all workers (prometheus_client multiprocess mode):
# a directory of the server's own unless the operator names one. Set before any
# worker imports prometheus_client.
_own_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sigma-metrics-")


def on_starting(server):
    # Counters from an earlier run in a reused directory would be added to ours.
    metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(metrics_dir, exist_ok=True)
    for name in os.listdir(metrics_dir):
        if name.endswith(".db"):
            os.remove(os.path.join(metrics_dir, name))

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")
    try:
        django.setup()
        # Imported here, not at the top: it loads prometheus_client, which must
        # see PROMETHEUS_MULTIPROC_DIR (set above) when first imported.
        from hostsite.serving import preflight

        problems = preflight(workers=server.cfg.workers)
    except ImproperlyConfigured as exc:
        problems = [str(exc)]
    finally:
        # Never hand the preflight's database connection to forked workers.
        connections.close_all()
    if problems:
        # gunicorn prints "Error: <message>" and exits with status 1.
        raise RuntimeError("Not starting.\n  " + "\n  ".join(problems))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
