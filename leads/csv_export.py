"""Leads as CSV rows for a spreadsheet. Every text came from an end client, so every cell goes through
`botgeneric.spreadsheet.safe_text` (no formulas; phone numbers kept as they are)."""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from botgeneric.spreadsheet import safe_text
from leads.models import Lead

COLUMNS = [
    "id",
    "created_at",
    "status",
    "name",
    "phone",
    "email",
    "telegram",
    "need",
    "budget",
    "notes",
    "contact_id",
    "contact_name",
    "channel",
    "agent",
    "conversation_id",
]
CHUNK_ROWS = 500


class _Line:
    """A file-like object whose write returns the line, for csv.writer to stream row by row."""

    def write(self, value: str) -> str:
        return value


def _safe(value) -> str:
    return safe_text("" if value is None else str(value))


def _row(lead: Lead) -> list[str]:
    agent = lead.deployment.agent.name if lead.deployment is not None else ""
    values = [
        lead.pk,
        lead.created_at.isoformat(),
        lead.status,
        lead.name,
        lead.phone,
        lead.email,
        lead.telegram,
        lead.need,
        lead.budget,
        lead.notes,
        lead.contact_id,
        lead.contact.name,
        lead.contact.channel,
        agent,
        lead.conversation_id or "",
    ]
    return [_safe(value) for value in values]


def csv_lines(leads: QuerySet[Lead]) -> Iterator[str]:
    """The header, then one CSV line per lead, read from the database in chunks."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for lead in leads.iterator(chunk_size=CHUNK_ROWS):
        yield writer.writerow(_row(lead))
