"""The contest's content types: entries (lifecycle, search, files, sitemap) and seasons (results feed, sitemap)."""

from flask import url_for
from sqlalchemy import select

from catalogue.accounts.models import User, UserRole
from catalogue.content import ContentType, Feed
from catalogue.contest import entries, parental, results, search
from catalogue.contest.models import AgeCategory, Entry, Nomination, Season
from catalogue.search.registry import Dependency, SearchableType
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization
from catalogue.workflow import registry as workflow

SEASON = ContentType(
    key="season",
    model=Season,
    feed=Feed(
        name="contest",
        title="Итоги конкурса «СоЗДатель» — Профориентация Приангарья",
        subtitle="Итоги регионального конкурса детских проектов по 3D-моделированию.",
        home_endpoint="contest.index",
        entries=results.feed_entries,
    ),
    sitemap=results.SEASON_SITEMAP,
)

# What an entry's document shows of other records (``search.to_document``): the author's name unless the
# season's judging is blind, the season, nomination and age category, the school and its municipality.
ENTRY_DEPENDS_ON = (
    Dependency(
        Season,
        lambda s: select(Entry.id).where(Entry.season_id == s.id),
        ("year", "blind_judging", "results_published_at"),
    ),
    Dependency(
        User, lambda u: select(Entry.id).where(Entry.author_id == u.id), ("last_name", "first_name", "role_rows")
    ),
    Dependency(UserRole, lambda r: select(Entry.id).where(Entry.author_id == r.user_id)),
    Dependency(Nomination, lambda n: select(Entry.id).where(Entry.nomination_id == n.id), ("name",)),
    Dependency(
        AgeCategory,
        lambda c: select(Entry.id).where(Entry.age_category_id == c.id),
        ("name", "grade_from", "grade_to"),
    ),
    Dependency(
        Organization,
        lambda o: select(Entry.id).where(Entry.organization_id == o.id),
        ("name", "municipality_id"),
    ),
    Dependency(
        Municipality,
        lambda m: select(Entry.id).join(Organization).where(Organization.municipality_id == m.id),
        ("name",),
    ),
    Dependency(AgeGroup, lambda g: select(Entry.id), ("slug", "grade_from", "grade_to")),
)

ENTRY = ContentType(
    key=entries.OWNER,
    model=Entry,
    workflow=workflow.ContentType(
        label="Конкурсная работа",
        url=entries.entry_url,
        preview_template="contest/_preview.html",
        describe=entries.describe,
        is_author=entries.is_entry_author,
        may_view=entries.may_view,
        recipients=entries.notified_authors,
        filter_age_group=entries.age_filter,
        filter_municipality=lambda stmt, mid: stmt.where(Entry.organization.has(Organization.municipality_id == mid)),
        action_labels={
            "publish": "Допустить к конкурсу",
            "republish": "Допустить снова",
            "unpublish": "Снять с конкурса",
            "submit": "Отправить на конкурс",
        },
        action_notices={
            "publish": "«{title}» допущена к конкурсу и показана в галерее сезона.",
            "republish": "«{title}» снова допущена к конкурсу.",
            "unpublish": "«{title}» снята с конкурса. {comment}",
            "request_changes": "«{title}»: модератор просит исправить работу. {comment}",
            "reject": "«{title}» не допущена к конкурсу. {comment}",
        },
        action_flashes={
            "publish": "Работа допущена к конкурсу: «{title}».",
            "republish": "Работа снова допущена к конкурсу: «{title}».",
            "unpublish": "Работа снята с конкурса: «{title}».",
            "reject": "Работа не допущена к конкурсу: «{title}».",
        },
        refusal=entries.refusal,
        after_delete=lambda: url_for("contest.mine"),
    ),
    search=SearchableType(
        to_document=search.to_document,
        load=search.load,
        label="Конкурсная работа",
        url=entries.entry_url,
        facts=search.facts,
        facet_labels={
            "season": lambda values: {v: f"Сезон {v}" for v in values},
            "nomination": search.nomination_labels,
        },
        depends_on=ENTRY_DEPENDS_ON,
    ),
    files=entries.can_read_entry_files,
    file_name=entries.file_name_words,
    sitemap=entries.ENTRY_SITEMAP,
)

# Scans of parents' signed consent forms: files only, never public (authors and moderators).
CONSENT_SCAN = ContentType(
    key=parental.SCAN_OWNER,
    files=entries.can_read_consent_scan,
    file_name=lambda f: ("согласие", f.owner_id, "скан", f.id),
)

CONTENT_TYPES = (SEASON, ENTRY, CONSENT_SCAN)
