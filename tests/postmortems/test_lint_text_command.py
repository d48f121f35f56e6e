import io
import json

import pytest
from django.core.management import call_command


def run(text: str, *args: str, monkeypatch) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    out = io.StringIO()
    call_command("lint_text", *args, stdout=out)  # raises SystemExit on a non-zero exit
    return out.getvalue()


def test_json_lists_each_finding_with_its_offsets(monkeypatch):
    text = "14:02 alert fired.\nDana skipped the canary and it was human error.\n"
    findings = json.loads(run(text, "--json", monkeypatch=monkeypatch))
    assert [f["rule"] for f in findings] == ["person-skipped", "human-error"]
    for finding in findings:
        assert set(finding) == {"rule", "start", "end", "text", "message", "suggestion"}
        assert text[finding["start"] : finding["end"]] == finding["text"]
    assert findings[0]["suggestion"] == "a deploy could skip the canary without anyone approving it"


def test_json_is_an_empty_list_when_the_text_is_clean(monkeypatch):
    out = run("@alice acknowledged the page.", "--json", monkeypatch=monkeypatch)
    assert json.loads(out) == []


def test_json_handles_empty_input(monkeypatch):
    assert json.loads(run("", "--json", monkeypatch=monkeypatch)) == []


def test_the_readable_report_gives_line_column_reason_and_rewording(monkeypatch):
    out = run("All good here.\n  @bob ignored the alert.\n", monkeypatch=monkeypatch)
    assert '2:3 person-ignored: "@bob ignored"' in out
    assert "why: " in out
    assert "try: the alert did not lead to action" in out
    assert out.strip().endswith("1 finding.")


def test_the_readable_report_says_so_when_clean(monkeypatch):
    out = run("The deploy failed to start because the config was empty.", monkeypatch=monkeypatch)
    assert out.strip() == "No blame-oriented wording found."


@pytest.mark.parametrize("args", [(), ("--json",)])
def test_findings_do_not_make_the_command_fail(monkeypatch, args):
    # call_command raises SystemExit/CommandError on failure; reaching the assert means exit 0.
    assert run("Dana forgot to run the migration.", *args, monkeypatch=monkeypatch)
