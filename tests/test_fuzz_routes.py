"""Every route, fed generated garbage by every kind of visitor, never answers 500.

For each rule of ``app.url_map`` and each of its methods, Hypothesis fills the path's converters
(real ids, zero, numbers no database holds, odd text) and sends values to every form field and
query parameter the feature's views read: small, huge and negative numbers, long strings, NUL,
bytes that are not UTF-8, Cyrillic, SQL and LIKE metacharacters. It does so as a visitor and as
each role, logged in through the real form, with a valid CSRF token so that POSTs reach their
handlers. The data is the demo content, loaded once per module.

``FUZZ_EXAMPLES`` (default 2) is the number of generated examples per route, method and role;
each also gets the ``CLASSIC`` values first.
"""

import inspect
import os
import re
import sys
import time
from collections import Counter
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import AnyConverter, IntegerConverter
from wtforms import FieldList, Form, FormField
from wtforms.fields.core import UnboundField

from catalogue.demo import seed_demo
from catalogue.extensions import db
from tests.conftest import _reset_postgres_tables, app_config, make_test_app
from tests.helpers import csrf_token

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
ROLES = ("visitor", "student", "teacher", "jury", "moderator", "admin")
ACCOUNTS = {
    "student": "student@demo.example",
    "teacher": "teacher@demo.example",
    "jury": "jury@demo.example",
    "moderator": "moderator@demo.example",
    "admin": "admin@demo.example",
}
# Names every view may read besides its forms'.
COMMON_NAMES = ("q", "page", "after", "before", "sort", "next")  # the pager's three: catalogue/pagination.py
# Read by the search through SearchParams, and by views that build fields per row.
EXTRA_NAMES = {
    "catalogue.search.views": ("type", "age", "sphere", "municipality", "season", "nomination"),
    "catalogue.contest.jury_views": tuple(f"score_{n}" for n in range(1, 7)),
    "catalogue.contest.admin_views": tuple(f"award-{n}" for n in range(1, 7)),
}
# A logged-in role must stay logged in while the other routes are tried.
VISITOR_ONLY = {("accounts.logout", "POST")}

HUGE = st.integers(min_value=2**31, max_value=10**30)
NUMBERS = st.one_of(st.integers(-5, 60), HUGE, st.integers(max_value=-1, min_value=-(10**25)))
NASTY = st.sampled_from(
    [
        "",
        " ",
        "%",
        "_",
        "\\",
        "%_%\\",
        "'",
        "' OR 1=1 --",
        '"; DROP TABLE "user"; --',
        "Иванов Артём",
        "ёлка",
        "50%",
        "150",
        "abc",
        "1e309",
        "NaN",
        "-0",
        "²",
        "١٢",
        "2024-02-30",
        "9999-12-31",
        "on",
        "\u202e",
        "x" * 5000,
        "а" * 60_000,
    ]
)
TEXT = st.one_of(NUMBERS.map(str), NASTY, st.text(max_size=40), st.text(alphabet="абвгдеёжз %_\\'\"", max_size=20))
# A value is text (sent as UTF-8) or raw bytes, which may be invalid UTF-8 or contain NUL.
VALUES = st.one_of(TEXT, TEXT, TEXT, st.binary(max_size=12))
MODES = [NUMBERS.map(str), NASTY, st.text(max_size=40), st.binary(max_size=12), VALUES]
# Sent to every name of every route before the generated examples: the classic failures.
CLASSIC = ["99999999999999999999", "²"]

examples_run: Counter = Counter()
seconds_spent: Counter = Counter()
statuses: Counter = Counter()


def _encode(value: str | bytes) -> str:
    return quote_from_bytes(value, safe="") if isinstance(value, bytes) else quote(value.encode("utf-8"), safe="")


def _urlencoded(pairs) -> str:
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in pairs)


# -- what each route reads ------------------------------------------------------------------------


