import re

import pytest

from postmortems.blameless import (
    ANY,
    GROUP,
    NOT_SYSTEM,
    OBJECT,
    PERSON,
    RULES,
    Finding,
    Rule,
    lint_document,
    lint_text,
)

# (sentence, rule that must fire, exact span it must report)
BLAME = [
    ("Dana skipped the canary.", "person-skipped", "Dana skipped"),
    ("@bob ignored the disk space alert.", "person-ignored", "@bob ignored"),
    ("Dana forgot to run the migration.", "forgot", "Dana forgot"),
    ("Forgot to update the status page.", "forgot", "Forgot"),
    ("Dana failed to run the migration before deploying.", "person-failed-to", "Dana failed to"),
    (
        "The on-call engineer failed to escalate.",
        "person-failed-to",
        "The on-call engineer failed to",
    ),
    ("This was caused by human error.", "human-error", "human error"),
    ("Root cause: operator error.", "operator-error", "operator error"),
    ("Dana should have checked the dashboard.", "should-have", "Dana should have"),
    ("We should have rolled back sooner.", "should-have", "We should have"),
    ("Someone should have noticed the error rate.", "should-have", "Someone should have"),
    ("It was a careless mistake.", "careless", "careless"),
    ("The change was sloppy.", "sloppy", "sloppy"),
    ("This was negligence on the part of the release manager.", "negligence", "negligence"),
    ("We are not here to blame Dana, but she missed the page.", "person-missed", "she missed"),
    ("The reviewers blamed the author for the outage.", "blame", "blamed"),
    ("Honestly, it was Bob's fault.", "fault", "Bob's fault"),
    ("The team at fault has been told.", "fault", "at fault"),
    ("A mistake by the DBA dropped the index.", "mistake-by", "mistake by"),
    ("Dana didn't bother to check the logs.", "didnt-bother", "didn't bother"),
    ("The responder was not paying attention.", "not-paying-attention", "not paying attention"),
    ("@carol neglected the backlog of warnings.", "neglected", "@carol neglected"),
    ("Dana messed up the config.", "messed-up", "Dana messed up"),
    ("Bob broke production with a bad query.", "person-broke", "Bob broke"),
    ("Dana Whitfield skipped the load test.", "person-skipped", "Dana Whitfield skipped"),
    (
        "Then Dana accidentally deleted the production table.",
        "person-accidentally",
        "Dana accidentally deleted",
    ),
    ("He didn't check the rollout status.", "person-didnt", "He didn't check"),
    ("She ignored the warning in the deploy output.", "person-ignored", "She ignored"),
    ("The alert was ignored for forty minutes.", "passive-ignored", "alert was ignored"),
    ("The canary was skipped by @dana.", "passive-by-person", "was skipped by @dana"),
    ("The config step was forgotten.", "passive-lapse", "was forgotten"),
    ("Dana fat-fingered the CIDR range.", "fat-finger", "fat-fingered"),
    (
        "The payments team dropped the ball on the certificate renewal.",
        "dropped-the-ball",
        "dropped the ball",
    ),
    (
        "The engineer who forgot to renew the certificate was new.",
        "forgot",
        "The engineer who forgot",
    ),
    ("Dana rolled back the deploy but forgot to re-enable the flag.", "forgot", "forgot"),
    ("Dana deployed on Friday and skipped the canary.", "person-skipped", "skipped"),
    ("After the alert fired, @bob missed the page.", "person-missed", "@bob missed"),
    ("José failed to rotate the key.", "person-failed-to", "José failed to"),
    ("Yesterday Anne-Marie ignored the lint warning.", "person-ignored", "Anne-Marie ignored"),
    ("At 14:02 O'Brien skipped the review.", "person-skipped", "O'Brien skipped"),
    ("The developer should have tested it locally.", "should-have", "The developer should have"),
    ("Kim made a mistake in the firewall rule.", "person-made-mistake", "Kim made a mistake"),
    ("The operator overlooked the replication lag.", "overlooked", "The operator overlooked"),
    ("Carelessness during the migration caused the outage.", "careless", "Carelessness"),
    ("Root cause: Dana's mistake.", "mistake-by", "Dana's mistake"),
    (
        "Lack of attention by the on-call led to a long delay.",
        "not-paying-attention",
        "Lack of attention",
    ),
    ("The reviewer overlooked the missing index.", "overlooked", "The reviewer overlooked"),
    ("Nobody bothered to read the runbook.", "didnt-bother", "Nobody bothered"),
    ("We failed to notice the disk filling up.", "person-failed-to", "We failed to"),
    ("Dana and Bob ignored the pages.", "person-ignored", "Bob ignored"),
    ("He should've waited for the canary.", "should-have", "He should've"),
    ("The intern broke the build.", "person-broke", "The intern broke"),
    ("The outage came from reckless deploys on a Friday.", "judgement", "reckless"),
    ("Root cause: the engineer was incompetent.", "judgement", "incompetent"),
    ("In the chat, @sam.k admitted he messed up the rollout.", "messed-up", "he messed up"),
    ("Dana clearly didn't read the runbook.", "person-didnt", "Dana clearly didn't read"),
    ("Priya never checked the replication lag.", "person-didnt", "Priya never checked"),
    (
        "The platform team ignored the capacity warnings.",
        "person-ignored",
        "The platform team ignored",
    ),
    ("- @lee forgot the feature flag", "forgot", "@lee forgot"),
    ("14:07 UTC Will skipped the smoke tests to save time.", "person-skipped", "Will skipped"),
    (
        "The runbook step was overlooked by the on-call.",
        "passive-by-person",
        "was overlooked by the on-call",
    ),
    ("Marcus should have been more careful.", "should-have", "Marcus should have"),
    ("Everyone ignored the flapping alert.", "person-ignored", "Everyone ignored"),
    ("Ana has broken staging twice this week.", "person-broke", "Ana has broken"),
    ("Should have rolled back instead of rolling forward.", "should-have", "Should have"),
    ("They forgot the feature flag.", "forgot", "They forgot"),
    ("I forgot to drain the node.", "forgot", "I forgot"),
    ("Bob was supposed to review the PR.", "supposed-to", "Bob was supposed to"),
    ("The reviewer rubber-stamped the change.", "rubber-stamp", "rubber-stamped"),
]

