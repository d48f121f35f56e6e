"""When a postmortem is owed, in one function (docs/domain.md, "When a postmortem is owed")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .models import Requirement, Severity

SEV1_MINUTES = 15
SEV2_MINUTES = 30
PATTERN_WINDOW = timedelta(days=90)
PATTERN_REPEATS = 3  # the third Sev3 of the same pattern needs a full postmortem

_RANK = {Requirement.BRIEF: 0, Requirement.RECOMMENDED: 1, Requirement.REQUIRED: 2}


@dataclass
class Decision:
    level: str = Requirement.BRIEF
    reasons: list[str] = field(default_factory=list)

    def raise_to(self, level: str, reason: str) -> None:
        """Keep the strictest level; the reasons shown are those for that level only."""
        if _RANK[level] > _RANK[self.level]:
            self.level, self.reasons = level, [reason]
        elif _RANK[level] == _RANK[self.level]:
            self.reasons.append(reason)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def decide_postmortem(incident, *, now: datetime, earlier_sev3_same_pattern: int) -> Decision:
    """What postmortem an incident owes, and why.

    `earlier_sev3_same_pattern` counts Sev3 incidents with the same pattern label that
    started in the 90 days before this one; the caller looks it up.
    """
    decision = Decision(reasons=[])
    end = incident.resolved_at or now
    minutes = (end - incident.started_at).total_seconds() / 60
    ongoing = "" if incident.resolved_at else " so far"

    if incident.severity == Severity.SEV1:
        if minutes > SEV1_MINUTES:
            decision.raise_to(
                Requirement.REQUIRED, f"SEV1 lasting {minutes:.0f} min{ongoing} (over 15 min)"
            )
        else:
            decision.raise_to(Requirement.RECOMMENDED, "SEV1 resolved within 15 min")
    elif incident.severity == Severity.SEV2:
        if minutes > SEV2_MINUTES:
            decision.raise_to(
                Requirement.REQUIRED, f"SEV2 lasting {minutes:.0f} min{ongoing} (over 30 min)"
            )
        else:
            decision.raise_to(Requirement.BRIEF, "SEV2 resolved within 30 min")
    else:
        decision.raise_to(Requirement.BRIEF, "SEV3 with minor impact")
        if incident.pattern and earlier_sev3_same_pattern >= PATTERN_REPEATS - 1:
            decision.raise_to(
                Requirement.REQUIRED,
                f"SEV3 pattern '{incident.pattern}' seen {earlier_sev3_same_pattern + 1} times "
                "in 90 days",
            )

    flags = [
        ("data_loss", "data loss"),
        ("security", "security incident"),
        ("manual_intervention", "needed manual intervention"),
        ("escalated", "on-call escalated"),
    ]
    for attr, label in flags:
        if getattr(incident, attr):
            decision.raise_to(Requirement.REQUIRED, label)
    if incident.near_miss:
        decision.raise_to(Requirement.RECOMMENDED, "near-miss with high potential")
    return decision
