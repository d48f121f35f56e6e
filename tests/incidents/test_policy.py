from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, Requirement
from incidents.policy import decide_postmortem
from incidents.services import create_incident

from ..factories import IncidentFactory, TeamFactory

NOW = timezone.now()


def _incident(severity=3, minutes=60, **flags):
    return Incident(
        severity=severity,
        started_at=NOW - timedelta(minutes=minutes),
        resolved_at=NOW,
        **flags,
    )


def _decide(incident, earlier=0):
    return decide_postmortem(incident, now=NOW, earlier_sev3_same_pattern=earlier)


@pytest.mark.parametrize(
    ("severity", "minutes", "level"),
    [
        (1, 16, Requirement.REQUIRED),
        (1, 15, Requirement.RECOMMENDED),
        (2, 31, Requirement.REQUIRED),
        (2, 30, Requirement.BRIEF),
        (3, 600, Requirement.BRIEF),
    ],
)
def test_severity_and_duration_thresholds(severity, minutes, level):
    assert _decide(_incident(severity, minutes)).level == level


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("data_loss", "data loss"),
        ("security", "security incident"),
        ("manual_intervention", "needed manual intervention"),
        ("escalated", "on-call escalated"),
    ],
)
def test_flags_require_a_postmortem_whatever_the_severity(flag, reason):
    decision = _decide(_incident(3, 5, **{flag: True}))
    assert decision.level == Requirement.REQUIRED
    assert reason in decision.reason


def test_near_miss_is_recommended():
    decision = _decide(_incident(3, 5, near_miss=True))
    assert decision.level == Requirement.RECOMMENDED
    assert decision.reason == "near-miss with high potential"


def test_an_ongoing_incident_counts_its_time_so_far():
    incident = Incident(severity=1, started_at=NOW - timedelta(minutes=20))
    decision = _decide(incident)
    assert decision.level == Requirement.REQUIRED
    assert "so far" in decision.reason


def test_third_sev3_of_a_pattern_needs_a_full_postmortem():
    incident = _incident(3, 10, pattern="cert-expiry")
    assert _decide(incident, earlier=1).level == Requirement.BRIEF
    decision = _decide(incident, earlier=2)
    assert decision.level == Requirement.REQUIRED
    assert "'cert-expiry' seen 3 times in 90 days" in decision.reason


def test_reasons_list_only_the_deciding_level():
    decision = _decide(_incident(1, 60, data_loss=True, near_miss=True))
    assert decision.level == Requirement.REQUIRED
    assert "SEV1 lasting 60 min" in decision.reason and "data loss" in decision.reason
    assert "near-miss" not in decision.reason


@pytest.mark.django_db
def test_pattern_window_is_counted_in_the_database():
    team = TeamFactory()
    base = timezone.now() - timedelta(days=200)

    def sev3(days):
        start = base + timedelta(days=days)
        return create_incident(
            by=None,
            title="Cert expired",
            severity=3,
            team=team,
            pattern="cert-expiry",
            status="resolved",
            started_at=start,
            resolved_at=start + timedelta(minutes=10),
        )

    first, second = sev3(0), sev3(30)
    outside = sev3(150)  # the first is outside its 90-day window
    third = sev3(60)  # added late: the third within 90 days of the first two
    for incident in (first, second, outside, third):
        incident.refresh_from_db()
    assert first.postmortem_requirement == Requirement.BRIEF
    assert second.postmortem_requirement == Requirement.BRIEF
    assert third.postmortem_requirement == Requirement.REQUIRED
    # Entering the earlier incident made the later one the third of its window (30, 60, 150).
    assert outside.postmortem_requirement == Requirement.BRIEF


@pytest.mark.django_db
def test_incident_numbers_are_sequential_and_unique():
    team = TeamFactory()
    numbers = [
        create_incident(
            by=None, title=f"n{i}", severity=3, team=team, started_at=timezone.now()
        ).number
        for i in range(3)
    ]
    assert numbers == [1001, 1002, 1003]


@pytest.mark.django_db
def test_timestamp_order_is_enforced_by_the_database():
    from django.db import IntegrityError

    incident = IncidentFactory()
    incident.resolved_at = incident.started_at - timedelta(minutes=1)
    with pytest.raises(IntegrityError):
        incident.save()
