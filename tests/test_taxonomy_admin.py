"""Administrators edit the shared taxonomies (municipalities, organizations, age groups, spheres); nobody else may."""

import pytest
from sqlalchemy import func, select

from catalogue.accounts.models import User
from catalogue.extensions import db
from catalogue.permissions import PermissionDenied
from catalogue.taxonomy import services
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, OrganizationKind, Sphere
from tests.helpers import csrf_token

IRKUTSK = "город Иркутск"
OLKHON = "Ольхонский район"


@pytest.fixture
def admin(make_user, auth):
    """An administrator, logged in with the test client."""
    user = make_user(roles=("admin",), email="admin@example.ru")
    assert auth.login(user).status_code == 303
    return user


def municipality_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Municipality.id).where(Municipality.name == name))


def count(app, model, *criteria) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def first_id(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(model.id).order_by(model.id).limit(1))


def admin_urls(app) -> tuple[list[str], list[tuple[str, dict]]]:
    """Every taxonomy admin page (GET), and every form (POST) with data an admin could save."""
    irkutsk = municipality_id(app, IRKUTSK)
    municipality, organization = first_id(app, Municipality), first_id(app, Organization)
    age_group, sphere = first_id(app, AgeGroup), first_id(app, Sphere)
    organization_data = {"name": "Новая школа", "kind": "school", "municipality_id": irkutsk}
    age_group_data = {"slug": "6-11", "name": "Все классы", "grade_from": "6", "grade_to": "11"}
    sphere_data = {"slug": "space", "name": "Космос", "description": ""}
    forms = [
        (f"/admin/taxonomy/municipalities/{municipality}", {"name": "Переименовано", "kind": "муниципальный округ"}),
        ("/admin/taxonomy/organizations/new", organization_data),
        (f"/admin/taxonomy/organizations/{organization}", organization_data),
        ("/admin/taxonomy/age-groups/new", age_group_data),
        (f"/admin/taxonomy/age-groups/{age_group}", age_group_data),
        ("/admin/taxonomy/spheres/new", sphere_data),
        (f"/admin/taxonomy/spheres/{sphere}", sphere_data),
    ]
    lists = [
        "/admin/taxonomy/",
        "/admin/taxonomy/municipalities/",
        "/admin/taxonomy/organizations/",
        "/admin/taxonomy/age-groups/",
        "/admin/taxonomy/spheres/",
    ]
    return lists + [url for url, _ in forms], forms


def taxonomy_snapshot(app) -> list:
    """Everything an admin form could change, to show that a refused request changed nothing."""
    with app.app_context():
        return [
            sorted((m.name, m.kind) for m in db.session.scalars(select(Municipality))),
            sorted((o.name, o.kind, o.municipality_id) for o in db.session.scalars(select(Organization))),
            sorted((g.slug, g.name, g.grade_from, g.grade_to) for g in db.session.scalars(select(AgeGroup))),
            sorted((s.slug, s.name, s.description) for s in db.session.scalars(select(Sphere))),
        ]


# -- organizations ----------------------------------------------------------------------------


def test_admin_adds_an_organization_that_registration_then_offers(app, client, admin):
    irkutsk = municipality_id(app, IRKUTSK)
    # The admin opens the list and follows "add"
    listing = client.get("/admin/taxonomy/organizations/").get_data(as_text=True)
    assert 'href="/admin/taxonomy/organizations/new"' in listing
    # They fill in the form and save
    token = csrf_token(client, "/admin/taxonomy/organizations/new")
    response = client.post(
        "/admin/taxonomy/organizations/new",
        data={
            "csrf_token": token,
            "name": "  МБОУ г. Иркутска   СОШ № 77 ",
            "kind": OrganizationKind.SCHOOL,
            "municipality_id": irkutsk,
        },
    )
    assert response.status_code == 303
    # The list they land on confirms it and shows the school, its name tidied
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Организация «МБОУ г. Иркутска СОШ № 77» добавлена." in page
    assert "Найдено: 1 организация" in page
    # A student registering in Irkutsk types part of the name in another case and finds it
    visitor = app.test_client()
    options = visitor.get(
        "/organizations/options", query_string={"organization_query": "сош № 77", "municipality_id": irkutsk}
    ).get_data(as_text=True)
    assert "МБОУ г. Иркутска СОШ № 77" in options
    # ... but not when looking in another municipality
    elsewhere = visitor.get(
        "/organizations/options",
        query_string={"organization_query": "сош № 77", "municipality_id": municipality_id(app, OLKHON)},
    ).get_data(as_text=True)
    assert "СОШ № 77" not in elsewhere


