"""The taxonomies every installation starts with: municipalities, age groups, spheres, organizations.

Seeding is idempotent: rows are matched by their natural keys and only missing ones are added,
so running it again (or after an administrator's edits) changes nothing that exists.
"""

from importlib import resources

from sqlalchemy import select

from catalogue.extensions import db
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, OrganizationKind, Sphere

AGE_GROUPS = [
    ("6-7", "6–7 классы", 6, 7),
    ("8-9", "8–9 классы", 8, 9),
    ("10-11", "10–11 классы", 10, 11),
]

SPHERES = [
    ("energy", "Энергетика", "Гидро- и теплоэнергетика Ангаро-Енисейского каскада, энергосети"),
    ("aviation", "Авиастроение", "Проектирование и производство самолётов, авиационные технологии"),
    ("mining", "Горное дело и недропользование", "Добыча золота, угля, руд; геология и маркшейдерия"),
    ("forestry", "Лесная отрасль", "Лесное хозяйство, лесопереработка, охрана лесов"),
    ("railway", "Железнодорожный транспорт", "Транссиб и БАМ: эксплуатация, путь, локомотивы"),
    ("it", "Информационные технологии", "Программирование, данные, кибербезопасность"),
    ("medicine", "Медицина и здоровье", "Здравоохранение, биомедицина, фармацевтика"),
    ("education", "Образование", "Педагогика, психология, наставничество"),
    ("tourism", "Туризм и гостеприимство на Байкале", "Экотуризм, сервис, экскурсионное дело"),
    ("agriculture", "Сельское хозяйство", "Агротехнологии, животноводство, переработка продукции"),
    ("chemistry", "Химическая промышленность", "Нефтехимия, химические технологии, материалы"),
    ("construction", "Строительство и архитектура", "Проектирование, строительные технологии, ЖКХ"),
    ("oil-gas", "Нефтегазовая отрасль", "Добыча и транспортировка нефти и газа"),
    ("ecology", "Экология и природопользование", "Охрана Байкала, мониторинг среды, переработка отходов"),
    ("robotics", "Робототехника и беспилотные системы", "Роботы, БПЛА, автоматизация производства"),
    ("creative", "Креативные индустрии и дизайн", "Дизайн, медиа, 3D-моделирование, архитектура среды"),
]

