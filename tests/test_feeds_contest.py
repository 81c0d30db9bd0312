"""The contest's results feed, and contest pages in the sitemap."""

import xml.etree.ElementTree as ET

from catalogue.contest import results
from catalogue.extensions import db
from tests.contest_support import make_season
from tests.helpers import SITEMAP, sitemap_urls

ATOM = "{http://www.w3.org/2005/Atom}"


def test_results_feed_lists_seasons_whose_results_are_published(app, client, make_user):
    admin = make_user(roles=("admin",), email="admin@example.ru")
    with app.test_request_context():
        finished = make_season(admin, 2026, phase="results", title="СоЗДатель-2026")
        make_season(admin, 2027, phase="accepting", title="СоЗДатель-2027")
        results.confirm_results(db.session.merge(admin), finished, {})
        results.publish_results(db.session.merge(admin), finished)
    with client.get("/feeds/contest.atom") as response:
        assert response.status_code == 200
        assert response.content_type.startswith("application/atom+xml")
        feed = ET.fromstring(response.data)
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert titles == ["Итоги конкурса «СоЗДатель-2026»"]
    link = feed.find(f"{ATOM}entry/{ATOM}link").get("href")
    assert link.endswith("/contest/2026/results")

    # The sitemap has both seasons, and the results page only of the finished one
    locations = {u.findtext(f"{SITEMAP}loc") for u in sitemap_urls(client)}
    assert any(loc.endswith("/contest/2026/") for loc in locations)
    assert any(loc.endswith("/contest/2027/") for loc in locations)
    assert any(loc.endswith("/contest/2026/results") for loc in locations)
    assert not any(loc.endswith("/contest/2027/results") for loc in locations)