def test_duplicate_organization_name_in_one_municipality_is_refused_keeping_the_input(app, client, admin):
    irkutsk = municipality_id(app, IRKUTSK)
    before = count(app, Organization)
    # The admin types, in lower case, the name of an Irkutsk school that exists
    token = csrf_token(client, "/admin/taxonomy/organizations/new")
    typed = "мбоу г. иркутска сош № 19"
    response = client.post(
        "/admin/taxonomy/organizations/new",
        data={"csrf_token": token, "name": typed, "kind": OrganizationKind.COLLEGE, "municipality_id": irkutsk},
    )
    # The form comes back with the reason next to the name, and what they typed and chose
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"В муниципальном образовании «{IRKUTSK}» уже есть организация «{typed}»." in page
    assert 'id="name-error"' in page
    assert f'value="{typed}"' in page
    assert '<option selected value="college">' in page
    assert f'<option selected value="{irkutsk}">' in page
    assert count(app, Organization) == before
    # The same name in another municipality is a different school, and is saved
    response = client.post(
        "/admin/taxonomy/organizations/new",
        data={
            "csrf_token": token,
            "name": "МБОУ г. Иркутска СОШ № 19",
            "kind": OrganizationKind.SCHOOL,
            "municipality_id": municipality_id(app, OLKHON),
        },
    )
    assert response.status_code == 303
    assert count(app, Organization) == before + 1


def test_admin_moves_and_renames_an_organization_but_not_onto_another(app, client, admin):
    with app.app_context():
        college = db.session.scalar(select(Organization).where(Organization.name == "Иркутский авиационный техникум"))
        college_id, irkutsk = college.id, college.municipality_id
    path = f"/admin/taxonomy/organizations/{college_id}"
    # The edit form shows the current values
    page = client.get(path).get_data(as_text=True)
    assert 'value="Иркутский авиационный техникум"' in page
    # Renaming it to the name of a neighbour is refused
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "name": "Иркутский базовый медицинский колледж",
            "kind": OrganizationKind.COLLEGE,
            "municipality_id": irkutsk,
        },
    )
    assert response.status_code == 422
    assert "уже есть организация" in response.get_data(as_text=True)
    # A new name and kind are saved
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "name": "Иркутский авиационный колледж",
            "kind": OrganizationKind.COLLEGE,
            "municipality_id": irkutsk,
        },
    )
    assert response.status_code == 303
    with app.app_context():
        college = db.session.get(Organization, college_id)
        assert (college.name, college.name_folded) == ("Иркутский авиационный колледж", "иркутский авиационный колледж")


def test_organization_list_searches_filters_and_pages(app, client, admin):
    olkhon = municipality_id(app, OLKHON)
    # Sixty schools of Olkhon district are added through the service
    with app.app_context():
        actor = db.session.get(User, admin.id)
        for n in range(1, 61):
            services.save_organization(
                actor, None, services.OrganizationData(f"Тестовая школа № {n}", OrganizationKind.SCHOOL, olkhon)
            )
    # Searching in capitals with е for ё finds them all; fifty on the first page
    first = client.get("/admin/taxonomy/organizations/", query_string={"q": "ТЕСТОВАЯ ШКОЛА"}).get_data(as_text=True)
    assert "Найдено: 60 организаций" in first
    assert first.count("Тестовая школа № ") == 50
    assert 'rel="next"' in first
    # The second page holds the other ten, and the search is kept in its links
    second = client.get("/admin/taxonomy/organizations/", query_string={"q": "ТЕСТОВАЯ ШКОЛА", "page": 2}).get_data(
        as_text=True
    )
    assert second.count("Тестовая школа № ") == 10
    assert 'rel="prev"' in second and "q=%D0%A2%D0%95%D0%A1%D0%A2" in second
    # Filtering by municipality and kind narrows the list
    colleges = client.get(
        "/admin/taxonomy/organizations/",
        query_string={"municipality": municipality_id(app, IRKUTSK), "kind": OrganizationKind.COLLEGE},
    ).get_data(as_text=True)
    assert "Найдено: 3 организации" in colleges
    assert "Иркутский авиационный техникум" in colleges
    assert "Иркутский государственный университет" not in colleges
    # Malformed filters are ignored rather than failing
    for query in ({"municipality": "x", "page": "y", "kind": "?"}, {"municipality": "9" * 30, "page": "9" * 30}):
        assert client.get("/admin/taxonomy/organizations/", query_string=query).status_code == 200
    assert client.get("/admin/taxonomy/organizations/" + "9" * 30).status_code == 404


