"""/monitoring/: the roadmap's numbers counted right on a small known data set, the «менее 5» rule (with the cell
that a total would give away), coordinators' schools, filters with and without htmx, downloads, and SVG.

The data set, all in 2025 unless said otherwise — Иркутск (two schools), Братск, Ангарск:

- typical projects published: Иркутск 4 (8–9 классы, energy) + 3 (10–11, IT), Братск 2 (8–9, IT), Ангарск 6
  (10–11, energy), and one more in Иркутск in 2024; a draft in Ангарск that does not count;
- class reports: two in Иркутск (8th grade, 20 and 25 pupils), one in Ангарск (10th grade, 12 pupils), a draft;
- the contest's 2025 season: 6 admitted entries of 5 students (7th grade) in Иркутск, 2 of 2 students (10th grade)
  in Ангарск, a draft in Братск; a winner and a prize-winner in Иркутск;
- practices: one from Иркутск (8–9, energy) adopted in Братск and Ангарск, one from Братск (10–11, IT) adopted in
  Иркутск.
"""

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from catalogue.accounts.models import CoordinatedMunicipality, User, UserRole
from catalogue.contest.models import Entry
from catalogue.extensions import db
from catalogue.monitoring import indicators as ind
from catalogue.monitoring.privacy import protect, protect_grid
from catalogue.practices.models import Practice, PracticeAdoption, practice_sphere
from catalogue.projects.models import Project, ProjectReport, ProjectRun, project_age_group, project_sphere
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
from catalogue.workflow.models import Status
from tests.contest_support import make_season
from tests.helpers import csrf_token, published_practice_row

SCHOOLS = {
    "a1": "МБОУ г. Иркутска СОШ № 19",
    "a2": "МБОУ г. Иркутска лицей № 2",
    "b1": "МБОУ «СОШ № 12» г. Братска",
    "c1": "МБОУ «СОШ № 10» г. Ангарска",
}
IRKUTSK, BRATSK, ANGARSK = "город Иркутск", "город Братск", "Ангарский городской округ"
SVG = "{http://www.w3.org/2000/svg}"


def _at(year: int, month: int = 5) -> dt.datetime:
    return dt.datetime(year, month, 15, 4, 0)


