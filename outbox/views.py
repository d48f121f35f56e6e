from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers and compose health checks: 200 when healthy, 503 when not (JSON)."""
    healthy, details = health.report()
    return JsonResponse(details, status=200 if healthy else 503)
