"""The «СоЗДатель» contest (roadmap item 4): seasons, their nominations, age categories, criteria and jury,
entries with consent records, the jury's reviews, and the awards.
"""

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogue.accounts.models import User
from catalogue.clock import LOCAL_TZ, local_today, utcnow
from catalogue.contest.units import shown_facts
from catalogue.extensions import db
from catalogue.formatting import slugify
from catalogue.media.models import StoredFile
from catalogue.taxonomy.models import Organization
from catalogue.workflow.models import Moderated

# The contest's dates are the oblast's calendar days (Irkutsk, UTC+8 all year).
CONTEST_TZ = LOCAL_TZ
# A season leaves the contest page's "current" place this long after its results date.
ARCHIVE_AFTER = dt.timedelta(days=365)


def contest_today() -> dt.date:
    """Today's date in Irkutsk: windows open and close at local midnight."""
    return local_today()


class Phase(enum.StrEnum):
    ANNOUNCED = "announced"
    ACCEPTING = "accepting"
    JUDGING = "judging"
    RESULTS = "results"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return PHASE_LABELS[self]


PHASE_LABELS = {
    Phase.ANNOUNCED: "Объявлен",
    Phase.ACCEPTING: "Приём работ",
    Phase.JUDGING: "Работа жюри",
    Phase.RESULTS: "Итоги",
    Phase.ARCHIVED: "Архив",
}


