from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MinValueValidator
from django.utils import timezone

from .bounds import BoundedForm
from .models import Incident, Profile, Service, Team, TimelineEvent

# Re-exported: every app's forms choose people with these.
from .people import UserChoiceField as UserChoiceField
from .people import UserMultipleChoiceField as UserMultipleChoiceField
from .widgets import FormSelect
from .zones import ZoneSelect

User = get_user_model()


class DateTimeLocalInput(forms.DateTimeInput):
    """A native date-time picker; the value is read in the viewer's timezone."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


DATETIME_FIELDS = ["started_at", "detected_at", "mitigated_at", "resolved_at"]


class IncidentForm(BoundedForm, forms.ModelForm):
    commander = UserChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"), required=False
    )
    members = UserMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        help_text="Only these people (and admins) can see a private incident.",
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "summary",
            "severity",
            "status",
            "team",
            "services",
            "commander",
            "started_at",
            "detected_at",
            "mitigated_at",
            "resolved_at",
            "customer_facing",
            "near_miss",
            "data_loss",
            "security",
            "manual_intervention",
            "escalated",
            "requests_failed",
            "users_affected",
            "revenue_estimate",
            "regions",
            "slo_impact",
            "pattern",
            "private",
            "members",
        ]
        widgets = {
            **{name: DateTimeLocalInput() for name in DATETIME_FIELDS},
            "summary": forms.Textarea(attrs={"rows": 3}),
            "slo_impact": forms.Textarea(attrs={"rows": 2}),
            "services": forms.SelectMultiple(attrs={"size": 5}),
        }
        labels = {
            "started_at": "Started",
            "detected_at": "Detected",
            "mitigated_at": "Mitigated",
            "resolved_at": "Resolved",
            "pattern": "Pattern label",
        }

    def __init__(self, *args, may_change_privacy: bool = True, **kwargs):
        """`may_change_privacy` False shows privacy and members without letting them change
        (only the commander, the team's managers and admins change them)."""
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["services"].queryset = Service.objects.order_by("name")
        # No preselected severity: a new incident's is chosen, never left at SEV1 by default.
        self.fields["severity"].choices = [
            ("", "Choose the severity…"),
            (1, "SEV1 · P0 — customer-facing outage"),
            (2, "SEV2 · P1 — degraded service"),
            (3, "SEV3 · P2 — minor impact"),
        ]
        if self.instance.pk:
            self.fields["members"].initial = list(
                self.instance.members.values_list("pk", flat=True)
            )
        if not may_change_privacy:
            for name in ("private", "members"):
                self.fields[name].disabled = True
                self.fields[name].help_text = (
                    "Only the commander, the team's managers and admins change who may see "
                    "this incident."
                )
        for name in ("requests_failed", "users_affected", "revenue_estimate"):
            field = self.fields[name]
            field.validators = [
                v for v in field.validators if not isinstance(v, MinValueValidator)
            ] + [MinValueValidator(0, "Use a count of zero or more.")]
            field.widget.attrs["min"] = 0

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("private") and not cleaned.get("members") and not cleaned.get("commander"):
            self.add_error(
                "members", "A private incident needs at least one member or a commander."
            )
        return cleaned


class TimelineEventForm(BoundedForm, forms.ModelForm):
    class Meta:
        model = TimelineEvent
        fields = ["occurred_at", "phase", "text", "source", "source_detail"]
        widgets = {
            "occurred_at": DateTimeLocalInput(),
            "text": forms.Textarea(attrs={"rows": 2}),
            # Written in Python (incidents/widgets.py): the form is on every incident page and
            # four times in the meeting presenter.
            "phase": FormSelect,
            "source": FormSelect,
        }
        labels = {"occurred_at": "Time", "text": "What happened", "source_detail": "Source detail"}

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        # A little slack for clocks that disagree; a timeline records what already happened.
        if value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("A timeline event cannot be in the future.")
        return value


def show_conflict(form, conflict, what: str, *, replace: bool = True) -> None:
    """Refuse a save that crossed another one: say so in the form (with what the other save
    changed, under the form's labels) and keep what was typed. With `replace` the form then
    carries the version now stored, so saving again knowingly replaces the other change."""
    labels = {name: field.label for name, field in form.fields.items() if field.label}
    message = conflict.message(what, form.cleaned_data, labels=labels, replace=replace)
    form.add_error(None, message)
    if replace and "loaded_version" in form.fields:
        form.data = form.data.copy()
        form.data[form.add_prefix("loaded_version")] = conflict.current.version


class PreferencesForm(BoundedForm, forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["timezone", "notify_due_soon", "reminder_hour"]
        labels = {"timezone": "Show times in", "reminder_hour": "Reminder hour"}
        widgets = {"timezone": ZoneSelect}