NEUTRAL = [
    "@alice acknowledged the page.",
    "Dana rolled back the deploy.",
    "The deploy failed to start because the config was empty.",
    "The pipeline allowed an unreviewed change to reach production.",
    "Deploys failed to roll out because the registry was full.",
    "Deploys failed for 20 minutes after the registry filled up.",
    "The alert fired at 14:02 and @dana acknowledged it.",
    "The canary stage was skipped because the pipeline treats config-only changes as safe.",
    "Dana paged the database team at 14:05.",
    "@bob confirmed the rollback completed.",
    "The health check failed to detect the stuck worker.",
    "Requests failed to reach the primary for 12 minutes.",
    "Users failed to log in between 14:02 and 14:40.",
    "Postgres failed to promote the replica.",
    "PagerDuty failed to page the secondary.",
    "It failed to start after the upgrade.",
    "This failed to catch the regression.",
    "The blameless review found three contributing factors.",
    "We use fault injection to test failover.",
    "A segmentation fault crashed the worker.",
    "The default timeout is 30 seconds.",
    "Kafka consumers ignored the rebalance signal.",
    "The alert should have fired at 5% but the threshold was 20%.",
    "The migration broke the index on orders.",
    "The job didn't run because the cron expression was wrong.",
    "Nothing in the deploy tooling required a canary.",
    "The runbook did not mention the flag.",
    "The on-call engineer acknowledged the page within two minutes.",
    "Dana noticed the error rate climbing and paged @bob.",
    "The dashboard missed the spike because it samples every five minutes.",
    "Terraform skipped the resource because the state was stale.",
    "We don't assign blame in this review.",
    "This was not human error: the console let a single click drop a table.",
    "The load balancer ignored the drain flag.",
    "Monday's deploy failed to start.",
    "Replication failed to catch up after the failover.",
    "Monitoring failed to fire during the outage.",
    "The script forgot to set the region variable.",
    "Retries should have backed off but the client used a fixed interval.",
    "The test suite missed the edge case.",
    "Nobody was paged because the alert routed to an empty schedule.",
    "The page went unacknowledged for 12 minutes.",
    "Chris rolled back at 14:20 and the error rate recovered.",
    "Staging didn't catch it because it has no production-sized data.",
    "The Retry-After header was ignored by the client library.",
    "Billing failed to charge 312 customers.",
    "The payments service failed to reconnect.",
    "Checkout broke for mobile users.",
    "GitHub Actions skipped the job because of a path filter.",
    "Our fault-tolerance tests passed.",
    "The fix was reviewed and merged by @carol.",
    "Dana rolled back the broken deploy.",
    "Dana found a forgotten cron job on the old host.",
    "Don't forget to update the status page when you declare an incident.",
    "Alerts failed to reach Slack because the webhook had been revoked.",
    "Proper validation should have rejected the empty file.",
    "The Postgres operator failed to fail over.",
    "Nobody is to blame for this; the tool made the wrong action easy.",
    "Run `git blame` to find the commit that introduced the flag.",
    "See https://github.com/acme/api/blame/main/config.py for the history.",
    'We avoid "human error" as a root cause.',
    "```\nworker-3: job failed, retries ignored, human error suspected\n```",
    "Customers missed the confirmation email.",
    "The feature flag should have defaulted to off.",
    "Blame-free reviews work better.",
    "Two engineers joined the bridge and @dana took the incident commander role.",
    "The linter should have rejected the YAML anchor.",
    "Replicas skipped the WAL segment after the restart.",
    "The job was supposed to run at 02:00.",
    "Why we didn't catch it sooner: the dashboard had no alert.",
    "The consumer skipped offsets 1200-1400 after the rebalance.",
    "A dependency upgrade broke TLS verification for outbound calls.",
    "When the primary failed over, writes failed to reach the new leader.",
    "Sam paged the secondary when the primary failed to respond.",
    "Dana wrote the fix, Bob reviewed it, and Carol deployed it.",
    "Jenkins skipped the integration stage because of the [skip ci] tag.",
    "Teams failed to deliver the page to the secondary.",
    "kafka should have rebalanced the partitions.",
    "Karen from support reported the issue at 09:12.",
    "The deploy tool skipped the migration step when the flag was unset.",
    "Emails to customers failed to send between 09:00 and 09:40.",
]


