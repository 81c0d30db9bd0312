"""A judged set for Russian search: documents, queries in many word forms, and what each query must find.

``python -m benchmarks search-evaluate`` indexes the documents once per stemming option and reports the
recall (share of the expected documents found in the first ten results) and the speed of each option;
``tests/test_search_engine.py`` holds the chosen option to its measured level. The queries are the kind
people type: a word in some case or number, a few words, ё or е, names of places.
"""

import secrets
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from catalogue.search.analysis import STEMMERS, russian_analyzer
from catalogue.search.backend import EngineQuery, IndexEntry
from catalogue.search.query import parse
from catalogue.search.whoosh_backend import WhooshBackend

# id -> (title, text)
DOCUMENTS: dict[int, tuple[str, str]] = {
    1: ("Юный энергетик: как работает ГЭС на Ангаре",
        "Обучающиеся разбираются, как Иркутская ГЭС превращает движение воды в электричество, и собирают модель "
        "гидротурбины. Разговор о профессиях: машинист гидроагрегата, инженер-гидротехник, диспетчер энергосистемы."),
    2: ("Лес, который нас кормит: профессии лесной отрасли",
        "Кто выращивает, охраняет и перерабатывает лес Приангарья: лесничий, лесоруб, инженер деревообработки. "
        "Памятка о пожарной безопасности в лесу и интервью с работником лесничества."),
    3: ("Мой первый сайт о родном городе",
        "Каждый делает одностраничный сайт-путеводитель. Как устроена веб-страница и кто её делает: дизайнер, "
        "верстальщик, программист. Страница на HTML и CSS по шаблону."),
    4: ("Байкал под микроскопом",
        "Исследование проб воды и знакомство с работой гидробиолога и лаборанта. Что живёт в капле байкальской "
        "воды? Обучающиеся оценивают качество воды и ведут дневник наблюдений."),
    5: ("3D-модель детали самолёта",
        "На Иркутском авиазаводе инженеры-конструкторы проектируют детали самолётов. Школьники учатся "
        "3D-моделированию: строят 3D-модель кронштейна и печатают её на 3D-принтере."),
    6: ("Железная дорога: профессии Транссиба и БАМа",
        "Машинист локомотива, монтёр пути, поездной диспетчер: как работает Восточно-Сибирская железная дорога. "
        "Экскурсия в депо и тренажёр машиниста."),
    7: ("Золото Бодайбо: геолог и маркшейдер",
        "Горное дело Иркутской области: добыча золота в Бодайбинском районе и уголь Черемхово. Геологи ищут "
        "месторождения, маркшейдеры измеряют выработки рудника."),
    8: ("Ёлка из вторсырья: проект по экологии",
        "Собираем новогоднюю ёлку из пластиковых бутылок и картона. Говорим о переработке отходов и профессии "
        "эколога; ёлки украсят школьный холл."),
    9: ("Медицина будущего: профессии здоровья",
        "Фельдшер скорой помощи, медицинская сестра, инженер биомедицинской техники. Обучающиеся учатся первой "
        "помощи и узнают, как устроена больница."),
    10: ("Агропром Приангарья: от поля до прилавка",
         "Агрономы и зоотехники рассказывают о теплицах и животноводстве. Школьники выращивают рассаду и считают "
         "урожай."),
    11: ("Школа юного химика: нефтехимия Ангарска",
         "Лаборатория Ангарской нефтехимической компании: как из нефти получают топливо и пластик. Опыты "
         "с индикаторами и профессия лаборанта химического анализа."),
    12: ("Экскурсовод по Байкалу: туризм и гостеприимство",
         "Ученики разрабатывают туристические маршруты по Ольхону и пробуют себя в роли гида. Профессии "
         "экскурсовода и администратора турбазы."),
    13: ("Робототехника: собираем беспилотник",
         "В кружке робототехники собирают квадрокоптер: моторы, контроллер полёта, программирование автопилота. "
         "Кружок ведёт инженер беспилотных систем."),
    14: ("Строим город будущего: архитектура и строительство",
         "Команды проектируют квартал и собирают макет. Архитектор, проектировщик и прораб объясняют, как "
         "рождается здание."),
    15: ("Учитель — профессия будущего",
         "Старшеклассники проводят уроки для младших: что значит быть педагогом. Наставничество и работа "
         "вожатого в летнем лагере."),
    16: ("Отчёт: 8 «Б» собрал модель гидротурбины",
         "Класс собрал действующую модель гидротурбины из бутылок, измерил напряжение и защитил проект на "
         "школьной конференции по энергетике."),
    17: ("«СоЗДатель»: 3D-модель вертолёта Ми-8",
         "Конкурсная работа: 3D-модель вертолёта с вращающимся винтом. Описание этапов моделирования и "
         "использованных программ."),
    18: ("«СоЗДатель»: макет Кругобайкальской железной дороги",
         "3D-модель участка Кругобайкальской железной дороги с тоннелями и мостами, напечатанная на 3D-принтере."),
    19: ("Профессиональные пробы в колледже",
         "Обучающиеся 8–9 классов проходят профессиональные пробы в мастерских колледжа: сварка, электромонтаж, "
         "поварское дело. Студенты колледжа помогают как наставники."),
    20: ("День открытых дверей на предприятии",
         "Экскурсии школьников на Братский алюминиевый завод и в энергосбытовую компанию: встречи с инженерами, "
         "знакомство с цехами."),
    21: ("Проектная смена в каникулы",
         "Летняя проектная смена в загородном лагере: команды решают задачи предприятий региона и защищают "
         "проекты перед экспертами."),
    22: ("Цифровая ферма: датчики для теплицы",
         "Школьники собирают датчики влажности и температуры на Arduino и передают данные на сайт. Профессия "
         "инженера-агронома будущего."),
    23: ("Кибербезопасность для школьников",
         "Как придумать надёжный пароль, защитить данные и распознать мошенника. Профессия специалиста по "
         "информационной безопасности."),
    24: ("Моделирование паводка на реке Иркут",
         "Гидрологи и спасатели МЧС рассказывают о паводках. Обучающиеся строят компьютерную модель подъёма воды "
         "и карту затопления."),
    25: ("Пекарня в школе: технологии пищевого производства",
         "Технолог хлебозавода и хлебопёк показывают, как пекут хлеб. Обучающиеся считают себестоимость булки."),
    26: ("Энергосбережение дома: считаем киловатты",
         "Каждая семья снимает показания счётчика и считает, сколько киловатт-часов тратит. Профессии энергетики "
         "и энергоаудитора."),
    27: ("Путь нефти: от скважины до заправки",
         "Верхнечонское месторождение, трубопровод и нефтеперерабатывающий завод: профессии нефтегазовой "
         "отрасли от бурильщика до оператора."),
    28: ("Дизайн упаковки для байкальской воды",
         "Креативные индустрии: графический дизайнер придумывает упаковку и этикетку, печатает прототип."),
    29: ("Отчёт: 10 класс исследовал воду Ангары",
         "Обучающиеся взяли пробы воды в Ангаре у трёх посёлков и сравнили качество воды в школьной лаборатории."),
    30: ("Наставничество студентов для школьников",
         "Студенты колледжа ведут занятия для школьников: рассказывают о профессии, помогают выбрать профиль."),
}  # fmt: skip

