from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from incidents import views as incident_views

urlpatterns = [
    path("", incident_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("incidents/", include("incidents.urls")),
    path("postmortems/", include("postmortems.urls")),
    path("actions/", include("actions.urls")),
    path("admin/", admin.site.urls),
    path("healthz", incident_views.healthz, name="healthz"),
]

# A request too large to read, or unreadable, gets a page that says what happened and how to
# get the typed text back, instead of a bare "Bad Request".
handler400 = "incidents.views.bad_request"
