"""The customer's usage analytics (the Advanced analytics feature): usage per day, agent, member and channel,
charts and CSV. Plans without the feature see which plans include it."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render

from botgeneric.errors import DomainError
from channels_web.messages import describe_error
from policy.errors import DenyCode
from policy.services import require_feature
from usage.analytics import ANALYTICS_FEATURE
from usage.forms import PRESETS, PeriodForm
from usage.reports import customer_report
from usage.rollups import bring_up_to_date


@login_required
def usage_analytics(request):
    organization = request.user.organization
    if organization is None:
        raise PermissionDenied
    try:
        require_feature(organization_id=organization.pk, feature=ANALYTICS_FEATURE)
    except DomainError as error:
        plans = error.extra.get("upgrade_plans", []) if error.code == DenyCode.FEATURE_NOT_IN_PLAN else []
        context = {"denied": describe_error(error), "upgrade_plans": plans}
        return render(request, "web/analytics.html", context, status=403)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return render(request, "web/analytics.html", {"form": form, "presets": PRESETS}, status=400)
    window = form.window()
    bring_up_to_date()
    report = customer_report(organization=organization, window=window)
    export = request.GET.get("export")
    if export:
        table = next((table for table in report["tables"] if table.key == export), None)
        if table is None:
            raise Http404
        response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="usage-{table.key}-{window.start}-{window.end}.csv"'
        return response
    query = request.GET.copy()
    query.pop("export", None)
    context = {"form": form, "presets": PRESETS, "report": report, "window": window, "query": query.urlencode()}
    return render(request, "web/analytics.html", context)