# query -> the documents it must find (others may be found too)
QUERIES: dict[str, set[int]] = {
    "энергетиков": {1, 16, 26},
    "гидротурбиной": {1, 16},
    "моделированию": {5, 17, 24},
    "ёлка": {8},
    "елки": {8},
    "лесничего": {2},
    "самолеты": {5},
    "машинистом": {1, 6},
    "золото": {7},
    "геологи": {7},
    "добыча угля": {7},
    "медсестрой": {9},
    "агрономы": {10, 22},
    "агроном": {10, 22},
    "нефтехимии": {11},
    "экскурсоводом": {12},
    "беспилотники": {13},
    "кружков робототехники": {13},
    "архитектору": {14},
    "вертолётов": {17},
    "Кругобайкальская железная дорога": {18},
    "профессиональные пробы": {19},
    "дни открытых дверей": {20},
    "проектной смене": {21},
    "датчиков": {22},
    "кибербезопасности": {23},
    "паводки": {24},
    "хлебопёки": {25},
    "киловатт": {26},
    "скважины": {27},
    "упаковку": {28},
    "качество воды": {4, 29},
    "наставничество": {15, 30},
    "3D-модели": {5, 17, 18},
    "Ангара": {1, 29},
    "Иркутской ГЭС": {1},
    "пожарной безопасности в лесу": {2},
    "программистом": {3},
    "туристических маршрутов": {12},
    "Бодайбо": {7},
    "студенты колледжей": {19, 30},
    "педагоги": {15},
    "теплицы": {10, 22},
}

TOP = 10


