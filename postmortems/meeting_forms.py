from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.bounds import BoundedForm
from incidents.forms import DateTimeLocalInput, UserChoiceField, UserMultipleChoiceField
from incidents.widgets import FormSelect

from .models import Postmortem

User = get_user_model()


def _active_users():
    return User.objects.filter(is_active=True).order_by("username")


class MeetingForm(BoundedForm, forms.Form):
    scheduled_at = forms.DateTimeField(
        label="When",
        widget=DateTimeLocalInput(),
        help_text="In your timezone. The review takes 60 minutes.",
    )
    facilitator = UserChoiceField(
        queryset=_active_users(),
        empty_label="Choose a facilitator",
        help_text="Runs the meeting and drives the screen; ideally not the incident commander.",
    )
    attendees = UserMultipleChoiceField(
        queryset=_active_users(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Each gets an email with a calendar invite. The facilitator is invited too.",
        error_messages={"required": "Invite at least one attendee."},
    )
    location = forms.CharField(
        label="Where", required=False, max_length=300, help_text="A room or a video-call link."
    )
    confirm = forms.BooleanField(
        required=False, label="Schedule it anyway, despite the warnings above"
    )

    def __init__(self, *args, zone_name: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "scheduled_at"
        ].help_text = f"In your timezone ({zone_name}). The review takes 60 minutes."


class NoteForm(BoundedForm, forms.Form):
    KINDS = [("decision", "Decision"), ("note", "Note")]

    kind = forms.ChoiceField(
        label="Record as", choices=KINDS, initial="decision", widget=FormSelect
    )
    text = forms.CharField(
        label="What was decided or said",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write the decision or note first."},
    )
    section = forms.ChoiceField(
        label="Also add a note to the section",
        required=False,
        choices=[("", "No section: meeting record only"), *Postmortem.SECTIONS],
        widget=FormSelect,
        help_text="Appended as a new revision, kept in the section's history.",
    )


class PublishDateForm(BoundedForm, forms.Form):
    publish_by = forms.DateField(
        label="Publish by",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Choose the publication date."},
    )

    def clean_publish_by(self):
        value = self.cleaned_data["publish_by"]
        if value < timezone.localdate():
            raise forms.ValidationError("Choose a date from today on.")
        return value
