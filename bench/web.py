"""Page benchmarks under gunicorn: sign-in, front page, module page, worker memory."""

from __future__ import annotations

import math
import os
import statistics
import time
from urllib.parse import urlencode

from .client import Browser
from .context import Context, Site
from .load import LoadResult, Request, run_load
from .runner import Goal, Row, Skip, at_least, register

FORM = "application/x-www-form-urlencoded"


def _cookie_headers(browser: Browser) -> dict[str, str]:
    return {"Cookie": browser.cookie_header()} if browser.cookies else {}


def _no_redirects(result: LoadResult) -> str | None:
    if result.redirects:
        return f"ours answered {result.redirects} requests with a redirect (signed out?)"
    return None


def page_floor(ctx: Context, pages: dict[str, bytes]):
    return ctx.start_floor([{"path": path, "body": body} for path, body in pages.items()])


@register("login-page")
def login_page(ctx: Context) -> Row:
    """GET /login for a new visitor (form with a fresh CSRF token) against the floor."""
    site = ctx.site()
    page = site.browser().get("/login")
    if page.status != 200:
        raise RuntimeError(f"/login answered {page.status}")
    floor = page_floor(ctx, {"/login": page.body})
    try:
        row = ctx.compare_rates(
            "login page GET",
            (site.server, [Request("GET", "/login")]),
            (floor, [Request("GET", "/login")]),
            goal=None,
            check=_no_redirects,
        )
    finally:
        floor.stop()
    row.details["page_bytes"] = len(page.body)
    return row


@register("login-post")
def login_post(ctx: Context) -> Row:
    """POST /login with a valid CSRF token and password (argon2id in both) against the floor."""
    from liboppi.services.accounts import hash_password

    site = ctx.site()
    visitor = site.browser()
    token = visitor.csrf_token("/login")
    body = urlencode(
        {"csrf_token": token, "email": site.learner_email, "password": site.password}
    ).encode()
    headers = {"Content-Type": FORM, **_cookie_headers(visitor)}
    probe = Browser(site.server.port)
    answer = probe.request("POST", "/login", body, headers)
    if answer.status != 302:
        raise RuntimeError(f"sign-in answered {answer.status}, not 302")
    floor = ctx.start_floor(
        [
            {
                "method": "POST",
                "path": "/login",
                "status": 302,
                "location": "/",
                "body": answer.body,
                "argon2_hash": hash_password(site.password),
            }
        ]
    )
    request = Request("POST", "/login", headers, body)
    try:
        row = ctx.compare_rates(
            "login POST (argon2id)",
            (site.server, [request]),
            (floor, [request]),
            goal=None,
            check=lambda r: None if r.redirects == r.requests else "not every sign-in succeeded",
        )
    finally:
        floor.stop()
    row.note = "floor verifies the same argon2id hash"
    return row


@register("front-page")
def front_page(ctx: Context) -> Row:
    """GET / for a signed-in learner against the floor."""
    site = ctx.site()
    learner = site.learner()
    page = learner.get("/")
    if page.status != 200:
        raise RuntimeError(f"/ answered {page.status} for a signed-in learner")
    floor = page_floor(ctx, {"/": page.body})
    request = Request("GET", "/", _cookie_headers(learner))
    try:
        row = ctx.compare_rates(
            "front page (learner)",
            (site.server, [request]),
            (floor, [Request("GET", "/")]),
            goal=None,
            check=_no_redirects,
        )
    finally:
        floor.stop()
    row.details["page_bytes"] = len(page.body)
    return row


