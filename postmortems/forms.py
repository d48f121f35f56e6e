from django import forms
from django.contrib.auth import get_user_model

from incidents.bounds import BoundedForm, control_character
from incidents.forms import UserChoiceField, UserMultipleChoiceField
from incidents.widgets import FormSelect

from .checks import parse_whys, whys_outline
from .models import ContributingFactor, Postmortem, ReviewComment

User = get_user_model()


class SectionForm(BoundedForm, forms.Form):
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    base = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class FactorForm(BoundedForm, forms.ModelForm):
    whys_text = forms.CharField(
        label="Why chain (optional)",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "placeholder": "- Why did it happen?\n  - because …\n    - because …\n  - "
                "another branch …",
            }
        ),
        help_text="One answer per line; indent a line to ask “why?” of the one above. Lines "
        "at the same depth are branches. End each chain at a property of the system.",
    )

    class Meta:
        model = ContributingFactor
        fields = ["category", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "category": FormSelect}
        labels = {"description": "Factor"}
        help_texts = {"description": "A condition that was necessary for the incident."}
        error_messages = {"description": {"required": "Describe the factor."}}

    loaded_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            del self.fields["loaded_version"]
        elif not self.is_bound:
            self.fields["whys_text"].initial = whys_outline(self.instance.whys)
            self.fields["loaded_version"].initial = self.instance.version

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError("Describe the factor.")
        return description

    def clean(self):
        cleaned = super().clean()
        cleaned["whys"] = parse_whys(cleaned.get("whys_text", ""))
        return cleaned


class AuthorsForm(BoundedForm, forms.Form):
    """The lead author and co-authors: on the start page and, later, in the editor."""

    author = UserChoiceField(
        label="Lead author",
        help_text="Writes and steers the postmortem; may publish once it is approved.",
        error_messages={"required": "Choose a lead author."},
    )
    co_authors = UserMultipleChoiceField(
        label="Co-authors",
        required=False,
        help_text="Write with the lead author. Authors never review their own postmortem.",
    )


class ReviewRequestForm(BoundedForm, forms.Form):
    reviewers = UserMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Two or three colleagues; each gets an email with a link.",
        error_messages={"required": "Choose at least one reviewer."},
    )


class PublishForm(BoundedForm, forms.Form):
    override_reason = forms.CharField(
        required=False,
        label="Publish anyway because…",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only a manager of the team or an admin publishes with something missing; "
        "the reason is recorded on the page.",
    )


class RequestChangesForm(BoundedForm, forms.Form):
    text = forms.CharField(
        label="What should change",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what should change, so the authors know what to do."},
    )


class ReopenForm(BoundedForm, forms.Form):
    reason = forms.CharField(
        label="Why reopen it",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded on the page and emailed to the reviewers.",
        error_messages={"required": "Say why the postmortem is reopened; the reviewers read it."},
    )
    to_status = forms.ChoiceField(
        label="Back to",
        choices=[
            (Postmortem.Status.IN_REVIEW, "In review: the reviewers approve it again"),
            (Postmortem.Status.DRAFT, "Draft: more writing first"),
        ],
        initial=Postmortem.Status.IN_REVIEW,
    )


class CommentForm(BoundedForm, forms.Form):
    section = forms.ChoiceField(choices=ReviewComment._meta.get_field("section").choices)
    text = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write a comment first."},
    )


class TimelinePasteForm(BoundedForm, forms.Form):
    text = forms.CharField(
        label="Paste the timeline",
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 12,
                "placeholder": "14:02 — alert fired: checkout 5xx above 2%\n"
                "14:05 - @alice acknowledged the page\n"
                "2026-03-26 14:20 UTC rolled back deploy 4411\n"
                "| Time | Event | Source |\n|---|---|---|\n| 14:31 | errors back to normal | "
                "dashboard |",
            }
        ),
        error_messages={"required": "Paste some timeline lines first."},
    )
    day = forms.DateField(
        label="Day for times without a date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Times that go backwards roll over to the next day.",
    )
    zone = forms.ChoiceField(label="Times are in", choices=[("UTC", "UTC")])

    def __init__(self, *args, viewer_zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("UTC", "UTC")]
        if viewer_zone != "UTC":
            choices.append((viewer_zone, f"{viewer_zone} (your timezone)"))
        self.fields["zone"].choices = choices


# A long real postmortem is 30,000 characters; three times that leaves room and keeps a
# preview, which reads the whole document on every request, to a few seconds at worst.
MAX_IMPORT_CHARS = 100_000
TOO_LONG = f"The document is longer than {MAX_IMPORT_CHARS:,} characters; import it in parts."


class MarkdownImportForm(BoundedForm, forms.Form):
    text = forms.CharField(
        label="Markdown postmortem",
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 14,
                "placeholder": "# Checkout outage\n\n"
                "**Severity:** SEV2\n**Date:** 2026-03-26\n\n## Summary\n…",
            }
        ),
    )
    file = forms.FileField(label="…or upload a .md file", required=False)
    owner_fallback = UserChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        label="Owner for items whose owner matches nobody",
    )
    default_due = forms.ChoiceField(
        label="Due date for items without one",
        required=False,
        choices=[
            ("", "Leave them out (refuse)"),
            ("priority", "From priority (P1 +14 days…)"),
            ("+14", "Two weeks from today"),
        ],
    )
    force = forms.BooleanField(
        required=False, label="Write over the sections this postmortem already has"
    )
    # Asked, never assumed: a document without a date must not put its times on today.
    incident_date = forms.DateField(
        required=False,
        label="Incident date, if the document gives none",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The day the document's times fall on. Used only when the document does "
        "not give a date itself.",
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            if upload.size > MAX_IMPORT_CHARS * 4:  # four bytes per character at most
                raise forms.ValidationError(TOO_LONG)
            try:
                cleaned["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
            control = control_character(cleaned["text"], multiline=True)
            if control:
                raise forms.ValidationError(
                    f"The file holds a control character ({control}); remove it and upload "
                    "the file again."
                )
        if len(cleaned.get("text") or "") > MAX_IMPORT_CHARS:
            raise forms.ValidationError(TOO_LONG)
        if not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("Paste a Markdown postmortem or choose a file.")
        return cleaned
