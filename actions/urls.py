from django.urls import path

from . import calendar_views, digest_views, postmortem_views, views, webhook_views
from .dashboard import views as dashboard_views

app_name = "actions"

urlpatterns = [
    path("", views.action_list, name="list"),
    path("mine/", views.my_actions, name="mine"),
    path("team/", views.team_actions, name="team"),
    path("bulk/", views.bulk_change, name="bulk"),
    path("new/<int:number>/", views.action_create, name="create"),
    path("<int:pk>/", views.action_detail, name="detail"),
    path("<int:pk>/edit/", views.action_edit, name="edit"),
    path("<int:pk>/status/", views.action_status, name="status"),
    path("<int:pk>/due/", views.action_due, name="due"),
    path("<int:pk>/done/", views.action_done, name="done"),
    path("hints/", views.item_hints, name="hints"),
    path("digests/", digest_views.digest_list, name="digests"),
    path("digests/<int:pk>/", digest_views.digest_detail, name="digest"),
    path("digests/preview/", digest_views.digest_preview, name="digest-preview"),
    path("sent/", digest_views.dispatch_list, name="dispatches"),
    path("calendar/", calendar_views.calendar_settings, name="calendar"),
    path("calendar/<str:token>.ics", calendar_views.calendar_feed, name="calendar-feed"),
]

# Action items on postmortem pages (editor panel, meeting capture) and Markdown export/import.
urlpatterns += [
    path(
        "postmortems/<int:number>/items/",
        postmortem_views.item_add,
        name="postmortem-item-add",
    ),
    path(
        "postmortems/<int:number>/items/<int:pk>/edit/",
        postmortem_views.item_edit,
        name="postmortem-item-edit",
    ),
    path(
        "postmortems/<int:number>/meetings/<int:pk>/items/",
        postmortem_views.meeting_item,
        name="meeting-item",
    ),
    path(
        "postmortems/<int:number>/export.md",
        postmortem_views.markdown_export,
        name="postmortem-export",
    ),
    path(
        "postmortems/<int:number>/import/",
        postmortem_views.markdown_import,
        name="postmortem-import",
    ),
]

urlpatterns += [
    path("webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/change/", webhook_views.webhook_change, name="webhook-change"),
]

# The manager dashboard (actions/dashboard/): the page, each figure as CSV, the rows behind it.
urlpatterns += [
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/<slug:key>.csv", dashboard_views.dashboard_csv, name="dashboard-csv"),
    path("dashboard/figure/<slug:key>/", dashboard_views.dashboard_figure, name="dashboard-figure"),
    path("dashboard/rows/<slug:kind>/", dashboard_views.dashboard_rows, name="dashboard-rows"),
]