def _field_names(form_class, prefix: str = "") -> list[str]:
    names = []
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if not isinstance(unbound, UnboundField) or name == "csrf_token":
            continue
        if issubclass(unbound.field_class, FieldList):
            inner = unbound.args[0]
            for index in (0, 1):
                row = f"{prefix}{name}-{index}"
                if issubclass(inner.field_class, FormField):
                    names += _field_names(inner.args[0], f"{row}-")
                else:
                    names.append(row)
        elif issubclass(unbound.field_class, FormField):
            names += _field_names(unbound.args[0], f"{prefix}{name}-")
        else:
            names.append(prefix + name)
    return names


ARG_PATTERN = re.compile(
    r"""(?:request\.(?:args|form|values)\.get(?:list)?|int_arg|page_arg|optional_int)\(\s*"([^"{]+)\""""
)


def names_read_by(module_name: str) -> list[str]:
    """Form fields of the forms a view module uses (its own and its package's ``forms``) and the
    query or form names its source reads directly."""
    module = sys.modules[module_name]
    sources = [module]
    package_forms = sys.modules.get(module_name.rsplit(".", 1)[0] + ".forms")
    if package_forms is not None:
        sources.append(package_forms)
    names = set(COMMON_NAMES) | set(EXTRA_NAMES.get(module_name, ()))
    for source in sources:
        for value in vars(source).values():
            if isinstance(value, type) and issubclass(value, Form) and value.__module__.startswith("catalogue"):
                names.update(_field_names(value))
    names.update(ARG_PATTERN.findall(inspect.getsource(module)))
    return sorted(names)


def path_strategy(rule, known: dict[str, list]) -> st.SearchStrategy[str]:
    """Values for the rule's converters, joined into a path."""
    parts = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            parts[name] = st.one_of(st.sampled_from(known.get(name) or known["id"]), st.just(0), HUGE).map(str)
        elif isinstance(converter, AnyConverter):
            parts[name] = st.one_of(st.sampled_from(sorted(converter.items)), st.text(max_size=10))
        else:
            words = known.get(name) or ["x"]
            parts[name] = st.one_of(st.sampled_from(words), st.text(min_size=1, max_size=30), NASTY.filter(bool))
    return st.fixed_dictionaries(parts).map(lambda values: _build_path(rule, values))


def _build_path(rule, values: dict) -> str:
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{re.escape(name)}>", lambda _m, v=value: quote(v.encode("utf-8"), safe=""), path)
    return path


def fields_strategy(names: list[str]):
    """Values for a random choice of ``names``, all of one kind per example, so that few examples
    still try every kind: numbers, nasty text, any text, raw bytes, or a mix."""
    return st.sampled_from(MODES).flatmap(
        lambda values: st.fixed_dictionaries({}, optional=dict.fromkeys(names, values)).map(lambda d: list(d.items()))
    )


def request_strategy(rule, names: list[str], known: dict[str, list]):
    return st.tuples(path_strategy(rule, known), fields_strategy(names), fields_strategy(names), st.booleans())


# -- the site -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(backend, database_url, tmp_path_factory, request):
    """The demo content on this backend, loaded once for the module; yields the app and known ids."""
    instance = tmp_path_factory.mktemp("fuzz")
    database = database_url or f"sqlite:///{instance / 'catalogue.db'}"
    app = make_test_app(app_config(instance / "instance", database))
    try:
        with app.app_context():
            if backend == "postgresql":
                _reset_postgres_tables(request.getfixturevalue("postgres_reset"))
            else:
                db.create_all()
            seed_demo()
            known = _known_values()
        yield app, known
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if examples_run:
            counts = list(examples_run.values())
            print(
                f"\nfuzz ({backend}): {len(counts)} route × method × role triples, examples per triple "
                f"min {min(counts)}, mean {sum(counts) / len(counts):.1f}, max {max(counts)}; {sum(counts)} requests"
            )
            slowest = ", ".join(f"{route} {seconds:.1f} s" for route, seconds in seconds_spent.most_common(5))
            print(f"slowest: {slowest}")
            print("answers: " + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())))
            statuses.clear()
            examples_run.clear()
            seconds_spent.clear()


