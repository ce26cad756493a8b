from enum import StrEnum


class CountMode(StrEnum):
    ESTIMATED = "estimated"
    EXACT = "exact"

    def __str__(self) -> str:
        return str(self.value)