def test_htmx_search_returns_only_the_results_fragment(client, admin):
    # Typing in the search box sends an htmx request
    response = client.get(
        "/admin/taxonomy/organizations/",
        query_string={"q": "иркутский авиационный"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/admin/taxonomy/organizations/"},
    )
    # Only the results come back, and caches are told the answer depends on the header
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    fragment = response.get_data(as_text=True)
    assert "Найдено: 1 организация" in fragment
    assert "Иркутский авиационный техникум" in fragment
    assert "<html" not in fragment and "<form" not in fragment and "<h1>" not in fragment
    # Without JavaScript the same address is a whole page with the search form
    page = client.get("/admin/taxonomy/organizations/", query_string={"q": "иркутский авиационный"})
    assert "HX-Request" in page.headers["Vary"]
    text = page.get_data(as_text=True)
    assert "<html" in text and 'hx-target="#organization-results"' in text and 'hx-push-url="true"' in text
    assert '<button type="submit"' in text


# -- municipalities ---------------------------------------------------------------------------


def test_admin_corrects_a_municipality(app, client, admin):
    olkhon = municipality_id(app, OLKHON)
    path = f"/admin/taxonomy/municipalities/{olkhon}"
    # The list shows all 42, Irkutsk among the city districts before the districts
    listing = client.get("/admin/taxonomy/municipalities/").get_data(as_text=True)
    assert "42 муниципальных образования" in listing
    assert listing.index(IRKUTSK) < listing.index("Аларский район")
    # Renaming Olkhon district to an existing name is refused
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "name": "Иркутский район", "kind": "муниципальный район"})
    assert response.status_code == 422
    assert "«Иркутский район» уже есть в списке" in response.get_data(as_text=True)
    # A new kind and a corrected name are saved
    response = client.post(
        path, data={"csrf_token": token, "name": "Ольхонский  районный округ", "kind": "муниципальный округ"}
    )
    assert response.status_code == 303
    with app.app_context():
        municipality = db.session.get(Municipality, olkhon)
        assert (municipality.name, municipality.kind) == ("Ольхонский районный округ", "муниципальный округ")


# -- age groups and spheres -------------------------------------------------------------------


def test_age_group_ending_before_it_starts_is_refused(app, client, admin):
    before = count(app, AgeGroup)
    # The admin swaps the grades by mistake
    token = csrf_token(client, "/admin/taxonomy/age-groups/new")
    response = client.post(
        "/admin/taxonomy/age-groups/new",
        data={"csrf_token": token, "slug": "9-7", "name": "9–7 классы", "grade_from": "9", "grade_to": "7"},
    )
    # The form says why and keeps the input; nothing is saved
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Последний класс не может быть меньше первого." in page
    assert 'value="9–7 классы"' in page
    assert count(app, AgeGroup) == before
    # A grade outside 6-11 is refused too
    response = client.post(
        "/admin/taxonomy/age-groups/new",
        data={"csrf_token": token, "slug": "5-6", "name": "5–6 классы", "grade_from": "5", "grade_to": "6"},
    )
    assert response.status_code == 422
    assert "Класс — от 6 до 11." in response.get_data(as_text=True)
    # So is a slug that is already used
    response = client.post(
        "/admin/taxonomy/age-groups/new",
        data={"csrf_token": token, "slug": "8-9", "name": "Средние классы", "grade_from": "8", "grade_to": "9"},
    )
    assert response.status_code == 422
    assert "Адрес «8-9» уже занят" in response.get_data(as_text=True)
    # The right order is saved, at the end of the list
    response = client.post(
        "/admin/taxonomy/age-groups/new",
        data={"csrf_token": token, "slug": "7-9", "name": "7–9 классы", "grade_from": "7", "grade_to": "9"},
    )
    assert response.status_code == 303
    assert "Возрастная группа «7–9 классы» добавлена." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        assert [g.slug for g in services.age_groups()] == ["6-7", "8-9", "10-11", "7-9"]


