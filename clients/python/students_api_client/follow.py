"""follow_changes: every change to the students, in order, for as long as you iterate.

Written by hand (clients/python/handwritten/follow.py; scripts/generate copies it into the
package). It long-polls `pollChanges`: each answer comes as soon as there are changes after the
position, or empty after `wait` seconds, and carries `next`, the position to poll from. A lost
connection or a 5xx is retried from the last position, so nothing is skipped or seen twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
from attrs import evolve

from .api.changes import poll_changes
from .client import AuthenticatedClient
from .models.change_page import ChangePage
from .models.grade import Grade
from .models.problem import Problem
from .models.student_change import StudentChange
from .types import UNSET


class FeedError(Exception):
    """The feed refused to go on: `status` 410 (the position is older than the changes kept:
    resync: take the feed's position with `poll_changes.sync(client=..., after="now", wait=0)`,
    list the students, then follow from its `next_`), 401/403 (the token), 422 (a bad position)."""

    def __init__(self, status: int, problem: Problem | None):
        self.status = status
        self.problem = problem
        super().__init__(f"{status}: {problem.detail if problem else 'no problem details'}")


def follow_changes(
    client: AuthenticatedClient,
    *,
    after: str | None = None,
    grade: list[Grade] | None = None,
    student_id: int | None = None,
    wait: int = 30,
    retry_delay: float = 1.0,
) -> Iterator[StudentChange]:
    """Yields every change after `after` (a change's `position`, or "now"; by default the
    oldest change kept), oldest first, then each new one as it happens, forever. Stop by
    leaving the loop; resume later from the last change's `position`."""
    # A client of its own, with a read timeout that outlasts the server's wait: `evolve` copies
    # the settings (URL, token, headers, TLS) but not the caller's open connection, which is
    # left as it is. Closed when the loop is left.
    with evolve(client, timeout=httpx.Timeout(wait + 15.0)) as polling:
        position = after
        delay = retry_delay
        while True:
            try:
                response = poll_changes.sync_detailed(
                    client=polling,
                    after=UNSET if position is None else position,
                    wait=wait,
                    limit=100,
                    grade=UNSET if grade is None else grade,
                    student_id=UNSET if student_id is None else student_id,
                )
            except httpx.TransportError:
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            page = response.parsed
            if response.status_code == 200 and isinstance(page, ChangePage):
                delay = retry_delay
                for change in page.changes:
                    yield change
                position = page.next_
                continue
            problem = page if isinstance(page, Problem) else None
            if 500 <= response.status_code or response.status_code in (408, 429):
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            raise FeedError(int(response.status_code), problem)
