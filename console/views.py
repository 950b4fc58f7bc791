from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.services import role_of
from console import health


@login_not_required
@never_cache
@require_GET
def healthz(request):
    report = health.check_all()
    return JsonResponse(report, status=200 if health.is_healthy(report) else 503)


def overview(request):
    report = health.check_all()
    return render(
        request,
        "console/overview.html",
        {"health": sorted(report.items()), "healthy": health.is_healthy(report), "role": role_of(request.user)},
    )
