from enum import StrEnum


class CountMode(StrEnum):
    EXACT = "exact"

    def __str__(self) -> str:
        return str(self.value)
