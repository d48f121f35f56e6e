from datetime import date
from types import SimpleNamespace

import pytest

from actions.models import ActionItem
from actions.quality import Hint, action_item_hints, postmortem_item_hints
from incidents.models import Team

TODAY = date(2026, 3, 2)
PERSON = SimpleNamespace(username="dana")  # any non-Team object stands for a user


def codes(**overrides) -> list[str]:
    """Hint codes for an otherwise model action item, with the given fields changed."""
    fields = {
        "title": "Add an alert on replication lag above 30s",
        "owner": PERSON,
        "due_on": date(2026, 3, 20),
        "ticket_key": "OPS-142",
        "today": TODAY,
    }
    fields.update(overrides)
    return [hint.code for hint in action_item_hints(**fields)]


def test_a_specific_owned_dated_tracked_item_has_no_hints():
    assert codes() == []


@pytest.mark.parametrize(
    "title",
    [
        "Improve monitoring",
        "Improve alerting",
        "Look into the outage",
        "Investigate connection spikes",
        "Be more careful with deploys",
        "Consider a different approach",
        "Review the deploy process",
        "Ensure this doesn't happen again",
        "Better communication during incidents",
        "Make sure on-call knows about it",
        "Remind engineers to double-check",
        "Follow up with the vendor",
    ],
)
def test_vague_titles_without_a_deliverable_get_a_hint(title):
    assert codes(title=title) == ["vague"]


@pytest.mark.parametrize(
    "title",
    [
        "Add an alert on replication lag above 30s",
        "Improve the disk alert threshold to 80%",
        "Review PR #4121 follow-ups",
        "Investigate and fix OPS-311",
        "Ensure the migration runs before the deploy",
        "Write a runbook for connection pool exhaustion",
        "Add a test for the empty config path",
        "Set a 5s timeout on ledger calls",
        "Gate config-only changes behind the canary",
        "Rotate the TLS certificate",  # no vague verb: specific enough to finish
    ],
)
def test_titles_that_name_a_deliverable_are_not_vague(title):
    assert "vague" not in codes(title=title)


def test_a_deliverable_in_the_description_is_enough():
    assert codes(title="Improve monitoring", description="Add a dashboard for pool usage") == []
    assert codes(title="Improve monitoring", description="Make it better") == ["vague"]


def test_an_item_without_an_owner_gets_a_hint():
    assert codes(owner=None) == ["no_owner"]
    assert codes(owner=None, owner_text="   ") == ["no_owner"]


def test_a_typed_person_counts_as_an_owner():
    assert codes(owner=None, owner_text="@dana") == []


@pytest.mark.parametrize("owner_text", ["platform team", "@sre-team", "Payments squad", "on-call"])
def test_a_team_named_as_owner_gets_a_hint(owner_text):
    assert codes(owner=None, owner_text=owner_text) == ["team_owner"]


def test_a_known_team_name_counts_as_a_team():
    assert codes(owner=None, owner_text="Payments", team_names=["Payments"]) == ["team_owner"]
    assert codes(owner=None, owner_text="@payments", team_names=["Payments"]) == ["team_owner"]
    assert codes(owner=None, owner_text="Payments", team_names=["Search"]) == []


def test_a_team_object_as_owner_gets_a_hint():
    assert codes(owner=Team(name="Platform", slug="platform")) == ["team_owner"]


def test_several_people_as_owner_get_a_hint():
    assert codes(owner=None, owner_text="Dana and Bob") == ["several_owners"]
    assert codes(owner=None, owner_text="@dana, @bob") == ["several_owners"]


def test_an_item_without_a_due_date_gets_a_hint():
    assert codes(due_on=None) == ["no_due_date"]


def test_a_due_date_in_the_past_gets_a_hint():
    assert codes(due_on=date(2026, 3, 1)) == ["past_due"]
    assert codes(due_on=TODAY) == []


def test_today_defaults_to_the_local_date(time_machine):
    time_machine.move_to("2026-03-02 12:00:00Z")
    assert codes(due_on=date(2026, 3, 1), today=None) == ["past_due"]
    assert codes(due_on=date(2026, 3, 3), today=None) == []


def test_an_item_without_a_ticket_gets_a_hint():
    assert codes(ticket_key="") == ["no_ticket"]
    assert codes(ticket_key="  ") == ["no_ticket"]


def test_hints_add_up_and_carry_a_message():
    hints = action_item_hints(title="Look into it", today=TODAY)
    assert [h.code for h in hints] == ["vague", "no_owner", "no_due_date", "no_ticket"]
    assert all(isinstance(h, Hint) and h.message for h in hints)


def item(leverage: str) -> ActionItem:
    return ActionItem(title="x", leverage=leverage)


def test_a_small_set_with_a_prevention_item_has_no_hints():
    items = [item("prevention"), item("detection"), item("mitigation")]
    assert postmortem_item_hints(items) == []


def test_more_than_five_items_get_a_hint():
    five = [item("prevention")] + [item("detection")] * 4
    assert postmortem_item_hints(five) == []
    (hint,) = postmortem_item_hints([*five, item("mitigation")])
    assert hint.code == "too_many"
    assert "6 action items" in hint.message


def test_a_set_without_prevention_gets_a_hint():
    items = [item("detection"), item("mitigation")]
    assert [h.code for h in postmortem_item_hints(items)] == ["no_prevention"]


def test_an_empty_set_has_no_prevention_item():
    assert [h.code for h in postmortem_item_hints([])] == ["no_prevention"]


def test_item_hints_accept_dicts_from_the_editor():
    assert postmortem_item_hints([{"leverage": "prevention"}]) == []
    assert [h.code for h in postmortem_item_hints([{"leverage": ""}])] == ["no_prevention"]


def test_item_hints_accept_a_queryset_of_rows(db):
    from tests.factories import ActionItemFactory

    prevention = ActionItemFactory(leverage=ActionItem.Leverage.PREVENTION)
    ActionItemFactory(postmortem=prevention.postmortem, leverage=ActionItem.Leverage.DETECTION)
    assert postmortem_item_hints(prevention.postmortem.action_items.all()) == []