class Season(db.Model):
    """One year of the contest. Its phase follows its dates (see :meth:`phase`)."""

    __table_args__ = (
        CheckConstraint("submission_opens <= submission_closes", name="ck_season_submission_window"),
        CheckConstraint("judging_opens <= judging_closes", name="ck_season_judging_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(String(200))
    rules: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # Inclusive calendar days in Irkutsk.
    submission_opens: Mapped[dt.date]
    submission_closes: Mapped[dt.date]
    judging_opens: Mapped[dt.date]
    judging_closes: Mapped[dt.date]
    results_date: Mapped[dt.date]
    # How many entries one student may have in one nomination.
    entries_per_nomination: Mapped[int] = mapped_column(default=1)
    # Jurors do not see authors; the public neither, until the results are published.
    blind_judging: Mapped[bool] = mapped_column(default=False)
    results_confirmed_at: Mapped[dt.datetime | None]
    results_published_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    nominations: Mapped[list["Nomination"]] = relationship(
        order_by="Nomination.position, Nomination.id", cascade="all, delete-orphan", back_populates="season"
    )
    age_categories: Mapped[list["AgeCategory"]] = relationship(
        order_by="AgeCategory.position, AgeCategory.grade_from", cascade="all, delete-orphan", back_populates="season"
    )
    criteria: Mapped[list["Criterion"]] = relationship(
        order_by="Criterion.position, Criterion.id", cascade="all, delete-orphan", back_populates="season"
    )

    def phase(self, today: dt.date | None = None) -> Phase:
        """Announced before the submission window, accepting within it, judging until the judging window
        closes (the moderators' technical check comes first), then results; archived a year after the results date.
        """
        today = today or contest_today()
        if today < self.submission_opens:
            return Phase.ANNOUNCED
        if today <= self.submission_closes:
            return Phase.ACCEPTING
        if today <= self.judging_closes:
            return Phase.JUDGING
        if today < self.results_date + ARCHIVE_AFTER:
            return Phase.RESULTS
        return Phase.ARCHIVED

    @property
    def current_phase(self) -> Phase:
        return self.phase()

    def is_accepting(self, today: dt.date | None = None) -> bool:
        return self.phase(today) == Phase.ACCEPTING

    def is_judging_open(self, today: dt.date | None = None) -> bool:
        today = today or contest_today()
        return self.judging_opens <= today <= self.judging_closes

    def judging_closed(self, today: dt.date | None = None) -> bool:
        return (today or contest_today()) > self.judging_closes

    @property
    def results_published(self) -> bool:
        return self.results_published_at is not None

    @property
    def authors_hidden(self) -> bool:
        """Blind judging hides the authors from everyone but moderators, authors and admins until the results."""
        return self.blind_judging and not self.results_published

    def __str__(self) -> str:
        return self.title


class Nomination(db.Model):
    __table_args__ = (UniqueConstraint("season_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("season.id", ondelete="CASCADE"), index=True)
    season: Mapped[Season] = relationship(back_populates="nominations")
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.name


class AgeCategory(db.Model):
    """A band of grades competing among themselves (e.g. 6–8 классы)."""

    __table_args__ = (
        UniqueConstraint("season_id", "name"),
        CheckConstraint("grade_from <= grade_to", name="ck_age_category_grades"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("season.id", ondelete="CASCADE"), index=True)
    season: Mapped[Season] = relationship(back_populates="age_categories")
    name: Mapped[str] = mapped_column(String(100))
    grade_from: Mapped[int]
    grade_to: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    def includes_grade(self, grade: int | None) -> bool:
        return grade is not None and self.grade_from <= grade <= self.grade_to

    @property
    def label(self) -> str:
        """The name, with the grades when the name does not already say them («Младшая (6–8 классы)»)."""
        if str(self.grade_from) in self.name and str(self.grade_to) in self.name:
            return self.name
        return f"{self.name} ({self.grade_from}–{self.grade_to} классы)"

    def __str__(self) -> str:
        return self.name


class Criterion(db.Model):
    __table_args__ = (
        UniqueConstraint("season_id", "name"),
        CheckConstraint("max_score > 0", name="ck_criterion_max_score"),
        CheckConstraint("weight > 0", name="ck_criterion_weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("season.id", ondelete="CASCADE"), index=True)
    season: Mapped[Season] = relationship(back_populates="criteria")
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    max_score: Mapped[int]
    weight: Mapped[float] = mapped_column(default=1.0)
    position: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.name


class JuryAssignment(db.Model):
    """A juror scores the entries of one nomination."""

    __table_args__ = (UniqueConstraint("nomination_id", "juror_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nomination.id", ondelete="CASCADE"), index=True)
    nomination: Mapped[Nomination] = relationship(lazy="joined")
    juror_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    juror: Mapped[User] = relationship(lazy="joined")


class Award(enum.StrEnum):
    WINNER = "winner"
    PRIZE = "prize"
    PARTICIPANT = "participant"

    @property
    def label(self) -> str:
        return AWARD_LABELS[self]


AWARD_LABELS = {Award.WINNER: "Победитель", Award.PRIZE: "Призёр", Award.PARTICIPANT: "Участник"}


class Entry(Moderated, db.Model):
    """A student's work: a 3D model with pictures and a description. ``author`` is the student;
    "published" means admitted to the contest and shown in the season's gallery.
    """

    __table_args__ = (
        Index("ix_entry_season_status", "season_id", "status"),
        # The gallery reads a page group by group from here (contest.entries.gallery)
        Index("ix_entry_gallery", "season_id", "status", "nomination_id", "age_category_id", "title", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("season.id"), index=True)
    season: Mapped[Season] = relationship(lazy="joined")
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nomination.id"), index=True)
    nomination: Mapped[Nomination] = relationship(lazy="joined")
    age_category_id: Mapped[int] = mapped_column(ForeignKey("age_category.id"), index=True)
    age_category: Mapped[AgeCategory] = relationship(lazy="joined")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)  # Markdown
    software: Mapped[str] = mapped_column(String(300), default="")
    coauthors: Mapped[str] = mapped_column(String(500), default="")  # names only, as typed
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    supervisor: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[supervisor_id])
    # The student's school when the entry was made (students move on; the entry stays with its school).
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    organization: Mapped[Organization | None] = relationship(lazy="joined")
    grade: Mapped[int | None]  # the student's grade when the entry was made
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # When the student took the entry as theirs: at once for their own, on acceptance for one a teacher
    # prepared for them. Until then it cannot be sent and does not count against the student's limit.
    accepted_at: Mapped[dt.datetime | None]
    model_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="SET NULL"))
    model_file: Mapped[StoredFile | None] = relationship(lazy="joined", foreign_keys=[model_file_id])
    # The model converted to a plain GLB for the browser's viewer (positions and indices only).
    viewer_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="SET NULL"))
    viewer_file: Mapped[StoredFile | None] = relationship(lazy="joined", foreign_keys=[viewer_file_id])
    # The unit the model's numbers are in, chosen by the author (STL and OBJ have none): see contest.units.
    model_unit: Mapped[str] = mapped_column(String(10), default="mm", server_default="mm")
    note_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="SET NULL"))
    note_file: Mapped[StoredFile | None] = relationship(lazy="joined", foreign_keys=[note_file_id])
    # Current consents (the history is in ConsentRecord).
    consent_processing: Mapped[bool] = mapped_column(default=False)
    consent_publication: Mapped[bool] = mapped_column(default=False)
    # Results, fixed when the administrator confirms them.
    total_score: Mapped[float | None]
    rank: Mapped[int | None]
    award: Mapped[str | None] = mapped_column(String(20))
    # The administrator's choice of award, saved a page at a time before confirmation; never shown to the public.
    award_override: Mapped[str | None] = mapped_column(String(20))

    consents: Mapped[list["ConsentRecord"]] = relationship(
        order_by="ConsentRecord.recorded_at, ConsentRecord.id", cascade="all, delete-orphan", back_populates="entry"
    )

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def award_label(self) -> str:
        return Award(self.award).label if self.award else ""

    @property
    def municipality_name(self) -> str:
        return self.organization.municipality.name if self.organization else ""

    @property
    def model_facts(self) -> dict:
        """The model's facts as every page shows them: sizes in millimetres for the author's unit."""
        return shown_facts(self.model_file.facts if self.model_file else None, self.model_unit)

    @property
    def consents_complete(self) -> bool:
        return self.consent_processing and self.consent_publication


