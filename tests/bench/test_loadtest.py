"""The load benchmark's pieces: wrk script and output, the summary, signing in.

No test runs wrk or times anything: `make loadtest` does that.
"""

from __future__ import annotations

import json
import os

import jwt
import pytest

from bench import loadtest
from bench.loadtest import Sample

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:18111
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.28ms   19.12ms 122.36ms   89.77%
    Req/Sec     1.42k   660.92     2.63k    80.00%
  Latency Distribution
     50%  687.00us
     75%    4.19ms
     90%   27.97ms
     99%    1.20s
  1411 requests in 1.03s, 257.67KB read
Requests/sec:   1372.70
Transfer/sec:    250.68KB
Unexpected statuses: 0
"""
WRK_FAILURES = WRK_OUTPUT.replace(
    "Requests/sec:",
    "  Socket errors: connect 0, read 2, write 0, timeout 3\n"
    "  Non-2xx or 3xx responses: 17\nRequests/sec:",
).replace("Unexpected statuses: 0", "Unexpected statuses: 21")


def test_parse_wrk_reads_rate_percentiles_and_count():
    sample = loadtest.parse_wrk(WRK_OUTPUT, case="embed", concurrency=8, repeat=1)
    assert sample == Sample(
        case="embed",
        concurrency=8,
        repeat=1,
        requests_per_second=1372.70,
        p50_ms=pytest.approx(0.687),
        p99_ms=1200.0,
        requests=1411,
        unexpected=0,
        socket_errors=0,
    )


def test_parse_wrk_counts_failures():
    sample = loadtest.parse_wrk(WRK_FAILURES, case="bare", concurrency=1, repeat=0)
    # 17 non-2xx and 4 redirects (wrk counts those as successes).
    assert (sample.unexpected, sample.socket_errors) == (21, 5)


def test_parse_wrk_refuses_output_without_figures():
    with pytest.raises(ValueError, match="no Requests/sec, latency distribution or status count"):
        loadtest.parse_wrk("unable to connect", case="bare", concurrency=1, repeat=0)


def test_wrk_script_rotates_paths_with_method_headers_and_body():
    script = loadtest.wrk_script(
        method="POST",
        paths=["/embeds/a/url/", "/embeds/b/url/"],
        headers={"X-CSRFToken": "abc123"},
        body="{}",
    )
    assert (
        script
        == (
            "wrk.method = [[POST]]\n"
            "wrk.body = [[{}]]\n"
            "wrk.headers[ [[X-CSRFToken]] ] = [[abc123]]\n"
            "local paths = {[[/embeds/a/url/]], [[/embeds/b/url/]]}\n"
            "local i = 0\n"
            "request = function()\n"
            "  i = i % #paths + 1\n"
            "  return wrk.format(nil, paths[i])\n"
            "end\n"
        )
        + script[script.index("local threads") :]
    )
    assert "if status ~= 200 then" in script


@pytest.mark.parametrize("value", ["]]; os.execute('x') --[[", "line\nbreak", "it's"])
def test_wrk_script_refuses_values_that_could_escape_a_lua_string(value):
    with pytest.raises(ValueError, match="unexpected characters"):
        loadtest.wrk_script(method="GET", paths=["/"], headers={"Cookie": value})


def _sample(case: str, concurrency: int, repeat: int, rps: float) -> Sample:
    return Sample(case, concurrency, repeat, rps, 1.0, 2.0, 100, 0, 0)


def test_summarize_divides_by_the_bare_page_of_the_same_repeat():
    samples = [
        _sample("bare", 8, 0, 1000.0),
        _sample("embed", 8, 0, 900.0),  # 0.90
        _sample("bare", 8, 1, 500.0),
        _sample("embed", 8, 1, 400.0),  # 0.80
        _sample("bare", 8, 2, 800.0),
        _sample("embed", 8, 2, 680.0),  # 0.85
    ]
    rows = {row["case"]: row for row in loadtest.summarize(samples)}
    assert rows["embed"]["ratio"] == pytest.approx(0.85)
    assert rows["embed"]["rps"] == 680.0
    assert rows["bare"]["ratio"] == 1.0
    table = loadtest.format_table(list(rows.values()), ("bare", "embed"), [8])
    assert "| embed | 8 | 680 | 74% | 1.0 | 2.0 | 0.85 |" in table


@pytest.mark.django_db(transaction=True)
def test_sign_in_then_fetch_the_bare_page(live_server, user_factory, settings):
    settings.BENCH_BARE_PAGE = True
    user_factory(loadtest.USERNAME, teams=["Sales"], password=loadtest.PASSWORD)
    cookies = loadtest.sign_in(live_server.url, loadtest.USERNAME, loadtest.PASSWORD)
    assert set(cookies) == {"csrftoken", "sessionid"}
    reply = loadtest.request(live_server.url, "GET", "/bench/bare/", cookies=cookies)
    assert reply.status == 200
    assert 'data-sigma-embed aria-busy="true"' in reply.body


@pytest.mark.django_db(transaction=True)
def test_sign_in_reports_a_wrong_password(live_server, user_factory):
    user_factory(loadtest.USERNAME, password=loadtest.PASSWORD)
    with pytest.raises(RuntimeError, match="Signing in as alice failed"):
        loadtest.sign_in(live_server.url, loadtest.USERNAME, "wrong")


def test_summarize_divides_by_the_peer_of_the_same_repeat():
    samples = [
        _sample("embed", 8, 0, 300.0),
        _sample("peer-embed", 8, 0, 600.0),  # 0.50
        _sample("embed", 8, 1, 200.0),
        _sample("peer-embed", 8, 1, 800.0),  # 0.25
    ]
    rows = {row["case"]: row for row in loadtest.summarize(samples)}
    assert rows["embed"]["peer_ratio"] == pytest.approx(0.375)
    assert rows["peer-embed"]["peer_ratio"] is None


def test_cpu_used_counts_processes_alive_at_both_readings():
    assert loadtest.cpu_used({1: 1.0, 2: 5.0, 3: 2.0}, {1: 1.5, 3: 2.25, 4: 9.0}) == 0.75
    # This process and its own descendants, read from /proc.
    assert os.getpid() in loadtest.process_tree(os.getpid())
    assert loadtest.cpu_seconds([os.getpid()])[os.getpid()] > 0


def test_the_peer_signs_for_the_user_and_page_the_server_signed(canary_secret):
    claims = {
        "sub": "alice@example.com",
        "iss": "client-1",
        "aud": "sigmacomputing",
        "iat": 1_700_000_000,
        "exp": 1_700_003_600,
        "account_type": "View",
        "teams": ["Sales"],
        "user_attributes": {"region": "West"},
    }
    token = jwt.encode(claims, canary_secret, algorithm="HS256")
    src = (
        f"https://app.sigmacomputing.com/org/workbook/w-1?:jwt={token}&amp;:embed=true&amp;:lng=fr"
    )
    page = f'<main><iframe data-src="{src}"></iframe></main>'
    env = loadtest.peer_environment(page, cache_url="redis://127.0.0.1:6379/15", port=18123)
    assert json.loads(env["PEER_USER"]) == {
        "username": loadtest.USERNAME,
        "email": "alice@example.com",
        "account_type": "View",
        "teams": ["Sales"],
        "user_attributes": {"region": "West"},
    }
    assert (env["CLIENT_ID"], env["EMBED_URL"], env["INTERFACE_OPTIONS"]) == (
        "client-1",
        "https://app.sigmacomputing.com/org/workbook/w-1",
        ":lng=fr",
    )
    assert (env["PAGE_BYTES"], env["TOKEN_TTL"]) == (str(len(page.encode())), "3600")
    # The peer signs with a secret of its own, never the credential's.
    assert canary_secret not in env.values()