def typical_module(site: Site, learner: Browser) -> tuple[str, bytes, list[int]]:
    """The module page of median size among the shipped modules, and all sizes."""
    pages = []
    for path in site.module_paths:
        page = learner.get(path)
        if page.status == 200:
            pages.append((len(page.body), path, page.body))
    if not pages:
        raise Skip("no module page answered 200")
    pages.sort()
    size, path, body = pages[len(pages) // 2]
    return path, body, [p[0] for p in pages]


@register("module-page")
def module_page(ctx: Context) -> Row:
    """GET /courses/<course>/<module> for a signed-in learner against the floor."""
    site = ctx.site()
    if "content import" not in site.commands:
        raise Skip("'flask content import' does not exist yet")
    if not site.module_paths:
        raise Skip("no module pages found from /courses (content pages not there yet)")
    learner = site.learner()
    path, body, sizes = typical_module(site, learner)
    floor = page_floor(ctx, {path: body})
    try:
        row = ctx.compare_rates(
            "module page (learner)",
            (site.server, [Request("GET", path, _cookie_headers(learner))]),
            (floor, [Request("GET", path)]),
            goal=at_least(0.5),
            check=_no_redirects,
        )
    finally:
        floor.stop()
    row.details.update(
        {"path": path, "page_bytes": len(body), "module_pages": len(sizes), "sizes": sizes}
    )
    return row


MEMORY_REQUESTS = 10_000
#: More than 2 phases (BENCH_MEMORY_PHASES=3) shows whether growth goes on or levels off.
MEMORY_PHASES = max(2, int(os.environ.get("BENCH_MEMORY_PHASES", "2")))


@register("memory")
def memory(ctx: Context) -> list[Row]:
    """Worker RSS after 10,000 requests, and its growth over the next 10,000, on fresh servers."""
    site = ctx.site()
    learner = site.learner()
    paths = ["/", "/saavutettavuus", *site.module_paths]
    pages = {}
    for path in paths:
        page = learner.get(path)
        if page.status == 200:
            pages[path] = page.body
    cookie = _cookie_headers(learner)
    ours = ctx.start_server("ours-memory", "wsgi:app", site.env, ready_path="/saavutettavuus")
    floor = page_floor(ctx, pages)
    measured = {}
    try:
        for label, server, headers in (("ours", ours, cookie), ("floor", floor, {})):
            # A connection per request: the load's few keep-alive connections would stay with
            # the workers that accepted them, and a worker that got none in the first 10,000
            # (seen with 4 workers and 8 connections) would warm up in the second and read as
            # growth. New connections are spread over all workers in both phases.
            closing = {**headers, "Connection": "close"}
            requests = _every_thread_every_page(
                [Request("GET", path, closing) for path in pages], ctx.load.threads
            )
            samples = []
            runs = []
            baseline = server.worker_rss_mb()
            for _phase in range(MEMORY_PHASES):
                result = _exactly(ctx, server.port, requests, MEMORY_REQUESTS)
                runs.append(result.as_json())
                time.sleep(0.5)
                samples.append(server.worker_rss_mb())
            measured[label] = {
                "start_mb": baseline,
                "after_10k_mb": samples[0],
                "after_20k_mb": samples[1],
                "after_each_10k_mb": samples,
                "runs": runs,
            }
            bad = [run for run in runs if run["redirects"] or run["client_errors"]]
            bad += [run for run in runs if run["server_errors"] or run["socket_errors"]]
            if bad:
                raise RuntimeError(f"{label}: memory load was not all 200s: {bad[0]}")
    finally:
        ours.stop()
        floor.stop()

    def growth(label: str) -> float:
        m = measured[label]
        return max(b - a for a, b in zip(m["after_10k_mb"], m["after_20k_mb"], strict=True))

    rss = Row(
        name="worker RSS after 10k requests",
        figure=max(measured["ours"]["after_10k_mb"]),
        floor=max(measured["floor"]["after_10k_mb"]),
        unit="MiB",
        goal=Goal("figure_max", 120, "MiB"),
        details={"pages": list(pages), **measured},
    )
    grew = Row(
        name="worker RSS growth, next 10k",
        figure=growth("ours"),
        floor=growth("floor"),
        unit="MiB",
        goal=Goal("figure_max", 1.0, "MiB"),
        note="largest growth of any worker; allocator noise allowance 1 MiB",
        details={
            "ours_mean_growth_mb": statistics.mean(
                b - a
                for a, b in zip(
                    measured["ours"]["after_10k_mb"], measured["ours"]["after_20k_mb"], strict=True
                )
            )
        },
    )
    return [rss, grew]


def _every_thread_every_page(requests: list[Request], threads: int) -> list[Request]:
    """The list, made longer (by repeating its first items) until every load thread sends
    every page in turn.

    Thread *i* sends items *i, i + T, …* modulo the list's length, so with an even number of
    pages and two threads, each thread sends only half of them; a worker whose connections
    all came from one thread would then first render the other half in the second 10,000,
    and the page cache filling up would read as growth. With a length coprime to T each
    thread cycles through all items.
    """
    longer = list(requests)
    while math.gcd(len(longer), max(1, threads)) != 1:
        longer.append(requests[len(longer) % len(requests)])
    return longer


def _exactly(ctx: Context, port: int, requests: list[Request], count: int) -> LoadResult:
    """Send ``count`` requests (time limit 5 minutes); fewer means the server is too slow."""
    result = run_load(port, requests, seconds=300, max_requests=count, settings=ctx.load)
    if result.requests < count * 0.99:
        raise RuntimeError(f"only {result.requests} of {count} requests completed in time")
    return result
