"""A realistic demo organisation for `manage.py seed_demo`.

Six teams, ~20 people, ~60 incidents over the last six months with timelines, postmortems in
every status, contributing factors with "five whys" chains and action items in every state.
Randomness is seeded, so two runs build the same organisation; dates are relative to now, so
overdue items stay overdue whenever the demo is seeded.

Incidents go through `services.create_incident`, so numbers and the postmortem policy (including
"the third Sev3 of a pattern in 90 days") come out exactly as they would in real use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from actions.models import ActionItem
from incidents.models import Incident, Profile, Requirement, Service, Team, TimelineEvent
from incidents.services import create_incident
from outbox.models import Dispatch
from postmortems.meetings import schedule_meeting
from postmortems.models import ContributingFactor, Postmortem

User = get_user_model()

SEED = 1042  # fixed: the same demo every time
DEMO_PASSWORD = "demo-debrief"
ADMIN_PASSWORD = "admin-debrief"
INCIDENT_COUNT = 60
HISTORY_DAYS = 180
TRACKER_URL = "https://tracker.example.com/browse/{key}"


# --- People, teams, services --------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    timezone: str
    teams: tuple[str, ...]
    manages: tuple[str, ...] = ()


PEOPLE = [
    Person("priya", "Priya", "Raman", "Asia/Kolkata", ("payments",), ("payments",)),
    Person("maria", "María", "Álvarez", "Europe/Berlin", ("payments",)),
    Person("tomasz", "Tomasz", "Nowak", "Europe/Berlin", ("payments",)),
    Person("aisha", "Aisha", "Bello", "Europe/London", ("payments",)),
    Person("daniel", "Daniel", "Okafor", "Europe/London", ("checkout",)),
    Person("sofia", "Sofia", "Rossi", "Europe/Berlin", ("checkout",)),
    Person("kenji", "Kenji", "Watanabe", "America/Los_Angeles", ("checkout",)),
    Person("noah", "Noah", "Fischer", "Europe/Berlin", ("platform",), ("platform",)),
    Person("liam", "Liam", "O'Connor", "Europe/London", ("platform",)),
    Person("wei", "Wei", "Chen", "Asia/Kolkata", ("platform",)),
    Person("fatima", "Fatima", "Haddad", "Europe/Berlin", ("platform", "identity")),
    Person("elena", "Elena", "Petrova", "Europe/Berlin", ("identity",), ("identity",)),
    Person("samuel", "Samuel", "Mensah", "Europe/London", ("identity",)),
    Person("hannah", "Hannah", "Kim", "America/Los_Angeles", ("identity",)),
    Person("ingrid", "Ingrid", "Larsen", "Europe/Berlin", ("data",), ("data",)),
    Person("lucas", "Lucas", "Silva", "America/New_York", ("data",)),
    Person("arjun", "Arjun", "Mehta", "Asia/Kolkata", ("data",)),
    Person("olivia", "Olivia", "Brown", "America/New_York", ("mobile",), ("mobile",)),
    Person("grace", "Grace", "Liu", "America/Los_Angeles", ("mobile",)),
    Person("mateo", "Mateo", "García", "America/New_York", ("mobile",)),
    Person("rebecca", "Rebecca", "Stone", "America/New_York", (), ("payments", "checkout")),
    # The account a visitor logs in with: an engineer who also manages Checkout.
    Person("demo", "Jordan", "Avery", "Europe/London", ("checkout",), ("checkout",)),
]

# One person per role, to try what each may do (docs/permissions.md). The admin and the
# manager are the accounts above; the others are made for this (usernames, not in PEOPLE, so
# the seeded randomness of incidents stays the same). (username, first, last, role, teams)
ROLE_PEOPLE = [
    ("casey", "Casey", "Morgan", "incident commander of the role demo incident", ("platform",)),
    ("robin", "Robin", "Patel", "author of its postmortem", ("data",)),
    ("quinn", "Quinn", "Adler", "assigned reviewer of its postmortem", ("identity",)),
    ("vera", "Vera", "Lind", "read-only viewer (support lead)", ()),
    ("oscar", "Oscar", "Reed", "signed in, in no team (an outsider)", ()),
]


def role_accounts() -> list[tuple[str, str, str]]:
    """(username, password, role) of every demo role, for `make run` and the README."""
    return [
        ("admin", ADMIN_PASSWORD, "organisation admin"),
        ("demo", DEMO_PASSWORD, "team manager (Checkout; also a member)"),
        ("sofia", DEMO_PASSWORD, "team member (Checkout)"),
        *[(username, DEMO_PASSWORD, role) for username, _f, _l, role, _t in ROLE_PEOPLE],
    ]


# slug: (name, ticket prefix, services)
TEAMS = {
    "payments": ("Payments", "PAY", ["payments-api", "ledger", "payouts-worker"]),
    "checkout": ("Checkout", "CHK", ["checkout-web", "cart-service", "pricing"]),
    "platform": ("Platform", "PLAT", ["api-gateway", "service-discovery", "deploy-pipeline"]),
    "identity": ("Identity", "IAM", ["auth-service", "session-store"]),
    "data": ("Data", "DATA", ["events-pipeline", "warehouse-loader"]),
    "mobile": ("Mobile", "MOB", ["ios-app", "android-app", "mobile-bff"]),
}
DEMO_TEAM_SLUGS = list(TEAMS)
REGIONS = ["eu-west-1", "us-east-1", "eu-central-1", "ap-south-1"]


# --- Incident scenarios -------------------------------------------------------------------


def why(text: str, *children: dict) -> dict:
    """One node of a "five whys" chain, as ContributingFactor.whys stores it."""
    return {"text": text, "children": list(children)}


@dataclass(frozen=True)
class Factor:
    category: str
    description: str
    whys: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Action:
    title: str
    leverage: str
    priority: int


@dataclass(frozen=True)
class Scenario:
    """One kind of incident; each occurrence varies times, figures and people."""

    team: str
    services: tuple[str, ...]
    severities: tuple[int, ...]
    title: str
    summary: str
    trigger: tuple[str, str]
    alert: str
    diagnosis: tuple[tuple[str, str], ...]
    mitigation: tuple[tuple[str, str], ...]
    root_cause: str
    detection: str
    went_well: tuple[str, ...]
    went_poorly: tuple[str, ...]
    lessons: str
    factors: tuple[Factor, ...]
    actions: tuple[Action, ...]
    impact: str = "{requests} failed requests ({error_pct}% of traffic to {service})."
    occurrences: int = 3
    pattern: str = ""
    flags: dict = field(default_factory=dict)
    private: bool = False


T, P, A, TE, D = "technical", "process", "alerting", "testing", "documentation"
PREVENT, DETECT, MITIGATE = "prevention", "detection", "mitigation"

SCENARIOS = [
    Scenario(
        team="payments",
        services=("payments-api",),
        severities=(1, 1, 2),
        title="Card payments failing in {region} after acquirer config push",
        summary=(
            "Card payments in {region} failed for {minutes} minutes after a configuration push "
            "set the acquirer connection pool size to zero. About {error_pct}% of payment "
            "attempts returned an error; rolling the config back restored service."
        ),
        trigger=("deploy", "Config release {sha} rolled out to payments-api in {region}"),
        alert="PaymentsSuccessRateLow",
        diagnosis=(
            ("log", "payments-api logs show `pool exhausted: max_size=0` on every acquirer call"),
            ("chat", "@{responder} linked the error spike to config release {sha}"),
        ),
        mitigation=(
            ("deploy", "Config release {sha} rolled back in {region}"),
            ("alert", "Payment success rate back to {recovery_pct}% of baseline"),
        ),
        impact="{requests} card payments declined ({error_pct}% of attempts in {region}).",
        root_cause=(
            "Config release {sha} derived the acquirer connection pool size from an environment "
            "variable. In {region} that variable was unset, so the pool size evaluated to `0` "
            "and every acquirer call failed immediately with `pool exhausted`.\n\n"
            "The config schema accepts `0` as a pool size, and config releases roll out to a "
            "whole region at once, so the value reached every payments-api pod within two "
            "minutes."
        ),
        detection=(
            "The success-rate alert evaluates a 10-minute window, so it fired {detect_minutes} "
            "minutes after the release. Config releases are not shown on the payments "
            "dashboard, which made the link to the release a matter of comparing timestamps "
            "by hand."
        ),
        went_well=(
            "@{oncall} acknowledged the page within two minutes and opened the incident channel.",
            "The rollback itself took under five minutes once the release was identified.",
        ),
        went_poorly=(
            "Finding the release took {diagnose_minutes} minutes because nothing ties config "
            "releases to the dashboards.",
            "The status page was updated only after mitigation.",
        ),
        lessons=(
            "Config is code: it needs the same validation and staged rollout as a binary. A "
            "value that can disable a dependency must never be accepted silently."
        ),
        factors=(
            Factor(
                T,
                "The payments config schema accepts 0 as a connection pool size.",
                (
                    why(
                        "Why did every acquirer call fail? The pool size was 0.",
                        why(
                            "Why was it 0? It was derived from a variable unset in {region}.",
                            why("Why was that accepted? The schema checks types, not ranges."),
                        ),
                    ),
                ),
            ),
            Factor(
                P,
                "Config releases go to a whole region at once, with no canary stage.",
                (
                    why(
                        "Why did all pods fail together? The release had no canary stage.",
                        why(
                            "Why no canary? The config pipeline predates the deploy pipeline's "
                            "canary support and was never migrated."
                        ),
                    ),
                ),
            ),
            Factor(A, "The success-rate alert needs 10 minutes of data before it fires."),
            Factor(D, "The payment-failures runbook does not mention config releases."),
        ),
        actions=(
            Action("Reject zero and negative pool sizes in the payments config schema", PREVENT, 0),
            Action("Add a canary stage to config releases for payments-api", PREVENT, 1),
            Action("Annotate the payments dashboard with config releases", DETECT, 2),
            Action("Add a 2-minute fast-burn alert on payment success rate", DETECT, 1),
            Action("Add 'check recent config releases' to the payments runbook", MITIGATE, 2),
        ),
        flags={"customer_facing": True, "escalated": True},
        occurrences=4,
    ),
    Scenario(
        team="checkout",
        services=("cart-service", "checkout-web"),
        severities=(1, 2),
        title="Checkout returning 503s during cart table migration",
        summary=(
            "Checkout returned HTTP 503 for {minutes} minutes while a schema migration held a "
            "lock on the `cart_items` table. Roughly {users} customers could not complete a "
            "purchase; cancelling the migration released the lock."
        ),
        trigger=("deploy", "Release {version} of cart-service started migration 0147"),
        alert="CheckoutHigh5xx",
        diagnosis=(
            ("log", "cart-service requests timing out waiting on a lock on `cart_items`"),
            ("chat", "@{responder} found migration 0147 adding a column with a default"),
            ("git", "PR #{pr} (migration 0147) reviewed and merged two days earlier"),
        ),
        mitigation=(("chat", "@{commander} cancelled migration 0147; lock released"),),
        impact="{users} customers saw an error at checkout; {requests} requests failed.",
        root_cause=(
            "Migration 0147 added a column with a volatile default to `cart_items` (41 million "
            "rows). On our database version that rewrites the table under an exclusive lock, so "
            "every cart read queued behind it until the connection pool was exhausted.\n\n"
            "Migrations run inside the release, against production, at full traffic."
        ),
        detection=(
            "The 5xx alert fired after {detect_minutes} minutes. Lock waits are not graphed, so "
            "the first clue came from application logs rather than the database."
        ),
        went_well=(
            "Cancelling the migration was safe and immediate.",
            "@{responder} recognised the lock pattern from a previous review.",
        ),
        went_poorly=(
            "Nothing in review flagged that the migration rewrites a large table.",
            "Support learned about the outage from customers before the status page said so.",
        ),
        lessons=(
            "Schema changes on large tables are deploys of their own: they need a lock budget, "
            "an off-peak window and a tested way to back out."
        ),
        factors=(
            Factor(
                T,
                "Adding a column with a volatile default rewrites the table under a lock.",
                (
                    why(
                        "Why did checkout fail? Cart reads waited on a table lock.",
                        why(
                            "Why was there a lock? The migration rewrote `cart_items`.",
                            why("Why was the rewrite not caught? CI runs on an empty table."),
                        ),
                        why(
                            "Why did waits become errors? The pool has no lock timeout, so "
                            "connections piled up until none were left."
                        ),
                    ),
                ),
            ),
            Factor(TE, "CI migrations run against an empty database, so lock time is invisible."),
            Factor(P, "Migrations run inside the release at full traffic, with no lock timeout."),
            Factor(A, "Lock waits on the primary are not graphed or alerted on."),
        ),
        actions=(
            Action("Set lock_timeout=5s for migrations in cart-service", PREVENT, 0),
            Action("Add a CI check that flags table rewrites on tables over 1M rows", PREVENT, 1),
            Action("Alert on lock waits over 10s on the checkout primary", DETECT, 1),
            Action("Document the online-migration pattern in the checkout handbook", PREVENT, 2),
        ),
        flags={"customer_facing": True},
    ),
    Scenario(
        team="platform",
        services=("service-discovery", "api-gateway"),
        severities=(1, 2),
        title="DNS lookups timing out across the {region} cluster",
        summary=(
            "Service-to-service calls in {region} failed intermittently for {minutes} minutes "
            "because the cluster DNS pods were OOM-killed under a burst of lookups. Error rates "
            "peaked at {error_pct}%; raising the memory limit and adding replicas resolved it."
        ),
        trigger=("deploy", "Node pool autoscaled from 40 to 96 nodes in {region}"),
        alert="ClusterDNSLatencyHigh",
        diagnosis=(
            ("log", "Cluster DNS pods restarting: `OOMKilled`, 6 restarts in 10 minutes"),
            ("chat", "@{responder} noticed lookups spike with every new node joining"),
        ),
        mitigation=(
            ("deploy", "Cluster DNS memory limit raised from 170Mi to 512Mi"),
            ("deploy", "Cluster DNS scaled from 2 to 6 replicas"),
        ),
        impact="{requests} internal requests failed; customer-facing error rate peaked at "
        "{error_pct}%.",
        root_cause=(
            "Each new node runs a burst of lookups while its daemons start. The autoscaler added "
            "56 nodes within minutes, and the two cluster DNS replicas, sized years ago, ran out "
            "of memory and restarted in a loop. Services without DNS caching failed on every "
            "restart."
        ),
        detection=(
            "DNS latency is alerted on, and the alert fired after {detect_minutes} minutes. "
            "Restart loops of system pods are not alerted on at all."
        ),
        went_well=(
            "Scaling DNS was a one-line change the team had rehearsed.",
            "Services using the local DNS cache were unaffected, confirming that design.",
        ),
        went_poorly=(
            "The DNS replica count is static and nobody owned revisiting it.",
            "Several teams opened duplicate incident channels before one was declared.",
        ),
        lessons=(
            "Shared infrastructure sized once is sized for the past. Capacity that scales with "
            "the cluster has to scale automatically with it."
        ),
        factors=(
            Factor(
                T,
                "Cluster DNS had a fixed replica count and memory limit sized for a small cluster.",
                (
                    why(
                        "Why did lookups fail? DNS pods were OOM-killed.",
                        why(
                            "Why did they run out of memory? Load grew with the node count.",
                            why("Why did capacity not grow too? Replicas are a fixed number."),
                        ),
                    ),
                ),
            ),
            Factor(A, "Restart loops of system pods do not page anyone."),
            Factor(T, "Not every service uses the node-local DNS cache."),
        ),
        actions=(
            Action("Scale cluster DNS proportionally to node count", PREVENT, 0),
            Action("Enable the node-local DNS cache for every namespace", PREVENT, 1),
            Action("Page on restart loops of kube-system pods", DETECT, 1),
            Action("Add a DNS section to the cluster capacity review", PREVENT, 3),
        ),
        flags={"customer_facing": True},
    ),
    Scenario(
        team="identity",
        services=("auth-service", "session-store"),
        severities=(2,),
        title="Login latency above 8 s after session-store failover",
        summary=(
            "Logins took over 8 seconds at the 99th percentile for {minutes} minutes after the "
            "session store failed over to a replica with a cold cache. About {users} users gave "
            "up or retried; warming the cache brought latency back to normal."
        ),
        trigger=("alert", "session-store primary failed health checks; automatic failover"),
        alert="AuthLoginLatencyP99",
        diagnosis=(
            ("log", "auth-service spending 7 s per login reading sessions from disk"),
            ("chat", "@{responder} confirmed the new primary has a 2% cache hit rate"),
        ),
        mitigation=(
            ("deploy", "Cache warm-up job run against the new session-store primary"),
            ("alert", "Login p99 back under 600 ms"),
        ),
        impact="{users} users saw slow logins; {requests} login attempts timed out.",
        root_cause=(
            "Replicas do not receive read traffic, so their cache is empty. When the primary "
            "failed over, every session read went to disk and logins queued behind them."
        ),
        detection=(
            "The latency alert fired after {detect_minutes} minutes. The failover itself was "
            "logged but not announced anywhere a responder would look."
        ),
        went_well=("The failover itself worked exactly as designed: no data was lost.",),
        went_poorly=(
            "The failover notification went to a channel nobody watches.",
            "There was no documented way to warm the cache; it was improvised.",
        ),
        lessons=(
            "A standby that has never served traffic is not ready to serve it. Failover plans "
            "must include the caches, not only the data."
        ),
        factors=(
            Factor(
                T,
                "Replicas start with a cold cache because they never serve reads.",
                (
                    why(
                        "Why were logins slow? Session reads hit disk.",
                        why("Why? The new primary's cache was empty after failover."),
                    ),
                ),
            ),
            Factor(A, "Session-store failovers are not announced to on-call."),
            Factor(D, "There is no runbook for warming the session-store cache."),
        ),
        actions=(
            Action(
                "Send a share of session reads to replicas to keep their caches warm", PREVENT, 1
            ),
            Action("Post session-store failovers to the on-call channel", DETECT, 2),
            Action("Write a runbook for session-store cache warm-up", MITIGATE, 2),
        ),
        flags={"customer_facing": True},
    ),
    Scenario(
        team="data",
        services=("warehouse-loader", "events-pipeline"),
        severities=(2,),
        title="Warehouse loader dropped {hours} hours of order events",
        summary=(
            "The warehouse loader silently skipped order events for {hours} hours after a schema "
            "change upstream. {count} events were lost from the warehouse; finance reports for "
            "those hours were wrong until a backfill from the raw archive completed."
        ),
        trigger=("deploy", "orders-service {version} added a nullable `coupon` field to events"),
        alert="WarehouseRowCountAnomaly",
        diagnosis=(
            ("log", "warehouse-loader logging `schema mismatch, skipping batch` every minute"),
            ("chat", "@{responder} found the loader treats unknown fields as a fatal mismatch"),
        ),
        mitigation=(
            ("deploy", "warehouse-loader {version} accepts unknown nullable fields"),
            ("manual", "Backfill from the raw event archive started by @{commander}"),
        ),
        impact="{count} order events missing from the warehouse for {hours} hours; daily revenue "
        "report understated by {revenue}.",
        root_cause=(
            "The loader validates each batch against a pinned schema and skips the whole batch "
            "on any mismatch, logging at INFO. A backward-compatible field added upstream made "
            "every batch mismatch."
        ),
        detection=(
            "Nothing alerts on skipped batches. The row-count anomaly check runs hourly and "
            "needs two bad hours before it fires, so detection took {detect_minutes} minutes."
        ),
        went_well=(
            "The raw archive kept every event, so nothing was lost for good.",
            "The backfill tooling worked first time.",
        ),
        went_poorly=(
            "Skipping a batch was logged at INFO, the same level as a successful load.",
            "Finance had already sent a report based on the incomplete data.",
        ),
        lessons=(
            "A pipeline that drops data must fail loudly. Silence is the most expensive error "
            "mode a data system can have."
        ),
        factors=(
            Factor(
                T,
                "The loader skips mismatched batches instead of failing or quarantining them.",
                (
                    why(
                        "Why were events missing? Batches were skipped.",
                        why(
                            "Why skipped? The loader rejects any schema change, even a "
                            "compatible one.",
                            why("Why is that the rule? It was written before schema evolution."),
                        ),
                        why("Why did nobody notice? Skips are logged at INFO."),
                    ),
                ),
            ),
            Factor(P, "Producers can change event schemas without a compatibility check."),
            Factor(A, "Row-count anomalies are checked hourly and need two bad hours."),
            Factor(TE, "No contract test between orders-service and the warehouse loader."),
        ),
        actions=(
            Action("Quarantine mismatched batches and page on the first one", DETECT, 0),
            Action("Accept backward-compatible schema changes in the loader", PREVENT, 1),
            Action("Add a schema-registry compatibility check to producer CI", PREVENT, 1),
            Action("Run the row-count anomaly check every 10 minutes", DETECT, 2),
        ),
        flags={"data_loss": True, "manual_intervention": True},
    ),
    Scenario(
        team="mobile",
        services=("ios-app", "mobile-bff"),
        severities=(1, 2),
        title="iOS app {version} crashing on launch for some users",
        summary=(
            "iOS app {version} crashed on launch for users with a saved payment method, for "
            "{minutes} minutes after a feature flag was enabled. Crash-free sessions fell to "
            "{crash_free}%; turning the flag off stopped the crashes without a new release."
        ),
        trigger=("deploy", "Feature flag `wallet-v2` enabled for 100% of iOS users"),
        alert="iOSCrashFreeSessionsLow",
        diagnosis=(
            ("log", "Crash reports: nil unwrap in WalletViewModel when a card has no expiry"),
            ("chat", "@{responder} matched the crash start to the `wallet-v2` flag change"),
        ),
        mitigation=(("deploy", "Feature flag `wallet-v2` disabled"),),
        impact="{users} users hit a crash on launch; crash-free sessions fell to {crash_free}%.",
        root_cause=(
            "`wallet-v2` assumed every saved card has an expiry date. Cards imported from the old "
            "wallet have none, and the force-unwrap crashed the app during launch, before the "
            "flag could be re-fetched."
        ),
        detection=(
            "Crash reporting alerted after {detect_minutes} minutes; reports are batched by the "
            "SDK, which delays the signal."
        ),
        went_well=("The flag could be turned off remotely: no app-store release was needed.",),
        went_poorly=(
            "The flag went from 0% to 100% in one step.",
            "Test accounts all had cards created recently, so none lacked an expiry.",
        ),
        lessons=(
            "A flag that can crash the app at launch needs a gradual rollout and a crash guard; "
            "test data must include the oldest real data shapes."
        ),
        factors=(
            Factor(
                T,
                "The wallet code force-unwraps an optional expiry date.",
                (
                    why(
                        "Why did the app crash? A nil expiry was force-unwrapped.",
                        why("Why was it nil? Imported cards never had an expiry stored."),
                    ),
                ),
            ),
            Factor(P, "Flags can be raised from 0% to 100% in one step."),
            Factor(TE, "Test accounts only contain recently created cards."),
        ),
        actions=(
            Action("Limit flag changes to 1%, 10%, 50%, 100% steps for mobile", PREVENT, 1),
            Action("Add legacy imported cards to the iOS test fixtures", PREVENT, 2),
            Action("Lint for force-unwraps in the wallet module", PREVENT, 2),
            Action("Alert on crash-free sessions per flag cohort", DETECT, 2),
        ),
        flags={"customer_facing": True},
    ),
    Scenario(
        team="payments",
        services=("payouts-worker", "ledger"),
        severities=(2, 3),
        title="Merchant payouts delayed by {hours} hours",
        summary=(
            "The nightly payout batch finished {hours} hours late because a ledger query changed "
            "plan after a statistics refresh. {count} merchants received their payouts late; an "
            "engineer ran the batch in parallel shards by hand to catch up."
        ),
        trigger=("log", "Ledger statistics refresh completed on the primary"),
        alert="PayoutBatchBehindSchedule",
        diagnosis=(
            ("log", "Payout batch at 12% after 3 hours (usually 100% in 50 minutes)"),
            ("chat", "@{responder} found the balance query doing a sequential scan"),
        ),
        mitigation=(
            ("manual", "@{commander} ran the payout batch in 8 parallel shards"),
            ("chat", "Support notified the {count} affected merchants"),
        ),
        impact="{count} merchants paid late; {revenue} in payouts delayed by up to {hours} hours.",
        root_cause=(
            "After a statistics refresh the planner chose a sequential scan for the per-merchant "
            "balance query. The batch runs merchants one at a time, so a slower query multiplied "
            "into hours of delay."
        ),
        detection=(
            "The batch-behind alert only checks completion at the deadline, {detect_minutes} "
            "minutes after the slowdown started."
        ),
        went_well=("Sharding the batch by hand worked and is now a documented option.",),
        went_poorly=(
            "Merchants noticed before we told them.",
            "The batch had no progress metric, only a completion check.",
        ),
        lessons=(
            "A batch with a deadline needs a progress signal, not only a finish line. Plans that "
            "matter should be pinned or tested, not left to the planner's mood."
        ),
        factors=(
            Factor(
                T,
                "The balance query plan is sensitive to statistics changes.",
                (
                    why(
                        "Why was the batch late? One query became 40 times slower.",
                        why(
                            "Why? The planner switched to a sequential scan.",
                            why("Why could it? The index does not cover the query."),
                        ),
                    ),
                ),
            ),
            Factor(T, "The payout batch processes merchants sequentially."),
            Factor(A, "The batch is only checked at its deadline, not on progress."),
        ),
        actions=(
            Action("Add a covering index for the merchant balance query", PREVENT, 1),
            Action("Run payouts in parallel shards by default", MITIGATE, 2),
            Action("Alert when the payout batch falls behind its expected progress", DETECT, 1),
        ),
        flags={"manual_intervention": True},
    ),
    Scenario(
        team="platform",
        services=("api-gateway",),
        severities=(2,),
        title="API gateway rejecting legitimate traffic after rate-limit change",
        summary=(
            "The API gateway returned HTTP 429 to {error_pct}% of partner API traffic for "
            "{minutes} minutes after a rate-limit rule keyed on the wrong header. Reverting the "
            "rule restored traffic; on-call escalated to the partner team lead."
        ),
        trigger=("git", "PR #{pr} merged: per-client rate limits for the partner API"),
        alert="GatewayHigh429Rate",
        diagnosis=(
            ("log", "Gateway logs: all partner requests counted under client id `unknown`"),
            ("chat", "@{responder} found the rule reads `X-Client-Id`; partners send `X-Api-Key`"),
        ),
        mitigation=(("deploy", "Rate-limit rule from PR #{pr} reverted"),),
        impact="{requests} partner API requests rejected with 429 across {region}.",
        root_cause=(
            "The new rule keyed limits on a header partners do not send, so all partner traffic "
            "shared one bucket under `unknown` and exceeded it within seconds."
        ),
        detection="The 429-rate alert fired after {detect_minutes} minutes.",
        went_well=("The revert was a single click in the gateway console.",),
        went_poorly=(
            "The rule was tested with internal traffic only, which does send `X-Client-Id`.",
            "The escalation path to partner support was unclear.",
        ),
        lessons="Rate limits are a production change to every client at once; test them with "
        "replayed real traffic before they enforce.",
        factors=(
            Factor(
                TE,
                "Rate-limit rules are tested only with internal traffic.",
                (why("Why was the wrong key not caught? Internal clients send both headers."),),
            ),
            Factor(P, "New rate-limit rules enforce immediately instead of logging first."),
            Factor(D, "The partner escalation path is not in the on-call handbook."),
        ),
        actions=(
            Action("Add a log-only mode for new rate-limit rules", PREVENT, 1),
            Action("Replay a sample of partner traffic against rule changes in CI", PREVENT, 2),
            Action("Document partner escalation contacts in the on-call handbook", MITIGATE, 3),
        ),
        flags={"customer_facing": True, "escalated": True},
    ),
    Scenario(
        team="checkout",
        services=("pricing", "checkout-web"),
        severities=(2, 3),
        title="Stale prices shown at checkout after cache invalidation stalled",
        summary=(
            "For {minutes} minutes checkout showed prices from before a pricing update because "
            "cache invalidation messages were stuck in a full queue. {count} orders were placed "
            "at old prices; support honoured them."
        ),
        trigger=("deploy", "Pricing update for {count} products published"),
        alert="PricingCacheInvalidationLag",
        diagnosis=(
            ("log", "Invalidation queue depth at its 10,000-message limit; publishes rejected"),
            ("chat", "@{responder} found the consumer stopped after a malformed message"),
        ),
        mitigation=(
            ("chat", "@{commander} moved the malformed message to the dead-letter queue"),
            ("deploy", "Pricing cache flushed for the affected products"),
        ),
        impact="{count} orders placed at outdated prices; {revenue} difference honoured.",
        root_cause=(
            "A malformed invalidation message made the consumer crash on every retry, so the "
            "queue filled and later invalidations were rejected. The cache kept serving old "
            "prices with a 24-hour TTL."
        ),
        detection=(
            "The lag alert fired after {detect_minutes} minutes; the consumer crash loop was "
            "not alerted on."
        ),
        went_well=("Support had a ready process for honouring mispriced orders.",),
        went_poorly=("The dead-letter queue existed but the consumer did not use it.",),
        lessons="One bad message must never stop a queue. Poison messages belong in a "
        "dead-letter queue after a few attempts, automatically.",
        factors=(
            Factor(
                T,
                "The invalidation consumer retries a poison message forever.",
                (
                    why(
                        "Why were prices stale? Invalidations stopped.",
                        why("Why? The consumer crashed on one message and retried it forever."),
                    ),
                ),
            ),
            Factor(T, "The pricing cache TTL is 24 hours, so stale entries live a long time."),
            Factor(A, "Consumer crash loops are not alerted on."),
        ),
        actions=(
            Action("Dead-letter invalidation messages after 3 failed attempts", PREVENT, 0),
            Action("Lower the pricing cache TTL to 1 hour", MITIGATE, 2),
            Action("Alert on invalidation consumer restarts", DETECT, 2),
        ),
        flags={"customer_facing": True},
    ),
    Scenario(
        team="platform",
        services=("deploy-pipeline",),
        severities=(3,),
        title="Primary database disk reached 94% during log retention backlog",
        summary=(
            "The primary database volume reached 94% full because WAL archiving had stalled for "
            "{hours} hours. No customer impact; had it filled, every write in {region} would "
            "have failed. Restarting the archiver cleared the backlog."
        ),
        trigger=("log", "WAL archiver failing: object storage credentials rotated"),
        alert="DatabaseDiskUsageHigh",
        diagnosis=(
            ("log", "Archiver retrying with expired credentials every 60 s"),
            ("chat", "@{responder} found the credentials were rotated without an archiver reload"),
        ),
        mitigation=(("deploy", "Archiver reloaded with new credentials; backlog draining"),),
        impact="No customer impact. Disk headroom fell to 6% ({hours} hours from full).",
        root_cause=(
            "A scheduled credential rotation replaced the object storage key, but the WAL "
            "archiver reads credentials only at start. It kept failing with the old key while "
            "WAL accumulated on the primary's disk."
        ),
        detection=(
            "Only the disk-usage alert fired, {detect_minutes} minutes in; archiver failures "
            "are logged but not alerted on."
        ),
        went_well=("The disk alert threshold left enough headroom to act calmly.",),
        went_poorly=("The rotation job has no list of consumers to reload.",),
        lessons="Rotating a secret is a change to every reader of it. Rotation must reload its "
        "consumers or prove they pick up the new value.",
        factors=(
            Factor(T, "The WAL archiver reads credentials only at start."),
            Factor(P, "Credential rotation does not know which processes use the key."),
            Factor(A, "WAL archiving failures are not alerted on."),
        ),
        actions=(
            Action("Alert when WAL archiving fails for 10 minutes", DETECT, 0),
            Action("Make the archiver re-read credentials on each upload", PREVENT, 1),
            Action("List consumers of each rotated secret in the rotation job", PREVENT, 2),
        ),
        flags={"near_miss": True},
        occurrences=2,
    ),
    # Everyday Sev3s: a brief record usually suffices.
    Scenario(
        team="checkout",
        services=("checkout-web",),
        severities=(3,),
        title="Product search slow on checkout-web after index rebuild",
        summary=(
            "Search on checkout-web took 3-5 seconds for {minutes} minutes while the product "
            "index was rebuilt during business hours. No errors; {users} searches were slow."
        ),
        trigger=("deploy", "Scheduled product index rebuild started"),
        alert="SearchLatencyP95",
        diagnosis=(("chat", "@{responder} matched the latency to the index rebuild job"),),
        mitigation=(("deploy", "Rebuild paused; queries served from the previous index"),),
        impact="{users} slow searches; no failed requests.",
        root_cause=(
            "The rebuild job shares the search cluster with live queries and was scheduled in "
            "UTC midnight, which is business hours for customers in {region}."
        ),
        detection="The search latency alert fired after {detect_minutes} minutes.",
        went_well=("Pausing the rebuild was safe and immediate.",),
        went_poorly=("The schedule was set when all customers were in one timezone.",),
        lessons="Background jobs on shared clusters need a schedule tied to traffic, not the "
        "clock.",
        factors=(Factor(P, "The index rebuild runs at a fixed UTC time regardless of traffic."),),
        actions=(
            Action("Build the new index on a separate node pool and swap aliases", PREVENT, 2),
            Action("Schedule the rebuild at the daily traffic low", PREVENT, 3),
        ),
        occurrences=2,
    ),
    Scenario(
        team="identity",
        services=("auth-service",),
        severities=(3,),
        title="Password reset emails delayed by up to {lag} minutes",
        summary=(
            "Password reset emails arrived up to {lag} minutes late for {minutes} minutes "
            "because the email provider throttled our sending domain. {count} resets affected."
        ),
        trigger=("log", "Email provider responding `421 rate limited` for the auth domain"),
        alert="AuthEmailQueueAge",
        diagnosis=(("chat", "@{responder} found a marketing send sharing the auth domain"),),
        mitigation=(("deploy", "Auth emails switched to the dedicated transactional domain"),),
        impact="{count} password resets delayed by up to {lag} minutes.",
        root_cause=(
            "Transactional and marketing emails shared one sending domain and its quota, so a "
            "large campaign throttled password resets."
        ),
        detection="The email queue age alert fired after {detect_minutes} minutes.",
        went_well=("A dedicated domain already existed and switching was one setting.",),
        went_poorly=("The domain split had been planned and never finished.",),
        lessons="Messages a user is waiting for must never share capacity with bulk sends.",
        factors=(
            Factor(T, "Transactional and marketing email share one sending quota."),
            Factor(A, "Email queue age is alerted on only after 20 minutes."),
        ),
        actions=(
            Action("Send all auth emails from the transactional domain", PREVENT, 1),
            Action("Alert on auth email queue age over 5 minutes", DETECT, 2),
        ),
        occurrences=2,
    ),
    Scenario(
        team="mobile",
        services=("android-app",),
        severities=(3,),
        title="Android release pipeline blocked by expired signing upload key",
        summary=(
            "No Android builds could be uploaded to the store for {hours} hours because the "
            "upload key's certificate had expired. No customer impact; a hotfix waited."
        ),
        trigger=("deploy", "Android release {version} upload rejected by the store"),
        alert="MobileReleasePipelineFailed",
        diagnosis=(("log", "Store API: `upload certificate expired`"),),
        mitigation=(("manual", "@{commander} registered a new upload key with the store"),),
        impact="Android releases blocked for {hours} hours; one hotfix delayed.",
        root_cause="The upload key certificate had a two-year lifetime and no renewal reminder.",
        detection="The pipeline failure was noticed at the next release, {detect_minutes} "
        "minutes after the first failed upload.",
        went_well=("The store's key reset process was documented in the team wiki.",),
        went_poorly=("Nobody knew the certificate had an expiry date.",),
        lessons="Every credential with an expiry needs an owner and a reminder well before it.",
        factors=(
            Factor(P, "Signing credentials have no owner or renewal reminder."),
            Factor(D, "The release runbook does not list credential expiry dates."),
        ),
        actions=(
            Action(
                "Track mobile signing credentials and their expiry in the secrets inventory",
                DETECT,
                2,
            ),
            Action("Add credential expiry dates to the release runbook", MITIGATE, 3),
        ),
        occurrences=2,
    ),
    # Recurring Sev3 patterns: the third within 90 days makes the policy require a postmortem.
    Scenario(
        team="platform",
        services=("service-discovery",),
        severities=(3,),
        title="Internal TLS certificate expired on {service}",
        summary=(
            "An internal TLS certificate on {service} expired, and calls from {count} services "
            "failed their handshake for {minutes} minutes until the certificate was renewed by "
            "hand."
        ),
        trigger=("log", "Internal certificate for {service} reached its expiry time"),
        alert="InternalTLSHandshakeErrors",
        diagnosis=(("log", "Clients report `certificate has expired` for {service}"),),
        mitigation=(("manual", "@{commander} issued and deployed a new certificate by hand"),),
        impact="{requests} internal requests failed; retries hid most of it from customers.",
        root_cause=(
            "Internal certificates are issued with a 90-day lifetime and renewed by a cron job "
            "on a single host. The job had been failing silently since that host was rebuilt."
        ),
        detection="Nothing watches certificate expiry dates; handshake errors were the first "
        "signal, {detect_minutes} minutes in.",
        went_well=("Issuing a certificate by hand is well documented.",),
        went_poorly=("This is the same failure as earlier incidents with this pattern.",),
        lessons="Recurring toil is a design problem. Renewal must be automatic and its "
        "failure visible long before expiry.",
        factors=(
            Factor(
                T,
                "Renewal depends on a cron job on a single host.",
                (
                    why(
                        "Why did the certificate expire? Renewal did not run.",
                        why(
                            "Why? The cron job's host was rebuilt without it.",
                            why("Why did nobody notice? Renewal failures are not reported."),
                        ),
                    ),
                ),
            ),
            Factor(A, "No alert on certificates expiring within 14 days."),
        ),
        actions=(
            Action("Alert on internal certificates expiring within 14 days", DETECT, 0),
            Action("Move internal certificate renewal to the cluster's cert manager", PREVENT, 1),
        ),
        pattern="internal-cert-expiry",
        occurrences=4,
    ),
    Scenario(
        team="data",
        services=("events-pipeline",),
        severities=(3,),
        title="Events pipeline consumer lag over {lag} minutes",
        summary=(
            "The events pipeline fell {lag} minutes behind during a traffic peak because one "
            "partition received most of the events. Dashboards were stale; no events were lost."
        ),
        trigger=("log", "Partition 7 of `events.clicks` receiving 60% of messages"),
        alert="EventsConsumerLagHigh",
        diagnosis=(("chat", "@{responder} traced the skew to a partition key on tenant id"),),
        mitigation=(("deploy", "Consumers scaled from 6 to 12; lag recovering"),),
        impact="Analytics dashboards up to {lag} minutes stale; no data lost.",
        root_cause=(
            "Events are partitioned by tenant id, and one large tenant's campaign sent most "
            "events to a single partition, which one consumer cannot keep up with."
        ),
        detection="The lag alert fired after {detect_minutes} minutes.",
        went_well=("No data was lost; the pipeline caught up on its own once scaled.",),
        went_poorly=("Scaling consumers does not help a single hot partition for long.",),
        lessons="A partition key chosen for convenience decides the pipeline's worst case.",
        factors=(
            Factor(T, "Partitioning by tenant id concentrates large tenants on one partition."),
            Factor(P, "Large customer campaigns are not announced to the data team."),
        ),
        actions=(
            Action("Partition click events by session id instead of tenant id", PREVENT, 1),
            Action("Alert on per-partition lag, not only total lag", DETECT, 2),
        ),
        pattern="events-consumer-lag",
        occurrences=4,
    ),
    Scenario(
        team="mobile",
        services=("android-app", "mobile-bff"),
        severities=(3,),
        title="Android push notifications not delivered after token refresh errors",
        summary=(
            "About {users} Android users received no push notifications for {minutes} minutes "
            "because token refreshes to the push provider failed with a quota error."
        ),
        trigger=("log", "Push provider returning `QUOTA_EXCEEDED` for token refresh calls"),
        alert="AndroidPushDeliveryRateLow",
        diagnosis=(("chat", "@{responder} found refreshes retried without backoff"),),
        mitigation=(("deploy", "mobile-bff {version}: exponential backoff on token refresh"),),
        impact="{users} Android users missed notifications for {minutes} minutes.",
        root_cause=(
            "mobile-bff retries failed token refreshes immediately, so a brief provider hiccup "
            "turned into a retry storm that used up the daily quota."
        ),
        detection="The delivery-rate alert fired after {detect_minutes} minutes.",
        went_well=("The fix deployed through the normal pipeline in under 20 minutes.",),
        went_poorly=("The same retry pattern exists in two other provider clients.",),
        lessons="Every client of a rate-limited provider needs backoff and a retry budget.",
        factors=(
            Factor(T, "Token refresh retries have no backoff or budget."),
            Factor(TE, "No test simulates the push provider's quota errors."),
        ),
        actions=(
            Action(
                "Add a shared retry-with-backoff helper to mobile-bff provider clients", PREVENT, 1
            ),
            Action("Add a quota-error simulation to the push integration tests", PREVENT, 2),
        ),
        pattern="push-token-refresh",
        occurrences=3,
    ),
    # Security incidents are private to their responders.
    Scenario(
        team="identity",
        services=("auth-service",),
        severities=(2,),
        title="Service API key exposed in a public CI log",
        summary=(
            "An API key for auth-service's email provider was printed in a CI log that was "
            "publicly readable for {hours} hours. The key was revoked and rotated; the provider's "
            "logs show no use of it from unknown addresses."
        ),
        trigger=("git", "PR #{pr} added verbose logging to the email integration test"),
        alert="SecretScannerFinding",
        diagnosis=(
            ("log", "Secret scanner matched an API key pattern in CI job 88213"),
            ("chat", "@{responder} confirmed the CI project is publicly readable"),
        ),
        mitigation=(
            ("manual", "@{commander} revoked the key and issued a new one"),
            ("chat", "CI logs for the affected jobs deleted"),
        ),
        impact="One API key exposed for {hours} hours; no use from unknown addresses found.",
        root_cause=(
            "A debugging change logged the full request configuration, including the key, and "
            "CI masks only secrets it injects itself, not values read from files."
        ),
        detection="The secret scanner runs hourly; it found the key {detect_minutes} minutes "
        "after the job ran.",
        went_well=("Rotation took minutes thanks to the secrets manager.",),
        went_poorly=("The CI project's visibility had been public since a migration.",),
        lessons="Masking is a last line of defence. Secrets should never be readable by the "
        "code paths that log.",
        factors=(
            Factor(T, "CI masks only the secrets it injects, not ones read from files."),
            Factor(P, "CI project visibility is not reviewed after migrations."),
        ),
        actions=(
            Action("Make all CI projects private by default", PREVENT, 0),
            Action("Run the secret scanner on every CI job as it finishes", DETECT, 1),
            Action("Redact known secret patterns in the test logger", PREVENT, 2),
        ),
        flags={"security": True},
        private=True,
        occurrences=1,
    ),
    Scenario(
        team="payments",
        services=("payments-api",),
        severities=(1,),
        title="Unusual refund requests through a deprecated admin endpoint",
        summary=(
            "A deprecated admin endpoint accepted refund requests authenticated only by an "
            "internal network check. {count} suspicious refunds were attempted over {minutes} "
            "minutes; all were held by the ledger's review rule and none were paid out."
        ),
        trigger=("log", "First refund request on `/admin/v1/refunds` in 14 months"),
        alert="RefundVolumeAnomaly",
        diagnosis=(
            ("log", "Requests arriving through a misconfigured partner VPN route"),
            ("chat", "@{responder} confirmed the endpoint skips token authentication"),
        ),
        mitigation=(
            ("deploy", "`/admin/v1/refunds` disabled at the gateway"),
            ("chat", "Partner VPN route withdrawn"),
        ),
        impact="{count} fraudulent refunds attempted; none paid out.",
        root_cause=(
            "The endpoint trusted any caller on the internal network. A partner VPN route "
            "misconfigured weeks earlier made part of that network reachable from outside."
        ),
        detection="The refund anomaly alert fired after {detect_minutes} minutes.",
        went_well=("The ledger's review rule held every refund.",),
        went_poorly=("The endpoint was deprecated two years ago but never removed.",),
        lessons="Network location is not identity. Deprecated endpoints must be removed, not "
        "forgotten.",
        factors=(
            Factor(T, "The deprecated endpoint authenticates by network location only."),
            Factor(P, "Deprecated endpoints have no removal date or owner."),
            Factor(P, "VPN route changes are not reviewed by security."),
        ),
        actions=(
            Action("Remove the /admin/v1 endpoints", PREVENT, 0),
            Action("Require token authentication on all internal admin APIs", PREVENT, 1),
            Action("Add security review to partner VPN route changes", PREVENT, 2),
        ),
        flags={"security": True, "escalated": True},
        private=True,
        occurrences=1,
    ),
]

# Everyday timeline entries that make a timeline read like a real incident channel.
FILLERS = [
    ("chat", "@{oncall} acknowledged the page"),
    ("chat", "@{commander} declared SEV{severity} and took incident command"),
    ("chat", "@{responder2} joined the incident channel"),
    ("chat", "Status page updated: investigating elevated errors"),
    ("chat", "Customer support reports {tickets} tickets about the issue"),
    ("log", "Error rate at {error_pct}% on {service}"),
    ("chat", "@{responder2} checked the recent deploys; nothing else changed in the window"),
    ("chat", "@{commander} asked @{responder} to lead diagnosis and @{oncall} to handle comms"),
    ("chat", "Status page updated: a fix is being applied"),
]

BLOCKED_REASONS = [
    "Waiting for the vendor to support the new API version (their ticket {key}).",
    "Needs a maintenance window on the primary; next one is at the end of the month.",
    "Blocked on the platform upgrade that ships the required feature.",
    "Waiting for security review of the proposed design.",
]
WONT_DO_REASONS = [
    "Superseded by a later action item that removes the component entirely.",
    "Agreed in review: the cost outweighs the risk after the other fixes shipped.",
    "The service is being retired next quarter; its replacement already does this.",
]
SEVERITY_MINUTES = {1: (20, 150), 2: (15, 200), 3: (25, 300)}
OCCASIONAL_FLAGS = {"escalated", "manual_intervention"}
FRESH_DAYS = (0.2, 0.5)  # younger than these: still investigating, or mitigated
DUE_DAYS = {0: 2, 1: 14, 2: 30, 3: 90}


# --- Building -----------------------------------------------------------------------------


def demo_exists() -> bool:
    """The marker: the demo login and at least one demo incident."""
    return (
        User.objects.filter(username="demo").exists()
        and Incident.objects.filter(team__slug__in=DEMO_TEAM_SLUGS).exists()
    )


def seed_demo(*, now: datetime | None = None) -> dict[str, int]:
    """Build the demo organisation; demo incidents are rebuilt, never duplicated."""
    return _Builder(now or timezone.now()).build()


class _Builder:
    def __init__(self, now: datetime):
        self.now = now.replace(second=0, microsecond=0)
        self.today = timezone.localdate(self.now)
        self.rng = random.Random(SEED)
        self.ticket_numbers: dict[str, int] = {}
        self.scenario_by_incident: dict[int, Scenario] = {}

    @transaction.atomic
    def build(self) -> dict[str, int]:
        # Demo incidents are rebuilt so dates stay relative to now; cascades remove their
        # timelines, postmortems, factors and action items.
        Incident.objects.filter(team__slug__in=DEMO_TEAM_SLUGS).delete()
        self.users = self._people()
        self.teams, self.services = self._teams_and_services()
        incidents = self._incidents()
        events = self._timelines(incidents)
        postmortems = self._postmortems(incidents)
        factors = self._factors(postmortems)
        items = self._action_items(postmortems)
        meetings = self._review_meeting(postmortems)
        self._owners_see_their_items(items)
        role_incident = self._role_people(postmortems)
        return {
            "users": len(self.users),
            "teams": len(self.teams),
            "services": len(self.services),
            "incidents": len(incidents),
            "private incidents": sum(1 for i, _ in incidents if i.private),
            "timeline events": len(events),
            "postmortems": len(postmortems),
            "contributing factors": len(factors),
            "action items": len(items),
            "overdue action items": sum(1 for a in items if a.is_overdue(self.today)),
            "review meetings": meetings,
            "role demo incident": role_incident,
        }

    def _review_meeting(self, postmortems) -> int:
        """Tomorrow's review of a postmortem in review, facilitated by the demo user."""
        demo = self.users["demo"]
        candidates = [
            pm
            for pm in postmortems
            if pm.status == Postmortem.Status.IN_REVIEW
            and not pm.incident.private
            and pm.incident.commander_id != demo.pk  # the facilitator should not be the IC
        ]
        if not candidates:
            return 0
        # Checkout's own review first: the demo user may schedule only what they may edit.
        candidates.sort(key=lambda pm: pm.incident.team.slug != "checkout")
        postmortem = candidates[0]
        organiser = demo
        if postmortem.incident.team.slug != "checkout":
            organiser = User.objects.get(username="admin")
        tomorrow = (self.now + timedelta(days=1)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        attendees = [u for u in (postmortem.author, postmortem.incident.commander) if u]
        meeting = schedule_meeting(
            postmortem=postmortem,
            scheduled_at=tomorrow,
            facilitator=demo,
            attendees=[*attendees, *postmortem.reviewers.all()],
            location="Video call",
            by=organiser,
        )
        # Demo people have made-up addresses: the first boot must not email them invites.
        Dispatch.objects.filter(
            kind=Dispatch.Kind.MEETING_INVITE,
            scope=f"{meeting._meta.model_name}:{meeting.pk}",
            state=Dispatch.State.PENDING,
        ).update(state=Dispatch.State.SKIPPED, error="Demo data: invites are not emailed.")
        return 1

    def _past(self, moment: datetime) -> datetime:
        """Recent incidents' follow-ups cannot have happened yet: cap them at just now."""
        return min(moment, self.now - timedelta(minutes=self.rng.randint(5, 90)))

    # People ---------------------------------------------------------------------------

    def _people(self) -> dict[str, object]:
        # One hash for every demo person: hashing is deliberately slow.
        demo_hash = make_password(DEMO_PASSWORD)
        users = {}
        for person in PEOPLE:
            user, created = User.objects.get_or_create(
                username=person.username,
                defaults={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": f"{person.username}@example.com",
                    "password": demo_hash,
                },
            )
            # An existing account keeps its password; a rerun must not reset a changed one.
            Profile.objects.filter(user=user).update(timezone=person.timezone)
            users[person.username] = user
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={
                "first_name": "Ada",
                "last_name": "Admin",
                "email": "admin@example.com",
                "is_staff": True,
                "is_superuser": True,
            },
        )
        if created:
            admin.set_password(ADMIN_PASSWORD)
            admin.save(update_fields=["password"])
        return users

    def _owners_see_their_items(self, items: list[ActionItem]) -> None:
        """An owner must be able to see the item's incident: owners of items of private
        incidents are its members (the item form offers the same)."""
        through = Incident.members.through
        through.objects.bulk_create(
            [
                through(incident_id=i.postmortem.incident_id, user_id=i.owner_id)
                for i in items
                if i.owner_id and i.postmortem.incident.private
            ],
            ignore_conflicts=True,
        )

    def _role_people(self, postmortems) -> int:
        """The role accounts, and one public Checkout incident where each has their role:
        commanded by Casey, written by Robin, reviewed by Quinn (none of them in Checkout,
        so the role is the only reason they may do what they do). Returns its number."""
        demo_hash = make_password(DEMO_PASSWORD)
        people = {}
        for username, first, last, _role, teams in ROLE_PEOPLE:
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                    "password": demo_hash,
                },
            )
            for slug in teams:
                self.teams[slug].members.add(user)
            Profile.objects.filter(user=user).update(timezone="Europe/London")
            people[username] = user
        Profile.objects.filter(user=people["vera"]).update(read_only=True)
        Profile.objects.filter(user=self.users["sofia"]).update(read_only=False)
        candidates = [
            p for p in postmortems if p.incident.team.slug == "checkout" and not p.incident.private
        ]
        postmortem = next(
            (p for p in candidates if p.status == Postmortem.Status.IN_REVIEW), candidates[-1]
        )
        incident = postmortem.incident
        Incident.objects.filter(pk=incident.pk).update(commander=people["casey"])
        Postmortem.objects.filter(pk=postmortem.pk).update(author=people["robin"])
        postmortem.reviewers.add(people["quinn"])
        return incident.number

    def _teams_and_services(self):
        teams, services = {}, {}
        for slug, (name, _prefix, service_slugs) in TEAMS.items():
            team, _ = Team.objects.update_or_create(slug=slug, defaults={"name": name})
            team.members.set([self.users[p.username] for p in PEOPLE if slug in p.teams])
            team.managers.set([self.users[p.username] for p in PEOPLE if slug in p.manages])
            teams[slug] = team
            for service_slug in service_slugs:
                services[service_slug], _ = Service.objects.update_or_create(
                    slug=service_slug, defaults={"name": service_slug, "team": team}
                )
        return teams, services

    def _members(self, team_slug: str) -> list:
        # The demo login is left out of incident roles so its workload is set on purpose below.
        return [
            self.users[p.username] for p in PEOPLE if team_slug in p.teams and p.username != "demo"
        ]

    # Incidents ------------------------------------------------------------------------

    def _schedule(self) -> list[tuple[float, Scenario]]:
        """(days ago, scenario) for every incident, oldest first."""
        schedule = []
        for scenario in SCENARIOS:
            if scenario.pattern:
                # Repeats 2-5 weeks apart, so the third lands inside the 90-day window.
                start = self.rng.uniform(100, 170)
                for n in range(scenario.occurrences):
                    schedule.append((max(start - n * self.rng.uniform(14, 35), 3), scenario))
            else:
                for _ in range(scenario.occurrences):
                    schedule.append((self.rng.uniform(3, HISTORY_DAYS), scenario))
        ordinary = [s for s in SCENARIOS if not s.pattern and not s.private]
        minor = [s for s in ordinary if 3 in s.severities]
        while len(schedule) < INCIDENT_COUNT - 4:
            schedule.append((self.rng.uniform(3, HISTORY_DAYS), self.rng.choice(minor)))
        # The last few days: one still investigating, one mitigated, two fresh drafts.
        for days_ago in (0.08, 0.3, 1.6, 2.4):
            schedule.append((days_ago, self.rng.choice(ordinary)))
        schedule.sort(key=lambda entry: -entry[0])
        return schedule

    def _incidents(self) -> list[tuple[Incident, dict]]:
        incidents = []
        by_pattern: dict[str, list[Incident]] = {}
        for days_ago, scenario in self._schedule():
            incident, facts = self._create_incident(days_ago, scenario)
            self.scenario_by_incident[incident.pk] = scenario
            if scenario.pattern:
                earlier = by_pattern.setdefault(scenario.pattern, [])
                if earlier:
                    incident.related.add(*earlier)
                earlier.append(incident)
            incidents.append((incident, facts))
        # A real record is opened a few minutes after the incident starts.
        rows = [i for i, _ in incidents]
        _backdate(rows, [i.started_at + timedelta(minutes=4) for i in rows])
        return incidents

    def _create_incident(self, days_ago: float, scenario: Scenario):
        rng = self.rng
        started = self.now - timedelta(days=days_ago)
        started = started.replace(minute=rng.randrange(60))
        severity = rng.choice(scenario.severities)
        low, high = SEVERITY_MINUTES[severity]
        detect = rng.randint(2, 18)
        mitigate = detect + rng.randint(low, high)
        resolve = mitigate + rng.randint(5, 120)
        if severity < 3 and rng.random() < 0.2:
            # Some high-severity incidents are over quickly, which changes what is owed.
            detect = rng.randint(1, 4)
            mitigate = detect + rng.randint(4, 8)
            resolve = mitigate + rng.randint(2, 14 if severity == 1 else 16)
        people = self._members(scenario.team)
        commander, oncall = rng.sample(people, 2)
        responders = [u for u in self._everyone() if u not in (commander, oncall)]
        responder, responder2 = rng.sample(responders, 2)
        facts = self._facts(scenario, severity, started, detect, mitigate, resolve)
        facts.update(
            commander=commander.username,
            oncall=oncall.username,
            responder=responder.username,
            responder2=responder2.username,
        )

        minutes_ago = int(days_ago * 24 * 60)
        mitigated_at = started + timedelta(minutes=min(mitigate, minutes_ago - 20))
        resolved_at = None
        if days_ago < FRESH_DAYS[0]:
            status, mitigated_at = Incident.Status.INVESTIGATING, None
        elif days_ago < FRESH_DAYS[1]:
            status = Incident.Status.MITIGATED
        else:
            status = Incident.Status.RESOLVED
            resolved_at = started + timedelta(minutes=resolve)
        members = None
        if scenario.private:
            members = [commander, oncall, responder, self.users["elena"]]
        incident = create_incident(
            by=None,  # demo data: an operator's command
            created_by=oncall,
            services=[self.services[s] for s in scenario.services],
            members=members,
            title=scenario.title.format_map(facts),
            summary=scenario.summary.format_map(facts),
            severity=severity,
            status=status,
            started_at=started,
            detected_at=started + timedelta(minutes=detect),
            mitigated_at=mitigated_at,
            resolved_at=resolved_at,
            requests_failed=facts["requests_raw"],
            users_affected=facts["users_raw"],
            revenue_estimate=facts["revenue_raw"],
            regions=facts["region"],
            slo_impact=f"{facts['budget_pct']}% of the monthly error budget for "
            f"{facts['service']}.",
            team=self.teams[scenario.team],
            commander=commander,
            pattern=scenario.pattern,
            private=scenario.private,
            **self._flags(scenario),
        )
        facts["scenario"] = scenario
        facts["people"] = (commander, oncall, responder, responder2)
        return incident, facts

    def _flags(self, scenario: Scenario) -> dict[str, bool]:
        # Escalation and hand-fixes vary between occurrences of the same kind of incident.
        return {
            name: value and (name not in OCCASIONAL_FLAGS or self.rng.random() < 0.5)
            for name, value in scenario.flags.items()
        }

    def _everyone(self) -> list:
        return [self.users[p.username] for p in PEOPLE if p.teams and p.username != "demo"]

    def _facts(self, scenario, severity, started, detect, mitigate, resolve) -> dict:
        rng = self.rng
        requests = rng.randrange(2_000, 400_000) // (severity * severity)
        users = rng.randrange(300, 60_000) // severity
        revenue = Decimal(rng.randrange(500, 180_000) // severity)
        return {
            "service": rng.choice(scenario.services),
            "region": rng.choice(REGIONS),
            "severity": severity,
            "minutes": resolve,
            "detect_minutes": detect,
            "diagnose_minutes": max(mitigate - detect - 10, 5),
            "hours": max(resolve // 60, 2),
            "lag": rng.choice([35, 48, 62, 90]),
            "error_pct": rng.choice([4, 7, 12, 18, 26, 41, 63, 88]),
            "recovery_pct": rng.choice([72, 85, 94]),
            "crash_free": rng.choice([81.4, 88.9, 93.2]),
            "budget_pct": rng.choice([6, 12, 18, 35, 52]),
            "requests": f"{requests:,}",
            "requests_raw": requests,
            "users": f"{users:,}",
            "users_raw": users,
            "revenue": f"€{revenue:,}",
            "revenue_raw": revenue,
            "count": rng.choice([14, 37, 212, 1_480, 6_930]),
            "tickets": rng.randint(3, 60),
            "pr": rng.randint(1200, 4800),
            "sha": f"{rng.getrandbits(28):07x}",
            "version": f"{rng.randint(3, 5)}.{rng.randint(0, 24)}.{rng.randint(0, 9)}",
            "started": started,
        }

    # Timelines ------------------------------------------------------------------------

    def _timelines(self, incidents) -> list[TimelineEvent]:
        events = []
        for incident, facts in incidents:
            events.extend(self._timeline(incident, facts))
        return TimelineEvent.objects.bulk_create(events)

    def _timeline(self, incident: Incident, facts: dict) -> list[TimelineEvent]:
        """5-15 events through trigger, detection, diagnosis, mitigation and resolution."""
        rng, scenario = self.rng, facts["scenario"]
        commander, oncall, responder, _ = facts["people"]
        start, detected = incident.started_at, incident.detected_at
        end = incident.resolved_at or incident.mitigated_at or self.now
        diagnosis_end = incident.mitigated_at or self.now

        def at(low, high):
            return low + (high - low) * rng.uniform(0.05, 0.95)

        Phase = TimelineEvent.Phase
        plan = [
            (start, Phase.TRIGGER, scenario.trigger, None),
            (detected, Phase.DETECTION, ("alert", f"Alert {scenario.alert} fired"), None),
            (detected + timedelta(minutes=2), Phase.DETECTION, FILLERS[0], oncall),
        ]
        moments = sorted(at(detected, diagnosis_end) for _ in scenario.diagnosis)
        for moment, entry in zip(moments, scenario.diagnosis, strict=True):
            plan.append((moment, Phase.DIAGNOSIS, entry, responder))
        if incident.mitigated_at:
            for n, entry in enumerate(scenario.mitigation):
                moment = incident.mitigated_at + timedelta(minutes=4 * n)
                plan.append((min(moment, end), Phase.MITIGATION, entry, commander))
        if incident.resolved_at:
            text = f"Alert {scenario.alert} resolved; metrics at baseline, incident resolved"
            plan.append((end, Phase.RESOLUTION, ("alert", text), commander))
        fillers = FILLERS[1:]
        rng.shuffle(fillers)
        target = rng.randint(max(5, len(plan)), 15)
        for entry in fillers[: max(target - len(plan), 0)]:
            plan.append((at(detected, end), Phase.OTHER, entry, commander))
        plan.sort(key=lambda row: row[0])
        return [
            TimelineEvent(
                incident=incident,
                occurred_at=moment,
                text=text.format_map(facts),
                source=source,
                source_detail=scenario.alert if source == "alert" else "",
                phase=phase,
                author=author,
                origin=TimelineEvent.Origin.IMPORT if source == "alert" else "manual",
            )
            for moment, phase, (source, text), author in plan
        ]

    # Postmortems ----------------------------------------------------------------------

    def _postmortems(self, incidents) -> list[Postmortem]:
        rng = self.rng
        postmortems, reviewers, written_at = [], [], []
        chance = {Requirement.REQUIRED: 0.92, Requirement.RECOMMENDED: 0.8, Requirement.BRIEF: 0.6}
        for incident, facts in incidents:
            if not incident.resolved_at or rng.random() > chance[incident.postmortem_requirement]:
                continue
            age = (self.now - incident.resolved_at).days
            if age < 2:
                status = Postmortem.Status.DRAFT
            elif age < 6:
                status = rng.choice([Postmortem.Status.DRAFT, Postmortem.Status.IN_REVIEW])
            else:
                # Most old ones are published; a few stalled, which is what "owed" shows.
                status = rng.choices(
                    [Postmortem.Status.PUBLISHED, Postmortem.Status.IN_REVIEW, "draft"],
                    weights=[85, 8, 7],
                )[0]
            written = self._past(incident.resolved_at + timedelta(hours=rng.randint(3, 20)))
            postmortem = Postmortem(
                incident=incident,
                status=status,
                author=incident.commander,
                version=rng.randint(3, 40),
                **self._sections(incident, facts),
            )
            if status != Postmortem.Status.DRAFT:
                postmortem.review_started_at = self._past(
                    written + timedelta(days=rng.randint(1, 3))
                )
            if status == Postmortem.Status.PUBLISHED:
                postmortem.published_at = self._past(
                    postmortem.review_started_at + timedelta(days=rng.randint(1, 4))
                )
            written_at.append(written)
            postmortems.append(postmortem)
            people = [u for u in facts["people"][1:] if u != incident.commander]
            reviewers.append(people[: rng.randint(2, 3)])
        postmortems = Postmortem.objects.bulk_create(postmortems)
        through = Postmortem.reviewers.through
        through.objects.bulk_create(
            [
                through(postmortem_id=p.pk, user_id=u.pk)
                for p, users in zip(postmortems, reviewers, strict=True)
                for u in users
            ]
        )
        _backdate(postmortems, written_at)
        published = [p.incident_id for p in postmortems if p.status == Postmortem.Status.PUBLISHED]
        Incident.objects.filter(pk__in=published).update(status=Incident.Status.CLOSED)
        for postmortem in postmortems:
            if postmortem.incident_id in published:
                postmortem.incident.status = Incident.Status.CLOSED
        return postmortems

    def _sections(self, incident: Incident, facts: dict) -> dict[str, str]:
        scenario = facts["scenario"]
        start = incident.started_at.astimezone(UTC)
        end = incident.resolved_at.astimezone(UTC)
        duration = f"{start:%d %b %Y, %H:%M}–{end:%H:%M} UTC"
        impact = [
            f"- {scenario.impact.format_map(facts)}",
            f"- Duration: {facts['minutes']} minutes ({duration}).",
            f"- Time to detect: {facts['detect_minutes']} minutes.",
            f"- Regions: {facts['region']}.",
            f"- SLO: {facts['budget_pct']}% of the monthly error budget for {facts['service']}.",
        ]
        if incident.revenue_estimate and incident.customer_facing:
            impact.append(f"- Estimated revenue impact: {facts['revenue']}.")

        def bullets(lines):
            return "\n".join(f"- {line.format_map(facts)}" for line in lines)

        return {
            "summary": f"{duration}. " + scenario.summary.format_map(facts),
            "impact": "\n".join(impact),
            "root_cause": scenario.root_cause.format_map(facts),
            "detection": scenario.detection.format_map(facts),
            "went_well": bullets(scenario.went_well),
            "went_poorly": bullets(scenario.went_poorly),
            "lessons": scenario.lessons.format_map(facts),
        }

    def _factors(self, postmortems) -> list[ContributingFactor]:
        rng, factors = self.rng, []
        for postmortem in postmortems:
            available = list(self._scenario_of(postmortem).factors)
            # The mechanism always; other factors as the review found them.
            chosen = [available[0]] + rng.sample(
                available[1:], rng.randint(0, min(3, len(available) - 1))
            )
            region = postmortem.incident.regions
            for position, factor in enumerate(chosen):
                factors.append(
                    ContributingFactor(
                        postmortem=postmortem,
                        category=factor.category,
                        description=factor.description,
                        whys=_fill(list(factor.whys), {"region": region}),
                        position=position,
                    )
                )
        return ContributingFactor.objects.bulk_create(factors)

    def _scenario_of(self, postmortem: Postmortem) -> Scenario:
        return self.scenario_by_incident[postmortem.incident_id]

    # Action items ---------------------------------------------------------------------

    def _action_items(self, postmortems) -> list[ActionItem]:
        rng, items = self.rng, []
        for postmortem in postmortems:
            incident = postmortem.incident
            scenario = self._scenario_of(postmortem)
            team_slug = incident.team.slug
            owners = self._members(team_slug)
            count = rng.randint(1, min(4, len(scenario.actions)))
            created = self._past(postmortem.created_at + timedelta(days=rng.randint(0, 3)))
            for action in rng.sample(list(scenario.actions), count):
                items.append(self._action_item(postmortem, action, owners, created))
        self._give_demo_user_work(items)
        self._bring_some_due_soon(items)
        created = [item.created_at for item in items]
        items = ActionItem.objects.bulk_create(items)
        _backdate(items, created)
        return items

    def _action_item(self, postmortem, action: Action, owners, created) -> ActionItem:
        rng = self.rng
        prefix = TEAMS[postmortem.incident.team.slug][1]
        key = self._ticket_key(prefix)
        due = created.date() + timedelta(days=DUE_DAYS[action.priority] + rng.randint(-1, 10))
        owner = rng.choice(owners)
        item = ActionItem(
            postmortem=postmortem,
            title=action.title,
            description=f"From the {postmortem.incident.reference} review. Done when the "
            f"change is merged and deployed, and linked here.",
            owner=owner,
            due_on=due,
            priority=action.priority,
            leverage=action.leverage,
            ticket_key=key,
            ticket_url=TRACKER_URL.format(key=key),
            created_by=postmortem.author,
            created_at=created,
        )
        if due < self.today:
            weights = {"done": 62, "wont_do": 8, "open": 10, "in_progress": 10, "blocked": 10}
        else:
            weights = {"done": 18, "wont_do": 4, "open": 38, "in_progress": 30, "blocked": 10}
        item.status = rng.choices(list(weights), weights=list(weights.values()))[0]
        self._settle(item, created)
        return item

    def _settle(self, item: ActionItem, created: datetime) -> None:
        """Fill the fields a status implies: completion, or the recorded reason."""
        rng = self.rng
        item.completed_at, item.completed_by, item.reason = None, None, ""
        if item.status == ActionItem.Status.DONE:
            # Most land by their due date; some late, which the health metric should show.
            due = timezone.make_aware(datetime.combine(item.due_on, datetime.min.time()))
            latest = min(due + timedelta(days=rng.choice([0, 0, 0, 5, 12])), self.now)
            earliest = min(created + timedelta(hours=4), latest)
            item.completed_at = earliest + (latest - earliest) * rng.random()
            item.completed_by = item.owner
        elif item.status == ActionItem.Status.BLOCKED:
            item.reason = rng.choice(BLOCKED_REASONS).format(key=self._ticket_key("VEND"))
        elif item.status == ActionItem.Status.WONT_DO:
            item.reason = rng.choice(WONT_DO_REASONS)

    def _give_demo_user_work(self, items: list[ActionItem]) -> None:
        """The demo login owns a realistic mix: some overdue, some due soon, some done."""
        demo = self.users["demo"]
        # Checkout's items first (the demo user's team), then anyone's if Checkout runs short.
        ranked = sorted(items, key=lambda i: i.postmortem.incident.team.slug != "checkout")
        overdue = [i for i in ranked if i.is_overdue(self.today)][:3]
        upcoming = [i for i in ranked if i.is_open and i.due_on >= self.today][:3]
        done = [i for i in ranked if i.status == ActionItem.Status.DONE][:2]
        for item in overdue + upcoming + done:
            item.owner = demo
            if item.completed_by is not None:
                item.completed_by = demo

    def _bring_some_due_soon(self, items: list[ActionItem], count: int = 6) -> None:
        """A few open items fall due this week, so reminders and 'due soon' have something."""
        demo = self.users["demo"]
        candidates = [i for i in items if i.is_open and i.due_on > self.today]
        candidates.sort(key=lambda i: (i.owner != demo, i.due_on))
        for item in candidates[:count]:
            soon = self.today + timedelta(days=self.rng.randint(1, 6))
            item.due_on = min(item.due_on, max(soon, item.created_at.date()))

    def _ticket_key(self, prefix: str) -> str:
        self.ticket_numbers[prefix] = self.ticket_numbers.get(prefix, 100) + self.rng.randint(1, 9)
        return f"{prefix}-{self.ticket_numbers[prefix]}"


def _backdate(rows: list, stamps: list[datetime]) -> None:
    """bulk_create stamps created_at with now (auto_now_add); history needs the real date."""
    for row, stamp in zip(rows, stamps, strict=True):
        row.created_at = stamp
    if rows:
        type(rows[0]).objects.bulk_update(rows, ["created_at"], batch_size=500)


def _fill(whys: list[dict], facts: dict) -> list[dict]:
    return [
        {"text": node["text"].format_map(facts), "children": _fill(node["children"], facts)}
        for node in whys
    ]
