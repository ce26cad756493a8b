from enum import StrEnum


class Grade(StrEnum):
    A = "A"
    A_MINUS = "A-"
    A_PLUS = "A+"
    B = "B"
    B_MINUS = "B-"
    B_PLUS = "B+"
    C = "C"
    C_MINUS = "C-"
    C_PLUS = "C+"
    D = "D"
    F = "F"

    def __str__(self) -> str:
        return str(self.value)
