"""Data export: an owner's ZIP of every section of the organization, e-mailed as an expiring link."""

import csv
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from agents.models import Message
from privacy.models import ExportStatus, OrganizationExport
from privacy.services import expire_exports, export_storage
from tenants.models import AuditEvent
from tenants.services import create_api_key

pytestmark = pytest.mark.django_db

SECTIONS = {
    "members": 3,
    "conversations": 2,
    "messages": 3,
    "contacts": 1,
    "leads": 1,
    "usage_events": 1,
    "payments": 1,
    "invoices": 1,
}


def _request(tenant, committed) -> dict:
    with committed(execute=True):
        response = tenant.client(tenant.owner).post("/api/v1/organization/export")
    assert response.status_code == 202, response.json()
    return response.json()


def _link_path() -> str:
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _download(user, path: str):
    return _browser(user).get(path)


def test_the_owner_gets_a_zip_with_every_section_of_the_organization_and_none_of_another(
    tenant, other_tenant, committed
):
    body = _request(tenant, committed)

    # No broker: the task ran once the request committed.
    assert OrganizationExport.objects.get(pk=body["id"]).status == ExportStatus.READY
    assert mail.outbox[-1].to == [tenant.owner.email]
    response = _download(tenant.owner, _link_path())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {"organization.json", "audit_events.json", "audit_events.csv"} <= names
    assert json.loads(archive.read("organization.json"))["name"] == tenant.organization.name
    for section, count in SECTIONS.items():
        rows = json.loads(archive.read(f"{section}.json"))
        csv_lines = archive.read(f"{section}.csv").decode().strip().splitlines()
        assert len(rows) == count, section
        assert len(csv_lines) >= count + 1, section
    assert any(row["action"] == "test.marked" for row in json.loads(archive.read("audit_events.json")))
    assert AuditEvent.objects.filter(action="export.downloaded", actor=tenant.owner).count() == 1
    everything = b"".join(archive.read(name) for name in names).decode()
    assert "alpha" in everything
    assert "omega" not in everything


def test_text_people_typed_stays_text_in_the_csv_files_and_exact_in_the_json(tenant, committed):
    formula = '=HYPERLINK("http://evil.example","open")'
    Message.objects.filter(conversation__organization=tenant.organization).update(content=formula)
    _request(tenant, committed)

    archive = zipfile.ZipFile(io.BytesIO(b"".join(_download(tenant.owner, _link_path()).streaming_content)))

    rows = list(csv.DictReader(io.StringIO(archive.read("messages.csv").decode())))
    assert rows and {row["content"] for row in rows} == {"'" + formula}
    assert {row["content"] for row in json.loads(archive.read("messages.json"))} == {formula}


def test_the_export_is_listed_with_its_link_for_the_owner(tenant, committed):
    export_id = _request(tenant, committed)["id"]

    listed = tenant.client(tenant.owner).get("/api/v1/organization/exports").json()["results"]
    detail = tenant.client(tenant.owner).get(f"/api/v1/organization/exports/{export_id}").json()

    assert [row["id"] for row in listed] == [export_id]
    assert detail["download_url"].endswith(_link_path())
    assert detail["expires_at"] is not None
    assert detail["requested_by"] == tenant.owner.email


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_the_owner_may_export(tenant, role):
    client = tenant.client(getattr(tenant, role))

    assert client.post("/api/v1/organization/export").json()["code"] == "forbidden_role"
    assert client.get("/api/v1/organization/exports").status_code == 403
    assert not OrganizationExport.objects.exists()


def test_an_api_key_cannot_request_an_export(tenant):
    _, secret = create_api_key(organization=tenant.organization, name="k", actor=tenant.owner)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")

    response = client.post("/api/v1/organization/export")

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_a_second_export_while_one_is_prepared_is_refused(tenant):
    OrganizationExport.objects.create(organization=tenant.organization, status=ExportStatus.RUNNING)

    response = tenant.client(tenant.owner).post("/api/v1/organization/export")

    assert response.status_code == 409
    assert response.json()["code"] == "export_in_progress"


def test_an_organization_may_request_one_export_per_interval(tenant, committed, settings):
    _request(tenant, committed)

    again = tenant.client(tenant.owner).post("/api/v1/organization/export")
    settings.EXPORT_MIN_INTERVAL_MINUTES = 0

    assert (again.status_code, again.json()["code"]) == (429, "throttled")
    assert 0 < again.json()["retry_after"] <= 600
    assert _request(tenant, committed)["id"]


def test_another_organizations_owner_gets_404_for_the_export_and_its_link(tenant, other_tenant, committed):
    export_id = _request(tenant, committed)["id"]
    path = _link_path()

    assert _download(other_tenant.owner, path).status_code == 404
    assert other_tenant.client(other_tenant.owner).get(f"/api/v1/organization/exports/{export_id}").status_code == 404


def test_a_member_with_the_link_cannot_download(tenant, committed):
    _request(tenant, committed)

    assert _download(tenant.member, _link_path()).status_code == 403


def test_a_link_with_a_forged_token_is_404(tenant, committed):
    _request(tenant, committed)
    path = _link_path()

    assert _download(tenant.owner, path[: path.index("token=") + 6] + "forged").status_code == 404


def test_expired_exports_lose_their_file_and_their_link(tenant, committed):
    export = OrganizationExport.objects.get(pk=_request(tenant, committed)["id"])
    path, stored = _link_path(), export.file
    assert export_storage().exists(stored)

    with committed(execute=True):
        assert expire_exports(now=timezone.now() + timedelta(days=8)) == 1

    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED
    assert not export_storage().exists(stored)
    response = _download(tenant.owner, path)
    assert response.status_code == 410


def test_an_export_whose_worker_died_is_failed_so_the_owner_can_ask_again(tenant, committed):
    stuck = OrganizationExport.objects.create(organization=tenant.organization, status=ExportStatus.RUNNING)

    expire_exports(now=timezone.now() + timedelta(hours=3))

    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.FAILED
    assert AuditEvent.objects.filter(action="export.failed", target_id=str(stuck.pk)).exists()
    assert _request(tenant, committed)["id"] != stuck.pk


def test_listing_exports_costs_a_fixed_number_of_queries(tenant, django_assert_max_num_queries):
    for status in (ExportStatus.READY, ExportStatus.EXPIRED, ExportStatus.FAILED, ExportStatus.READY):
        OrganizationExport.objects.create(organization=tenant.organization, status=status, requested_by=tenant.owner)
    client = tenant.client(tenant.owner)

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/organization/exports")

    assert response.json()["count"] == 4


def test_a_link_older_than_its_lifetime_is_refused(tenant, settings, committed):
    _request(tenant, committed)
    settings.EXPORT_LINK_DAYS = 0

    assert _download(tenant.owner, _link_path()).status_code == 410


def test_the_owner_requests_and_lists_exports_on_the_dashboard(tenant, committed):
    browser = _browser(tenant.owner)

    with committed(execute=True):
        response = browser.post("/organization/data/export/")
    response = browser.get("/organization/data/")

    assert response.status_code == 200
    assert b"/download/?token=" in response.content
    assert _browser(tenant.member).get("/organization/data/").status_code == 403
