"""The audit log's entries: who did what, when, and what came of it. Entries are only ever appended.

`action` says what kind of thing happened: a `command` someone gave (accepted or refused), an `approval`,
a `webhook` delivery, or an `operation` changing state. `subject` names it (the command as typed, the
delivery, the operation); `outcome` is what came of it; `detail` carries a refusal's text or a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

COMMAND = "command"
APPROVAL = "approval"
WEBHOOK = "webhook"
OPERATION = "operation"

ACCEPTED = "accepted"
REFUSED = "refused"

SUBJECT = 500  # longest subject kept
DETAIL = 2000  # longest detail kept


@dataclass(frozen=True)
class Entry:
    actor: str
    action: str
    subject: str
    outcome: str
    detail: str = ""
    operation_id: int | None = None
    at: datetime | None = None
    id: int | None = None

    def clipped(self) -> Entry:
        """The entry with its free text cut to what the log keeps."""
        return Entry(
            self.actor[:255],
            self.action,
            self.subject[:SUBJECT],
            self.outcome[:255],
            self.detail[:DETAIL],
            self.operation_id,
            self.at,
            self.id,
        )
