from enum import StrEnum


class WebhookDisabledReason(StrEnum):
    FAILING = "failing"
    GONE = "gone"
    PAUSED = "paused"

    def __str__(self) -> str:
        return str(self.value)
