from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET

from incidents import activity, signin, sso
from incidents import views as incident_views
from outbox import views as outbox_views


@login_not_required
@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links; point them at the real icon
    (resolved per request, so the hashed production name is used)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("", incident_views.home, name="home"),
    path("login/", signin.SignInView.as_view(), name="login"),
    # Single sign-on (404 unless OIDC_CLIENT_ID is set). mozilla-django-oidc finds the callback
    # by these names, so they stay outside any namespace.
    path("oidc/authenticate/", sso.start_sign_on, name="oidc_authentication_init"),
    path("oidc/callback/", sso.finish_sign_on, name="oidc_authentication_callback"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("incidents/", include("incidents.urls")),
    path("postmortems/", include("postmortems.urls")),
    path("actions/", include("actions.urls")),
    path("audit/", activity.audit_log, name="audit-log"),
    path("admin/", admin.site.urls),
    path("healthz", outbox_views.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
]

handler500 = "config.errors.server_error"
# A request too large to read, or unreadable, gets a page that says what happened and how to
# get the typed text back, instead of a bare "Bad Request".
handler400 = "incidents.views.bad_request"
