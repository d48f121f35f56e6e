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

- ``OBJECT``: blame when a person follows within a few words ("caused by Valentina", "remind
  Dmitri to", "the culprit was the intern's script").
- ``GROUP``: the pattern captures the subject as ``(?P<subj>...)``, for word orders the
  subject finder does not read ("if the DBA had taken a snapshot", "had Linh followed...").

A rule may also carry a ``cue``: a pattern the same sentence must contain. Verbs that are
ordinary work ("deployed", "ran", "approved") are blame only when the sentence says something went
wrong ("the wrong branch", "without review", "against production", "...that took down
checkout"), and never when it says the action limited the damage ("to stop the errors", "and
traffic recovered").

A pattern may capture a named group starting with ``person`` (``(?P<person>...)``); the rule then
only fires when that word is a person ("Bob's fault", not "the network's fault"). A suggestion may
use ``{object}``, the rest of the clause after the match ("skipped the canary" -> "the canary"),
and any other named group of the pattern. Teams extend the check by appending to ``RULES`` or by
passing ``rules=`` to ``lint_text``. Patterns are matched against the text with ASCII letters
lower-cased, so write them in lower case.

Cost: about 1–2 ms a sentence. A long text is checked paragraph by paragraph and each paragraph's
result is remembered in the process, so saving a large section again re-checks only what changed;
pages never check at all, they read what was stored at save time (postmortems/checks.py).

How the subject is found: the words between the start of the clause (sentence end, punctuation,
or a conjunction such as "and", "because", "when") and the verb, minus adverbs and auxiliaries
("then", "accidentally", "had"). The last word is the head. It is a person when it is an
@handle, a personal pronoun (I, we, he, she, you, someone, everyone), a role ("the on-call
engineer", "the DBA", "the platform team") or a capitalised, name-shaped word that is not on the
stop-list of capitalised non-names (The, Monday, Postgres, Kafka, Terraform...). A word from the
organisation's directory (``people=``, read once by the caller) or from the list of common first
names of many cultures (data/first_names.txt) is a person in any case and position ("so kwame
restarted it"); a department written as a name ("Marketing", "QA", "DevOps") is a group of
people. CamelCase,
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
- A person's change as the subject is flagged only with a failure verb ("Dana's typo blocked all
  traffic"); "Dana's fix restored checkout" is not.
- Negation is only looked for just before noun rules ("not human error", "no blame"), not in
  verb rules ("Dana didn't forget" is flagged).
- Code spans, fenced code blocks and URLs are ignored, so log lines and ``git blame`` links do not
  count. Phrases wrapped in quotes ('avoid "human error"'), wording inside a quotation, and
  sentences that set blame aside ("rather than asking why the on-call missed the page") are
  mentions, not uses.
- Minimisers are flagged only in blaming shapes ("just a typo", "simply forgot", "only had to",
  "obviously"), so "just before 10:00" and "the fix was simple" pass.

Measured on the labelled corpus in tests/corpus/blame (``make eval``, docs/evaluation.md).
"""

from __future__ import annotations

import hashlib
import re
import string
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

# Subject policies of a Rule.
ANY = "any"
PERSON = "person"
NOT_SYSTEM = "not_system"
# A person among the few words after the match: "caused by Valentina", "remind Dmitri to".
OBJECT = "object"
# The pattern captures the subject itself as (?P<subj>...): "if the DBA had taken...".
GROUP = "group"

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
    # A pattern the sentence holding the match must also contain ("wrong", "without", "that
    # took down..."): for verbs that are ordinary work unless something in the sentence went
    # wrong ("Dana deployed the fix" / "Dana deployed the wrong branch").
    cue: str = ""
    # A pattern that cancels the rule when the sentence contains it: work that limited the
    # damage ("disabled the flag to stop the errors").
    unless: str = ""


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
# Something in the sentence went wrong: for verbs that are ordinary work otherwise.
_WENT_WRONG = (
    r"\b(?:wrong|bad|broken|faulty|buggy|untested|unreviewed|without|instead of|by "
    r"mistake|by hand|against (?:the )?(?:prod|production|live)|on (?:the )?(?:live|"
    r"production|prod)\b|(?:during|at|in) peak|on a friday|at once|every (?:host|node|server|"
    r"region|machine|instance|pod)|all (?:the )?(?:hosts|nodes|servers|regions)|straight to|"
    r"took down|brought down|fell over|outage|start(?:ed|s)? (?:failing|returning|erroring|"
    r"timing out|to fail)|data loss|(?:had|has) not (?:read|reviewed|tested)|known (?:\w+ )*?"
    r"bugs|failing tests|anyway|went (?:back to sleep|offline|home)|(?:that|which|and) "
    r"(?:\w+ )?(?:took|locked|broke|overloaded|overwhelmed|hammered|crashed|deleted|dropped|"
    r"wiped|saturated|blocked|corrupted|caused|triggered|filled|flooded|brought|knocked|"
    r"exhausted|maxed)|hard-?coded|leaked|to \d{3,})"
)

# Work that ends or limits an outage: "disabled the flag to stop the errors".
_MITIGATING = (
    r"\b(?:to (?:stop|mitigate|recover|restore|reduce|contain|limit|free|relieve|unblock|shed"
    r"|fix|undo|drain|protect)|as a (?:precaution|mitigation|workaround|stopgap)|(?:and|,) "
    r"(?:\w+ ){0,2}(?:recovered|returned to normal|came back|stabili[sz]ed|subsided)"
    r"|which (?:restored|fixed|ended|stopped|resolved|brought back))\b"
)

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
    # --- A person as the one whose action failed ---------------------------------------------
    Rule(
        id="person-harm",
        pattern=r"(?:delet(?:ed|es)|dropped(?! the ball)|drops|wip(?:ed|es)|truncat(?:ed|es)"
        r"|corrupt(?:ed|s)"
        r"|mis-?configur(?:ed|es)|mis-?rout(?:ed|es)|took down|takes down|brought down|brings "
        r"down|knocked (?:out|over)|crash(?:ed|es)|overload(?:ed|s)|hammer(?:ed|s)|saturat(?:ed|es)"
        r"|force-?push(?:ed|es)|bypass(?:ed|es)|overr(?:ode|ides)|circumvent(?:ed|s)|disabl(?:ed|es)"
        r"|(?:turned|switched|shut) off|silenc(?:ed|es)|powered (?:off|down)|unplugg(?:ed)"
        r"|hard-?cod(?:ed|es)|leak(?:ed|s)"
        r"|left (?:\w+ ){1,3}(?:open|enabled|exposed|unlocked|public)"
        r"|let (?:\w+ ){1,3}(?:fill|lapse|expire|run out|rot|drift|slip)|fill(?:ed|s) (?:up )?the"
        r"|introduc(?:ed|es) (?:a|an|the|this|that) (?:\w+ ){0,2}(?:bug|leak|regression|race|error"
        r"|deadlock|vulnerability|typo|loop|problem|issue))",
        subject=PERSON,
        unless=_MITIGATING,
        why="Makes a person the one whose action caused the failure; the same action was open "
        "to anyone, so the finding is what let it have this impact.",
        suggestion="describe what the action did and what allowed it without a check, e.g. "
        "'the console let {object} be changed in production without confirmation'",
    ),
    Rule(
        id="person-action-went-wrong",
        pattern=r"(?:deploy(?:ed|s)|push(?:ed|es)|merg(?:ed|es)|ran|runs|appli(?:ed|es)"
        r"|restart(?:ed|s)|reboot(?:ed|s)|chang(?:ed|es)|edit(?:ed|s)|typed|execut(?:ed|es)"
        r"|approv(?:ed|es)|signed off|ship(?:ped|s)|launch(?:ed|es)|releas(?:ed|es)|promis(?:ed|es)"
        r"|bump(?:ed|s)|flip(?:ped|s)|updat(?:ed|es)|enabl(?:ed|es)|turned on|renam(?:ed|es)"
        r"|remov(?:ed|es)|upgrad(?:ed|es)|patch(?:ed|es)|rolled out|kill(?:ed|s)|terminat(?:ed|es)"
        r"|modifi(?:ed|es)|committ?(?:ed|s)|wrote|revok(?:ed|es)|rotat(?:ed|es)|acknowledg(?:ed|es)"
        r"|clos(?:ed|es)|scaled|configured|copied|pasted|migrated|purg(?:ed|es)|flush(?:ed|es)"
        r"|set|started|stopped|opened|added|replac(?:ed|es)|deletes)",
        subject=PERSON,
        cue=_WENT_WRONG,
        unless=_MITIGATING,
        why="Makes a person's action the cause; the question is why the action was possible, "
        "looked right at the time, and was not caught.",
        suggestion="describe the change and the missing guard, e.g. 'a change to {object} "
        "reached production without a check that would have stopped it'",
    ),
    Rule(
        id="person-possessive-harm",
        pattern=r"(?P<person>@[\w.-]*\w|[A-Z][\w'’-]*)['’]s (?:[\w-]+ ){0,2}(?:typo|query|script"
        r"|change|commit|hotfix|fix|deploy|deployment|config|configuration|command|migration|code"
        r"|patch|pr|edit|push|update|rollout|release|cleanup|branch|merge|work)",
        cue=r"\b(?:took|broke|blocked|crash(?:ed)?|corrupted|wiped|deleted|dropped|saturated|"
        r"overloaded|caused|triggered|locked|filled|knocked|brought|exhausted|leaked|exposed|"
        r"led to|culprit|root cause|outage)\b",
        unless=_MITIGATING,
        why="Names whose change failed; the change is the fact, the person is incidental, and "
        "naming them makes the next author hide details.",
        suggestion="name the change, not its author, and what let it reach production, e.g. "
        "'a typo in the firewall rule was applied without syntax validation'",
    ),
    Rule(
        id="cleft-person",
        pattern=r"it was (?P<person>@[\w.-]*\w|[A-Z][\w'’-]*) (?:who|that)|it was (?:the|a|an|"
        r"our) (?:[\w-]+ )?(?P<person_role>[\w-]+) (?:who|that)",
        why="'It was X who...' singles out a person as the cause.",
        suggestion="describe the action without the actor and what made it possible, e.g. 'the "
        "kill switch could be flipped without confirmation'",
    ),
    Rule(
        id="caused-by-person",
        pattern=r"(?:caused|introduced|triggered|broken|dismissed|disabled|deleted|dropped|bypassed"
        r"|overridden|silenced|wiped|corrupted|misconfigured)(?: and \w+ed)? by",
        subject=OBJECT,
        why="Naming who did it makes the person the cause; the same step was open to anyone.",
        suggestion="drop the agent and name what allowed it, e.g. 'the alert could be dismissed "
        "without a second look'",
    ),
    Rule(
        id="went-wrong-by-person",
        pattern=r"(?:written|shipped|deployed|pushed|merged|approved|started|run|made|changed"
        r"|edited)(?: and (?:\w+ed|written|shipped|run))? by",
        subject=OBJECT,
        cue=_WENT_WRONG,
        unless=_MITIGATING,
        why="Naming who did it makes the person the cause; the same step was open to anyone.",
        suggestion="drop the agent and name what allowed it, e.g. 'the change was deployed "
        "without a review step'",
    ),
    # --- Judgement of a person's care, skill, attention or speed -----------------------------
    Rule(
        id="judgement-of-person",
        pattern=r"lazy|laziness|lazily|slapdash|haphazard(?:ly)?|amateurish|unprofessional(?:ly)?"
        r"|irresponsibl[ey]|irresponsibility|inexperienced|clueless|complacen(?:t|cy)"
        r"|indecisive(?:ness)?|hast(?:y|ily)|half[- ]asleep|asleep|distracted|inattentive"
        r"|cavalier|cowboy|heedless(?:ly)?|panick(?:ed|ing)|cut(?:ting)?[- ]corners|rushed(?! to)"
        r"|attention to detail|(?:poor|bad|questionable|shoddy|sloppy) (?:judge?ment|attention|"
        r"discipline|decision[- ]making|decisions?|workmanship|choices?)",
        why="Judges a person's care, skill or attention; a judgement is not a contributing "
        "factor and no action item can fix it.",
        suggestion="describe what the person saw and had to work with at the time, e.g. 'the "
        "change was made under a launch deadline with no second reviewer available'",
    ),
    Rule(
        id="lack-of-skill",
        pattern=r"lack(?:s|ed|ing)? (?:of )?(?:the |any |enough |basic )?(?:care|attention|"
        r"skills?|experience|diligence|judge?ment|discipline|rigou?r|competence|professionalism|"
        r"focus|common sense)|(?:does|did|do)(?:n['’]t| not) have (?:the |enough |any )?(?:skills?"
        r"|experience|knowledge|competence|judge?ment)"
        r"|(?:not|\w+n['’]t|never) (?:\w+ )?(?:experienced"
        r"|competent|skilled|qualified|careful|senior|attentive|diligent|thorough|good) enough"
        r"|more (?:careful|attentive|experienced|diligent|competent|senior|conscientious|thorough"
        r"|alert|skilled|focused) (?:[\w-]+ )?(?:engineer|reviewer|operator|person|developer|"
        r"on-?call|team|responder|admin|dba|sre|human|people|author)s?|(?:a )?(?:little|bit|"
        r"touch) (?:more )?(?:care|diligence|attention|thought|caution)|more (?:care|diligence|"
        r"attention|caution) (?:from|by|on the part of)",
        why="Puts the cause in a person's skill or care; a more skilled person would face the "
        "same trap next time, so describe the trap.",
        suggestion="say what made the task hard or the risk invisible, e.g. 'failover is done "
        "by hand twice a year and the runbook does not cover this case'",
    ),
    Rule(
        id="too-slow",
        pattern=r"(?:took|takes|taking|was|were|is|are|been|reacted|responded|acted|moved"
        r"|escalated|answered) (?:far |way |much |a bit |a little |simply )?too (?:slow(?:ly)?"
        r"|long|late)",
        subject=PERSON,
        why="Judges a person's speed; how fast anyone can respond depends on what the alert, "
        "the rota and the tools gave them.",
        suggestion="give the times and what slowed the response, e.g. 'the page reached the "
        "on-call 18 minutes after the alert because the escalation policy waited 15 minutes'",
    ),
    Rule(
        id="wasted-time",
        pattern=r"wasted (?:\w+ ){0,2}(?:minutes|time|hours)|made (?:the (?:outage|incident|"
        r"situation|problem)|it|things) worse",
        subject=PERSON,
        why="Judges how a person spent the response; what they tried made sense with what they "
        "knew then.",
        suggestion="describe what was tried, in what order, and what would have pointed to the "
        "cause sooner",
    ),
    Rule(
        id="doesnt-understand",
        pattern=r"(?:doesn['’]?t|does not|didn['’]?t|did not|don['’]?t|do not) (?:really |even |"
        r"fully )?(?:understand|know what|know how|answer|reply|respond|pick up|show up)",
        subject=PERSON,
        why="Says a person did not understand or respond; what they could know and reach "
        "depended on the docs, the paging and the tools.",
        suggestion="say what was missing, e.g. 'the caching behaviour is documented nowhere "
        "outside the code' or 'the page went to a phone that was off'",
    ),
    # --- Counterfactuals about people --------------------------------------------------------
    Rule(
        id="if-person-had",
        pattern=r"(?:if(?: only)?|unless) (?P<subj>[^,.;:!?\n]{1,60}?) had(?:n['’]t| not| never)? "
        r"(?!been\b|had\b|a\b|an\b|the\b|no\b|any\b|to\b|enough\b|more\b)\w+",
        subject=GROUP,
        why="A counterfactual about a person ('if X had...') is hindsight: it judges a choice by "
        "an outcome nobody knew at the time.",
        suggestion="describe what the person knew when they chose, and what would have made "
        "the safer step the obvious one",
    ),
    Rule(
        id="had-person",
        pattern=r"(?:^|(?<=[\n.;:!?]\s)|(?<=^\s))had (?P<subj>(?:the |a |an |our |that |this )?"
        r"(?:[\w'’-]+ ){0,2}?[\w@'’.-]+) (?:\w+ly )?(?:\w+ed|ran|took|read|made|kept|sent|set|run"
        r"|seen|known|caught|thought|built|written|got)\b",
        subject=GROUP,
        why="A counterfactual about a person ('had X done...') is hindsight: it judges a choice "
        "by an outcome nobody knew at the time.",
        suggestion="describe what the person knew when they chose, and what would have made "
        "the safer step the obvious one",
    ),
    Rule(
        id="could-have",
        pattern=r"could(?:n['’]t)? have (?:\w+ly )?(?:avoided|prevented|caught|spotted|stopped"
        r"|noticed|seen|checked|known|asked|waited|fixed|rolled back|escalated)|needed to",
        subject=PERSON,
        why="Says what a person could or needed to do, judged with hindsight; ask what would "
        "have made it happen without relying on them.",
        suggestion="name the check or prompt that would have done it, e.g. 'the command did not "
        "show which environment it targeted'",
    ),
    Rule(
        id="anyone-would-have",
        pattern=r"(?:anyone|anybody|everyone|someone|any (?:\w+ )?(?:engineer|reviewer|operator"
        r"|developer|responder|one))\b[^.;:!?\n]{0,60}?\b(?:would|could) have (?:\w+ly )?"
        r"(?:caught|spotted|noticed|seen|stopped|known|avoided|prevented|rolled back|checked"
        r"|realised|realized)",
        why="'Anyone would have caught it' is hindsight; those who were there did not, which "
        "is the thing to explain.",
        suggestion="describe why it was hard to see at the time, e.g. 'the graph that showed it "
        "was one of forty on the dashboard'",
    ),
    # --- Minimising words --------------------------------------------------------------------
    Rule(
        id="obviously",
        pattern=r"obviously|should (?:have )?known better|(?:ought to|should) know better"
        r"|know better than|should have been obvious",
        why="'Obviously' is hindsight: it makes the outcome look easy to foresee, which it was "
        "not for the people there.",
        suggestion="drop the word and say what signal existed and why it did not stand out",
    ),
    Rule(
        id="simple-mistake",
        pattern=r"(?:simple|silly|stupid|dumb|trivial|basic|elementary|rookie|beginner['’]?s?"
        r"|newbie|noob|schoolboy|amateur|obvious|(?:easily |entirely |totally |completely )?"
        r"avoidable|(?:easily )?preventable) (?:copy-?paste )?(?:mistakes?|errors?|slips?"
        r"|oversights?|typos?|blunders?|goofs?|lapses?)",
        why="Calling it a simple mistake minimises it and points at the person; if it was that "
        "easy to make, the system should have caught it.",
        suggestion="describe why the slip was easy to make and what let it through, e.g. 'the "
        "two flags differ by one character and nothing validates the value'",
    ),
    Rule(
        id="just-a",
        pattern=r"(?:it|this|that|the (?:root )?(?:cause|problem|issue)) (?:was|is) (?:just|"
        r"simply|merely|only)(?= (?:a|an|one)\b)"
        r"|nothing (?:more |else )?(?:than|but) (?:a |an )?(?:[\w-]+ ){0,2}"
        r"(?:typo|mistake|error|slip|oversight)|(?:just|simply|merely|only) (?:had|needed|has"
        r"|have|need) to|all (?:[\w-]+ ){1,3}(?:had|needed|has|have|need) to do (?:was|is)"
        r"|(?:just|simply|merely) (?:forgot|skipped|missed|ignored|didn['’]?t|did not|failed"
        r"|neglected|overlooked)|(?:of course|clearly) (?:[\w-]+ ){0,4}?(?:should|could|ought)",
        why="'Just' and 'simply' make a step sound trivial; it was not trivial for the people "
        "there, or it would have happened.",
        suggestion="drop the minimiser and say what made the step easy to miss",
    ),
    # --- Culprits, responsibility and sanctions ----------------------------------------------
    Rule(
        id="culprit",
        pattern=r"culprits?|guilty",
        subject=OBJECT,
        why="A culprit is someone to blame; the finding is the mechanism.",
        suggestion="state the mechanism, e.g. 'the script's default target was production'",
    ),
    Rule(
        id="responsible-for-outage",
        pattern=r"(?:was|were|is|are|being|been) (?:solely |directly |fully |partly |entirely |"
        r"ultimately )?(?:responsible|accountable) for (?:the |this |that |our |all )?(?:[\w-]+ )?"
        r"(?:outage|incident|loss|failure|breach|downtime|problem|mess|errors?|disruption|leak"
        r"|damage|crash)",
        subject=PERSON,
        why="Holding a person responsible for the outage ends the analysis; several conditions "
        "had to line up for it to happen.",
        suggestion="list the conditions that had to be true, e.g. 'the job ran without a "
        "backup and the restore had never been tested'",
    ),
    Rule(
        id="sanction",
        pattern=r"(?:written|verbal|formal|final) warning|disciplinary|reprimand(?:ed|s)?|(?:was"
        r"|were|been|got|be|being) (?:fired|sacked|let go|suspended|demoted|written up)"
        r"|performance improvement plan|went (?:behind|around) (?:[\w'’-]+ ){0,2}backs?"
        r"|went rogue|going rogue",
        why="Sanctions and accusations teach people to hide details; the next review learns less.",
        suggestion="describe the situation and the safeguard that was missing, not what "
        "happened to the person",
    ),
    Rule(
        id="retrain-remind",
        pattern=r"re-?train(?:ed|ing|s)?|remind(?:ed|ing)?|(?:tell|told|instruct(?:ed)?|warn(?:ed)?)"
        r"(?= (?:[\w@'’.-]+ ){1,3}(?:to|not to) (?:stop|be|always|never|follow|double-check|pay"
        r"|take more|think|slow))",
        subject=OBJECT,
        why="Retraining or reminding a person treats the person as the fault; a reminder does "
        "not survive the next busy night, a guard rail does.",
        suggestion="make the step enforced or automatic, e.g. 'the release tool refuses to run "
        "outside the window unless an override is recorded'",
    ),
    Rule(
        id="violated-policy",
        pattern=r"violat(?:ed|es)|disregard(?:ed|s)|flout(?:ed|s)",
        subject=PERSON,
        why="Says a person broke a rule; rules that are broken under pressure usually cost too "
        "much to follow, which is the finding.",
        suggestion="describe what made the rule hard to follow at the time, e.g. 'the freeze "
        "had no fast path for urgent fixes'",
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
    "individual", "consultant", "technician", "starter", "squad", "crew", "department", "dept",
    "supervisor", "architect", "designer", "specialist", "representative", "rep", "director",
    "boss", "vp", "cto", "ceo", "cio", "ciso", "junior", "senior", "newbie", "joiner", "trainee",
    "apprentice", "volunteer", "devs", "techie", "oncaller", "somebody",
}  # fmt: skip
# Departments and functions: people when written as a name ("Marketing launched...", "QA
# missed...") or before a team word; in lower case mid-sentence they are usually things
# ("the platform", "support for IPv6").
_DEPARTMENTS = {
    "sales", "marketing", "finance", "legal", "support", "ops", "devops", "sre", "qa", "it",
    "hr", "infra", "infrastructure", "platform", "security", "product", "growth", "engineering",
    "networking", "procurement", "compliance", "accounting", "operations", "helpdesk",
    "secops", "netops", "dataops", "mlops", "bizops", "success",
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
_DEPARTMENT_PHRASES = {
    "customer success", "customer support", "customer service", "tech support", "the business",
    "site reliability", "release engineering", "field engineering",
}  # fmt: skip
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mx"}


@lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    """Common first names of many cultures (data/first_names.txt), so a name is recognised in
    lower case and at the start of a sentence, where capitals say nothing."""
    path = Path(__file__).parent / "data" / "first_names.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


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
# A sentence that sets blame aside mentions it without assigning it: "Rather than asking why
# the on-call missed the page...", "This is not a story about someone forgetting a step".
_REJECTING = re.compile(
    r"\b(?:rather than|instead of|not (?:about|because|a story|a case|a question|who|whether)"
    r"|the question (?:is|was) not|(?:is|was|isn['’]t|wasn['’]t) (?:not )?about)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?=[\s\"'”’)\]*_]|$)|\n")
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
    # Rules run on an ASCII-lower-cased copy of the text, without IGNORECASE, which is about
    # half again as fast on long sections; [A-Z] in a pattern meant "a letter" there anyway.
    pattern = pattern.replace("[A-Z]", "[a-z]")
    return re.compile(rf"(?<![\w@'’-])(?:{pattern})(?![\w'’-])")


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Long texts are linted paragraph by paragraph, each remembered, so saving a large section
# again after editing one paragraph only checks that paragraph.
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_SPLIT_FROM_CHARS = 4000


def lint_text(
    text: str,
    *,
    rules: Iterable[Rule] | None = None,
    system_names: Iterable[str] = (),
    people: Iterable[str] = (),
) -> list[Finding]:
    """Find blame-oriented wording in one piece of text, in reading order.

    `people`: names from the organisation's directory (first names, last names, usernames),
    read once by the caller, so that any of them counts as a person wherever it appears.
    """
    if not text:
        return []
    scan = _mask(text)
    systems = frozenset(name.lower() for name in system_names)
    names = directory_names(people)
    if rules is not None or len(text) < _SPLIT_FROM_CHARS:
        return _lint(text, scan, list(RULES if rules is None else rules), systems, names)
    findings = []
    start = 0
    for gap in [*_PARAGRAPH.finditer(scan), None]:
        end = gap.start() if gap else len(scan)
        if scan[start:end].strip():
            for f in _lint_paragraph(text[start:end], scan[start:end], systems, names):
                findings.append(
                    Finding(f.rule, f.start + start, f.end + start, f.text, f.message, f.suggestion)
                )
        start = gap.end() if gap else end
    return findings


@lru_cache(maxsize=8192)
def _lint_paragraph(
    text: str, scan: str, systems: frozenset[str], names: frozenset[str]
) -> tuple[Finding, ...]:
    return tuple(_lint(text, scan, RULES, systems, names))


def _lint(text: str, scan: str, rules, systems, names) -> list[Finding]:
    context = _Context(scan, systems, names)
    lowered = scan.translate(_ASCII_LOWER)
    findings = []
    for rule in rules:
        for match in _compile(rule.pattern).finditer(lowered):
            finding = _check(rule, match, text, context)
            if finding:
                findings.append(finding)
    return _without_overlaps(findings)


def lint_document(
    sections: Mapping[str, str],
    *,
    rules: Iterable[Rule] | None = None,
    system_names: Iterable[str] = (),
    people: Iterable[str] = (),
) -> dict[str, list[Finding]]:
    """Lint each section of a document; every key comes back, with [] when it is clean."""
    rules = list(RULES if rules is None else rules)
    system_names = tuple(system_names)
    people = tuple(people)
    return {
        key: lint_text(value or "", rules=rules, system_names=system_names, people=people)
        for key, value in sections.items()
    }


@lru_cache(maxsize=1)
def rules_signature() -> str:
    """Changes whenever the rules or the vocabulary change, so stored findings go stale then."""
    parts = [repr(RULES), repr(sorted(_first_names()))]
    for vocabulary in (_ROLES, _DEPARTMENTS, _SYSTEM_NOUNS, _NON_NAMES, _KNOWN_SYSTEMS, _FILLERS):
        parts.append(repr(sorted(vocabulary)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def directory_names(people: Iterable[str]) -> frozenset[str]:
    """Lower-cased single words of the directory's names ('Ana María' -> ana, maría)."""
    words = set()
    for name in people:
        for word in re.split(r"[\s,]+", (name or "").lower()):
            word = word.lstrip("@")
            if len(word) >= 2 and word not in _ENGLISH_WORDS:
                words.add(word)
    return frozenset(words)


class _Context:
    """The scanned text with its clause boundaries, shared by all rules."""

    def __init__(self, text: str, system_names: frozenset[str], people=frozenset()):
        self.text = text
        self.system_names = system_names
        self.people = people
        self.boundaries = [(m.start(), m.end()) for m in _BOUNDARY.finditer(text)]
        self.boundary_ends = [end for _, end in self.boundaries]
        self._sentence_ends: list[int] | None = None

    def sentence(self, pos: int) -> tuple[int, int]:
        """Bounds of the sentence (or line) holding pos."""
        if self._sentence_ends is None:
            self._sentence_ends = [m.end() for m in _SENTENCE_END.finditer(self.text)]
        index = bisect_right(self._sentence_ends, pos)
        start = self._sentence_ends[index - 1] if index else 0
        end = self._sentence_ends[index] if index < len(self._sentence_ends) else len(self.text)
        return start, end

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
            word,
            sentence_start=self.at_sentence_start(pos),
            system_names=self.system_names,
            people=self.people,
        )


def _check(rule: Rule, match: re.Match, original: str, context: _Context) -> Finding | None:
    start, end = match.span()
    if _is_quoted(original, start, end):
        return None
    # Group values from the text as written: capitals matter when telling names from words.
    groups = {
        name: context.text[match.start(name) : match.end(name)]
        for name, value in match.groupdict().items()
        if value
    }
    for name, value in groups.items():
        if name.startswith("person") and context.classify(value, match.start(name)) != _PERSON:
            return None
    sentence_start, sentence_end = context.sentence(start)
    if _mentioned_not_used(context.text, sentence_start, start, end, sentence_end):
        return None
    sentence = context.text[sentence_start:sentence_end]
    if rule.cue and not _compile_cue(rule.cue).search(sentence):
        return None
    if rule.unless and _compile_cue(rule.unless).search(sentence):
        return None
    if rule.subject == ANY:
        if _negated(context, start):
            return None
    elif rule.subject == OBJECT:
        if not _person_follows(context, end) or _negated(context, start):
            return None
    elif rule.subject == GROUP:
        subject = context.tokens(*match.span("subj"))
        while subject and _is_filler(subject[-1][1]):
            subject.pop()
        if not subject or context.classify(subject[-1][1], subject[-1][0]) != _PERSON:
            return None
    else:
        kind, subject_start = _subject(context, start)
        if kind == _OTHER or (kind == _UNKNOWN and rule.subject == PERSON):
            return None
        if subject_start is not None:
            start = subject_start
    values = {k: original[match.start(k) : match.end(k)] for k in groups}
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
    if kind != _PERSON and before and f"{before[1]} {head}".lower() in _DEPARTMENT_PHRASES:
        kind = _PERSON  # "customer success ignored the reports"
    # "the Postgres operator" is a Kubernetes controller, not a person.
    if kind == _PERSON and lower == "operator" and before:
        kind = _OTHER if context.classify(before[1], before[0]) == _OTHER else kind
    # People are named, pronouns or listed roles; "the design", "a guard rail" are things.
    if kind == _UNKNOWN and head.islower():
        kind = _OTHER if any(w.lower() in _DETERMINERS for _, w in tokens[-4:-1]) else kind
    return kind, (_phrase_start(tokens) if kind == _PERSON else None)


def _person_follows(context: _Context, end: int) -> bool:
    """A person among the next few words, before any thing: 'caused by the new hire'."""
    for pos, word in context.tokens(end, min(len(context.text), end + 60))[:4]:
        lower = word.lower()
        if lower in _DETERMINERS or lower in {"one", "of", "two", "both", "all", "new"}:
            continue
        if lower in {"anyone", "anybody", "everyone", "everybody"}:
            return False  # "could be bypassed by anyone" describes the system
        kind = context.classify(word, pos)
        if kind == _PERSON:
            return True
        if kind == _OTHER:
            return False
    return False


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


def _classify_word(
    word: str,
    *,
    sentence_start: bool,
    system_names: frozenset[str],
    people: frozenset[str] = frozenset(),
) -> str:
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
    if not known_system and (lower in _first_names() or (lower in people and not base.islower())):
        # A common first name in any case and position; a directory name when written as a
        # name (surnames such as Price or Long are words in lower case).
        return _PERSON
    if lower in _DEPARTMENTS and not base.islower():
        return _PERSON  # "Marketing launched...", "QA missed..."
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


# Directory words that are also ordinary English and would make every sentence a person's.
_ENGLISH_WORDS = {
    "will", "may", "mark", "bill", "grace", "hope", "rose", "summer", "frank", "sandy", "jack",
    "art", "max", "joy", "dawn", "faith", "june", "april", "august", "the", "and", "admin",
    "test", "user", "root", "bot", "can", "van", "von", "de", "la", "le", "da", "di", "del",
}  # fmt: skip


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
    for _, word in context.tokens(clause_start, start)[-6:]:
        lower = word.lower()
        if lower in _NEGATIONS or lower.endswith(("n't", "n’t")):
            return True
    return False


def _is_quoted(text: str, start: int, end: int) -> bool:
    return start > 0 and end < len(text) and text[start - 1] in _QUOTES and text[end] in _QUOTES


def _mentioned_not_used(text: str, s_start: int, start: int, end: int, s_end: int) -> bool:
    """Blame wording inside a quotation, or in a sentence that sets it aside, is a mention."""
    before, after = text[s_start:start], text[end:s_end]
    if _REJECTING.search(before):
        return True
    if before.count("“") > before.count("”") and "”" in after:
        return True
    return before.count('"') % 2 == 1 and '"' in after


@lru_cache(maxsize=64)
def _compile_cue(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


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