@pytest.mark.parametrize(("sentence", "rule", "span"), BLAME)
def test_blame_wording_is_flagged(sentence, rule, span):
    findings = lint_text(sentence)
    assert [(f.rule, f.text) for f in findings if f.rule == rule] == [(rule, span)], findings


@pytest.mark.parametrize("sentence", NEUTRAL)
def test_neutral_and_systemic_sentences_are_not_flagged(sentence):
    assert lint_text(sentence) == []


@pytest.mark.parametrize("sentence", [s for s, _, _ in BLAME])
def test_offsets_point_at_the_reported_text(sentence):
    # Shift the sentence into a paragraph so offsets are not accidentally zero-based.
    text = "Summary of the incident.\n\n" + sentence + " More text follows."
    findings = lint_text(text)
    assert findings
    for finding in findings:
        assert text[finding.start : finding.end] == finding.text
        assert finding.start < finding.end


def test_every_finding_explains_itself_and_suggests_a_systemic_rewording():
    (finding,) = lint_text("Dana skipped the canary.")
    assert finding == Finding(
        rule="person-skipped",
        start=0,
        end=12,
        text="Dana skipped",
        message=finding.message,
        suggestion="a deploy could skip the canary without anyone approving it",
    )
    assert "step" in finding.message


def test_suggestions_reuse_the_object_of_the_sentence():
    (failed,) = lint_text("Dana failed to run the migration before deploying.")
    assert failed.suggestion == "nothing made sure someone would run the migration"
    (didnt,) = lint_text("He didn't check the rollout status.")
    assert didnt.suggestion == "nothing prompted anyone to check the rollout status"


def test_findings_come_in_reading_order_and_do_not_overlap():
    text = (
        "Dana carelessly deleted the table. It was human error and Bob should have reviewed "
        "it; @carol ignored the alert."
    )
    findings = lint_text(text)
    assert [f.rule for f in findings] == [
        "person-accidentally",
        "human-error",
        "should-have",
        "person-ignored",
    ]
    assert [f.text for f in findings][0] == "Dana carelessly deleted"
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:], strict=False))


def test_a_multiline_timeline_flags_only_the_blaming_line():
    timeline = (
        "14:02 UTC Alert fired: checkout 5xx above 5%\n"
        "14:04 UTC @alice acknowledged the page\n"
        "14:09 UTC Dana rolled back the deploy\n"
        "14:15 UTC Bob ignored the second alert\n"
        "14:20 UTC Error rate back to normal\n"
    )
    findings = lint_text(timeline)
    assert [(f.rule, f.text) for f in findings] == [("person-ignored", "Bob ignored")]
    assert timeline.splitlines()[3].endswith("Bob ignored the second alert")


def test_service_names_can_be_taught_as_systems():
    sentence = "After the cutover Ledgerly failed to sync invoices."
    assert [f.rule for f in lint_text(sentence)] == ["person-failed-to"]
    assert lint_text(sentence, system_names=["Ledgerly"]) == []


def test_markdown_emphasis_around_a_name_still_counts():
    text = "**Dana** skipped the canary."
    (finding,) = lint_text(text)
    assert finding.rule == "person-skipped"
    assert text[finding.start : finding.end] == finding.text


def test_empty_text_has_no_findings():
    assert lint_text("") == []


def test_lint_document_returns_every_section():
    result = lint_document(
        {"summary": "Checkout was down for 40 minutes.", "went_poorly": "Dana forgot the flag."}
    )
    assert result["summary"] == []
    assert [f.rule for f in result["went_poorly"]] == ["forgot"]


def test_lint_document_treats_missing_text_as_clean():
    assert lint_document({"impact": None, "lessons": ""}) == {"impact": [], "lessons": []}


