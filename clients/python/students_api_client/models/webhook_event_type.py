from enum import StrEnum


class WebhookEventType(StrEnum):
    STUDENT_CREATED = "student.created"
    STUDENT_DELETED = "student.deleted"
    STUDENT_UPDATED = "student.updated"

    def __str__(self) -> str:
        return str(self.value)
