"""The administrators' results and the gallery of a large season, before and after they were paged (not a test):
``python -m benchmarks.admin_results [--entries 20000]``.

A temporary SQLite database gets a season of ``--entries`` admitted entries in its four groups, each scored by a
juror (bulk INSERTs). Then, each the median of a few runs:
- the results page's rows: the whole ranking read into Python (as the page did) against one page of it, first and deep;
- confirmation: the ranking read and every entry assigned in Python (as it was) against the one UPDATE;
- the gallery's rows past the numbered pages: sorted through the joins (as it was) against read group by group.
Peak Python memory (``tracemalloc``) is printed for the two ways of reading the results page.
"""

import argparse
import datetime as dt
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import insert, select, text

from catalogue import create_app
from catalogue.accounts.models import Role, User, UserRole
from catalogue.contest import entries, results, seasons
from catalogue.contest.models import AgeCategory, Entry, Nomination, Review, Score, Season
from catalogue.extensions import db
from catalogue.pagination import FIRST_PAGE, PER_PAGE, Pager, _after, _Key
from catalogue.taxonomy.seed import seed_taxonomies
from tests.helpers import recorded_statements


def median_ms(run, times: int = 5) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent) * 1000


def peak_mb(run) -> float:
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _season(count: int) -> tuple[User, Season]:
    people = db.session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {"email": f"{name}@example.ru", "password_hash": "-", "last_name": name, "first_name": "Б"}
            for name in ("admin", "student", "juror")
        ],
    ).all()
    db.session.execute(insert(UserRole), [{"user_id": people[0], "role": Role.ADMIN}])
    db.session.commit()
    admin = db.session.get(User, people[0])
    today = dt.date.today()
    season = seasons.create_season(
        admin,
        seasons.SeasonData(
            2040,
            "СоЗДатель-2040",
            "Положение.",
            today - dt.timedelta(60),
            today - dt.timedelta(40),
            today - dt.timedelta(30),
            today - dt.timedelta(10),
            today - dt.timedelta(9),
        ),
    )
    for name in ("Техника будущего", "Архитектура"):
        seasons.save_nomination(admin, season, None, seasons.NominationData(name, ""))
    seasons.save_age_category(admin, season, None, seasons.AgeCategoryData("6–8 классы", 6, 8))
    seasons.save_age_category(admin, season, None, seasons.AgeCategoryData("9–11 классы", 9, 11))
    seasons.save_criterion(admin, season, None, seasons.CriterionData("Сложность модели", 10, 1.5))
    seasons.save_criterion(admin, season, None, seasons.CriterionData("Оригинальность", 5, 1.0))
    groups = [(n.id, c.id) for n in season.nominations for c in season.age_categories]
    ids = db.session.scalars(
        insert(Entry).returning(Entry.id, sort_by_parameter_order=True),
        [
            {
                "season_id": season.id,
                "nomination_id": groups[i % 4][0],
                "age_category_id": groups[i % 4][1],
                "title": f"Работа {i:05d}",
                "description": "Модель.",
                "author_id": people[1],
                "grade": 8,
                "status": "published",
            }
            for i in range(count)
        ],
    ).all()
    reviews = db.session.scalars(
        insert(Review).returning(Review.id, sort_by_parameter_order=True),
        [{"entry_id": entry_id, "juror_id": people[2]} for entry_id in ids],
    ).all()
    first, second = season.criteria
    db.session.execute(
        insert(Score),
        [{"review_id": r, "criterion_id": first.id, "value": r * 7 % 11} for r in reviews]
        + [{"review_id": r, "criterion_id": second.id, "value": r % 6} for r in reviews],
    )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return admin, season


def _old_confirmation(season: Season) -> None:
    for group in results.ranking(season):
        for standing in group.standings:
            standing.entry.total_score = standing.total
            standing.entry.rank = standing.place
            standing.entry.award = standing.proposed
    db.session.commit()