@pytest.fixture
def known(app, make_user):
    """The data set above; returns the ids the tests need."""
    admin = make_user(roles=("admin",), email="admin@example.ru")
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    with app.test_request_context():
        season = make_season(admin, 2025, phase="results")
        season.results_confirmed_at = season.results_published_at = _at(2025, 11)
        org = {key: db.session.scalar(select(Organization).where(Organization.name == name))
               for key, name in SCHOOLS.items()}  # fmt: skip
        place = {m.name: m.id for m in db.session.scalars(select(Municipality))}
        age = {g.slug: g.id for g in db.session.scalars(select(AgeGroup))}
        sphere = {s.slug: s.id for s in db.session.scalars(select(Sphere))}

        def projects(school, count, ages, sphere_slug, year=2025, status=Status.PUBLISHED):
            for _ in range(count):
                project_id = db.session.execute(
                    insert(Project).returning(Project.id),
                    [{"title": "Проект", "summary": "К.", "goal": "Ц.", "format": "group", "duration_weeks": 4,
                      "expected_results": "И.", "organization_id": org[school].id, "author_id": teacher.id,
                      "status": status, "published_at": _at(year) if status == Status.PUBLISHED else None}],
                ).scalar_one()  # fmt: skip
                db.session.execute(insert(project_age_group), [{"project_id": project_id, "age_group_id": age[ages]}])
                db.session.execute(
                    insert(project_sphere), [{"project_id": project_id, "sphere_id": sphere[sphere_slug]}]
                )
            return project_id

        projects("a1", 4, "8-9", "energy")
        projects("a2", 3, "10-11", "it")
        projects("b1", 2, "8-9", "it")
        last = projects("c1", 6, "10-11", "energy")
        projects("a1", 1, "8-9", "energy", year=2024)
        draft = projects("c1", 1, "10-11", "energy", status=Status.DRAFT)

        def run(project_id, school, grade, label):
            return {"project_id": project_id, "teacher_id": teacher.id, "organization_id": org[school].id,
                    "municipality_id": org[school].municipality_id, "class_label": label, "class_key": label,
                    "grade": grade, "started_on": dt.date(2025, 9, 1), "due_on": dt.date(2025, 10, 1)}  # fmt: skip

        db.session.execute(
            insert(ProjectRun),
            [run(last, "a1", 8, "8А"), run(last, "a1", 10, "10Б"), run(last, "c1", 10, "10А"),
             run(draft, "c1", 10, "10В")],
        )

        def report(school, grade, pupils, status=Status.PUBLISHED):
            return {"project_id": last, "organization_id": org[school].id, "class_name": f"{grade} «А»",
                    "grade": grade, "started_on": dt.date(2025, 2, 1), "finished_on": dt.date(2025, 3, 1),
                    "participants": pupils, "body": "Б.", "results": "Р.", "author_id": teacher.id,
                    "status": status, "published_at": _at(2025)}  # fmt: skip

        db.session.execute(
            insert(ProjectReport),
            [report("a1", 8, 20), report("a1", 8, 25), report("c1", 10, 12), report("b1", 8, 30, Status.DRAFT)],
        )

        students = db.session.execute(
            insert(User).returning(User.id),
            [{"email": f"s{i}@example.ru", "password_hash": "x", "last_name": "Учени", "first_name": f"Имя{i}",
              "search_folded": ""} for i in range(8)],
        ).scalars().all()  # fmt: skip
        db.session.execute(insert(UserRole), [{"user_id": s, "role": "student"} for s in students])
        first, second = season.nominations
        young, old = season.age_categories

        def entry(student, school, grade, nomination, category, award=None, status=Status.PUBLISHED):
            return {"season_id": season.id, "nomination_id": nomination.id, "age_category_id": category.id,
                    "title": "Работа", "description": "М.", "author_id": student, "organization_id": org[school].id,
                    "grade": grade, "status": status, "award": award}  # fmt: skip

        db.session.execute(
            insert(Entry),
            [entry(students[0], "a1", 7, first, young, "winner"), entry(students[0], "a1", 7, first, young),
             entry(students[1], "a1", 7, first, young, "prize"), entry(students[2], "a1", 7, first, young),
             entry(students[3], "a1", 7, first, young), entry(students[4], "a1", 7, first, young),
             entry(students[5], "c1", 10, second, old, "participant"), entry(students[6], "c1", 10, second, old),
             entry(students[7], "b1", 7, first, young, status=Status.DRAFT)],
        )  # fmt: skip

        from_irkutsk, from_bratsk = db.session.execute(
            insert(Practice).returning(Practice.id),
            [published_practice_row(1, org["a1"], teacher.id, _at(2025), grade_from=8, grade_to=9),
             published_practice_row(2, org["b1"], teacher.id, _at(2025), grade_from=10, grade_to=11)],
        ).scalars().all()  # fmt: skip
        db.session.execute(
            insert(practice_sphere),
            [{"practice_id": from_irkutsk, "sphere_id": sphere["energy"]},
             {"practice_id": from_bratsk, "sphere_id": sphere["it"]}],
        )  # fmt: skip
        db.session.execute(
            insert(PracticeAdoption),
            [{"practice_id": from_irkutsk, "organization_id": org["b1"].id, "adopted_on": dt.date(2025, 4, 1)},
             {"practice_id": from_irkutsk, "organization_id": org["c1"].id, "adopted_on": dt.date(2025, 4, 2)},
             {"practice_id": from_bratsk, "organization_id": org["a2"].id, "adopted_on": dt.date(2025, 4, 3)}],
        )  # fmt: skip
        db.session.commit()
        return {"place": place, "age": age, "sphere": sphere, "admin": admin}


def _cube(name: str, **filters) -> dict:
    return ind.cube(ind.BY_NAME[name], ind.Filters(**filters))


