"""A logged-in person's pages in process, by CPU time (not a test): ``python -m benchmarks.logged_in [--source DIR]``.

The site (of this checkout, or of ``--source``, e.g. ``git archive`` of main) on the database of ``DATABASE_URL``
(default the demo content, ``instance/catalogue.db``), page cache off as for anyone logged in; a demo teacher,
student and moderator log in through the real form, then each page is requested ``--requests`` times through the
test client and the process's CPU time per request is printed (median of ``--rounds``), with the statements a
request makes; last, the same pages for an anonymous visitor whose session holds a form's CSRF token, with the page
cache on, and whether the cache answered. No server, client or network: what is left is the site's own work, so two
checkouts measured one after the other on a busy machine compare better than requests per second. Run it for each
checkout in turn, twice.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

PAGES = ["/", "/projects/", "/projects/?age=8-9", "/practices/", "/contest/", "/feeds/projects.atom"]
PEOPLE = ("teacher@demo.example", "student@demo.example", "moderator@demo.example")
PASSWORD = "demo-demo-2026"  # noqa: S105  (the demo accounts' password, printed in the README)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=None, help="another checkout of the site")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.source:
        sys.path.insert(0, os.path.abspath(args.source))
    from sqlalchemy import event

    from catalogue import create_app
    from catalogue.extensions import db

    app = create_app({"PAGE_CACHE": False, "WARM_UP": False})
    anonymous = app.test_client()
    pages = list(PAGES)
    for kind in ("projects", "practices"):
        found = re.search(rf'href="(/{kind}/\d+-[^"?]+)"', anonymous.get(f"/{kind}/").get_data(as_text=True))
        if found:
            pages.insert(pages.index(f"/{kind}/") + 1, found.group(1))
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    print(f"{app.import_name} from {sys.modules['catalogue'].__file__}")
    print("| page | visitor | CPU ms per request | statements |")
    print("|---|---|---|---|")
    for email in PEOPLE:
        browser = app.test_client()
        form = browser.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', form
        )
        answer = browser.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
        assert answer.status_code in (302, 303), (email, answer.status_code)
        for path in pages:
            for _ in range(10):
                assert browser.get(path).status_code == 200, path
            statements.clear()
            browser.get(path)
            made = len([s for s in statements if s != "BEGIN"])
            spent = []
            for _ in range(args.rounds):
                start = time.process_time()
                for _ in range(args.requests):
                    browser.get(path)
                spent.append((time.process_time() - start) / args.requests * 1000)
            print(f"| {path} | {email.split('@')[0]} | {statistics.median(spent):.2f} | {made} |")
    # An anonymous visitor whose session holds a form's CSRF token (they opened the login form), page cache on
    cached = create_app({"PAGE_CACHE": True, "WARM_UP": False, "PAGE_CACHE_DIR": tempfile.mkdtemp()})
    visitor = cached.test_client()
    visitor.get("/auth/login")
    for path in pages:
        for _ in range(3):
            visitor.get(path)
        spent = []
        for _ in range(args.rounds):
            start = time.process_time()
            for _ in range(args.requests):
                answer = visitor.get(path)
            spent.append((time.process_time() - start) / args.requests * 1000)
        outcome = answer.headers.get("X-Page-Cache") or "not cached"
        print(f"| {path} | anonymous, session with a CSRF token | {statistics.median(spent):.2f} | {outcome} |")


if __name__ == "__main__":
    main()
