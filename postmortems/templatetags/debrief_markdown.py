from django import template

from postmortems.markdown import render_markdown

register = template.Library()


@register.filter(is_safe=True)
def markdown(value):
    """`{{ postmortem.summary|markdown }}`: sanitised HTML from user Markdown."""
    return render_markdown("" if value is None else str(value))
