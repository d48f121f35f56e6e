from django.urls import path
from django.views.generic import RedirectView

from .views import coediting, documents, factors, meetings, related, review, timeline_paste

app_name = "postmortems"

urlpatterns = [
    path("", documents.postmortem_list, name="list"),
    path("start/<int:number>/", documents.postmortem_start, name="start"),
    path("timeline-paste/<int:number>/", timeline_paste.timeline_paste, name="timeline-paste"),
    # Export and import carry action items, so they are served by the actions app; these old
    # addresses stay for bookmarks and scripts.
    path(
        "import/<int:number>/",
        RedirectView.as_view(pattern_name="actions:postmortem-import", query_string=True),
    ),
    path(
        "<int:number>/export.md",
        RedirectView.as_view(pattern_name="actions:postmortem-export", query_string=True),
    ),
    path("<int:number>/", documents.postmortem_detail, name="detail"),
    path("<int:number>/edit/", documents.postmortem_edit, name="edit"),
    path("<int:number>/sections/<slug:section>/", documents.section_save, name="section"),
    path(
        "<int:number>/sections/<slug:section>/fresh/",
        coediting.section_fresh,
        name="section-fresh",
    ),
    path("<int:number>/presence/", coediting.presence_poll, name="presence"),
    path("<int:number>/history/", documents.postmortem_history, name="history"),
    path("<int:number>/revisions/<int:pk>/restore/", documents.revision_restore, name="restore"),
    path("<int:number>/factors/", factors.factor_add, name="factor-add"),
    path("<int:number>/factors/<int:pk>/edit/", factors.factor_edit, name="factor-edit"),
    path("<int:number>/factors/<int:pk>/delete/", factors.factor_delete, name="factor-delete"),
    path("<int:number>/authors/", review.authors_change, name="authors"),
    path("<int:number>/review/", review.review_request, name="review"),
    path("<int:number>/approve/", review.approve, name="approve"),
    path("<int:number>/request-changes/", review.request_changes, name="request-changes"),
    path("<int:number>/publish/", review.publish, name="publish"),
    path("<int:number>/reopen/", review.reopen, name="reopen"),
    path("<int:number>/comments/", review.comment_add, name="comment"),
    path("<int:number>/related/", related.related_add, name="related-add"),
    path(
        "<int:number>/related/suggestions/",
        related.related_suggestions,
        name="related-suggestions",
    ),
    path("<int:number>/related/<int:other>/remove/", related.related_remove, name="related-remove"),
    # Review meetings: schedule, present, follow, capture in the room.
    path("<int:number>/meetings/new/", meetings.meeting_schedule, name="meeting-schedule"),
    path("<int:number>/meetings/warnings/", meetings.meeting_warnings, name="meeting-warnings"),
    path("<int:number>/meetings/<int:pk>/", meetings.meeting_detail, name="meeting"),
    path(
        "<int:number>/meetings/<int:pk>/invite.ics",
        meetings.meeting_invite,
        name="meeting-invite",
    ),
    path(
        "<int:number>/meetings/<int:pk>/present/",
        meetings.meeting_present,
        name="meeting-present",
    ),
    path("<int:number>/meetings/<int:pk>/state/", meetings.meeting_state, name="meeting-state"),
    path(
        "<int:number>/meetings/<int:pk>/control/",
        meetings.meeting_control,
        name="meeting-control",
    ),
    path("<int:number>/meetings/<int:pk>/events/", meetings.meeting_event, name="meeting-event"),
    path(
        "<int:number>/meetings/<int:pk>/events/<int:event_pk>/",
        meetings.meeting_correct_event,
        name="meeting-correct-event",
    ),
    path(
        "<int:number>/meetings/<int:pk>/factors/",
        meetings.meeting_factor,
        name="meeting-factor",
    ),
    path("<int:number>/meetings/<int:pk>/notes/", meetings.meeting_note, name="meeting-note"),
    path(
        "<int:number>/meetings/<int:pk>/publish-date/",
        meetings.meeting_publish_date,
        name="meeting-publish-date",
    ),
    path(
        "<int:number>/meetings/<int:pk>/summary/",
        meetings.meeting_email_summary,
        name="meeting-summary",
    ),
]