def test_each_indicator_counts_the_known_data_by_year_and_municipality(app, known):
    a, b, c = (known["place"][n] for n in (IRKUTSK, BRATSK, ANGARSK))
    with app.app_context():
        assert _cube("projects") == {(2025, a): 7, (2025, b): 2, (2025, c): 6, (2024, a): 1}
        assert _cube("reports") == {(2025, a): 2, (2025, c): 1}
        assert _cube("runs") == {(2025, a): 2, (2025, c): 1}  # a draft project's class is not counted
        assert _cube("projects_in_class") == {(2025, a): 1, (2025, c): 1}
        assert _cube("pupils") == {(2025, a): 45, (2025, c): 12}
        assert _cube("entries") == {(2025, a): 6, (2025, c): 2}
        assert _cube("participants") == {(2025, a): 5, (2025, c): 2}
        assert _cube("winners") == {(2025, a): 2}
        assert _cube("practices") == {(2025, a): 1, (2025, b): 1}
        assert _cube("adoptions") == {(2025, a): 1, (2025, b): 1, (2025, c): 1}
        assert _cube("adoptions_origin") == {(2025, a): 2, (2025, b): 1}
        by_category, by_nomination = (ind.breakdown(b, 2025, ind.Filters()) for b in ind.BREAKDOWNS)
        assert by_category == {"6–8 классы": 5, "9–11 классы": 2}
        assert by_nomination == {"Техника будущего": 5, "Архитектура": 2}
        # and by school, for one municipality
        schools = ind.cube(ind.BY_NAME["projects"], ind.Filters(), ind.Place(ind.ORGANIZATION, a))
        names = {o.id: o.name for o in db.session.scalars(select(Organization))}
        assert {(y, names[o]): v for (y, o), v in schools.items()} == {
            (2025, SCHOOLS["a1"]): 4, (2025, SCHOOLS["a2"]): 3, (2024, SCHOOLS["a1"]): 1,
        }  # fmt: skip


def test_an_age_group_or_a_sphere_narrows_what_it_applies_to(app, known):
    a, b, c = (known["place"][n] for n in (IRKUTSK, BRATSK, ANGARSK))
    with app.app_context():
        older = db.session.get(AgeGroup, known["age"]["10-11"])
        it = db.session.get(Sphere, known["sphere"]["it"])
        assert _cube("projects", age_group=db.session.get(AgeGroup, known["age"]["8-9"])) == {
            (2025, a): 4, (2025, b): 2, (2024, a): 1,
        }  # fmt: skip
        assert _cube("projects", sphere=it) == {(2025, a): 3, (2025, b): 2}
        assert _cube("reports", age_group=older) == {(2025, c): 1}
        assert _cube("participants", age_group=older) == {(2025, c): 2}
        assert _cube("practices", sphere=it) == {(2025, b): 1}
        assert _cube("adoptions", age_group=older) == {(2025, a): 1}
        assert "sphere" not in ind.BY_NAME["entries"].filters  # entries have no sphere: the page says so


def test_a_small_count_and_the_cell_that_would_give_it_away_are_hidden_from_the_public(client, known):
    page = client.get("/monitoring/?year=2025&indicator=projects").get_data(as_text=True)
    row = _municipality_row(page)
    # Братск's 2 is «менее 5»; with only it hidden, 15 − 7 − 6 would tell it, so Ангарск's 6 is hidden too.
    assert row(IRKUTSK, 0) == "7"
    assert row(BRATSK, 0) == "менее 5"
    assert row(ANGARSK, 0) == "скрыто"
    assert row("Итого", 0) == "15"
    assert row(ANGARSK, 4) == "менее 5" and row(IRKUTSK, 4) == "скрыто"  # participants: 2 and 5
    assert SCHOOLS["a1"] not in page  # the public sees no school
    # Иркутск's 5 participants are all in 6–7 классы: shown there, they would tell its hidden all-ages number
    by_age = _municipality_row(client.get("/monitoring/?year=2025&age=6-7").get_data(as_text=True))
    assert by_age(IRKUTSK, 4) == "скрыто" and by_age("Итого", 4) == "скрыто"
    csv = client.get("/monitoring/indicators.csv?year=2025").get_data().decode("utf-8-sig")
    assert "По муниципалитетам;Типовые проекты опубликованы;2025;город Братск;менее 5;проектов;" in csv
    assert "По муниципалитетам;Типовые проекты опубликованы;2025;Ангарский городской округ;скрыто;проектов;" in csv
    assert "По муниципалитетам;Типовые проекты опубликованы;2025;итого;15;проектов;" in csv
    # by year: 2024's one project is «менее 5»; 2025's 15 is the municipalities' total above, and the public gets
    # no sum over the years (16 − 15 would tell 2024)
    assert "По годам;Типовые проекты опубликованы;2024;Иркутская область;менее 5;проектов;" in csv
    assert "По годам;Типовые проекты опубликованы;2025;Иркутская область;15;проектов;" in csv
    assert ";всего;" not in csv
    assert "Участники конкурса по возрастным категориям;Участники конкурса;2025;9–11 классы;менее 5;" in csv
    for line in csv.splitlines()[1:]:
        value = line.split(";")[4]
        assert value in ("менее 5", "скрыто", "0") or int(value) >= 5, line


