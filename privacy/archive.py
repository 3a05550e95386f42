"""The ZIP of an organization's data: one JSON and one CSV file per section, written row by row.

Each section is a query of the organization's rows (`.values_list().iterator()`), streamed into the
archive's entry as it is read, so memory stays flat whatever the organization's size. A model another
branch of the project may not have (an invoice) is included when it is installed.
"""

import csv
import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from accounts.models import User
from agents.models import Conversation, Message
from billing.models import Invoice, Payment
from botgeneric.spreadsheet import safe_text
from deployments.models import Contact
from leads.models import Lead
from tenants.models import AuditEvent, Organization
from usage.models import UsageEvent

CHUNK_ROWS = 2000


@dataclass(frozen=True)
class Section:
    name: str
    columns: tuple[str, ...]
    rows: QuerySet


def _section(name: str, queryset: QuerySet, columns: tuple[str, ...]) -> Section:
    return Section(name, columns, queryset.order_by("pk").values_list(*columns))


def sections(organization: Organization) -> list[Section]:
    """Every section of `organization`'s export; each query is scoped to it."""
    org_id = organization.pk
    found = [
        _section(
            "members",
            User.objects.filter(organization_id=org_id),
            ("id", "email", "name", "role", "locale", "telegram_id", "auth_provider", "is_active", "date_joined"),
        ),
        _section(
            "conversations",
            Conversation.objects.filter(organization_id=org_id),
            ("id", "user_id", "agent__slug", "channel", "contact_id", "deployment_id", "title", "created_at"),
        ),
        _section(
            "messages",
            Message.objects.filter(conversation__organization_id=org_id),
            ("id", "conversation_id", "role", "content", "tool_calls", "tool_call_id", "created_at"),
        ),
        _section(
            "contacts",
            Contact.objects.filter(organization_id=org_id),
            ("id", "channel", "external_id", "deployment_id", "name", "handles", "locale", "created_at"),
        ),
        _section(
            "leads",
            Lead.objects.filter(organization_id=org_id),
            (
                "id",
                "contact_id",
                "conversation_id",
                "status",
                "name",
                "phone",
                "email",
                "telegram",
                "need",
                "budget",
                "notes",
                "created_at",
            ),
        ),
        _section(
            "usage_events",
            UsageEvent.objects.filter(organization_id=org_id),
            (
                "id",
                "user_id",
                "agent__slug",
                "channel",
                "model",
                "outcome",
                "error_code",
                "tokens_input",
                "tokens_output",
                "audio_seconds",
                "cost_usd",
                "created_at",
            ),
        ),
        _section(
            "payments",
            Payment.objects.filter(account__organization_id=org_id),
            (
                "id",
                "provider",
                "external_id",
                "amount",
                "currency",
                "status",
                "plan__code",
                "period_start",
                "period_end",
            )
            + ("created_at",),
        ),
        *_invoices(org_id),
        _section(
            "audit_events",
            AuditEvent.objects.filter(organization_id=org_id),
            ("id", "actor_id", "actor_label", "action", "target_type", "target_id", "before", "after", "created_at"),
        ),
    ]
    return found


def _invoices(org_id: int) -> list[Section]:
    columns = tuple(field.attname for field in Invoice._meta.concrete_fields)
    return [_section("invoices", Invoice.objects.filter(account__organization_id=org_id), columns)]


def write_archive(*, organization: Organization, target: IO[bytes]) -> None:
    """Write the whole export of `organization` as a ZIP into the binary file `target`."""
    with zipfile.ZipFile(target, "w") as archive:
        _write_json(archive, "organization.json", iter([_organization_row(organization)]), single=True)
        for section in sections(organization):
            _write_json(archive, f"{section.name}.json", _dicts(section))
            _write_csv(archive, f"{section.name}.csv", section)


def _organization_row(organization: Organization) -> dict:
    return {
        "id": organization.pk,
        "name": organization.name,
        "slug": organization.slug,
        "created_at": organization.created_at,
        "deletion_due_at": organization.deletion_due_at,
    }


def _dicts(section: Section) -> Iterator[dict]:
    for row in section.rows.iterator(chunk_size=CHUNK_ROWS):
        yield dict(zip(section.columns, row, strict=True))


def _entry(name: str) -> zipfile.ZipInfo:
    """An entry dated now (ZipFile.open() would date it 1980), compressed."""
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _write_json(archive: zipfile.ZipFile, name: str, rows: Iterator[dict], *, single: bool = False) -> None:
    with archive.open(_entry(name), "w", force_zip64=True) as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
        if single:
            out.write(json.dumps(next(rows), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
            return
        out.write("[")
        for index, row in enumerate(rows):
            out.write(",\n" if index else "\n")
            out.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False))
        out.write("\n]\n")


def _write_csv(archive: zipfile.ZipFile, name: str, section: Section) -> None:
    with (
        archive.open(_entry(name), "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(section.columns)
        for row in section.rows.iterator(chunk_size=CHUNK_ROWS):
            writer.writerow([_cell(value) for value in row])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    # Messages, names and notes were typed by people: opened in a spreadsheet they must stay text.
    return safe_text(value) if isinstance(value, str) else str(value)