def test_admin_adds_and_edits_a_sphere(app, client, admin):
    token = csrf_token(client, "/admin/taxonomy/spheres/new")
    # A slug in Cyrillic or capitals is refused with the rule spelled out
    response = client.post(
        "/admin/taxonomy/spheres/new", data={"csrf_token": token, "slug": "Космос", "name": "Космическая отрасль"}
    )
    assert response.status_code == 422
    assert "Только строчные латинские буквы, цифры и дефис" in response.get_data(as_text=True)
    # A name that exists (in another case) is refused
    response = client.post(
        "/admin/taxonomy/spheres/new", data={"csrf_token": token, "slug": "it-2", "name": "информационные технологии"}
    )
    assert response.status_code == 422
    assert "Сфера «информационные технологии» уже есть." in response.get_data(as_text=True)
    # A good one is added and listed last
    response = client.post(
        "/admin/taxonomy/spheres/new",
        data={"csrf_token": token, "slug": "space", "name": "Космическая отрасль", "description": "Спутники и ракеты"},
    )
    assert response.status_code == 303
    with app.app_context():
        sphere = services.spheres()[-1]
        assert sphere.slug == "space"
        sphere_id = sphere.id
    listing = client.get("/admin/taxonomy/spheres/").get_data(as_text=True)
    assert "Космическая отрасль" in listing and "Спутники и ракеты" in listing
    # Editing it to take another sphere's slug is refused
    path = f"/admin/taxonomy/spheres/{sphere_id}"
    response = client.post(path, data={"csrf_token": token, "slug": "it", "name": "Космическая отрасль"})
    assert response.status_code == 422
    assert "Адрес «it» уже занят" in response.get_data(as_text=True)


# -- who may -----------------------------------------------------------------------------------


def test_teacher_is_refused_every_taxonomy_admin_page_and_form(app, client, auth, make_user):
    pages, forms = admin_urls(app)
    before = taxonomy_snapshot(app)
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    auth.login(teacher)
    # Every page answers 403
    for url in pages:
        assert client.get(url).status_code == 403, url
    # Every form, posted with a valid token, answers 403 and changes nothing
    token = csrf_token(client, "/account/")
    for url, data in forms:
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    assert taxonomy_snapshot(app) == before


def test_moderator_is_refused_too(app, client, auth, make_user):
    auth.login(make_user(roles=("moderator", "jury"), email="moderator@example.ru"))
    # Only administrators edit taxonomies
    assert client.get("/admin/taxonomy/organizations/").status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(app, client):
    pages, forms = admin_urls(app)
    before = taxonomy_snapshot(app)
    # Every page redirects to the login form, which brings them back after
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/auth/login?next=" in response.headers["Location"], url
    # Posting a form (with a token from the public pages) does too, and changes nothing
    token = csrf_token(client, "/")
    for url, data in forms:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 302, url
        assert "/auth/login" in response.headers["Location"]
    assert taxonomy_snapshot(app) == before


def test_post_without_csrf_token_is_refused(app, client, admin):
    _, forms = admin_urls(app)
    before = taxonomy_snapshot(app)
    # A form posted from elsewhere carries no token: every one is refused with 400
    for url, data in forms:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "Страница устарела" in response.get_data(as_text=True)
    assert taxonomy_snapshot(app) == before


def test_services_check_the_actor_themselves(app, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    before = taxonomy_snapshot(app)
    with app.app_context():
        actor = db.session.get(User, teacher.id)
        municipality = db.session.scalar(select(Municipality).limit(1))
        # A non-admin caller of the service layer is refused before anything changes
        with pytest.raises(PermissionDenied):
            services.save_sphere(actor, None, services.SphereData(slug="space", name="Космос"))
        with pytest.raises(PermissionDenied):
            services.save_organization(
                actor, None, services.OrganizationData("Школа", OrganizationKind.SCHOOL, municipality.id)
            )
        # ... and so is nobody at all
        with pytest.raises(PermissionDenied):
            services.save_municipality(None, municipality, services.MunicipalityData("X", "городской округ"))
        db.session.rollback()
    assert taxonomy_snapshot(app) == before
