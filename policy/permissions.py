"""The DRF permission class that guards using an agent (POST …/invoke) on any API view."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from botgeneric.channels import Channel
from policy.errors import PolicyDenied
from policy.services import check_access
from usage.models import Outcome
from usage.services import record_event


class PolicyPermission(BasePermission):
    """Refuse a call with the policy's own deny code (402/403/404) before the view does any work.

    Reading an agent is scoped by the view's queryset; using one (a non-safe method on the object)
    runs `check_access()` — no reservation: the invoke service reserves, reusing this decision from
    `request.policy_access`. A refusal is metered as a denied UsageEvent, like every call.
    The view names its channel in `policy_channel` (default: api).
    """

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        channel = getattr(view, "policy_channel", Channel.API)
        try:
            request.policy_access = check_access(user=request.user, agent=obj, channel=channel)
        except PolicyDenied as denied:
            record_event(user=request.user, agent=obj, channel=channel, outcome=Outcome.DENIED, error_code=denied.code)
            raise
        return True
