from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from incidents import signin, sso
from incidents import views as incident_views

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
    path("admin/", admin.site.urls),
    path("healthz", incident_views.healthz, name="healthz"),
]
