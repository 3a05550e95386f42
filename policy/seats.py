"""Seats: how many people an organization's plan lets it have (`Plan.max_members`; None = unlimited).

A seat is taken by each active member and by each open invitation that has not expired, so inviting
cannot outrun the plan by sending many links at once. Only the policy decides; the membership services
ask `can_add_member()` while they hold the organization's row lock, so two invitations racing for the
last seat are decided one after the other.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from billing.models import BillingAccount, Plan
from policy.errors import DenyCode, PolicyDenied
from tenants.models import Invitation


@dataclass(frozen=True)
class Decision:
    """A policy answer that is not an exception yet: `enforce()` raises it when it says no."""

    allowed: bool
    code: DenyCode | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def enforce(self) -> None:
        if not self.allowed:
            raise PolicyDenied(self.code, self.detail, self.extra)


@dataclass(frozen=True)
class Seats:
    has_plan: bool
    limit: int | None  # None = unlimited (or no plan: see has_plan)
    members: int
    pending_invitations: int

    @property
    def used(self) -> int:
        return self.members + self.pending_invitations


def seats_for(*, organization_id: int) -> Seats:
    """The plan's seat limit and what takes seats now: active members and unexpired open invitations."""
    account = BillingAccount.objects.select_related("plan").filter(organization_id=organization_id).first()
    plan = account.plan if account is not None else None
    members = get_user_model().objects.filter(organization_id=organization_id, is_active=True).count()
    pending = Invitation.objects.filter(
        organization_id=organization_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).count()
    return Seats(
        has_plan=plan is not None,
        limit=plan.max_members if plan is not None else None,
        members=members,
        pending_invitations=pending,
    )


def _closing(organization) -> Decision | None:
    if organization.pending_deletion:
        return Decision(
            False,
            DenyCode.ORGANIZATION_PENDING_DELETION,
            "The organization is scheduled for deletion; its owner can restore it first.",
            {"deletion_due_at": organization.deletion_due_at.isoformat()},
        )
    return None


def can_join(*, organization) -> Decision:
    """May someone join through an invitation (whose seat it already holds)? Not while the organization
    awaits deletion (`organization_pending_deletion`)."""
    return _closing(organization) or Decision(True)


def can_add_member(*, organization) -> Decision:
    """May one more person (an invitation, then the member it becomes) join? A plan without seats left
    answers `seats_exhausted` (403) with the limit, what is used and the plans with more seats; an
    organization without a plan has no seats to give (`no_subscription`), nor one being deleted."""
    if closing := _closing(organization):
        return closing
    seats = seats_for(organization_id=organization.pk)
    if not seats.has_plan:
        return Decision(False, DenyCode.NO_SUBSCRIPTION, "The organization has no plan, so no seats to give.")
    if seats.limit is not None and seats.used >= seats.limit:
        bigger = Plan.objects.filter(is_active=True).exclude(max_members__lte=seats.used)
        return Decision(
            False,
            DenyCode.SEATS_EXHAUSTED,
            f"The plan has {seats.limit} seat(s) and all are taken (pending invitations count too).",
            {
                "limit": seats.limit,
                "used": seats.used,
                "upgrade_plans": list(bigger.order_by("display_order", "id").values("code", "name")),
            },
        )
    return Decision(True)
