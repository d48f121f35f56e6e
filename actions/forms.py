from django import forms
from django.contrib.auth import get_user_model

from incidents.bounds import BoundedForm
from incidents.forms import UserChoiceField
from incidents.models import Team
from incidents.widgets import FormSelect

from . import destinations
from .models import ActionItem, WebhookEndpoint
from .quality import action_item_hints

User = get_user_model()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _active_users():
    return User.objects.filter(is_active=True).order_by("username")


class ActionItemForm(BoundedForm, forms.ModelForm):
    owner = UserChoiceField(
        queryset=_active_users(), help_text="One named person, not a team.", empty_label=None
    )
    ticket_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Ticket URL",
        help_text="Only if the key alone does not make a link.",
    )
    reason = forms.CharField(
        required=False,
        widget=forms.TextInput,
        label="Why the due date or owner changes",
        help_text="Needed when you move the due date; kept in the item's history.",
    )
    add_member = forms.BooleanField(
        required=False,
        label="Add the owner as a member of this incident",
        help_text="Only needed when they cannot see it yet (a private incident): an owner who "
        "cannot see the incident never sees the item nor its reminders.",
    )

    class Meta:
        model = ActionItem
        fields = [
            "title",
            "description",
            "owner",
            "due_on",
            "priority",
            "leverage",
            "ticket_key",
            "ticket_url",
        ]
        widgets = {
            "due_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            # Written in Python (incidents/widgets.py): on the editor and in the presenter.
            "priority": FormSelect,
            "leverage": FormSelect,
        }
        labels = {"title": "What will be delivered", "ticket_key": "Ticket", "due_on": "Due"}
        help_texts = {
            "title": "A deliverable: a PR, an alert, a runbook, a config check.",
            "ticket_key": "The key in your tracker, e.g. PAY-123 or owner/repo#45.",
        }

    def item_fields(self) -> dict:
        """The item's own fields from the cleaned data: the one list is `Meta.fields`."""
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data
        }

    # The version the editor loaded: a save from an older copy is refused (EditConflict).
    loaded_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, offer_membership: bool = False, **kwargs):
        """`offer_membership`: the person filling it may add members to the incident."""
        super().__init__(*args, **kwargs)
        self.fields["owner"].empty_label = None
        if not self.instance.pk:
            del self.fields["reason"]
            del self.fields["loaded_version"]
        else:
            self.fields["loaded_version"].initial = self.instance.version
        if not offer_membership:
            del self.fields["add_member"]
        self.fields["leverage"].help_text = (
            "Prevention stops the class of incident; detection catches it sooner; "
            "mitigation limits the impact."
        )

    def hint_data(self) -> dict:
        """What the quality hints look at: the typed values, or the saved ones."""
        data = getattr(self, "cleaned_data", None) or {}
        item = self.instance
        ticket = data.get("ticket_key", item.ticket_key) or data.get("ticket_url", item.ticket_url)
        return {
            "title": data.get("title", item.title or ""),
            "description": data.get("description", item.description or ""),
            "owner": data.get("owner", item.owner if item.owner_id else None),
            "due_on": data.get("due_on", item.due_on),
            "ticket_key": ticket or "",
            "team_names": Team.objects.values_list("name", flat=True),
        }


class StatusForm(BoundedForm, forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Reason",
        help_text="Needed for blocked and won't do: they are decisions, recorded with why.",
    )


class DueDateForm(BoundedForm, forms.Form):
    due_on = forms.DateField(label="New due date", widget=DateInput())
    reason = forms.CharField(
        max_length=2000,
        label="Why it moves",
        error_messages={"required": "Say why the due date moves: the history keeps it."},
    )


class BulkForm(BoundedForm, forms.Form):
    ACTIONS = [
        ("status", "Change status to"),
        ("reassign", "Reassign to"),
        ("due", "Move due date to"),
    ]

    action = forms.ChoiceField(choices=ACTIONS, label="Bulk action")
    items = forms.ModelMultipleChoiceField(
        queryset=ActionItem.objects.none(),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": "Select at least one item."},
    )
    status = forms.ChoiceField(
        choices=[("", "—"), *ActionItem.Status.choices], required=False, label="New status"
    )
    owner = UserChoiceField(queryset=_active_users(), required=False, label="New owner")
    due_on = forms.DateField(required=False, label="New due date", widget=DateInput())
    reason = forms.CharField(
        max_length=2000,
        error_messages={"required": "Give a reason: it is recorded on every item."},
    )

    def __init__(self, *args, queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if queryset is not None:
            self.fields["items"].queryset = queryset

    def clean(self):
        data = super().clean()
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        if data.get("action") == "reassign" and not data.get("owner"):
            self.add_error("owner", "Choose who takes the items over.")
        if data.get("action") == "due" and not data.get("due_on"):
            self.add_error("due_on", "Choose the new due date.")
        return data


class WebhookForm(BoundedForm, forms.ModelForm):
    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        label="Endpoint URL",
        help_text="Receives a signed JSON POST for every action item change.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["team", "url", "description", "active"]

    def __init__(self, *args, teams=None, allow_org=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams if teams is not None else Team.objects.none()
        self.fields["team"].required = not allow_org
        self.fields["team"].empty_label = "Whole organisation" if allow_org else None

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            destinations.check_url(url)
        except destinations.RefusedDestination as err:
            raise forms.ValidationError(str(err)) from err
        return url


def hints_for(form: ActionItemForm) -> list:
    """Quality hints from actions/quality.py, the one implementation shared with the editor."""
    return action_item_hints(**form.hint_data())
