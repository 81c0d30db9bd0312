"""axe-core, in a real browser, finds no serious or critical accessibility violation on any page of the site.

The site is the demo content. Every page a visitor can open, and every page each role opens that a visitor
cannot, is checked at 1280 and at 375 px wide. The pages are found from the URL map: each GET rule is built with
real ids of the demo content, and kept when it answers a whole HTML page. axe-core is vendored from npm
(``tests/vendor/axe-core``, with its licence); it is injected into the page, never served by the site.
"""

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from catalogue.demo import seed_demo
from catalogue.extensions import db
from catalogue.search import thesaurus
from tests.conftest import BROWSER_TIMEOUT_MS, _LiveRequestHandler, _reset_postgres_tables, app_config, make_test_app
from tests.helpers import csrf_token

# axe reads the markup, which is the same on both databases: the check runs once, on SQLite (the rest of the
# suite proves the pages alike on PostgreSQL), which saves the suite some six minutes.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
ROLES = ("visitor", "student", "teacher", "jury", "moderator", "admin")
ACCOUNTS = {role: f"{role}@demo.example" for role in (*ROLES, "coordinator") if role != "visitor"}
PASSWORD = "demo-demo-2026"  # the demo accounts' published password
PHONE = 375  # CSS pixels: a common phone
WIDTHS = (1280, PHONE)
# Not pages: switches, logout, downloads, one-time links.
SKIPPED_ENDPOINTS = {"main.a11y", "accounts.logout", "main.robots", "main.favicon", "static"}

# In the page: run axe and keep what is serious or critical, with the elements it is about.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " — " + n.failureSummary)}));
}"""

# In the page, at a phone's width: nothing may be wider than the screen. When the page scrolls sideways, name the
# widest element that reaches past the right edge (one inside a scrolling box of its own does not count), so a
# failure says what to fix.
OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  // Inside a box that scrolls by itself and ends on the screen; an absolutely positioned element is clipped only by
  // such a box at or above its containing block (a visually hidden label in a scrolling table is not).
  const clipped = el => {
    let position = getComputedStyle(el).position;
    for (let up = el.parentElement; up && up !== document.body && position !== "fixed"; up = up.parentElement) {
      const style = getComputedStyle(up);
      const containing = style.position !== "static";
      if ((position !== "absolute" || containing) && style.overflowX !== "visible"
          && up.getBoundingClientRect().right <= width + 1) return true;
      if (containing || position !== "absolute") position = style.position;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map(c => "." + c).join("");
  let widest = null;
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && (!widest || box.width > widest.box.width) && el.checkVisibility() && !clipped(el)) {
      widest = {el, box};
    }
  }
  const path = [];
  for (let el = widest && widest.el; el && el !== document.body && path.length < 4; el = el.parentElement) {
    path.unshift(name(el));
  }
  return {scrollWidth: document.documentElement.scrollWidth, width,
          element: widest ? path.join(" > ") + " (" + Math.round(widest.box.width) + " px wide, right edge at "
                            + Math.round(widest.box.right) + " px)" : "none found",
          text: widest ? widest.el.textContent.trim().replace(/\\s+/g, " ").slice(0, 60) : ""};
}"""


@pytest.fixture(scope="module")
def demo_site(backend, database_url, tmp_path_factory, request):
    """The demo content on this backend, served on a free port for the whole module: (app, base URL)."""
    instance = tmp_path_factory.mktemp("axe")
    database = database_url or f"sqlite:///{instance / 'catalogue.db'}"
    app = make_test_app(app_config(instance / "instance", database))
    server = None
    try:
        with app.app_context():
            if backend == "postgresql":
                _reset_postgres_tables(request.getfixturevalue("postgres_reset"))
            else:
                db.create_all()
            thesaurus.load_data_file()  # as the migrations load it for ``make run``
            seed_demo()
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_LiveRequestHandler)
        app.config["SITE_URL"] = f"http://127.0.0.1:{server.port}"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        yield app, app.config["SITE_URL"]
        server.shutdown()
        thread.join()
    finally:
        if server is not None:
            server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _ids(app) -> dict[str, list]:
    """One real value for each kind of path part, from the demo content."""
    from catalogue.accounts.models import User
    from catalogue.contest.models import Entry, JuryAssignment, Nomination, Season
    from catalogue.practices.models import Practice, PracticeRevision
    from catalogue.projects.models import Project, ProjectReport, ProjectRun
    from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere

    def first(column):
        return db.session.scalar(db.select(column).order_by(column).limit(1))

    with app.app_context():
        return {
            "user_id": first(User.id),
            "municipality_id": first(Municipality.id),
            "organization_id": first(Organization.id),
            "age_group_id": first(AgeGroup.id),
            "sphere_id": first(Sphere.id),
            "project_id": first(Project.id),
            "report_id": first(ProjectReport.id),
            "run_id": first(ProjectRun.id),  # the demo teacher's class (their «Мои классы» and its form)
            "practice_id": first(Practice.id),
            "revision_id": first(PracticeRevision.id),
            "entry_id": first(Entry.id),
            "year": first(Season.year),
            "assignment_id": first(JuryAssignment.id),
            "part_id": first(Nomination.id),
            "type_key": "project",
            "item_id": first(Project.id),
            "group_id": first(thesaurus.SynonymGroup.id),
        }


