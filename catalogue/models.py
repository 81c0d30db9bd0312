"""Every model of the application, imported so that metadata and migrations see them all."""

from catalogue.accounts.models import (
    CoordinatedMunicipality,
    KnownAddress,
    LoginAttempt,
    Role,
    UsedLoginLink,
    User,
    UserRole,
    UserSession,
)
from catalogue.api.models import ApiRequestCount
from catalogue.contest.models import (
    AgeCategory,
    ConsentRecord,
    Criterion,
    Entry,
    JuryAssignment,
    Nomination,
    Review,
    Score,
    Season,
)
from catalogue.idempotency import IdempotencyRecord
from catalogue.jobs.models import Job
from catalogue.media.models import StoredFile
from catalogue.page_cache import ContentGeneration
from catalogue.practices.models import (
    Practice,
    PracticeAdoption,
    PracticeRevision,
    PracticeRoadmapItem,
    PracticeStep,
)
from catalogue.projects.models import Project, ProjectReport, ProjectStage
from catalogue.search.outbox import SearchOutbox
from catalogue.search.postgres_backend import SearchEngineEntry, SearchEngineState, SearchEngineWord
from catalogue.search.stored import SearchDocumentRow
from catalogue.subscriptions.models import Subscription
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
from catalogue.workflow.models import AuditEntry, Notification

__all__ = [
    "AgeCategory",
    "AgeGroup",
    "ApiRequestCount",
    "AuditEntry",
    "ConsentRecord",
    "ContentGeneration",
    "CoordinatedMunicipality",
    "Criterion",
    "Entry",
    "IdempotencyRecord",
    "Job",
    "JuryAssignment",
    "KnownAddress",
    "LoginAttempt",
    "Municipality",
    "Nomination",
    "Notification",
    "Organization",
    "Practice",
    "PracticeAdoption",
    "PracticeRevision",
    "PracticeRoadmapItem",
    "PracticeStep",
    "Project",
    "ProjectReport",
    "ProjectStage",
    "Review",
    "Role",
    "Score",
    "SearchDocumentRow",
    "SearchEngineEntry",
    "SearchEngineState",
    "SearchEngineWord",
    "SearchOutbox",
    "Season",
    "Sphere",
    "StoredFile",
    "Subscription",
    "UsedLoginLink",
    "User",
    "UserRole",
    "UserSession",
]