S, C, U = OrganizationKind.SCHOOL, OrganizationKind.COLLEGE, OrganizationKind.UNIVERSITY
ORGANIZATIONS = [
    ("город Иркутск", U, "Иркутский национальный исследовательский технический университет"),
    ("город Иркутск", U, "Иркутский государственный университет"),
    ("город Иркутск", U, "Иркутский государственный университет путей сообщения"),
    ("город Иркутск", C, "Иркутский авиационный техникум"),
    ("город Иркутск", C, "Иркутский базовый медицинский колледж"),
    ("город Иркутск", C, "Иркутский техникум транспорта и строительства"),
    ("город Иркутск", S, "МБОУ г. Иркутска СОШ № 19"),
    ("город Иркутск", S, "МБОУ г. Иркутска лицей № 2"),
    ("город Иркутск", S, "МАОУ г. Иркутска СОШ № 69"),
    ("город Иркутск", S, "МБОУ г. Иркутска гимназия № 3"),
    ("Иркутский район", U, "Иркутский государственный аграрный университет имени А. А. Ежевского"),
    ("Иркутский район", S, "МОУ ИРМО «Хомутовская СОШ № 2»"),
    ("Иркутский район", S, "МОУ ИРМО «Марковская СОШ»"),
    ("Ангарский городской округ", U, "Ангарский государственный технический университет"),
    ("Ангарский городской округ", C, "Ангарский политехнический техникум"),
    ("Ангарский городской округ", S, "МБОУ «СОШ № 10» г. Ангарска"),
    ("Ангарский городской округ", S, "МАОУ «Гимназия № 8» г. Ангарска"),
    ("город Братск", U, "Братский государственный университет"),
    ("город Братск", C, "Братский целлюлозно-бумажный колледж"),
    ("город Братск", S, "МБОУ «СОШ № 12» г. Братска"),
    ("город Братск", S, "МБОУ «Лицей № 1» г. Братска"),
    ("город Усть-Илимск", C, "Усть-Илимский техникум лесопромышленных технологий и сферы услуг"),
    ("город Усть-Илимск", S, "МБОУ «СОШ № 9» г. Усть-Илимска"),
    ("город Усолье-Сибирское", C, "Усольский индустриальный техникум"),
    ("город Усолье-Сибирское", S, "МБОУ «СОШ № 5» г. Усолье-Сибирское"),
    ("город Черемхово", C, "Черемховский горнотехнический колледж им. М. И. Щадова"),
    ("город Черемхово", S, "МОУ «СОШ № 6» г. Черемхово"),
    ("город Саянск", C, "Саянский медицинский колледж"),
    ("город Саянск", S, "МОУ «СОШ № 3» г. Саянска"),
    ("город Зима", S, "МБОУ «СОШ № 26» г. Зимы"),
    ("город Тулун", C, "Тулунский аграрный техникум"),
    ("город Тулун", S, "МБОУ «СОШ № 2» г. Тулуна"),
    ("город Свирск", S, "МОУ «СОШ № 1» г. Свирска"),
    ("Шелеховский район", C, "Шелеховский техникум"),
    ("Шелеховский район", S, "МКОУ ШР «СОШ № 4»"),
    ("Слюдянский район", S, "МБОУ «СОШ № 50» г. Байкальска"),
    ("Ольхонский район", S, "МБОУ «Хужирская СОШ»"),
    ("Тайшетский район", S, "МКОУ «СОШ № 85» г. Тайшета"),
    ("Нижнеудинский район", S, "МКОУ «СОШ № 1» г. Нижнеудинска"),
    ("Усть-Кутский район", S, "МОУ «СОШ № 3» г. Усть-Кута"),
    ("Бодайбинский район", S, "МКОУ «СОШ № 1» г. Бодайбо"),
    ("Киренский район", S, "МКОУ «СОШ № 1» г. Киренска"),
    ("Эхирит-Булагатский район", S, "МБОУ «Усть-Ордынская СОШ № 1»"),
    ("Аларский район", S, "МБОУ «Кутуликская СОШ»"),
    ("Заларинский район", S, "МБОУ «Заларинская СОШ № 1»"),
    ("Черемховский район", S, "МКОУ «СОШ с. Рысево»"),
    ("Братский район", S, "МКОУ «Вихоревская СОШ № 1»"),
    ("Нижнеилимский район", S, "МБОУ «Железногорская СОШ № 2»"),
]


def municipality_rows() -> list[tuple[str, str]]:
    """(kind, name) pairs of the oblast's 42 municipalities, from the packaged list."""
    text = resources.files("catalogue.seed").joinpath("municipalities.txt").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            kind, name = line.split("\t")
            rows.append((kind.strip(), name.strip()))
    return rows


def seed_taxonomies() -> None:
    """Add whatever of the standard taxonomies is missing; commits."""
    session = db.session
    known = {m.name: m for m in session.scalars(select(Municipality))}
    for kind, name in municipality_rows():
        if name not in known:
            known[name] = Municipality(name=name, kind=kind)
            session.add(known[name])

    have_groups = set(session.scalars(select(AgeGroup.slug)))
    for position, (slug, name, grade_from, grade_to) in enumerate(AGE_GROUPS):
        if slug not in have_groups:
            session.add(AgeGroup(slug=slug, name=name, grade_from=grade_from, grade_to=grade_to, position=position))

    have_spheres = set(session.scalars(select(Sphere.slug)))
    for position, (slug, name, description) in enumerate(SPHERES):
        if slug not in have_spheres:
            session.add(Sphere(slug=slug, name=name, description=description, position=position))

    session.flush()
    have_orgs = {(name, mid) for name, mid in session.execute(select(Organization.name, Organization.municipality_id))}
    for municipality_name, kind, name in ORGANIZATIONS:
        municipality = known[municipality_name]
        if (name, municipality.id) not in have_orgs:
            session.add(Organization(name=name, kind=kind, municipality=municipality))
    session.commit()