def _candidate_paths(app) -> list[str]:
    known = _ids(app)
    paths = set()
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
                continue
            values = {}
            for name in rule.arguments:
                if name not in known:
                    break
                values[name] = known[name]
            else:
                paths.add(app.url_map.bind("localhost").build(rule.endpoint, values))
    return sorted(paths)


def _logged_in_client(app, role: str):
    client = app.test_client()
    if role != "visitor":
        token = csrf_token(client, "/auth/login")
        response = client.post("/auth/login", data={"email": ACCOUNTS[role], "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 303, f"{role} could not log in"
    return client


def _html_pages(app, role: str, paths: list[str]) -> set[str]:
    """The paths that answer this role with a whole HTML page (after redirects)."""
    client = _logged_in_client(app, role)
    pages = set()
    for path in paths:
        with client.get(path, follow_redirects=True) as response:
            landed = response.request.path
            # A page behind a login sends a visitor to the login page, which is checked as itself.
            if landed == "/auth/login" and not path.startswith("/auth/login"):
                continue
            whole_page = response.get_data().lstrip()[:15].lower() == b"<!doctype html>"
            if response.status_code == 200 and response.mimetype == "text/html" and whole_page:
                pages.add(response.request.full_path.rstrip("?"))
    return pages


@pytest.fixture(scope="module")
def pages_by_role(demo_site) -> dict[str, list[str]]:
    """Every visitor's page, and each role's pages a visitor cannot open."""
    app, _ = demo_site
    paths = _candidate_paths(app)
    public = _html_pages(app, "visitor", paths)
    found = {"visitor": sorted(public)}
    for role in ROLES[1:]:
        found[role] = sorted(_html_pages(app, role, paths) - public)
    return found


def _login(page, role: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill(ACCOUNTS[role])
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти", exact=True).click()
    page.wait_for_url(lambda url: "/auth/login" not in url)


def _violations(browser, base_url: str, role: str, pages: list[str], widths=WIDTHS, cookies=()) -> list[str]:
    """axe's serious and critical findings on ``pages`` as ``role``, one line (and its elements) each."""
    # The site's Content-Security-Policy rightly refuses injected scripts; axe is a test tool, not the site's.
    context = browser.new_context(base_url=base_url, locale="ru-RU", bypass_csp=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    context.add_cookies([{"name": name, "value": value, "url": base_url} for name, value in cookies])
    page = context.new_page()
    found = []
    try:
        if role != "visitor":
            _login(page, role)
        for width in widths:
            page.set_viewport_size({"width": width, "height": 800})
            for path in pages:
                # The DOM is what axe reads; a large 3D model still loading must not hold it up.
                # Some two hundred pages in a row on a busy machine: one slow page is no finding.
                page.goto(path, wait_until="domcontentloaded", timeout=3 * BROWSER_TIMEOUT_MS)
                page.add_script_tag(path=str(AXE))
                for v in page.evaluate(RUN_AXE):
                    found.append(
                        f"{role} {width}px {path}: {v['id']} ({v['impact']}) {v['help']}\n    "
                        + "\n    ".join(v["targets"])
                    )
                # A phone's screen: no sideways scrolling (the same walk, so no second round of page loads).
                if width == PHONE and (wide := page.evaluate(OVERFLOW)):
                    found.append(
                        f"{role} {width}px {path}: scrolls sideways ({wide['scrollWidth']} px wide): "
                        f"{wide['element']} «{wide['text']}»"
                    )
    finally:
        context.close()
    return found


@pytest.mark.parametrize("role", ROLES)
def test_axe_finds_nothing_serious_on_any_page(browser, demo_site, pages_by_role, role):
    pages = pages_by_role[role]
    assert pages, f"no pages found for {role}"
    found = _violations(browser, demo_site[1], role, pages)
    assert not found, f"{len(found)} serious or critical violations on {len(pages)} pages:\n" + "\n".join(found)


def test_axe_finds_nothing_serious_in_the_version_for_the_visually_impaired(browser, demo_site, pages_by_role):
    # Its own colours and sizes (css/a11y.css) must keep contrast and names right on every public page
    pages = pages_by_role["visitor"]
    found = _violations(browser, demo_site[1], "visitor", pages, widths=(1280,), cookies=[("a11y", "on")])
    assert not found, f"{len(found)} serious or critical violations on {len(pages)} pages:\n" + "\n".join(found)


def test_axe_finds_nothing_serious_on_the_monitoring_page_of_a_coordinator_and_of_a_visitor(browser, demo_site):
    # A coordinator's page has their municipality's schools; the visitor's is in the walk above too, and here with
    # the cookie of the version for the visually impaired, whose charts are drawn black on white.
    found = _violations(browser, demo_site[1], "coordinator", ["/monitoring/"])
    found += _violations(browser, demo_site[1], "visitor", ["/monitoring/"], widths=(1280,), cookies=[("a11y", "on")])
    assert not found, "\n".join(found)
