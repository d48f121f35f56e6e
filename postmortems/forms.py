from django import forms


class SectionForm(forms.Form):
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    base = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