def _known_values() -> dict[str, list]:
    """Real values for the path converters, by name: most generated paths then reach their views."""
    from catalogue.accounts.models import User
    from catalogue.contest.models import ConsentKind, Entry, JuryAssignment, Nomination, Season
    from catalogue.media.models import StoredFile
    from catalogue.practices.models import Practice, PracticeRevision
    from catalogue.projects.models import Project, ProjectReport
    from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
    from catalogue.workflow import registry
    from catalogue.workflow.transitions import TRANSITIONS

    def ids(model, column=None, limit=8):
        column = column if column is not None else model.id
        return list(db.session.scalars(db.select(column).order_by(column).limit(limit))) or [1]

    entries, practices, projects = ids(Entry), ids(Practice), ids(Project)
    return {
        "id": [1, 2, 3],
        "user_id": ids(User),
        "municipality_id": ids(Municipality, limit=3),
        "organization_id": ids(Organization, limit=3),
        "age_group_id": ids(AgeGroup),
        "sphere_id": ids(Sphere, limit=3),
        "item_id": sorted({*entries, *practices, *projects}),
        "project_id": projects,
        "report_id": ids(ProjectReport),
        "practice_id": practices,
        "revision_id": ids(PracticeRevision),
        "entry_id": entries,
        "year": ids(Season, Season.year),
        "assignment_id": ids(JuryAssignment),
        "part_id": ids(Nomination),
        "type_key": [t.key for t in registry.all_types()],
        "action": list(TRANSITIONS),
        "kind": [kind.value for kind in ConsentKind],
        "key": ids(StoredFile, StoredFile.key, limit=3),
        "filename": ["model.stl", "thumbnail.png", "x.pdf"],
        "token": ["x"],
        "slug": ["x"],
    }


def _client_as(app, role: str):
    client = app.test_client()
    if role != "visitor":
        token = csrf_token(client, "/auth/login")
        response = client.post(
            "/auth/login", data={"email": ACCOUNTS[role], "password": "demo-demo-2026", "csrf_token": token}
        )
        assert response.status_code == 303, f"{role} could not log in"
    return client, csrf_token(client, "/")


def _targets(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _first(converter, values) -> str:
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return str((values or [1])[0])


def _send(client, token: str, method: str, path: str, fields, query, htmx: bool, role: str, rule) -> None:
    """One request; a field goes to the query string of a GET and to the body of a POST."""
    started = time.perf_counter()
    headers = {"HX-Request": "true"} if htmx else {}
    query_string = _urlencoded(query)
    if method == "GET":
        response = client.get(path, query_string=_urlencoded(fields + query), headers=headers)
    else:
        body = _urlencoded([("csrf_token", token), *fields])
        response = client.open(
            path,
            method=method,
            query_string=query_string,
            data=body.encode("ascii"),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
    response.close()
    examples_run[(role, rule.rule, method)] += 1
    statuses[response.status_code] += 1
    seconds_spent[f"{method} {rule.rule}"] += time.perf_counter() - started
    assert response.status_code < 500, f"{method} {path}?{query_string[:200]} answered {response.status_code}"


def _classic_probes(client, token: str, role: str, rule, method: str, names: list[str], known: dict) -> None:
    """Every name of the route set to each ``CLASSIC`` value, on a path of real values."""
    path = _build_path(rule, {name: _first(conv, known.get(name)) for name, conv in rule._converters.items()})
    for value in CLASSIC:
        _send(client, token, method, path, [(name, value) for name in names], [], htmx=False, role=role, rule=rule)


def _probe(client, token: str, role: str, rule, method: str, names: list[str], known: dict):
    """A Hypothesis test of one route and method as one role."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(request_strategy(rule, names, known))
    def probe(case):
        path, fields, query, htmx = case
        _send(client, token, method, path, fields, query, htmx=htmx, role=role, rule=rule)

    return probe


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_500_to_generated_input(site, role):
    app, known = site
    client, token = _client_as(app, role)
    failures = []
    for rule, method in _targets(app):
        if role != "visitor" and (rule.endpoint, method) in VISITOR_ONLY:
            continue
        names = names_read_by(app.view_functions[rule.endpoint].__module__)
        try:
            _classic_probes(client, token, role, rule, method, names, known)
            _probe(client, token, role, rule, method, names, known)()
        except Exception as e:
            failures.append(f"{method} {rule.rule}: {type(e).__name__}: {str(e).splitlines()[0][:300]}")
    assert not failures, "\n".join(failures)