def test_teams_can_add_a_rule():
    rules = [*RULES, Rule(id="root-cause-person", pattern=r"rookie", why="w", suggestion="s")]
    findings = lint_text("A rookie move took the site down.", rules=rules)
    assert [(f.rule, f.text) for f in findings] == [("root-cause-person", "rookie")]


def test_the_rule_table_is_well_formed():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.subject in {ANY, PERSON, NOT_SYSTEM, OBJECT, GROUP}
        assert rule.why.strip() and rule.suggestion.strip()
        re.compile(rule.pattern)


def test_findings_serialise_to_plain_dicts():
    (finding,) = lint_text("Bob broke the build.")
    assert set(finding.as_dict()) == {"rule", "start", "end", "text", "message", "suggestion"}


# --- The classes of issue 11: each with an explanation and a systemic rewrite ---------------

NEW_CLASSES = [
    ("This was obviously a simple mistake.", {"obviously", "simple-mistake"}),
    ("Oyelaran pushed the config change that took down checkout.", {"person-action-went-wrong"}),
    ("so nkechi restarted the wrong box and everything fell over", {"person-action-went-wrong"}),
    ("Marketing launched the campaign without telling anyone.", {"person-action-went-wrong"}),
    ("Customer success ignored the early reports.", {"person-ignored"}),
    ("Someone turned off the backups last quarter.", {"person-harm"}),
    ("Xiaoling's typo in the firewall rule blocked all traffic.", {"person-possessive-harm"}),
    ("It was Declan who flipped the kill switch.", {"cleft-person"}),
    ("Priyanka was too slow to escalate.", {"too-slow"}),
    ("Ravi isn't experienced enough to be on call alone.", {"lack-of-skill"}),
    ("If the DBA had taken a snapshot, nothing would be lost.", {"if-person-had"}),
    ("Had Linh followed the checklist, the flag would be off.", {"had-person"}),
    ("Farid could have avoided the whole thing.", {"could-have"}),
    ("It was just a typo.", {"just-a"}),
    ("Omari just had to read the alert.", {"just-a"}),
    ("The outage was caused by Valentina.", {"caused-by-person"}),
    ("Action item: remind Dmitri to follow the release process.", {"retrain-remind"}),
    ("The engineer involved has received a written warning.", {"sanction"}),
]


@pytest.mark.parametrize(("sentence", "rules"), NEW_CLASSES)
def test_each_class_of_blame_is_found_explained_and_rewritten(sentence, rules):
    findings = lint_text(sentence)
    assert {f.rule for f in findings} & rules, findings
    for finding in findings:
        assert finding.message.strip() and finding.suggestion.strip()
        assert sentence[finding.start : finding.end] == finding.text


@pytest.mark.parametrize(
    "sentence",
    [
        "Just before 10:00 the error rate doubled.",
        "The fix was simple: raise the pool size.",
        "Valentina reset the pool size to 200 at 13:55.",
        "Dana disabled the flag to stop the errors.",
        "The approval step could be bypassed by anyone with merge rights.",
        "Rather than asking why the on-call missed the page, we looked at the routing.",
        "An early draft said the reviewer “should have caught it”; we removed that.",
        "We are not looking for someone to blame.",
        "Any engineer in the same seat would have made the same call.",
        "Dana's fix restored checkout.",
    ],
)
def test_neutral_uses_of_the_same_words_pass(sentence):
    assert lint_text(sentence) == []


def test_the_directory_names_people_the_heuristics_would_not():
    # At the start of a sentence a name ending in -s reads as a plural noun.
    sentence = "Niels skipped the canary."
    assert lint_text(sentence) == []
    assert [f.rule for f in lint_text(sentence, people=["Niels Brekke"])] == ["person-skipped"]


def test_a_surname_from_the_directory_is_a_word_in_lower_case():
    assert lint_text("The price failed to update.", people=["Vincent Price"]) == []


def test_a_long_text_is_checked_by_paragraph_with_the_same_findings(monkeypatch):
    from postmortems import blameless

    paragraphs = [f"Paragraph {i}: Dana forgot the flag and the deploy failed." for i in range(150)]
    text = "\n\n".join(paragraphs)
    whole = blameless._lint(text, blameless._mask(text), RULES, frozenset(), frozenset())
    assert lint_text(text) == whole and len(whole) == 150
    for finding in lint_text(text):
        assert text[finding.start : finding.end] == finding.text

    checked = []
    real = blameless._lint
    monkeypatch.setattr(blameless, "_lint", lambda *a: checked.append(a[0]) or real(*a))
    edited = text.replace("Paragraph 7:", "Paragraph 7 (edited):")
    assert len(lint_text(edited)) == 150
    assert checked == [paragraphs[7].replace("Paragraph 7:", "Paragraph 7 (edited):")]
