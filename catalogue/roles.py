"""The roles people have on the site. Accounts store them; permissions, services and forms check them."""

import enum


class Role(enum.StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    MODERATOR = "moderator"
    JURY = "jury"
    ADMIN = "admin"
    COORDINATOR = "coordinator"  # a municipality's coordinator: sees its schools on /monitoring/

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.STUDENT: "Обучающийся",
    Role.TEACHER: "Педагог",
    Role.MODERATOR: "Модератор",
    Role.JURY: "Член жюри",
    Role.ADMIN: "Администратор",
    Role.COORDINATOR: "Муниципальный координатор",
}
# Roles a person picks at registration; the others are granted by an administrator.
SELF_SERVICE_ROLES = (Role.STUDENT, Role.TEACHER)
