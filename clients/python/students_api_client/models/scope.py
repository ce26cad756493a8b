from enum import StrEnum


class Scope(StrEnum):
    ACCOUNTS_ADMIN = "accounts:admin"
    METRICS_READ = "metrics:read"
    STUDENTS_READ = "students:read"
    STUDENTS_WRITE = "students:write"
    TOKENS_ADMIN = "tokens:admin"
    WEBHOOKS_ADMIN = "webhooks:admin"

    def __str__(self) -> str:
        return str(self.value)