def test_the_rule_hides_a_second_cell_in_every_row_and_column_of_a_table_with_its_margins():
    # municipalities (and the region) by all ages and two age groups; «a» has 3 pupils, all of the younger group
    grid = {("a", "all"): 3, ("a", "young"): 3, ("a", "old"): 0,
            ("b", "all"): 9, ("b", "young"): 5, ("b", "old"): 4,
            ("c", "all"): 8, ("c", "young"): 0, ("c", "old"): 8,
            ("region", "all"): 20, ("region", "young"): 8, ("region", "old"): 12}  # fmt: skip
    cells = protect_grid(grid, known_rows=())
    for line in [[(r, c) for c in ("all", "young", "old")] for r in ("a", "b", "c", "region")] + [
        [(r, c) for r in ("a", "b", "c", "region")] for c in ("all", "young", "old")
    ]:
        assert sum(cells[k].hidden for k in line) != 1, line
    assert cells[("a", "young")].text == "менее 5" and cells[("b", "old")].text == "менее 5"
    assert protect_grid(grid, known_rows=None)[("a", "young")].text == "3"
    known = protect_grid(grid, known_rows={"a"})  # a coordinator of «a»
    assert known[("a", "young")].text == "3" and known[("b", "old")].hidden


def test_the_rule_hides_the_total_when_no_second_cell_can_be_hidden():
    table = protect({"a": 3, "b": 0, "c": 6}, known={"c"})  # a coordinator of «c» knows 6: 9 − 6 would tell «a»
    assert (table.cells["a"].text, table.cells["c"].text, table.total.text) == ("менее 5", "6", "скрыто")
    table = protect({"a": 3, "b": 4, "c": 6})
    assert (table.cells["a"].text, table.cells["b"].text, table.cells["c"].text, table.total.text) == (
        "менее 5", "менее 5", "6", "13",
    )  # fmt: skip
    assert protect({"a": 3}, known=None).total.text == "3"  # administrators see everything
    # a total hidden in another table (the participants'): hidden here too, with two cells, so nothing adds up to it
    table = protect({"a": 6, "b": 7, "c": 9}, hide_total=True)
    assert [c.text for c in table.cells.values()] + [table.total.text] == ["скрыто", "скрыто", "9", "скрыто"]


def test_a_coordinator_sees_their_municipality_in_detail_and_no_other(app, client, auth, known, make_user):
    coordinator = make_user(roles=("coordinator",), email="coordinator@example.ru")
    with app.app_context():
        db.session.add(CoordinatedMunicipality(user_id=coordinator.id, municipality_id=known["place"][IRKUTSK]))
        db.session.commit()
    auth.login(coordinator)
    bratsk = known["place"][BRATSK]
    page = client.get(f"/monitoring/?year=2025&municipality={bratsk}").get_data(as_text=True)
    schools = _table_rows(page, "schools-caption")
    assert schools[SCHOOLS["a1"]][0] == "4" and schools[SCHOOLS["a2"]][0] == "3"
    assert schools[SCHOOLS["a1"]][4] == "5" and schools[SCHOOLS["a2"]][4] == "0"  # participants, unhidden
    assert SCHOOLS["b1"] not in page  # another municipality's schools, even when asked for
    row = _municipality_row(page)
    assert row(BRATSK, 0) == "менее 5" and row(ANGARSK, 0) == "скрыто"
    csv = client.get(f"/monitoring/indicators.csv?year=2025&municipality={bratsk}").get_data().decode("utf-8-sig")
    assert f"Школы: {IRKUTSK};Участники конкурса;2025;{SCHOOLS['a1']};5;человек;" in csv
    assert SCHOOLS["b1"] not in csv


