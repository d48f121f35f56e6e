"""Blameless language check: finds wording that makes a person the cause of an incident.

Blameless writing describes what the system allowed, not who slipped (see "Blameless" in the
domain notes). This check is rule-based so every finding can be explained: each one names the
rule that fired, the exact span, why the wording matters, and a systemic rewording.

All rules live in ``RULES`` below, one ``Rule`` per row. A rule is a regular expression
(matched case-insensitively on word boundaries) plus a ``subject`` policy:

- ``ANY``: the wording is blame by itself ("human error", "careless", "at fault").
- ``PERSON``: only blame when a person is the subject of the verb. Systems fail, skip, miss and
  ignore things too: "Dana failed to run the migration" is flagged, "the deploy failed to
  start" is not.
- ``NOT_SYSTEM``: blame unless the subject is clearly a system. For verbs that are nearly always
  about people ("forgot", "should have", "neglected"), a sentence fragment with no subject
  ("Forgot to update the status page.") is still flagged, "the alert should have fired" is not.

A pattern may capture a named group starting with ``person`` (``(?P<person>...)``); the rule then
only fires when that word is a person ("Bob's fault", not "the network's fault"). A suggestion may
use ``{object}``, the rest of the clause after the match ("skipped the canary" -> "the canary"),
and any other named group of the pattern. Teams extend the check by appending to ``RULES`` or by
passing ``rules=`` to ``lint_text``.

How the subject is found: the words between the start of the clause (sentence end, punctuation,
or a conjunction such as "and", "because", "when") and the verb, minus adverbs and auxiliaries
("then", "accidentally", "had"). The last word is the head. It is a person when it is an
@handle, a personal pronoun (I, we, he, she, you, someone, everyone), a role ("the on-call
engineer", "the DBA", "the platform team") or a capitalised, name-shaped word that is not on the
stop-list of capitalised non-names (The, Monday, Postgres, Kafka, Terraform...). CamelCase,
ALL-CAPS and words with digits (PagerDuty, AWS, S3) are systems. After "and"/"but" with no subject
of its own ("Dana rolled back but forgot to...") the subject of the previous clause is used.

Known limits, chosen to favour precision over recall:

- There is no part-of-speech tagger. A capitalised word that is not on the stop-list is taken
  for a name, so an unlisted product or service name mid-sentence ("then Ledgerly failed to
  sync") reads as a person; pass ``system_names=`` (e.g. the Service names) to teach it more.
- The first word of a sentence is capitalised anyway, so there a plural-looking word
  ("Deploys", "Alerts") is not taken for a name. Names ending in a plain -s ("Lars", "Niels")
  are therefore not recognised at the very start of a sentence; they are anywhere else.
- "They" is ambiguous (people or requests) and never counts as a person, so "They skipped the
  canary" passes while "They forgot" (a NOT_SYSTEM rule) does not.
- A lower-case noun after "the"/"a" that is not a listed role is taken for a thing ("the
  design should have..."), and a failure word right after a determiner is an adjective, not a
  verb ("found a forgotten cron job").
- A person's change as the subject ("Dana's change broke checkout") is not flagged: the
  possessive names an owner, not a cause.
- Negation is only looked for just before noun rules ("not human error", "no blame"), not in
  verb rules ("Dana didn't forget" is flagged).
- Code spans, fenced code blocks and URLs are ignored, so log lines and ``git blame`` links do not
  count. Phrases wrapped in quotes ('avoid "human error"') are mentions, not uses.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache

# Subject policies of a Rule.
ANY = "any"
PERSON = "person"
NOT_SYSTEM = "not_system"

# Subject classifications. OTHER is anything that cannot be blamed: a system, the affected
# users, "nobody".
_PERSON = "person"
_OTHER = "other"
_UNKNOWN = "unknown"


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: str
    why: str
    suggestion: str
    subject: str = ANY


@dataclass(frozen=True)
class Finding:
    rule: str
    start: int
    end: int
    text: str
    message: str
    suggestion: str

    def as_dict(self) -> dict:
        return asdict(self)


_HANDLE_OR_WORD = r"@[\w.-]*\w|[A-Z][\w-]*"

RULES: list[Rule] = [
    # --- Wording that is blame whatever the subject -----------------------------------------
    Rule(
        id="human-error",
        pattern=r"human[- ]errors?",
        why="'Human error' ends the analysis where it should start: people make slips all the "
        "time, the question is why the system let this one have this impact.",
        suggestion="name the condition that let one action cause the outage, e.g. 'the console "
        "let a single command drop a production table without confirmation'",
    ),
    Rule(
        id="operator-error",
        pattern=r"(?:operator|pilot|engineer|admin|administrator)[- ]errors?",
        why="Calling it an operator's error puts the cause in a person; a different careful "
        "person in the same situation would likely have done the same.",
        suggestion="describe the situation the operator was in, e.g. 'the runbook step and the "
        "destructive command looked identical and nothing asked for confirmation'",
    ),
    Rule(
        id="careless",
        pattern=r"careless(?:ly|ness)?",
        why="Judges a person's care instead of the conditions; nobody becomes more careful by "
        "being told to, but a guard rail works every time.",
        suggestion="say what made the risky step easy, e.g. 'the command ran against production "
        "by default'",
    ),
    Rule(
        id="negligence",
        pattern=r"negligen(?:ce|t|tly)",
        why="'Negligence' is a legal and moral charge, not an analysis; it makes people hide "
        "details in the next review.",
        suggestion="describe the missing safeguard, e.g. 'no check stopped the job from running "
        "without a backup'",
    ),
    Rule(
        id="sloppy",
        pattern=r"slopp(?:y|ily|iness)",
        why="Calls a person's work sloppy instead of asking why the review and tests let it "
        "through.",
        suggestion="say what the review or tests did not cover, e.g. 'no test exercised the "
        "empty-config path'",
    ),
    Rule(
        id="judgement",
        pattern=r"reckless(?:ly|ness)?|incompeten(?:t|ce|tly)|laziness",
        why="A judgement of character is not a contributing factor and cannot be fixed with an "
        "action item.",
        suggestion="describe the decision and what the person knew at the time, then what would "
        "have made the safer choice the easy one",
    ),
    Rule(
        id="blame",
        # Not "git blame", the command, nor "blameless"/"blame-free", the practice.
        pattern=r"(?<!git )blam(?:e|ed|es|ing)|blameworthy",
        why="Assigning blame makes the next incident harder to learn from: people stop sharing "
        "what they saw.",
        suggestion="describe the chain of conditions instead of who is responsible for them",
    ),
    Rule(
        id="fault",
        pattern=r"at fault|fault (?:lies|lay|was|is) with|(?:his|her|their|whose|my|your|our) "
        r"fault|(?P<person>" + _HANDLE_OR_WORD + r")['’]s fault",
        why="Whose fault it was is not a finding; what made the failure possible is.",
        suggestion="state the mechanism, e.g. 'the deploy tool accepted an empty config file'",
    ),
    Rule(
        id="mistake-by",
        pattern=r"mistakes? (?:made )?by|(?:his|her|(?P<person>" + _HANDLE_OR_WORD + r")['’]s) "
        r"mistakes?",
        why="Pins the incident on one person's mistake; the interesting part is why the "
        "mistake was possible and why it was not caught.",
        suggestion="describe the step that was easy to get wrong and what let the slip reach "
        "production",
    ),
    Rule(
        id="didnt-bother",
        pattern=r"(?:didn['’]?t|did not|never|couldn['’]?t be|wasn['’]?t|without|nobody|no one) "
        r"bother(?:ed|ing)?",
        why="Imputes a motive (not caring) that the review cannot know and that does not explain "
        "the incident.",
        suggestion="say what made the step look unnecessary or costly at the time, e.g. 'the "
        "check took 20 minutes and had never failed'",
    ),
    Rule(
        id="not-paying-attention",
        pattern=r"(?:not|wasn['’]t|weren['’]t|isn['’]t|aren['’]t|never|stopped) (?:really )?"
        r"pay(?:ing)? attention|lack of attention|inattenti(?:ve|veness|on)|asleep at the wheel"
        r"|(?:be|been|being) more careful",
        why="Attention is not a control: asking people to pay more attention fixes nothing the "
        "next time someone is tired or interrupted.",
        suggestion="describe what the signal competed with, e.g. 'the alert fired alongside 40 "
        "low-priority warnings in the same channel'",
    ),
    Rule(
        id="fat-finger",
        pattern=r"fat[- ]?finger(?:ed|ing|s)?",
        why="A 'fat finger' is a slip anyone makes; calling it out points at the person, not at "
        "the input that accepted it.",
        suggestion="say what accepted the bad input, e.g. 'the CLI accepted a /8 range where "
        "only /24 is valid'",
    ),
    Rule(
        id="dropped-the-ball",
        pattern=r"dropped the ball|drop the ball",
        why="Says someone let it slip without saying what the process relied on them to remember.",
        suggestion="name the hand-off or reminder that was missing, e.g. 'certificate renewals "
        "had no owner and no expiry alert'",
    ),
    Rule(
        id="rubber-stamp",
        pattern=r"rubber[- ]?stamp(?:ed|ing|s)?",
        why="Says a reviewer did not really review; the finding is what the review could not "
        "see or was not asked to check.",
        suggestion="say what the review did not show, e.g. 'the diff did not include the "
        "effective config, so reviewers could not see the new value'",
    ),
    Rule(
        id="passive-lapse",
        pattern=r"(?:was|were|got|been|went) (?:forgotten|neglected|overlooked)"
        r"(?! by (?:the|a|an|our) )",
        why="The passive still says someone lapsed; the question is why the step depended on "
        "someone remembering it.",
        suggestion="say what would have surfaced the step, e.g. 'the release checklist does not "
        "include it and nothing checks for it'",
    ),
    Rule(
        id="passive-ignored",
        pattern=r"(?:alerts?|pages?|alarms?|warnings?|notifications?|escalations?|tickets?|"
        r"messages?|emails?|runbooks?|checklists?|procedures?|process) "
        r"(?:was|were|got|had been|has been|have been) (?:\w+ly )?ignored"
        r"(?! by (?:the|a|an|our) )",
        why="'Was ignored' implies people chose not to act; alerts that are not acted on are "
        "usually noisy, badly routed or missing a runbook.",
        suggestion="say why it did not lead to action, e.g. 'the alert fires several times a "
        "week without impact, so it was not treated as urgent'",
    ),
    Rule(
        id="passive-by-person",
        pattern=r"(?:was|were|got) (?:ignored|missed|skipped|overlooked|broken|deleted|dropped|"
        r"misconfigured|botched|forgotten|neglected) by (?:the )?(?P<person>"
        + _HANDLE_OR_WORD
        + r")",
        why="Naming who did it makes the person the cause; the same step was open to anyone.",
        suggestion="drop the agent and name what allowed it, e.g. 'the canary stage could be "
        "skipped without approval'",
    ),
    # --- Failure verbs that are blame only with a person as the subject ---------------------
    Rule(
        id="person-failed-to",
        pattern=r"failed to|fails to",
        subject=PERSON,
        why="A person as the subject of 'failed to' makes them the cause; ask why the system "
        "depended on them doing it.",
        suggestion="nothing made sure someone would {object}",
    ),
    Rule(
        id="person-skipped",
        pattern=r"skipped|skips",
        subject=PERSON,
        why="Saying a person skipped a step hides that the process let the step be skipped.",
        suggestion="a deploy could skip {object} without anyone approving it",
    ),
    Rule(
        id="person-missed",
        pattern=r"missed",
        subject=PERSON,
        why="Saying a person missed something hides why it was easy to miss.",
        suggestion="{object} was easy to miss (say why: one of many, routed where nobody was "
        "looking, no escalation)",
    ),
    Rule(
        id="person-ignored",
        pattern=r"ignored|ignores",
        subject=PERSON,
        why="'Ignored' imputes a choice; signals that do not lead to action are usually noisy, "
        "badly routed or missing a runbook.",
        suggestion="{object} did not lead to action (say why: noisy, badly routed, no runbook)",
    ),
    Rule(
        id="person-broke",
        # Not the adjective: "rolled back the broken deploy".
        pattern=r"broke|(?:has|had|have) broken",
        subject=PERSON,
        why="A person did not break it, a change did, and something let the change through.",
        suggestion="a change broke {object} and nothing caught it before production (name the "
        "change and the missing check)",
    ),
    Rule(
        id="person-didnt",
        pattern=r"(?:didn['’]?t|did not|never|doesn['’]?t|does not) (?:even )?"
        r"(?P<verb>check|test|run|verify|read|follow|update|notice|review|wait|escalate|respond"
        r"|acknowledge|ack|look|confirm|validate|notify|tell|inform|monitor|roll back|revert"
        r"|document|communicate|ask|realise|realize|page|think|consider|care|listen)"
        r"(?:ed|d|s)?",
        subject=PERSON,
        why="Says a person did not do a step; ask what would have made the step happen without "
        "relying on one person.",
        suggestion="nothing prompted anyone to {verb} {object}",
    ),
    Rule(
        id="person-accidentally",
        pattern=r"(?:accidentally|mistakenly|inadvertently|carelessly|blindly|wrongly) "
        r"(?P<verb>\w+)",
        subject=PERSON,
        why="Frames the incident as one person's slip; slips are normal, the question is why one "
        "slip could cause an outage.",
        suggestion="the tooling allowed this without a confirmation or safeguard (name the "
        "missing guard)",
    ),
    Rule(
        id="person-made-mistake",
        pattern=r"made (?:a|an|the|this|that|another|one|several|some) (?:\w+ )?"
        r"(?:mistakes?|blunders?|errors?)",
        subject=PERSON,
        why="Pins the incident on a person's mistake instead of the conditions that made it "
        "likely and let it through.",
        suggestion="describe the step that was easy to get wrong and what let the slip reach "
        "production",
    ),
    # --- Verbs that are about people unless a system is the subject -------------------------
    Rule(
        id="forgot",
        # Not the imperative "don't forget to", which is advice rather than blame.
        pattern=r"(?<!don't )(?<!don’t )(?<!not )(?<!never )forg[eo]t(?:s|ten|ting)?",
        subject=NOT_SYSTEM,
        why="'Forgot' means the process relied on memory; that reliance is the finding.",
        suggestion="the step relied on someone remembering it; nothing prompted or checked it "
        "(say what will)",
    ),
    Rule(
        id="should-have",
        pattern=r"should(?:n['’]t)? have|should['’]ve|ought to have",
        subject=NOT_SYSTEM,
        why="'Should have' is hindsight: it judges a decision by an outcome nobody knew at the "
        "time.",
        suggestion="describe what was known at the time and what would have made the right step "
        "the obvious one, e.g. 'nothing showed that the migration had not run'",
    ),
    Rule(
        id="supposed-to",
        pattern=r"(?:was|were) supposed to",
        subject=NOT_SYSTEM,
        why="'Was supposed to' holds a person to a duty the process did not support; ask what "
        "made the step easy to miss.",
        suggestion="the process relied on one person to {object}; nothing tracked or checked it",
    ),
    Rule(
        id="neglected",
        pattern=r"neglect(?:ed|s|ing)?",
        subject=NOT_SYSTEM,
        why="'Neglected' blames a person for work the process never made visible.",
        suggestion="the work had no owner, reminder or check (say which one will exist)",
    ),
    Rule(
        id="overlooked",
        pattern=r"overlook(?:ed|s)?",
        subject=NOT_SYSTEM,
        why="Says a person overlooked something instead of why it was easy to overlook.",
        suggestion="{object} was easy to overlook (say what would have surfaced it: a test, a "
        "check, a review prompt)",
    ),
    Rule(
        id="messed-up",
        pattern=r"(?:messed|screwed|mucked|fouled) up|botched|bungled|goofed",
        subject=NOT_SYSTEM,
        why="Judges a person's performance instead of describing the change and what let it "
        "through.",
        suggestion="a change to {object} went wrong and nothing caught it (name the change and "
        "the missing check)",
    ),
]


# --- Vocabulary for telling people from systems ----------------------------------------------

_PERSON_PRONOUNS = {
    "i", "we", "he", "she", "you", "someone", "somebody", "anyone", "anybody", "everyone",
    "everybody", "who", "whoever",
}  # fmt: skip
# "they" is deliberately absent: it refers to requests and pods as often as to people.
_OTHER_PRONOUNS = {
    "it", "this", "that", "which", "something", "nothing", "everything", "anything", "nobody",
    "none", "these", "those",
}  # fmt: skip
_ROLES = {
    "engineer", "developer", "dev", "programmer", "operator", "oncall", "on-call", "on-caller",
    "responder", "reviewer", "approver", "author", "committer", "admin", "administrator", "sre",
    "dba", "sysadmin", "intern", "contractor", "person", "people", "human", "employee", "staff",
    "staffer", "team", "teammate", "colleague", "manager", "lead", "commander", "ic", "owner",
    "maintainer", "analyst", "tester", "folk", "newcomer", "hire", "guy", "member",
    "individual",
}  # fmt: skip
# The people an incident happens to; "users failed to log in" is impact, not blame.
_AFFECTED = {
    "user", "customer", "client", "visitor", "merchant", "tenant", "subscriber", "buyer",
    "seller", "partner", "caller",
}  # fmt: skip
_SYSTEM_NOUNS = {
    "deploy", "deployment", "release", "rollout", "rollback", "build", "pipeline", "job", "cron",
    "crontab", "task", "worker", "service", "server", "host", "node", "pod", "container",
    "cluster", "instance", "replica", "primary", "secondary", "leader", "follower", "database",
    "db", "query", "migration", "schema", "table", "index", "cache", "queue", "broker",
    "consumer", "producer", "topic", "partition", "message", "event", "request", "response",
    "api", "endpoint", "gateway", "proxy", "balancer", "lb", "ingress", "egress", "dns", "cdn",
    "certificate", "cert", "config", "configuration", "flag", "toggle", "script", "tool",
    "tooling", "command", "cli", "alert", "alerting", "alarm", "pager", "monitor", "monitoring",
    "check", "probe", "test", "suite", "canary", "dashboard", "metric", "log", "logger",
    "logging", "trace", "tracing", "system", "process", "app", "application", "library",
    "dependency", "package", "module", "function", "lambda", "handler", "scheduler",
    "controller", "autoscaler", "scaler", "agent", "daemon", "runner", "executor", "webhook",
    "hook", "integration", "sync", "backup", "restore", "snapshot", "replication", "failover",
    "network", "link", "connection", "socket", "firewall", "rule", "policy", "route", "router",
    "switch", "disk", "volume", "storage", "bucket", "file", "memory", "cpu", "thread", "loop",
    "timer", "timeout", "limit", "quota", "retry", "retries", "batch", "import", "export",
    "feed", "stream", "parser", "validator", "compiler", "linter", "bot", "automation",
    "workflow", "step", "stage", "gate", "version", "change", "commit", "pr", "patch",
    "upgrade", "update", "fix", "hotfix", "code", "bug", "regression", "error", "exception",
    "crash", "outage", "incident", "issue", "problem", "page", "site", "website", "frontend",
    "backend", "ui", "form", "button", "login", "auth", "checkout", "billing", "payment",
    "search", "email", "notification", "sms", "report", "plan", "environment", "staging",
    "production", "prod", "region", "zone", "datacenter", "vm", "runbook", "playbook", "doc",
    "docs", "documentation", "wiki", "readme", "checklist", "template", "traffic", "load",
    "latency", "header", "payload", "cookie", "session", "token", "key", "secret", "credential",
    "lock", "mutex", "transaction", "write", "read", "ledger", "order", "invoice", "account",
    "action", "warning", "signal", "threshold", "slo", "sla", "shard", "sharding", "state",
    "chart", "manifest", "image", "registry", "artifact", "binary",
    "compute", "queueing", "pool", "sidecar", "mesh", "daemonset",
    "statefulset", "fleet", "device", "phone", "browser", "mobile", "review", "design",
    "guard", "guardrail", "safeguard", "control", "rate", "rail", "default", "setting",
}  # fmt: skip
# Capitalised words that are not people: sentence openers, calendar words, document
# headings, and products that show up in postmortems.
_NON_NAMES = {
    "the", "a", "an", "our", "their", "his", "her", "my", "your", "its", "then", "when",
    "after", "before", "during", "while", "because", "since", "once", "if", "also", "however",
    "meanwhile", "later", "finally", "eventually", "yesterday", "today", "tonight",
    "tomorrow", "overnight", "each", "every", "all", "both", "some", "no", "not", "in", "on",
    "at", "by", "for", "from", "to", "with", "without", "so", "but", "and", "or", "here",
    "there", "what", "why", "how", "where", "initially", "luckily", "unfortunately", "again",
    "summary", "impact", "timeline", "root", "cause", "detection", "mitigation", "resolution",
    "trigger", "diagnosis", "lessons", "note", "notes", "update", "action", "actions", "utc",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "weekend", "christmas", "easter",
}  # fmt: skip
_KNOWN_SYSTEMS = {
    "postgres", "postgresql", "mysql", "mariadb", "redis", "kafka", "zookeeper", "nginx",
    "envoy", "istio", "linkerd", "consul", "vault", "nomad", "terraform", "ansible", "puppet",
    "chef", "salt", "jenkins", "kubernetes", "docker", "helm", "argo", "argocd", "flux",
    "spinnaker", "prometheus", "grafana", "alertmanager", "datadog", "sentry", "splunk",
    "kibana", "elasticsearch", "opensearch", "logstash", "loki", "jaeger", "honeycomb",
    "pagerduty", "opsgenie", "slack", "jira", "confluence", "github", "gitlab", "bitbucket",
    "buildkite", "circleci", "heroku", "netlify", "vercel", "cloudflare", "fastly", "akamai",
    "stripe", "twilio", "sendgrid", "mailgun", "okta", "aws", "gcp", "azure", "google",
    "amazon", "microsoft", "apple", "android", "ios", "linux", "windows", "ubuntu", "debian",
    "python", "django", "celery", "rails", "sidekiq", "node", "java", "ruby", "rust",
    "cassandra", "mongo", "mongodb", "memcached", "rabbitmq", "airflow", "spark", "hadoop",
    "snowflake", "bigquery", "redshift", "cloudfront", "cloudwatch", "chrome", "safari",
    "firefox", "gunicorn", "uvicorn", "puma", "unicorn", "traefik", "haproxy", "varnish",
    "calico", "cilium", "etcd", "coredns", "renovate", "dependabot", "bazel", "gradle", "maven",
    "webpack", "playwright", "selenium", "cypress", "pytest", "statuspage", "atlantis", "pulumi",
    "packer", "flink", "pulsar", "nats", "tomcat", "apache", "teams", "zoom", "debrief",
    "kubelet", "karpenter", "cron",
}  # fmt: skip
_FILLERS = {
    "then", "also", "just", "again", "still", "both", "all", "even", "only", "later", "first",
    "had", "has", "have", "would", "could", "may", "might", "must", "will", "was", "were",
    "is", "are", "be", "been", "being", "got", "himself", "herself", "themselves", "ourselves",
    "myself", "yourself", "itself",
}  # fmt: skip
_DETERMINERS = {
    "the", "a", "an", "our", "their", "one", "another", "this", "that", "every", "his", "her",
    "my", "your",
}  # fmt: skip
# A word right before the verb that cannot be its subject, so the match is not a verb.
_NOT_SUBJECTS = _DETERMINERS | {
    "of", "in", "for", "with", "to", "on", "by", "from", "about", "into", "onto", "over",
    "under", "than", "two", "three", "several", "many", "few", "some", "any", "those",
    "these", "its", "his", "her", "my", "your",
}  # fmt: skip
_NEGATIONS = {"not", "no", "never", "without", "nobody", "none", "nor"}
_COORDINATING = {"and", "but", "or", "nor", "yet"}
# Noun endings that rule out a personal name even when capitalised ("Replication failed to").
_NOUN_SUFFIXES = ("tion", "sion", "ment", "ness", "ity", "ics", "ency", "ogy", "ism", "ware")

_TOKEN = re.compile(r"@[\w.-]*\w|[^\W_](?:[\w'’-]*[^\W_])?")
# Where a clause starts: the subject of a verb is looked for after the last of these.
_BOUNDARY = re.compile(
    r"[.!?](?=[\s\"'”’)\]*_]|$)|[;:,()\[\]{}|\n\"“”—–]|\s-\s"
    r"|\b(?:and|but|or|nor|yet|so|because|since|when|whenever|while|after|before|until"
    r"|although|though|if|once|whereas|whilst)\b",
    re.IGNORECASE,
)
# Where the object of a verb ends, for suggestions like "a deploy could skip {object}".
_OBJECT_END = re.compile(
    r"[.;:!?,()\[\]\n\"“”—–]|\s-\s|\s(?:because|when|after|before|and|but|so|while|until"
    r"|which|since|although|though|during|despite|even)\b",
    re.IGNORECASE,
)
_MAX_CLAUSE = 300
_QUOTES = "\"'“”‘’`«»"
_CODE_OR_URL = re.compile(
    r"^(`{3,}|~{3,})[^\n]*\n.*?^\1[ \t]*$"  # fenced code block
    r"|`[^`\n]+`"  # inline code
    r"|\b(?:https?|ftp)://[^\s<>)\]]+"  # bare URL
    r"|\]\([^)\s]*\)",  # Markdown link target
    re.DOTALL | re.MULTILINE,
)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern:
    # Word boundaries that also respect handles, hyphens and apostrophes ("blame-free").
    return re.compile(rf"(?<![\w@'’-])(?:{pattern})(?![\w'’-])", re.IGNORECASE)


def lint_text(
    text: str, *, rules: Iterable[Rule] | None = None, system_names: Iterable[str] = ()
) -> list[Finding]:
    """Find blame-oriented wording in one piece of text, in reading order."""
    if not text:
        return []
    scan = _mask(text)
    context = _Context(scan, frozenset(name.lower() for name in system_names))
    findings = []
    for rule in RULES if rules is None else rules:
        for match in _compile(rule.pattern).finditer(scan):
            finding = _check(rule, match, text, context)
            if finding:
                findings.append(finding)
    return _without_overlaps(findings)


def lint_document(
    sections: Mapping[str, str],
    *,
    rules: Iterable[Rule] | None = None,
    system_names: Iterable[str] = (),
) -> dict[str, list[Finding]]:
    """Lint each section of a document; every key comes back, with [] when it is clean."""
    rules = list(RULES if rules is None else rules)
    system_names = tuple(system_names)
    return {
        key: lint_text(value or "", rules=rules, system_names=system_names)
        for key, value in sections.items()
    }


class _Context:
    """The scanned text with its clause boundaries, shared by all rules."""

    def __init__(self, text: str, system_names: frozenset[str]):
        self.text = text
        self.system_names = system_names
        self.boundaries = [(m.start(), m.end()) for m in _BOUNDARY.finditer(text)]
        self.boundary_ends = [end for _, end in self.boundaries]

    def clause_start(self, pos: int) -> tuple[int, int]:
        """Start of the clause holding pos, and the index of the boundary before it (-1)."""
        index = bisect_right(self.boundary_ends, pos) - 1
        start = self.boundaries[index][1] if index >= 0 else 0
        # A subject sits close to its verb; the cap keeps unpunctuated walls of text linear.
        return max(start, pos - _MAX_CLAUSE), index

    def tokens(self, start: int, end: int) -> list[tuple[int, str]]:
        return [(m.start(), m.group()) for m in _TOKEN.finditer(self.text, start, end)]

    def at_sentence_start(self, pos: int) -> bool:
        # Walk back over bullets, timestamps and emphasis to the previous sentence end.
        i = pos
        while i > 0:
            ch = self.text[i - 1]
            if ch in ".!?\n:|":
                return True
            if ch.isalpha():
                return False
            i -= 1
        return True

    def classify(self, word: str, pos: int) -> str:
        return _classify_word(
            word, sentence_start=self.at_sentence_start(pos), system_names=self.system_names
        )


def _check(rule: Rule, match: re.Match, original: str, context: _Context) -> Finding | None:
    start, end = match.span()
    if _is_quoted(original, start, end):
        return None
    for name, value in match.groupdict().items():
        if (
            name.startswith("person")
            and value
            and context.classify(value, match.start(name)) != _PERSON
        ):
            return None
    if rule.subject == ANY:
        if _negated(context, start):
            return None
    else:
        kind, subject_start = _subject(context, start)
        if kind == _OTHER or (kind == _UNKNOWN and rule.subject == PERSON):
            return None
        if subject_start is not None:
            start = subject_start
    values = {k: v for k, v in match.groupdict().items() if v}
    values["object"] = _object(original, end) or "it"
    return Finding(
        rule=rule.id,
        start=start,
        end=end,
        text=original[start:end],
        message=rule.why,
        suggestion=rule.suggestion.format_map(_Blank(values)),
    )


class _Blank(dict):
    """Placeholders a match did not fill read as 'it' rather than raising."""

    def __missing__(self, key):
        return "it"


def _subject(context: _Context, verb_start: int) -> tuple[str, int | None]:
    """Classify the subject of the verb at verb_start; also return where the subject starts."""
    clause_start, boundary = context.clause_start(verb_start)
    tokens = context.tokens(clause_start, verb_start)
    while tokens and _is_filler(tokens[-1][1]):
        tokens.pop()
    if not tokens:
        return _inherited_subject(context, boundary), None

    pos, head = tokens[-1]
    lower = head.lower()
    if lower in {"who", "that", "which"} and len(tokens) >= 2:
        # A relative pronoun stands for the noun before it: "the engineer who forgot".
        kind = context.classify(tokens[-2][1], tokens[-2][0])
        if kind != _UNKNOWN:
            return kind, _phrase_start(tokens[:-1])
    if lower in _NOT_SUBJECTS:
        return _OTHER, None  # an adjective in a noun phrase: "found a forgotten cron job"
    if lower == "call" and len(tokens) >= 2 and tokens[-2][1].lower() == "on":
        return _PERSON, _phrase_start(tokens[:-1])
    kind = context.classify(head, pos)
    before = tokens[-2] if len(tokens) >= 2 else None
    # "the Postgres operator" is a Kubernetes controller, not a person.
    if kind == _PERSON and lower == "operator" and before:
        kind = _OTHER if context.classify(before[1], before[0]) == _OTHER else kind
    # People are named, pronouns or listed roles; "the design", "a guard rail" are things.
    if kind == _UNKNOWN and head.islower():
        kind = _OTHER if any(w.lower() in _DETERMINERS for _, w in tokens[-4:-1]) else kind
    return kind, (_phrase_start(tokens) if kind == _PERSON else None)


def _inherited_subject(context: _Context, boundary: int) -> str:
    """A clause after 'and'/'but' without a subject shares the previous clause's subject."""
    if boundary < 0:
        return _UNKNOWN
    b_start, b_end = context.boundaries[boundary]
    if context.text[b_start:b_end].lower() not in _COORDINATING:
        return _UNKNOWN
    previous_start, _ = context.clause_start(b_start)
    for pos, word in context.tokens(previous_start, min(b_start, previous_start + 100))[:4]:
        if word.lower() in _DETERMINERS or _is_filler(word):
            continue
        kind = context.classify(word, pos)
        if kind != _UNKNOWN:
            return kind
    return _UNKNOWN


