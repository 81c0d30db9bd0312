"""The contest's content types: entries (lifecycle, search, files, sitemap) and seasons (results feed, sitemap)."""

from flask import url_for

from catalogue.content import ContentType, Feed
from catalogue.contest import entries, results, search
from catalogue.contest.models import Entry, Season
from catalogue.search.outbox import enqueue
from catalogue.search.registry import SearchableType
from catalogue.taxonomy.models import Organization
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
    sitemap=results.season_sitemap,
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
        recipients=lambda e: [e.author, e.supervisor],
        filter_age_group=entries.age_filter,
        filter_municipality=lambda stmt, mid: stmt.where(Entry.organization.has(Organization.municipality_id == mid)),
        on_change=[lambda e: enqueue(entries.OWNER, e.id)],
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
    ),
    files=entries.can_read_entry_files,
    sitemap=entries.entry_sitemap,
)

CONTENT_TYPES = (SEASON, ENTRY)
