"""What each dashboard figure counts, in words: shown under the figure, and the contract its
code keeps."""

DEFINITIONS = {
    "completion": (
        "Of the action items due in the period up to yesterday (an item due today still has "
        "the day), the share marked done on or before its due date (UTC day). Items marked "
        "won't do are left out: dropping an item is a recorded decision, not a miss. An item "
        "reopened since counts as not done; one done again counts by its latest completion. "
        "The due date is the item's current one, so a moved date moves the item (see "
        "slippage). Healthy at 80% or more, theatre below 50%. The same definition as the "
        "monthly digest; private incidents count only for people who can see them."
    ),
    "overdue": (
        "Open, in-progress and blocked items whose due date is before today (in your "
        "timezone), now, whatever the period: the same rule as the action item list's "
        "“Overdue only” filter, which every count here links to."
    ),
    "owed": (
        "Incidents whose policy requires a full postmortem, resolved more than 7 days ago, "
        "with no published postmortem: the monthly digest's definition, as of today (UTC)."
    ),
    "cycle": (
        "For the postmortems published in the period: the time from the incident's "
        "resolution to publication. Median and 90th percentile use linear interpolation "
        "between the nearest values (PostgreSQL's percentile_cont; the same formula in Python "
        "on SQLite). “Within 7 days” is the practice's target for publishing."
    ),
    "completion-month": (
        "The completion rate by due date (see the headline figure) for each calendar month, "
        "by the month the items were due; the first and last months only count the days "
        "inside the period."
    ),
    "completion-team": (
        "The completion rate by due date per team (the team that owns the incident the item "
        "came from), compared with the period of the same length just before. Teams with "
        "items due in either period are listed."
    ),
    "overdue-team": (
        "Open items per team now, and how many of them are overdue (due before today in "
        "your timezone). Counts link to the action item list with the same filters."
    ),
    "owners": (
        "Who carries the follow-ups: open (open, in progress, blocked) items per owner now, "
        "how many are overdue, and the oldest overdue due date."
    ),
    "priority-leverage": (
        "Action items created in the period by priority (P0 today … P3 backlog) and leverage "
        "(prevention stops the class of incident, detection catches it sooner, mitigation "
        "limits impact), with where they stand now."
    ),
    "no-prevention": (
        "Postmortems published in the period with no prevention action item (a won't-do one "
        "does not count). The practice asks whether such a review found the real factors."
    ),
    "cycle-month": (
        "Postmortem cycle time (resolution → publication) per month of publication: median, "
        "90th percentile and the share published within 7 days."
    ),
    "owed-list": (
        "The postmortems owed now (required by the policy, incident resolved more than 7 "
        "days ago, not published), oldest resolution first."
    ),
    "severity-month": (
        "Incidents that started in the period, by month of their start (UTC) and severity."
    ),
    "response-month": (
        "Median time from an incident's start to its detection, mitigation and resolution, "
        "for the incidents that started each month. Each time is the one recorded on the "
        "incident, or else the first timeline event of that phase (detection, mitigation, "
        "resolution) at or after the start; incidents without one are left out of that "
        "median."
    ),
    "recurrence-month": (
        "Incidents started in the period that repeat one from the 12 months before (that "
        "you can see): the same pattern label, or a shared service and a shared "
        "contributing-factor category. “After a fix”: an earlier incident it repeats had a "
        "prevention action item marked done before this one started (its completion time, "
        "or a recorded move to done), so the fix did not hold."
    ),
    "slippage-team": (
        "Due-date changes recorded in the period per team: how many, how many items they "
        "moved, and the net days slipped (new date minus old, summed; moving a date earlier "
        "counts as negative). “Due items moved” is, of the items due in the period (as for "
        "completion), how many had their due date changed at any time."
    ),
}
