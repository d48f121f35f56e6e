"""The action item lists' rows are written in Python (actions/list_rows.py): they must say what
the row template said, for every kind of row and viewer, and after a refused status change."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from actions.forms import StatusForm
from actions.list_rows import item_row, item_rows
from actions.models import ActionItem
from actions.views import _decorate

from ..factories import ActionItemFactory, UserFactory

pytestmark = pytest.mark.django_db

# The row partial as actionitem_list.html wrote it before the rows moved to Python.
TEMPLATE_ROW = """{% for item in items %}
        <tr id="item-{{ item.pk }}" class="{% if item.is_overdue %}is-overdue{% endif %}">
          {% if can_bulk %}<td>{% if item.bulk_changeable %}<input type="checkbox" name="items" value="{{ item.pk }}" form="bulk" aria-label="Select {{ item.title }}"{% if item.pk|stringformat:"s" in ticked %} checked{% endif %}>{% endif %}</td>{% endif %}
          <td><a href="{{ item.url }}">{{ item.title }}</a>
            {% if item.reason %}<div class="decision small"><span class="muted">Why:</span> {{ item.reason|truncatechars:140 }}</div>{% endif %}</td>
          <td>{{ item.owner.get_full_name|default:item.owner.username }}</td>
          <td class="mono nowrap">{{ item.due_on|date:"Y-m-d" }}{% if item.is_overdue %} <span class="pill pill-overdue">Overdue</span>{% endif %}</td>
          <td class="mono">{{ item.priority_code }}</td>
          <td>{{ item.get_leverage_display }}</td>
          <td class="status-cell">
            {% if item.changeable %}
            <form class="status-form" method="post" action="{{ item.status_url }}"
                  hx-post="{{ item.status_url }}" hx-target="#item-{{ item.pk }}" hx-swap="outerHTML"
                  hx-trigger="change from:find select, submit" hx-indicator="#progress">
              <input type="hidden" name="csrfmiddlewaretoken" value="{{ csrf_token }}"><input type="hidden" name="context" value="row">
              <label class="visually-hidden" for="status-{{ item.pk }}">Status of {{ item.title }}</label>
              <select id="status-{{ item.pk }}" name="status">
                {% for value, label in statuses %}<option value="{{ value }}"{% if status_form %}{% if status_form.data.status == value %} selected{% endif %}{% elif item.status == value %} selected{% endif %}>{{ label }}</option>{% endfor %}
              </select>
              {% if status_form.errors %}
              <label class="visually-hidden" for="reason-{{ item.pk }}">Reason</label>
              <input id="reason-{{ item.pk }}" name="reason" value="{{ status_form.data.reason|default:'' }}" placeholder="Why? (recorded)" aria-invalid="true" autofocus>
              <button class="btn small" type="submit">Save</button>
              {% for errors in status_form.errors.values %}{% for e in errors %}<p class="error" role="alert">{{ e }}</p>{% endfor %}{% endfor %}
              {% endif %}
              <noscript><button class="btn small" type="submit">Save</button></noscript>
            </form>
            {% else %}{% status_pill item.status item.get_status_display %}{% endif %}
          </td>
          <td class="mono"><a href="{{ item.incident_url }}">{{ item.postmortem.incident.reference }}</a></td>
          <td class="mono">{% if item.link %}<a href="{{ item.link }}" rel="noopener noreferrer">{{ item.ticket_key|default:"link" }}</a>{% else %}{{ item.ticket_key|default:"—" }}{% endif %}</td>
        </tr>
{% endfor %}"""  # noqa: E501

TOKEN = "tok<en>"


def _squash(html) -> str:
    return re.sub(r"\s+", " ", str(html)).replace("> <", "><").strip()


def _template(items, **context) -> str:
    context = {"statuses": ActionItem.Status.choices, "csrf_token": TOKEN, **context}
    return Template(TEMPLATE_ROW).render(Context({"items": items, **context}))


def _items(viewer) -> list[ActionItem]:
    mine = ActionItemFactory(owner=viewer, title='Pin the "edge" <proxy> & co', overdue=True)
    team = mine.postmortem.incident.team
    ActionItemFactory(
        postmortem=mine.postmortem,
        owner=UserFactory(first_name="Dana", last_name="Ng"),
        status="blocked",
        reason="Waiting on the vendor's <fix>; " * 10,
        ticket_key="OPS-12",
        ticket_url="https://tracker.example/OPS-12?a=1&b=2",
    )
    ActionItemFactory(ticket_key="NOLINK-1")
    ActionItemFactory(owner=viewer, status="wont_do", reason="Superseded")
    team.managers.add(viewer)
    items = list(ActionItem.objects.for_list_rows().order_by("pk"))
    return items


@pytest.mark.parametrize("viewer_kind", ["manager", "outsider"])
def test_rows_written_in_python_say_what_the_template_said(viewer_kind):
    viewer = UserFactory()
    items = _items(viewer)
    if viewer_kind == "outsider":
        viewer = UserFactory()
    _decorate(items, viewer, [])
    can_bulk = viewer_kind == "manager"
    ticked = {str(items[1].pk)}
    expected = _template(items, can_bulk=can_bulk, ticked=ticked)
    written = item_rows(items, csrf_token=TOKEN, can_bulk=can_bulk, ticked=ticked)
    assert _squash(written) == _squash(expected)
    assert ("status-form" in written) == (viewer_kind == "manager")
    assert "&lt;proxy&gt;" in written and "Overdue</span>" in written
    assert (" checked>" in written) == can_bulk  # the ticked row of a refused bulk change


def test_a_refused_status_change_row_says_what_the_template_said():
    viewer = UserFactory()
    item = _items(viewer)[0]
    _decorate([item], viewer, [])
    form = StatusForm({"status": "blocked", "reason": 'no "reason" <given>'})
    form.is_valid()
    form.add_error(None, "Say why the item is <blocked>.")
    expected = _template([item], can_bulk=False, ticked=set(), status_form=form)
    written = item_row(item, csrf_token=TOKEN, can_bulk=False, status_form=form)
    assert _squash(written) == _squash(expected)
    assert '<option value="blocked" selected>' in written
    assert "Say why the item is &lt;blocked&gt;." in written


def test_a_status_change_in_a_row_answers_with_the_row(client, user):
    item = ActionItemFactory(owner=user)
    client.force_login(user)
    url = reverse("actions:status", args=[item.pk])
    response = client.post(url, {"context": "row", "status": "blocked"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 422
    assert body.lstrip().startswith(f'<tr id="item-{item.pk}"')
    assert 'aria-invalid="true"' in body and 'role="alert"' in body
    response = client.post(url, {"context": "row", "status": "in_progress"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert '<option value="in_progress" selected>' in response.content.decode()