def _phrase_start(tokens: list[tuple[int, str]]) -> int:
    """Where the subject phrase begins: 'Dana Whitfield', 'the on-call engineer'."""
    pos, head = tokens[-1]
    if head.startswith("@") or head.lower() in _PERSON_PRONOUNS:
        return pos
    if _is_role(head.lower()) or head.lower() == "call":
        for i in range(len(tokens) - 2, max(len(tokens) - 5, -1), -1):
            word = tokens[i][1]
            if word.lower() in _DETERMINERS or word.endswith(("'s", "’s")):
                return tokens[i][0]
        return pos
    start = pos
    for earlier_pos, word in reversed(tokens[:-1]):
        if _name_shaped(word) and word.lower() not in _NON_NAMES | _KNOWN_SYSTEMS:
            start = earlier_pos
        else:
            break
    return start


def _classify_word(word: str, *, sentence_start: bool, system_names: frozenset[str]) -> str:
    if word.startswith("@"):
        return _PERSON
    base = re.sub(r"['’]s?$", "", word)
    lower = base.lower()
    if not base:
        return _UNKNOWN
    if lower in _PERSON_PRONOUNS:
        return _PERSON
    if lower in _OTHER_PRONOUNS:
        return _OTHER
    known_system = lower in system_names or lower in _KNOWN_SYSTEMS
    if _is_role(lower) and not (known_system and not base.islower()):
        return _PERSON  # "teams" the people; "Teams" the product falls through
    if known_system:
        return _OTHER
    if any(form in _SYSTEM_NOUNS or form in _AFFECTED for form in _singulars(lower)):
        return _OTHER
    if any(ch.isdigit() for ch in base):
        return _OTHER  # S3, EC2, v2
    if any(form.endswith(_NOUN_SUFFIXES) for form in _singulars(lower)):
        return _OTHER  # "replication", "validation": abstract nouns are never people
    if len(lower) >= 6 and lower.endswith("ing"):
        return _OTHER  # "Staging", "Billing"; short names such as "Ming" stay names
    if not base[0].isupper():
        return _UNKNOWN
    if lower in _NON_NAMES:
        return _UNKNOWN
    if not _name_shaped(base):
        return _OTHER  # PagerDuty, AWS: capitalised like a name but shaped like a product
    if sentence_start and _looks_plural(lower):
        return _UNKNOWN  # "Deploys failed to...": capitalised only because it opens the sentence
    return _PERSON