def _old_gallery_rows(season: Season, after: list):
    nomination_position = Nomination.position.label("nomination_position")
    category_position = AgeCategory.position.label("category_position")
    order = [nomination_position, category_position, Entry.title, Entry.id]
    stmt = (
        select(Entry.id, nomination_position, category_position, Entry.title)
        .join(Nomination, Entry.nomination_id == Nomination.id)
        .join(AgeCategory, Entry.age_category_id == AgeCategory.id)
        .where(Entry.season_id == season.id, Entry.status == "published")
    )
    return db.session.execute(
        stmt.where(_after([_Key(c) for c in order], after, False)).order_by(*order).limit(entries.GALLERY_PER_PAGE + 1)
    ).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "SITE_URL": "http://localhost",
        }
    )
    with app.test_request_context():
        db.create_all()
        seed_taxonomies()
        admin, season = _season(args.entries)
        admin_id, season_id = admin.id, season.id
        print(f"{args.entries:,} admitted entries in 4 groups, SQLite")
        half = args.entries // 2 // PER_PAGE
        numbered = Pager(page=half)  # half way by number: its start sought in the ranking's order
        deep = Pager(after=results.ranking_page(season, Pager(page=half - 1)).after_key)  # the same page by key
        whole = median_ms(lambda: results.ranking(season), 3)
        first = median_ms(lambda: results.ranking_page(season, FIRST_PAGE))
        middle = median_ms(lambda: results.ranking_page(season, deep))
        by_number = median_ms(lambda: results.ranking_page(season, numbered))
        print(
            f"results page rows: the whole ranking {whole:.0f} ms, a first page {first:.0f} ms, "
            f"page {half:,} (half way) by key {middle:.0f} ms, by number {by_number:.0f} ms"
        )
        db.session.expunge_all()
        season = db.session.get(Season, season_id)
        print(
            f"results page peak Python memory: whole ranking {peak_mb(lambda: results.ranking(season)):.1f} MB, "
            f"one page {peak_mb(lambda: results.ranking_page(season, deep)):.1f} MB, "
            f"by number {peak_mb(lambda: results.ranking_page(season, numbered)):.1f} MB"
        )
        db.session.expunge_all()
        season = db.session.get(Season, season_id)
        old = median_ms(lambda: _old_confirmation(db.session.get(Season, season_id)), 1)
        before = dict(db.session.execute(select(Entry.id, Entry.award)).all())
        db.session.expunge_all()
        admin, season = db.session.get(User, admin_id), db.session.get(Season, season_id)
        db.session.execute(Entry.__table__.update().values(award=None, rank=None, total_score=None))
        db.session.commit()
        new = median_ms(lambda: results.confirm_results(admin, season), 1)
        same = before == dict(db.session.execute(select(Entry.id, Entry.award)).all())
        print(f"confirmation: in Python {old:.0f} ms, one UPDATE {new:.0f} ms (same awards: {same})")
        gallery_half = Pager(page=args.entries // 2 // entries.GALLERY_PER_PAGE)
        gallery = entries.gallery(season, entries.GalleryFilters(pager=gallery_half))
        gallery_first = median_ms(lambda: entries.gallery(season, entries.GalleryFilters()), 15)
        gallery_number = median_ms(lambda: entries.gallery(season, entries.GalleryFilters(pager=gallery_half)), 15)
        print(f"gallery: the first page {gallery_first:.2f} ms, page {gallery_half.page:,} {gallery_number:.2f} ms")
        last = gallery.items[-1]
        positions = (last.nomination.position, last.age_category.position, last.title, last.id)
        key = Pager(after=gallery.after_key)
        with recorded_statements(db.engine) as statements:
            _old_gallery_rows(season, list(positions))
        (old_sql,) = statements
        with recorded_statements(db.engine) as statements:
            entries.gallery(season, entries.GalleryFilters(pager=key))
        new_sql = next((s, p) for s, p in statements if "group_ordinal" in s)
        connection = db.session.connection()
        old = median_ms(lambda: connection.exec_driver_sql(*old_sql).all(), 15)
        new = median_ms(lambda: connection.exec_driver_sql(*new_sql).all(), 15)
        print(f"gallery's rows half way: sorted through the joins {old:.2f} ms, read group by group {new:.2f} ms")

if __name__ == "__main__":
    main()
