from enum import StrEnum


class Scope(StrEnum):
    METRICSREAD = "metrics:read"
    STUDENTSREAD = "students:read"
    STUDENTSWRITE = "students:write"
    TOKENSADMIN = "tokens:admin"

    def __str__(self) -> str:
        return str(self.value)
