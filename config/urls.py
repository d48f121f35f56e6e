from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from incidents import signin
from incidents import views as incident_views

urlpatterns = [
    path("", incident_views.home, name="home"),
    path("login/", signin.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("incidents/", include("incidents.urls")),
    path("postmortems/", include("postmortems.urls")),
    path("actions/", include("actions.urls")),
    path("admin/", admin.site.urls),
    path("healthz", incident_views.healthz, name="healthz"),
]
