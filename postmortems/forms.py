from django import forms

from .checks import parse_whys, whys_outline
from .models import ContributingFactor


class SectionForm(forms.Form):
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    base = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class FactorForm(forms.ModelForm):
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
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"description": "Factor"}
        help_texts = {"description": "A condition that was necessary for the incident."}
        error_messages = {"description": {"required": "Describe the factor."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.fields["whys_text"].initial = whys_outline(self.instance.whys)

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError("Describe the factor.")
        return description

    def clean(self):
        cleaned = super().clean()
        cleaned["whys"] = parse_whys(cleaned.get("whys_text", ""))
        return cleaned