def test_an_administrator_sees_every_number_and_any_municipalitys_schools(client, auth, known):
    auth.login(known["admin"])
    page = client.get(f"/monitoring/?year=2025&municipality={known['place'][BRATSK]}").get_data(as_text=True)
    row = _municipality_row(page)
    assert (row(BRATSK, 0), row(ANGARSK, 0), row(ANGARSK, 4)) == ("2", "6", "2")
    assert _table_rows(page, "schools-caption")[SCHOOLS["b1"]][0] == "2"
    csv = client.get("/monitoring/indicators.csv?year=2025").get_data().decode("utf-8-sig")
    assert "По годам;Типовые проекты опубликованы;всего;Иркутская область;16;проектов;" in csv


def test_an_administrator_makes_someone_a_coordinator_of_a_municipality(app, client, auth, known, make_user):
    person = make_user(roles=("teacher",), email="person@example.ru", organization=None)
    auth.login(known["admin"])
    url = f"/admin/users/{person.id}"
    form = {"last_name": "Иванова", "first_name": "Анна", "email": "person@example.ru", "roles": ["coordinator"],
            "organization_id": "0", "grade": "", "active": "y", "csrf_token": csrf_token(client, url)}  # fmt: skip
    refused = client.post(url, data={**form, "coordinated_municipality_id": "0"})
    assert refused.status_code == 422
    assert "Выберите муниципальное образование, которое координирует пользователь." in refused.get_data(as_text=True)
    irkutsk = known["place"][IRKUTSK]
    assert client.post(url, data={**form, "coordinated_municipality_id": str(irkutsk)}).status_code == 303
    with app.app_context():
        assert db.session.get(CoordinatedMunicipality, person.id).municipality_id == irkutsk
        assert {r.role for r in db.session.get(User, person.id).role_rows} == {"coordinator"}
    assert f'<option selected value="{irkutsk}">' in client.get(url).get_data(as_text=True)
    form["roles"] = ["teacher"]  # the role taken away: the municipality goes with it
    assert client.post(url, data={**form, "coordinated_municipality_id": str(irkutsk)}).status_code == 303
    with app.app_context():
        assert db.session.get(CoordinatedMunicipality, person.id) is None