def _is_role(lower: str) -> bool:
    return any(form in _ROLES for form in _singulars(lower))


def _singulars(word: str) -> list[str]:
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return forms


def _looks_plural(lower: str) -> bool:
    if not lower.endswith("s") or lower.endswith(("ss", "us", "is", "as", "os")):
        return False
    if lower.endswith("es"):
        return lower.endswith(("ies", "ces", "ges", "tes", "des", "ses", "xes", "ches", "shes"))
    return True


def _name_shaped(word: str) -> bool:
    """Titlecase letters, allowing O'Brien, Anne-Marie, McDonald, DeShawn."""
    if len(word) < 2 or not word[0].isupper():
        return False
    for i, ch in enumerate(word[1:], start=1):
        if ch in "'’-":
            continue
        if not ch.isalpha():
            return False
        if ch.isupper() and word[i - 1] not in "'’-" and word[:i] not in _NAME_PREFIXES:
            return False
    return True


_NAME_PREFIXES = {"Mc", "Mac", "De", "Di", "Da", "Le", "La", "Van", "Von"}


def _is_filler(word: str) -> bool:
    lower = word.lower()
    if lower in {"will", "may"} and not word.islower():
        return False  # Will and May are names too
    return lower in _FILLERS or (word.islower() and len(word) > 3 and word.endswith("ly"))


def _negated(context: _Context, start: int) -> bool:
    """'not human error', 'no blame', 'nobody was at fault' mention blame without assigning it."""
    clause_start, _ = context.clause_start(start)
    for _, word in context.tokens(clause_start, start)[-4:]:
        lower = word.lower()
        if lower in _NEGATIONS or lower.endswith(("n't", "n’t")):
            return True
    return False


def _is_quoted(text: str, start: int, end: int) -> bool:
    return start > 0 and end < len(text) and text[start - 1] in _QUOTES and text[end] in _QUOTES


def _object(text: str, end: int) -> str:
    """The rest of the clause after a match, at most eight words, for suggestions."""
    window = min(len(text), end + _MAX_CLAUSE)
    stop = _OBJECT_END.search(text, end, window)
    rest = text[end : stop.start() if stop else window]
    words = rest.replace("*", " ").replace("_", " ").split()
    return " ".join(words[:8])


def _mask(text: str) -> str:
    """Blank out code and URLs (keeping offsets and line breaks) so they are never linted."""

    def blank(match: re.Match) -> str:
        return re.sub(r"[^\n]", "0", match.group())

    return _CODE_OR_URL.sub(blank, text)


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep one finding per span: the earliest, and of those the longest."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept
