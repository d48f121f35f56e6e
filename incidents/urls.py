from django.urls import path

from . import activity, people, views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_create, name="create"),
    path("preferences/", views.preferences, name="preferences"),
    path("people/", people.people_suggestions, name="people"),
    path("<int:number>/", views.incident_detail, name="detail"),
    path("<int:number>/edit/", views.incident_edit, name="edit"),
    path("<int:number>/activity/", activity.incident_activity, name="activity"),
    path("<int:number>/timeline/", views.timeline_add, name="timeline-add"),
    path("<int:number>/timeline/<int:pk>/edit/", views.timeline_edit, name="timeline-edit"),
    path("<int:number>/timeline/<int:pk>/delete/", views.timeline_delete, name="timeline-delete"),
]
