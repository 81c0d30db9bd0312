"""A person whose school is not in the list names it at registration; an administrator checks it."""

from sqlalchemy import func, select

from catalogue.accounts.models import User
from catalogue.extensions import db
from catalogue.taxonomy.models import Municipality, Organization
from tests.helpers import csrf_token
from tests.test_accounts import registration

NAME = "МКОУ «Харикская СОШ» Куйтунского района"


def municipality_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Municipality.id).where(Municipality.name == name))


def register_with_new_school(client, app, email="marina@example.ru", name=NAME, **overrides):
    data = registration(
        client,
        app,
        email=email,
        municipality_id=str(municipality_id(app, "Куйтунский район")),
        organization_id="",
        new_organization="y",
        new_organization_name=name,
        new_organization_kind="school",
        **overrides,
    )
    return client.post("/auth/register", data=data)


def test_a_teacher_adds_a_school_missing_from_the_list(client, app):
    assert register_with_new_school(client, app).status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "marina@example.ru"))
        assert user.organization.name == NAME and user.organization.confirmed is False
        assert user.organization.municipality.name == "Куйтунский район"
        assert user.municipality_id == user.organization.municipality_id
    # The next person from that school finds it, marked as not yet checked
    options = client.get(
        "/organizations/options",
        query_string={"organization_query": "харикская", "municipality_id": municipality_id(app, "Куйтунский район")},
    ).get_data(as_text=True)
    assert "Харикская" in options and "ждёт проверки" in options


def test_the_same_name_again_joins_the_school_instead_of_a_copy(client, app):
    assert register_with_new_school(client, app).status_code == 303
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    # Different case and spaces: still the same school
    response = register_with_new_school(
        client, app, email="second@example.ru", name="  мкоу «харикская сош»   куйтунского района "
    )
    assert response.status_code == 303
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(Organization.id)).where(Organization.name_folded.contains("харикская")))
            == 1
        )


def test_a_missing_or_too_short_name_is_refused_and_the_form_keeps_everything(client, app):
    response = register_with_new_school(client, app, name="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Напишите название своей организации." in page
    assert 'value="Кузнецова"' in page and "marina@example.ru" in page
    assert '<details class="new-organization" open>' in page
    response = register_with_new_school(client, app, name="СОШ")
    assert response.status_code == 422
    assert "Напишите полное название организации" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0
        assert db.session.scalar(select(func.count(Organization.id)).where(Organization.confirmed.is_(False))) == 0


def test_without_the_box_an_organization_from_the_list_is_still_required(client, app):
    data = registration(client, app, organization_id="", new_organization_name=NAME)
    response = client.post("/auth/register", data=data)
    assert response.status_code == 422
    assert "Если её нет в списке" in response.get_data(as_text=True)


def test_an_administrator_sees_it_waiting_and_confirms_it_by_saving(client, app, auth, make_user):
    assert register_with_new_school(client, app).status_code == 303
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    make_user(roles=("admin",), email="admin@example.ru")
    auth.login("admin@example.ru")
    assert "Ждут проверки: 1" in client.get("/admin/taxonomy/").get_data(as_text=True)
    listing = client.get("/admin/taxonomy/organizations/", query_string={"state": "pending"}).get_data(as_text=True)
    assert "Харикская" in listing and "ждёт проверки" in listing
    assert "Найдено: 1 организация" in listing
    with app.app_context():
        school = db.session.scalar(select(Organization).where(Organization.confirmed.is_(False)))
        school_id, kuitun = school.id, school.municipality_id
    form = client.get(f"/admin/taxonomy/organizations/{school_id}").get_data(as_text=True)
    assert "добавил участник при регистрации" in form
    response = client.post(
        f"/admin/taxonomy/organizations/{school_id}",
        data={
            "csrf_token": csrf_token(client, "/admin/taxonomy/"),
            "name": "МКОУ «Харикская СОШ»",
            "kind": "school",
            "municipality_id": str(kuitun),
        },
    )
    assert response.status_code == 303
    with app.app_context():
        school = db.session.get(Organization, school_id)
        assert school.confirmed and school.name == "МКОУ «Харикская СОШ»"
    assert "Ждут проверки" not in client.get("/admin/taxonomy/").get_data(as_text=True)


def test_a_municipality_takes_only_so_many_unchecked_organizations(client, app):
    app.config["MAX_PENDING_ORGANIZATIONS_PER_MUNICIPALITY"] = 2
    for n in (1, 2):
        assert register_with_new_school(client, app, email=f"t{n}@example.ru", name=f"{NAME} № {n}").status_code == 303
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    response = register_with_new_school(client, app, email="t3@example.ru", name=f"{NAME} № 3")
    assert response.status_code == 422
    assert "ждущих проверки, уже слишком много" in response.get_data(as_text=True)
    # An existing one can still be joined
    assert register_with_new_school(client, app, email="t4@example.ru", name=f"{NAME} № 1").status_code == 303
