from django.urls import path

from . import meeting_views, views

app_name = "postmortems"

urlpatterns = [
    path("", views.postmortem_list, name="list"),
    path("start/<int:number>/", views.postmortem_start, name="start"),
    path("timeline-paste/<int:number>/", views.timeline_paste, name="timeline-paste"),
    path("import/<int:number>/", views.markdown_import, name="import"),
    path("<int:number>/export.md", views.markdown_export, name="export"),
    path("<int:number>/", views.postmortem_detail, name="detail"),
    path("<int:number>/edit/", views.postmortem_edit, name="edit"),
    path("<int:number>/sections/<slug:section>/", views.section_save, name="section"),
    path("<int:number>/history/", views.postmortem_history, name="history"),
    path("<int:number>/revisions/<int:pk>/restore/", views.revision_restore, name="restore"),
    path("<int:number>/factors/", views.factor_add, name="factor-add"),
    path("<int:number>/factors/<int:pk>/edit/", views.factor_edit, name="factor-edit"),
    path("<int:number>/factors/<int:pk>/delete/", views.factor_delete, name="factor-delete"),
    path("<int:number>/review/", views.review_request, name="review"),
    path("<int:number>/approve/", views.approve, name="approve"),
    path("<int:number>/publish/", views.publish, name="publish"),
    path("<int:number>/comments/", views.comment_add, name="comment"),
    path("<int:number>/related/", views.related_add, name="related-add"),
    path("<int:number>/related/<int:other>/remove/", views.related_remove, name="related-remove"),
    path("<int:number>/items/", views.item_add, name="item-add"),
    path("<int:number>/items/<int:pk>/edit/", views.item_edit, name="item-edit"),
    # Review meetings: schedule, present, follow, capture in the room.
    path("<int:number>/meetings/new/", meeting_views.meeting_schedule, name="meeting-schedule"),
    path(
        "<int:number>/meetings/warnings/", meeting_views.meeting_warnings, name="meeting-warnings"
    ),
    path("<int:number>/meetings/<int:pk>/", meeting_views.meeting_detail, name="meeting"),
    path(
        "<int:number>/meetings/<int:pk>/invite.ics",
        meeting_views.meeting_invite,
        name="meeting-invite",
    ),
    path(
        "<int:number>/meetings/<int:pk>/present/",
        meeting_views.meeting_present,
        name="meeting-present",
    ),
    path(
        "<int:number>/meetings/<int:pk>/state/", meeting_views.meeting_state, name="meeting-state"
    ),
    path(
        "<int:number>/meetings/<int:pk>/control/",
        meeting_views.meeting_control,
        name="meeting-control",
    ),
    path(
        "<int:number>/meetings/<int:pk>/events/", meeting_views.meeting_event, name="meeting-event"
    ),
    path(
        "<int:number>/meetings/<int:pk>/events/<int:event_pk>/",
        meeting_views.meeting_correct_event,
        name="meeting-correct-event",
    ),
    path(
        "<int:number>/meetings/<int:pk>/factors/",
        meeting_views.meeting_factor,
        name="meeting-factor",
    ),
    path("<int:number>/meetings/<int:pk>/items/", meeting_views.meeting_item, name="meeting-item"),
    path("<int:number>/meetings/<int:pk>/notes/", meeting_views.meeting_note, name="meeting-note"),
    path(
        "<int:number>/meetings/<int:pk>/publish-date/",
        meeting_views.meeting_publish_date,
        name="meeting-publish-date",
    ),
    path(
        "<int:number>/meetings/<int:pk>/summary/",
        meeting_views.meeting_email_summary,
        name="meeting-summary",
    ),
]
