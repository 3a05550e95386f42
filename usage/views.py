"""The operator's analytics page in the admin (/admin/analytics/): revenue, MRR, subscriptions, LLM cost and
margins for a period, charts, and each table as CSV (`?export=<table>`). Needs the revenue permission."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse

from billing.analytics import currencies
from botgeneric.money_display import llm_cost_usd, money
from usage.forms import PRESETS, OperatorPeriodForm
from usage.reports import operator_report
from usage.rollups import roll_up

#: Business figures beyond single payments, like the revenue report.
ANALYTICS_PERMISSION = "billing.view_revenue"
ROWS_SHOWN = 50


def operator_analytics(request):
    if not request.user.has_perm(ANALYTICS_PERMISSION):
        raise PermissionDenied
    query = request.GET.copy()
    query.setdefault("currency", "USD")
    form = OperatorPeriodForm(query, currencies=currencies())
    context = {**admin.site.each_context(request), "title": "Analytics", "form": form, "presets": PRESETS}
    if not form.is_valid():
        return TemplateResponse(request, "admin/analytics.html", context, status=400)
    # A no-op when the task is up to date; without a broker (make run) the page brings it up to date. A
    # roll-up already running is not waited for: the page shows what is rolled up so far.
    roll_up(wait=False)
    report = operator_report(
        form.window(), currency=form.cleaned_data["currency"], usd_rate=form.cleaned_data["usd_rate"]
    )
    export = request.GET.get("export")
    if export:
        table = next((table for table in report["tables"] if table.key == export), None)
        if table is None:
            raise Http404
        window = report["window"]
        response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
        filename = f"analytics-{table.key}-{window.start}-{window.end}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    query.pop("export", None)
    context.update(report=report, query=query.urlencode(), tables=[shown(table) for table in report["tables"]])
    context.update(figures(report))
    return TemplateResponse(request, "admin/analytics.html", context)


def shown(table) -> dict:
    rows = table.display_rows(limit=ROWS_SHOWN)
    note = table.note
    if len(table.rows) > ROWS_SHOWN:
        note = f"{note} The first {ROWS_SHOWN} of {len(table.rows)} rows; the CSV has them all.".strip()
    return {"key": table.key, "title": table.title, "note": note, "headings": table.headings, "rows": rows}


def figures(report: dict) -> dict:
    currency, total = report["currency"], report["total"]
    change = report["mrr_change"]
    return {
        "mrr": money(report["mrr"], currency),
        "mrr_before": money(report["mrr_before"], currency),
        "mrr_change": f"{change * 100:+.1f} %" if change is not None else "",
        "trial_rate": f"{report['trials']['rate'] * 100:.1f} %" if report["trials"]["rate"] is not None else "—",
        "total_revenue": money(total["revenue"], currency),
        "total_cost": llm_cost_usd(total["cost_usd"]),
        "total_margin": money(total["margin"], currency),
    }
