"""The supervisor dashboard: one business's floor now and over a period.

Who sees which business is accounts.selectors.supervisor_scope's answer;
another business's dashboard does not exist for them (404), and a signed-in
user who is no supervisor gets 403. The figures are aggregates with no
customer's personal data (operators are named; they are the business's
staff), so looking at them is not a compliance look and is not audited.
"""

import csv
from datetime import date, timedelta
from functools import wraps

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Business
from accounts.selectors import supervisor_scope
from operators.supervisor import display, selectors

SLA_SECONDS_MAX = 3600
PERIOD_DAYS_MAX = 366


def supervisor_required(view):
    """Signed-in supervisors (or superusers); the scope is passed in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('operators:login')}?next={request.path}")
        scope = supervisor_scope(request.user)
        if not scope.reaches_any:
            return render(request, "operators/supervisor/not_supervisor.html", status=403)
        return view(request, scope, *args, **kwargs)

    return wrapper


def _business(scope, slug: str) -> Business:
    business = get_object_or_404(Business, slug=slug)
    if not scope.allows(business.pk):
        raise Http404
    return business


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _period_and_sla(request, business):
    """The period and N from the query string; what does not parse falls back
    to the default (last 30 days; the business's N), and the form says so by
    showing what was used."""
    default = selectors.period_default(zone=business.time_zone)
    first = _parse_date(request.GET.get("from")) or default.first_day
    last = _parse_date(request.GET.get("to")) or default.last_day
    if first > last:
        first, last = last, first
    # No day after today (nothing happened there, and date.max + 1 day would
    # overflow), and at most a year: the figures of a longer span are a
    # report, not a page a supervisor reloads.
    last = min(last, default.last_day)
    first = min(max(first, last - timedelta(days=PERIOD_DAYS_MAX - 1)), last)
    try:
        sla = int(request.GET.get("sla", ""))
    except ValueError:
        sla = business.sla_seconds
    sla = min(max(sla, 1), SLA_SECONDS_MAX) if sla else business.sla_seconds
    return selectors.Period(first_day=first, last_day=last, zone=business.time_zone), sla


@require_GET
@supervisor_required
def supervisor_home(request, scope):
    """A business's supervisor goes straight to its dashboard; a platform-wide
    one picks a business."""
    if scope.business_id is not None:
        slug = Business.objects.filter(pk=scope.business_id).values_list("slug", flat=True).get()
        return redirect("supervisor:dashboard", slug=slug)
    return render(request, "operators/supervisor/businesses.html", {"businesses": Business.objects.order_by("name")})


@require_GET
@supervisor_required
def dashboard(request, scope, slug: str):
    business = _business(scope, slug)
    period, sla = _period_and_sla(request, business)
    figures = selectors.period_figures(business=business, period=period, sla_seconds=sla)
    live = selectors.live_figures(business=business)
    query = f"?from={period.first_day.isoformat()}&to={period.last_day.isoformat()}&sla={sla}"
    return render(
        request,
        "operators/supervisor/dashboard.html",
        {
            "business": business,
            "figures": figures,
            "live": live,
            "live_states": display.live_states(live),
            "summary": display.summary(figures),
            "sections": display.sections(figures),
            "export_url": reverse("supervisor:export", args=[business.slug]) + query,
            "page_data": {"live_url": reverse("supervisor:live", args=[business.slug]), "interval_ms": 5000},
        },
    )


@require_GET
@supervisor_required
def live(request, scope, slug: str):
    business = _business(scope, slug)
    return JsonResponse(selectors.live_figures(business=business))


@require_GET
@supervisor_required
def export(request, scope, slug: str):
    business = _business(scope, slug)
    period, sla = _period_and_sla(request, business)
    figures = selectors.period_figures(business=business, period=period, sla_seconds=sla)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"verity-{business.slug}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([_("section"), _("group"), _("figure"), _("value")])
    for row in display.csv_rows(figures):
        writer.writerow([display.csv_cell(cell) for cell in row])
    return response
