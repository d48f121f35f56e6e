"""Postmortem pages, one module per feature; postmortems/urls.py names which view serves what.

contexts.py builds what the pages show; documents (list, document, editor, sections, history),
factors, review, related, timeline_paste and meetings hold the views.
"""
