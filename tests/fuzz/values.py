"""Hostile values for form fields and query parameters, as hypothesis strategies.

Each field gets a mix: values its page offered (so forms sometimes pass and reach the services)
and hostile ones (control characters, huge strings, extreme dates, odd unicode, wrong types).
"""

from __future__ import annotations

from hypothesis import strategies as st

CONTROL = st.sampled_from(["\x00", "\x07", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\u200b"])
ODD_UNICODE = st.sampled_from(
    ["😀", "\u202etxt.exe", "é", "ﬁ", "\ufeff", "ᄀ", "\u0301", "𝔘𝔫𝔦", "\u2028", "Ω" * 3]
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=10), CONTROL, st.text(max_size=10)),
    ODD_UNICODE,
    st.sampled_from(
        [
            "",
            " ",
            "\t\n",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "%00",
            "{{ 7*7 }}",
            "../../etc/passwd",
            "-1",
            "0",
            "99999999999999999999999",
            "1e308",
            "NaN",
            "true",
            "[]",
            "@",
            "alice, bob,, @carol",
        ]
    ),
    # Long, and very long (over every field's limit, under the request limit).
    st.integers(min_value=1_000, max_value=6_000).map(lambda n: "long text " * (n // 10)),
    st.just("x" * 300_000),
)
EXTREME_DAYS = st.sampled_from(
    [
        "0001-01-01",
        "9999-12-31",
        "1969-12-31",
        "1970-01-01",
        "2100-12-31",
        "2101-01-01",
        "2026-02-30",
        "2026-13-01",
        "26-03-02",
        "0000-00-00",
        "-1",
        "today",
    ]
)
EXTREME_MOMENTS = st.sampled_from(
    [
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "1969-12-31T23:59",
        "2100-12-31T23:59",
        "2026-03-02T25:61",
        "2026-03-02",
        "2026-03-02 10:00",
        "T",
        "9999-12-31T23:59:59.999999",
    ]
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", "abc", "1.5", "-0", "1e9", "0x10", " 7 ", "٣"]),
)


def for_field(kind: str, options: list[str], current: str) -> st.SearchStrategy[str]:
    """Values for one field of a given input kind, offered values first among equals."""
    offered = [o for o in [*options, current] if o is not None]
    hostile = {
        "date": st.one_of(EXTREME_DAYS, HOSTILE_TEXT),
        "datetime-local": st.one_of(EXTREME_MOMENTS, HOSTILE_TEXT),
        "number": st.one_of(NUMBERS, HOSTILE_TEXT),
        "hidden": st.one_of(NUMBERS, HOSTILE_TEXT),
    }.get(kind, HOSTILE_TEXT)
    if kind in {"date", "datetime-local"}:
        # Dates that look like a real one too, so the form sometimes passes.
        hostile = st.one_of(
            hostile, st.just("2026-03-02" if kind == "date" else "2026-03-02T10:00")
        )
    if offered:
        return st.one_of(st.sampled_from(offered), hostile)
    return hostile


_WORST = {
    "date": "0001-01-01",
    "datetime-local": "9999-12-31T23:59",
    "number": "1e999",
    "hidden": "abc\x00",
    "checkbox": "on",
}
_EDGE = {"date": "9999-12-31", "datetime-local": "0001-01-01T00:00"}


def hostile_values(form) -> dict:
    """Every field of the form at its worst at once."""
    return {
        name: _WORST.get(field.kind, "typed\x00text " + "y" * 300)
        for name, field in form.fields.items()
        if field.kind != "button"
    }


def edge_dates(form) -> dict:
    """What the page offered, with every date at an end of the calendar."""
    return {
        name: _EDGE.get(field.kind, field.value or (field.options[0] if field.options else ""))
        for name, field in form.fields.items()
    }
