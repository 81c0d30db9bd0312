"""A practice's content as plain data: what forms produce, services apply, and revisions store as JSON."""

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from catalogue.practices.models import Practice


@dataclass
class StepData:
    title: str
    description: str = ""


@dataclass
class PracticeData:
    title: str
    summary: str
    description: str
    organization_id: int
    roadmap_items: list[int]
    grade_from: int
    grade_to: int
    sphere_ids: list[int]
    period_from: dt.date
    period_to: dt.date | None
    participants: int | None
    student_share: int | None
    results: str
    resources: str
    contacts: str
    steps: list[StepData] = field(default_factory=list)

    def normalized(self) -> "PracticeData":
        """Trimmed texts, blank steps dropped, ids unique and sorted: equal content compares equal."""
        return PracticeData(
            title=" ".join(self.title.split()),
            summary=self.summary.strip(),
            description=self.description.strip(),
            organization_id=self.organization_id,
            roadmap_items=sorted(set(self.roadmap_items)),
            grade_from=self.grade_from,
            grade_to=self.grade_to,
            sphere_ids=sorted(set(self.sphere_ids)),
            period_from=self.period_from,
            period_to=self.period_to,
            participants=self.participants,
            student_share=self.student_share,
            results=self.results.strip(),
            resources=(self.resources or "").strip(),
            contacts=self.contacts.strip(),
            steps=[StepData(s.title.strip(), (s.description or "").strip()) for s in self.steps if s.title.strip()],
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["period_from"] = self.period_from.isoformat()
        data["period_to"] = self.period_to.isoformat() if self.period_to else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PracticeData":
        values = dict(data)
        values["period_from"] = dt.date.fromisoformat(values["period_from"])
        values["period_to"] = dt.date.fromisoformat(values["period_to"]) if values.get("period_to") else None
        values["steps"] = [StepData(**s) for s in values.get("steps", [])]
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})

    @classmethod
    def of(cls, practice: Practice) -> "PracticeData":
        """The content a practice shows now."""
        return cls(
            title=practice.title,
            summary=practice.summary,
            description=practice.description,
            organization_id=practice.organization_id,
            roadmap_items=practice.roadmap_numbers,
            grade_from=practice.grade_from,
            grade_to=practice.grade_to,
            sphere_ids=sorted(s.id for s in practice.spheres),
            period_from=practice.period_from,
            period_to=practice.period_to,
            participants=practice.participants,
            student_share=practice.student_share,
            results=practice.results,
            resources=practice.resources,
            contacts=practice.contacts,
            steps=[StepData(s.title, s.description) for s in practice.steps],
        ).normalized()
