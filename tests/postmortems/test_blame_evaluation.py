"""The labelled corpus, the figures `make eval` reports, and the section it writes."""

import io
import json
from collections import Counter

from django.core.management import call_command

from actions.markdown import evaluation
from postmortems import blame_evaluation
from postmortems.blame_evaluation import END, START, load, score, write_section


def test_the_corpus_has_400_labelled_sentences_split_evenly_by_class():
    dev, test = load("dev"), load("test")
    assert len(dev) + len(test) >= 400
    for row in dev + test:
        assert row["label"] in {"blame", "neutral"} and row["class"] and row["text"].strip()
    by_class = Counter((r["label"], r["class"]) for r in dev)
    assert by_class == Counter((r["label"], r["class"]) for r in test)
    assert {c for label, c in by_class if label == "blame"} >= {
        "named", "role", "judgement", "counterfactual", "minimising",
    }  # fmt: skip
    assert not {r["text"] for r in dev} & {r["text"] for r in test}


def test_the_check_meets_its_targets_on_the_held_back_half():
    result = score("test")
    assert result.precision >= 0.9 and result.recall >= 0.9, result.misses
    assert result.ms_per_sentence < 5


def test_write_section_replaces_only_its_own_markers(tmp_path):
    doc = tmp_path / "evaluation.md"
    doc.write_text(
        f"Intro.\n\n{START}\nold\n{END}\n\n<!-- import:start -->\nkept\n<!-- import:end -->\n"
    )
    write_section(doc, START, END, "new figures")
    text = doc.read_text()
    assert f"{START}\nnew figures\n{END}" in text
    assert "old" not in text and "Intro." in text and "kept" in text


def test_make_eval_prints_a_table_and_writes_the_blame_section(tmp_path, monkeypatch):
    doc = tmp_path / "evaluation.md"
    doc.write_text(f"# Evaluation\n\n{START}\n{END}\n")
    monkeypatch.setattr(blame_evaluation, "DOC", doc)
    monkeypatch.setattr(evaluation, "REPORT", doc)  # both tools write into the copy
    out = io.StringIO()
    call_command("evaluate", stdout=out)
    printed = out.getvalue()
    assert "precision" in printed and "recall" in printed
    assert any(line.startswith("test ") for line in printed.splitlines())
    section = doc.read_text().split(START, 1)[1].split(END, 1)[0]
    assert "| test | 215 |" in section and "| dev | 215 |" in section
    assert "<!-- import:start -->" in doc.read_text()  # the importer's section, written beside
    assert "Targets on the test halves: blameless check met; importer met." in printed


def test_misses_carry_the_rules_that_fired(monkeypatch):
    rows = [{"text": "Dana rolled back the deploy.", "label": "blame", "class": "named"}]
    result = score("dev", rows=rows)
    assert result.recall == 0 and result.misses[0]["rules"] == []
    json.dumps(result.misses)  # plain data, printable in a report