def test_the_filters_work_as_a_plain_form_and_with_htmx(client, known):
    plain = client.get("/monitoring/?year=2025&age=10-11&indicator=reports").get_data(as_text=True)
    assert plain.startswith("<!doctype html>") or plain.lower().startswith("<!doctype html>")
    assert '<option selected value="10-11">' in plain
    assert 'hx-push-url="true"' in plain and 'action="/monitoring/"' in plain
    assert _municipality_row(plain)(ANGARSK, 1) == "менее 5"  # one report of the 10th grade
    assert _municipality_row(plain)(IRKUTSK, 1) == "0"
    fragment = client.get("/monitoring/?year=2025&age=10-11&indicator=reports", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "table-municipalities-caption" in html
    assert "age=10-11" in html  # the download links keep the filters
    assert "HX-Request" in fragment.headers["Vary"]
    sphere = client.get("/monitoring/?year=2025&sphere=it&indicator=entries").get_data(as_text=True)
    assert "К показателю «Конкурсные работы» этот отбор не применяется" in sphere
    assert client.get("/monitoring/?year=abcd&age=nope&indicator=<b>").status_code == 200


def test_the_downloads_are_csv_and_xlsx_of_the_same_tables(client, known):
    csv = client.get("/monitoring/indicators.csv?year=2025&sphere=it")
    assert csv.headers["Content-Disposition"] == 'attachment; filename="monitoring-2025.csv"'
    text = csv.get_data().decode("utf-8-sig")
    assert text.splitlines()[0] == "Таблица;Показатель;Год;Где;Значение;Единица;Фильтр"
    assert (
        "По муниципалитетам;Типовые проекты опубликованы;2025;город Иркутск;менее 5;проектов;Информационные технологии"
        in text
    )
    xlsx = client.get("/monitoring/indicators.xlsx?year=2025&sphere=it")
    assert xlsx.headers["Content-Disposition"] == 'attachment; filename="monitoring-2025.xlsx"'
    rows = list(load_workbook(io.BytesIO(xlsx.get_data()), read_only=True)["Мониторинг"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Таблица", "Показатель", "Год", "Где", "Значение")
    lines = [";".join("" if v is None else str(v) for v in row) for row in rows[1:]]
    assert lines == [line for line in text.splitlines()[1:]]


def test_the_charts_are_well_formed_svg_with_a_title_and_a_description(client, known):
    page = client.get("/monitoring/?year=2025&indicator=projects").get_data(as_text=True)
    charts = [page[start : page.index("</svg>", start) + 6] for start in _starts(page, '<svg class="chart')]
    assert len(charts) == 3  # years, municipalities, the tile map
    for chart in charts:
        svg = ET.fromstring(chart)
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert svg.get("role") == "img" and svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert title.text and desc.text
    tiles = ET.fromstring(charts[2])
    words = [t.text for t in tiles.iter(f"{SVG}text")]
    assert words.count("менее 5") == 1 and "Братск" in words
    bars = ET.fromstring(charts[1])
    assert [t.text for t in bars.iter(f"{SVG}text")][:2] == [IRKUTSK, "7"]  # the longest bar first


# -- reading the page's tables ------------------------------------------------------------------------------


def _starts(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _table_rows(page: str, caption_id: str) -> dict[str, list[str]]:
    """{row header: [cell texts]} of the table whose caption has ``caption_id``."""
    start = page.index(f'id="{caption_id}"')
    table = page[page.rindex("<table", 0, start) : page.index("</table>", start) + 8]
    root = ET.fromstring(table.replace("&nbsp;", "\u00a0"))
    rows = {}
    for tr in root.iter("tr"):
        header = tr.find("th")
        if header is not None and header.get("scope") == "row":
            rows[header.text] = [(td.text or "").strip() for td in tr.findall("td")]
    return rows


def _municipality_row(page: str):
    rows = _table_rows(page, "table-municipalities-caption")
    return lambda name, column: rows[name][column]


@pytest.mark.page_cache
def test_the_public_page_is_served_from_the_page_cache_and_a_coordinators_never(app, client, auth, known, make_user):
    first = client.get("/monitoring/?year=2025")
    again = client.get("/monitoring/?year=2025")
    assert again.headers.get("X-Page-Cache") == "hit" and again.get_data() == first.get_data()
    coordinator = make_user(roles=("coordinator",), email="coordinator@example.ru")
    with app.app_context():
        db.session.add(CoordinatedMunicipality(user_id=coordinator.id, municipality_id=known["place"][IRKUTSK]))
        db.session.commit()
    auth.login(coordinator)
    for _ in range(2):
        page = client.get("/monitoring/?year=2025")
        assert page.headers.get("X-Page-Cache") != "hit" and SCHOOLS["a1"] in page.get_data(as_text=True)


# What the browser does is the same on both databases (the numbers are proven on both above): SQLite only.
@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_in_a_browser_the_filters_update_the_tables_push_the_address_and_back_restores_them(page, known):
    from playwright.sync_api import expect

    reports = page.locator("#table-municipalities-caption").locator("xpath=..").locator("tbody tr", has_text=ANGARSK)
    page.goto("/monitoring/?year=2025")
    expect(reports.locator("td").nth(1)).to_have_text("менее 5")
    page.get_by_label("Возрастная группа").select_option(label="8–9 классы")
    expect(page).to_have_url(re.compile(r"age=8-9"))
    expect(reports.locator("td").nth(1)).to_have_text("0")  # Ангарск's one report is of the 10th grade
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"age="))
    expect(page.get_by_label("Возрастная группа")).to_have_value("")
    expect(reports.locator("td").nth(1)).to_have_text("менее 5")