class ConsentGiver(enum.StrEnum):
    SELF = "self"  # the student, 14 or older
    PARENT = "parent"
    REPRESENTATIVE = "representative"

    @property
    def label(self) -> str:
        return CONSENT_GIVER_LABELS[self]


CONSENT_GIVER_LABELS = {
    ConsentGiver.SELF: "сам(а) обучающийся (14 лет и старше)",
    ConsentGiver.PARENT: "родитель",
    ConsentGiver.REPRESENTATIVE: "законный представитель",
}


class ConsentKind(enum.StrEnum):
    PROCESSING = "processing"
    PUBLICATION = "publication"

    @property
    def label(self) -> str:
        return CONSENT_KIND_LABELS[self]


CONSENT_KIND_LABELS = {
    ConsentKind.PROCESSING: "на обработку персональных данных",
    ConsentKind.PUBLICATION: "на публикацию работы и данных участника",
}


class ConsentRecord(db.Model):
    """One consent given or withdrawn: by whom (the student, a parent or representative) and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    entry: Mapped[Entry] = relationship(back_populates="consents")
    kind: Mapped[str] = mapped_column(String(20))
    given: Mapped[bool]  # False: withdrawn
    giver: Mapped[str] = mapped_column(String(20))
    giver_name: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_by: Mapped[User | None] = relationship(lazy="joined")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def kind_label(self) -> str:
        return ConsentKind(self.kind).label

    @property
    def giver_label(self) -> str:
        return ConsentGiver(self.giver).label


class ParentalConsentStatus(enum.StrEnum):
    PENDING = "pending"  # the letter is sent, or the paper form is awaited
    UPLOADED = "uploaded"  # the signed paper form is uploaded and waits for a moderator
    CONFIRMED = "confirmed"
    DECLINED = "declined"  # the parent declined, or a moderator rejected the scan
    SUPERSEDED = "superseded"  # a newer request replaced it

    @property
    def label(self) -> str:
        return PARENTAL_CONSENT_LABELS[self]


PARENTAL_CONSENT_LABELS = {
    ParentalConsentStatus.PENDING: "ждёт подтверждения родителя",
    ParentalConsentStatus.UPLOADED: "скан бланка ждёт проверки модератором",
    ParentalConsentStatus.CONFIRMED: "подтверждено",
    ParentalConsentStatus.DECLINED: "отклонено",
    ParentalConsentStatus.SUPERSEDED: "заменено новым запросом",
}


class ParentalConsent(db.Model):
    """A parent's (or legal representative's) consent for a student under 14, confirmed by the parent: by a
    one-time link sent to their e-mail, or on a signed paper form whose scan a moderator checks.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    entry: Mapped[Entry] = relationship()
    giver: Mapped[str] = mapped_column(String(20), default="parent")  # ConsentGiver: parent or representative
    parent_name: Mapped[str] = mapped_column(String(200))
    parent_email: Mapped[str] = mapped_column(String(254), default="")  # empty: the paper form
    text_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ParentalConsentStatus.PENDING)
    # Named in the e-mail link; emptied when the link is used, so that it works once.
    nonce: Mapped[str] = mapped_column(String(32), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The decision: when, from which address (the link), or which moderator checked the scan.
    decided_at: Mapped[dt.datetime | None]
    decided_address: Mapped[str] = mapped_column(String(64), default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id], lazy="joined")
    comment: Mapped[str] = mapped_column(Text, default="")
    scan_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="SET NULL"))
    scan_file: Mapped[StoredFile | None] = relationship(lazy="joined")

    @property
    def state(self) -> ParentalConsentStatus:
        return ParentalConsentStatus(self.status)

    @property
    def by_paper(self) -> bool:
        return not self.parent_email

    @property
    def is_open(self) -> bool:
        return self.status in (ParentalConsentStatus.PENDING, ParentalConsentStatus.UPLOADED)

    @property
    def giver_label(self) -> str:
        return ConsentGiver(self.giver).label


class Review(db.Model):
    """One juror's scores of one entry (every criterion), with an optional comment."""

    __table_args__ = (UniqueConstraint("entry_id", "juror_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    entry: Mapped[Entry] = relationship()
    juror_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    juror: Mapped[User] = relationship(lazy="joined")
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    scores: Mapped[list["Score"]] = relationship(lazy="selectin", cascade="all, delete-orphan", back_populates="review")

    def score_for(self, criterion_id: int) -> int | None:
        return next((s.value for s in self.scores if s.criterion_id == criterion_id), None)


class Score(db.Model):
    __table_args__ = (
        UniqueConstraint("review_id", "criterion_id"),
        CheckConstraint("value >= 0", name="ck_score_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    review: Mapped[Review] = relationship(back_populates="scores")
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    value: Mapped[int]
