"""``python -m benchmarks server-times``: each page's server time for a logged-in person, in process.

For the large data set (``demo-scale``) goal: every page under 150 ms of server time. Each page is requested by a
demo teacher logged in through the real form, with the fragment cache (:mod:`catalogue.fragments`) emptied first —
*made*: what the first request after a change of content costs — and again right after — *served*: what every
other request costs until the next change. Medians of ``--runs``; wall time of the WSGI call, page cache off (it
serves nobody logged in anyway). DATABASE_URL and SEARCH_INDEX_DIR choose the data.
"""

import os
import re
import statistics
import time
from collections.abc import Callable

from benchmarks.site_bench import DEMO_PASSWORD, DEMO_USER


def run(runs: int, echo: Callable[[str], None]) -> None:
    os.environ["PAGE_CACHE"] = "0"
    from catalogue import create_app

    app = create_app()
    client = app.test_client()
    login = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    answer = client.post("/auth/login", data={"email": DEMO_USER, "password": DEMO_PASSWORD, "csrf_token": token})
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"login as {DEMO_USER} failed: {answer.status_code}")
    catalogue = client.get("/projects/").get_data(as_text=True)
    practices = client.get("/practices/").get_data(as_text=True)
    pages = ["/", "/projects/", re.search(r'href="(/projects/\?age=[^"&]+)"', catalogue).group(1),
             "/projects/?page=500", re.search(r'href="(/projects/\d+-[^"/]*)"', catalogue).group(1),
             "/practices/", "/practices/?page=50", re.search(r'href="(/practices/\d+[^"/]*)"', practices).group(1),
             "/contest/", "/feeds/projects.atom", "/feeds/practices.atom", "/search?q=проект",
             "/search?q=энергетика"]  # fmt: skip
    echo("| page | made, ms | served, ms |")
    echo("|---|---|---|")
    for path in pages:
        client.get(path)
        made, served = [], []
        for _ in range(runs):
            app.extensions["fragments"].entries.clear()
            for times in (made, served):
                start = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path}: {response.status_code}")
        echo(f"| `{path}` | {statistics.median(made):.0f} | {statistics.median(served):.1f} |")