def entries() -> list[IndexEntry]:
    return [
        IndexEntry(key=f"doc:{i}", type="doc", title=t, text=x, facets={"type": ["doc"]}, date=None, digest="")
        for i, (t, x) in DOCUMENTS.items()
    ]


def ranked(backend: WhooshBackend, text: str, limit: int = TOP) -> list[int]:
    """Document ids for ``text``, as the search page asks: all words first, any word if that finds nothing."""
    result = backend.search(EngineQuery(parse(text), limit=limit))
    if result.total == 0:
        result = backend.search(EngineQuery(parse(text), limit=limit, any_word=True))
    return [int(key.split(":")[1]) for key in result.keys]


@dataclass
class Evaluation:
    stemmer: str
    recall: float  # mean over queries of (expected found in the top ten) / expected
    complete: int  # queries that found all their documents
    misses: dict[str, set[int]]  # query -> expected documents not found
    words_per_second: float  # analysis speed on the synthetic corpus, cache cold
    query_ms: float  # mean time of one judged query


def evaluate(stemmer: str, directory: str | Path, corpus_words: list[str] | None = None, backend=None) -> Evaluation:
    """``backend``: another engine to evaluate (in an app context of its database); Whoosh in ``directory`` else."""
    backend = backend or WhooshBackend(Path(directory) / stemmer, stemmer=stemmer)
    with backend.write_lock(timeout=1):
        backend.rebuild(entries())
    recalls, misses = [], {}
    start = time.perf_counter()
    for text, expected in QUERIES.items():
        found = set(ranked(backend, text)) & expected
        recalls.append(len(found) / len(expected))
        if found != expected:
            misses[text] = expected - found
    query_seconds = (time.perf_counter() - start) / len(QUERIES)
    words = corpus_words or []
    speed = 0.0
    if words:
        analyzer = russian_analyzer(stemmer)
        text = " ".join(words)
        start = time.perf_counter()
        analyzer.terms(text)
        speed = len(words) / (time.perf_counter() - start)
    return Evaluation(
        stemmer=stemmer,
        recall=sum(recalls) / len(recalls),
        complete=sum(1 for r in recalls if r == 1.0),
        misses=misses,
        words_per_second=speed,
        query_ms=query_seconds * 1000,
    )


@contextmanager
def postgres_app(database_url: str, directory: Path):
    """An app on a new, empty schema of the PostgreSQL database of ``database_url`` (dropped afterwards), with the
    tables, searching with ``SEARCH_BACKEND=postgresql``; yielded inside its app context."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from catalogue import create_app
    from catalogue.extensions import db

    schema = f"search_evaluate_{secrets.token_hex(4)}"
    admin = create_engine(database_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    app = create_app({
        "INSTANCE_PATH": str(directory / "instance"), "SECRET_KEY": "evaluate", "WARM_UP": False, "PAGE_CACHE": False,
        "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False), "SEARCH_BACKEND": "postgresql",
    })  # fmt: skip
    try:
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def evaluate_all(
    echo: Callable[[str], None] = print, corpus_documents: int = 2000, database_url: str | None = None
) -> list[Evaluation]:
    """Every stemming option on the judged set, with its analysis speed on fresh synthetic text; with
    ``database_url`` (PostgreSQL), each option also with ``SEARCH_BACKEND=postgresql`` on that database."""
    from benchmarks.search_bench import Corpus

    words = " ".join(e.text for e in Corpus(seed=11).entries(corpus_documents)).split()
    results = []
    with TemporaryDirectory(prefix="search-evaluate-") as directory:
        for stemmer in STEMMERS:
            try:
                evaluation = evaluate(stemmer, directory, words)
            except ImportError as e:
                echo(f"{stemmer:<16} not available: {e}")
                continue
            results.append(evaluation)
            _echo(echo, stemmer, evaluation)
            if database_url:
                from catalogue.search.postgres_backend import PostgresBackend

                with postgres_app(database_url, Path(directory)):
                    database = evaluate(stemmer, directory, words, backend=PostgresBackend(stemmer=stemmer))
                results.append(database)
                _echo(echo, "  postgresql", database)
    return results


def _echo(echo: Callable[[str], None], label: str, evaluation: Evaluation) -> None:
    echo(
        f"{label:<16} recall@{TOP} {evaluation.recall:.3f}  complete {evaluation.complete}/{len(QUERIES)}  "
        f"analysis {evaluation.words_per_second:>9,.0f} words/s  query {evaluation.query_ms:.1f} ms"
    )
    for text, missed in evaluation.misses.items():
        echo(f"{'':<16} missed: «{text}» -> {sorted(missed)}")
