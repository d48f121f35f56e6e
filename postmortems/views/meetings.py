"""Review meetings: schedule, the presentation view, the followers' poll, capture in the room.

Anyone who can see the incident can open, follow and capture in a meeting (as in the editor);
only the facilitator, the postmortem's author or an admin drives the steps and the timer.
"""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import permissions
from incidents.forms import TimelineEventForm
from incidents.models import TimelineEvent
from incidents.row_urls import row_url

from .. import meetings
from ..forms import FactorForm
from ..meeting_forms import MeetingForm, NoteForm, PublishDateForm
from ..models import Postmortem, ReviewMeeting
from .contexts import editable_postmortem_for


def meeting_for(request, number: int, pk: int) -> ReviewMeeting:
    return get_object_or_404(
        ReviewMeeting.objects.visible_to(request.user).select_related(
            "postmortem__incident__team", "postmortem__author", "facilitator"
        ),
        postmortem__incident__number=number,
        pk=pk,
    )


def _present_url(meeting: ReviewMeeting) -> str:
    return reverse(
        "postmortems:meeting-present", args=[meeting.postmortem.incident.number, meeting.pk]
    )


# --- Scheduling -------------------------------------------------------------------------------


def _suggested_time(postmortem: Postmortem) -> datetime:
    """10:00 local, about two days after resolution (the practice: 48 hours to five days),
    never in the past, moved off the weekend."""
    now = timezone.localtime()
    resolved = postmortem.incident.resolved_at
    day = timezone.localtime(resolved).date() + timedelta(days=2) if resolved else now.date()
    if day <= now.date():
        day = now.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


def _default_attendees(postmortem: Postmortem) -> list[int]:
    people = [postmortem.author_id, postmortem.incident.commander_id]
    people += list(postmortem.reviewers.values_list("pk", flat=True))
    return [pk for pk in dict.fromkeys(people) if pk]


def _warnings_for(form: MeetingForm, postmortem: Postmortem) -> list[str]:
    data = getattr(form, "cleaned_data", {})
    return meetings.schedule_warnings(
        postmortem=postmortem,
        facilitator=data.get("facilitator"),
        scheduled_at=data.get("scheduled_at"),
    )


@require_http_methods(["GET", "POST"])
def meeting_schedule(request, number: int):
    postmortem = editable_postmortem_for(request, number)
    zone = timezone.get_current_timezone_name()
    initial = {
        "scheduled_at": _suggested_time(postmortem),
        "attendees": _default_attendees(postmortem),
    }
    form = MeetingForm(request.POST or None, initial=initial, zone_name=zone)
    warnings = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            warnings = _warnings_for(form, postmortem)
            data = form.cleaned_data
            if not warnings or data["confirm"]:
                try:
                    meeting = meetings.schedule_meeting(
                        postmortem=postmortem,
                        scheduled_at=data["scheduled_at"],
                        facilitator=data["facilitator"],
                        attendees=list(data["attendees"]),
                        location=data["location"],
                        by=request.user,
                    )
                except ValidationError as err:
                    form.add_error(None, err)
                else:
                    messages.success(
                        request, "Review scheduled; the attendees are being emailed an invite."
                    )
                    return redirect(meeting)
        else:
            warnings = _warnings_for(form, postmortem)
        status = 422 if form.errors else 200
    context = {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "form": form,
        "warnings": warnings,
    }
    return render(request, "postmortems/meeting_schedule.html", context, status=status)


@require_GET
def meeting_warnings(request, number: int):
    """The schedule form's warnings, live as the time and facilitator are chosen (htmx)."""
    postmortem = editable_postmortem_for(request, number)
    form = MeetingForm(request.GET, zone_name=timezone.get_current_timezone_name())
    form.is_valid()  # only the fields that parsed are looked at
    context = {"form": form, "warnings": _warnings_for(form, postmortem)}
    return render(request, "postmortems/meeting_schedule.html#warnings", context)


@require_GET
def meeting_detail(request, number: int, pk: int):
    meeting = meeting_for(request, number, pk)
    postmortem = meeting.postmortem
    context = {
        "meeting": meeting,
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "invites": list(meeting.invites.select_related("user").order_by("user__username")),
        "warnings": meetings.schedule_warnings(
            postmortem=postmortem,
            facilitator=meeting.facilitator,
            scheduled_at=meeting.scheduled_at,
        )
        if meeting.started_at is None
        else [],
        "summary": meetings.meeting_summary(meeting) if meeting.started_at else None,
        "is_driver": meeting.can_be_driven_by(request.user),
    }
    return render(request, "postmortems/meeting_detail.html", context)


@require_GET
def meeting_invite(request, number: int, pk: int):
    """The invite as a file, for anyone who lost the email or was added by hand."""
    meeting = meeting_for(request, number, pk)
    attendees = [i.user for i in meeting.invites.select_related("user")]
    response = HttpResponse(
        meetings.invite_ics(meeting, attendees), content_type="text/calendar; charset=utf-8"
    )
    reference = meeting.postmortem.incident.reference
    response["Content-Disposition"] = f'attachment; filename="review-{reference}.ics"'
    return response


# --- The presentation view and the followers' poll -------------------------------------------


def _clock(seconds: int) -> str:
    sign = "+" if seconds < 0 else ""
    minutes, secs = divmod(abs(seconds), 60)
    return f"{sign}{minutes}:{secs:02d}"


def _agenda(meeting: ReviewMeeting, now) -> list[dict]:
    rows = []
    for n, (key, title, minutes) in enumerate(ReviewMeeting.AGENDA):
        if n < meeting.step:
            state, label, fill = "done", "done", 100
        elif n == meeting.step:
            share = meeting.spent_seconds(n, now) / max(meeting.planned_seconds(n), 1)
            state, label, fill = "current", "current step", min(100, round(100 * share))
        else:
            state, label, fill = "todo", "to come", 0
        rows.append(
            {
                "number": n + 1,
                "key": key,
                "title": title,
                "minutes": minutes,
                "state": state,
                "state_label": label,
                "fill": fill,
            }
        )
    return rows


def _timer(meeting: ReviewMeeting, now) -> dict:
    remaining = meeting.remaining_seconds(now)
    running = meeting.running_since is not None
    if meeting.ended_at:
        label = "Meeting ended"
    elif meeting.started_at is None:
        label = "Not started"
    elif remaining < 0:
        label = "Over time" + (" · paused" if not running else "")
    elif not running:
        label = "Paused · left"
    else:
        label = "left"
    return {
        "remaining": remaining,
        "planned": meeting.planned_seconds(meeting.step),
        "spent": meeting.spent_seconds(meeting.step, now),
        "running": running and not meeting.ended_at,
        "over": remaining < 0,
        "soon": 0 <= remaining <= 60,
        "display": _clock(remaining),
        "label": label,
    }


def _live_context(request, meeting: ReviewMeeting, *, since: int | None) -> dict:
    """The deck: the current step, its countdown, the agenda bar, and what is new since the
    viewer's last version (highlighted)."""
    now = timezone.now()
    postmortem = meeting.postmortem
    key, title, minutes = ReviewMeeting.AGENDA[meeting.step]
    following = (
        ReviewMeeting.AGENDA[meeting.step + 1][1] if meeting.step < meeting.LAST_STEP else ""
    )
    return {
        "meeting": meeting,
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "is_driver": meeting.can_be_driven_by(request.user),
        "step": {"number": meeting.step + 1, "key": key, "title": title, "minutes": minutes},
        "next_title": following,
        "agenda": _agenda(meeting, now),
        "timer": _timer(meeting, now),
        "fresh": meetings.fresh_since(meeting, since),
        "latest": meetings.latest_captures(meeting, 1),
        "state_url": reverse(
            "postmortems:meeting-state", args=[postmortem.incident.number, meeting.pk]
        ),
        "publish_form": PublishDateForm(
            initial={"publish_by": meeting.publish_by or _owed_by(postmortem)}
        ),
        **_with_row_urls(meetings.step_data(meeting), meeting),
    }


def _with_row_urls(data: dict, meeting: ReviewMeeting) -> dict:
    """Each timeline row's "Correct" link, without reversing a URL per row (it showed in every
    poll of a long timeline)."""
    if data.get("events"):
        correct = row_url(
            "postmortems:meeting-correct-event", meeting.postmortem.incident.number, meeting.pk
        )
        for event in data["events"]:
            event.correct_url = correct(event.pk)
    return data


def _owed_by(postmortem: Postmortem):
    owed = postmortem.owed_by
    today = timezone.localdate()
    return max(timezone.localdate(owed), today) if owed else today + timedelta(days=2)


def _forms(meeting: ReviewMeeting, **bound) -> dict:
    """The capture forms, blank unless given; each with its own ids so they share a page."""
    # New events start at the incident's start, as on the incident page: the room fills in
    # what happened then, not what happens now.
    started = meeting.postmortem.incident.started_at
    forms = {
        "event_form": TimelineEventForm(auto_id="ev_%s", initial={"occurred_at": started}),
        "factor_form": FactorForm(auto_id="fa_%s"),
        "note_form": NoteForm(auto_id="no_%s"),
        "correcting": None,
    }
    forms.update(bound)
    return forms


def _etag(meeting_pk: int, version: int) -> str:
    return f'"meeting-{meeting_pk}-v{version}"'


def _no_store(response: HttpResponse, meeting_pk: int, version: int) -> HttpResponse:
    # no-store: a cached answer replayed by the browser would re-apply an old state.
    response["Cache-Control"] = "no-store"
    response["ETag"] = _etag(meeting_pk, version)
    return response


@require_GET
def meeting_present(request, number: int, pk: int):
    meeting = meeting_for(request, number, pk)
    context = {**_live_context(request, meeting, since=None), **_forms(meeting)}
    response = render(request, "postmortems/meeting_present.html", context)
    return _no_store(response, meeting.pk, meeting.version)


@require_GET
def meeting_state(request, number: int, pk: int):
    """What followers poll every two seconds: 204 while nothing changed (one small query),
    else the deck and a new poller carrying the new version."""
    found = list(
        ReviewMeeting.objects.visible_to(request.user)
        .filter(postmortem__incident__number=number, pk=pk)
        .order_by()  # one row by primary key: no sort needed
        .values_list("version", flat=True)[:1]
    )
    if not found:
        return HttpResponse(status=404)
    version = found[0]
    if request.headers.get("If-None-Match") == _etag(pk, version):
        return _no_store(HttpResponse(status=304), pk, version)
    try:
        since = int(request.GET.get("v", ""))
    except ValueError:
        since = None
    if since == version:
        return _no_store(HttpResponse(status=204), pk, version)
    meeting = meeting_for(request, number, pk)
    context = _live_context(request, meeting, since=since)
    response = render(request, "postmortems/meeting_present.html#state", context)
    return _no_store(response, meeting.pk, meeting.version)


def _deck_response(request, meeting: ReviewMeeting, *, since: int | None = None, error=""):
    meeting = meeting_for(request, meeting.postmortem.incident.number, meeting.pk)
    context = {**_live_context(request, meeting, since=since), "error": error}
    response = render(request, "postmortems/meeting_present.html#deck-response", context)
    return _no_store(response, meeting.pk, meeting.version)


@require_POST
def meeting_control(request, number: int, pk: int):
    """The facilitator's controls: steps (arrows, space), the timer (t), +5 min, end."""
    meeting = meeting_for(request, number, pk)
    permissions.require(request.user, "drive_meeting", meeting)
    try:
        step = int(request.POST["step"]) - 1 if request.POST.get("step") else None
    except ValueError:
        step = None
    error = ""
    try:
        meetings.drive_meeting(
            meeting=meeting, action=request.POST.get("action", ""), by=request.user, step=step
        )
    except ValidationError as err:
        error = " ".join(err.messages)
    if request.htmx:
        return _deck_response(request, meeting, error=error)
    if error:
        messages.error(request, error)
    return redirect(_present_url(meeting))


# --- Capture in the room ----------------------------------------------------------------------


def _capture_response(request, meeting, slot, *, capture=None, status=200, **forms):
    """After a capture: the slot's form (blank again, or with its errors), and when something
    was saved, the deck with it highlighted and a poller at the new version."""
    if not request.htmx:
        if capture is not None:
            messages.success(request, f"{capture.get_kind_display()} in the meeting.")
            return redirect(_present_url(meeting))
        meeting = meeting_for(request, meeting.postmortem.incident.number, meeting.pk)
        context = {**_live_context(request, meeting, since=None), **_forms(meeting, **forms)}
        context["open_slot"] = slot
        return render(request, "postmortems/meeting_present.html", context, status=status)
    meeting = meeting_for(request, meeting.postmortem.incident.number, meeting.pk)
    since = capture.version - 1 if capture is not None else None
    context = {
        **_live_context(request, meeting, since=since),
        **_forms(meeting, **forms),
        "slot": slot,
        "saved": capture,
    }
    response = render(
        request, "postmortems/meeting_present.html#capture-response", context, status=status
    )
    return _no_store(response, meeting.pk, meeting.version)


def save_capture(request, meeting, slot, form, capture_fn, form_key: str):
    if not form.is_valid():
        return _capture_response(request, meeting, slot, status=422, **{form_key: form})
    try:
        capture = capture_fn(form.cleaned_data)
    except ValidationError as err:
        form.add_error(None, err)
        return _capture_response(request, meeting, slot, status=422, **{form_key: form})
    return _capture_response(request, meeting, slot, capture=capture)


@require_http_methods(["GET", "POST"])
def meeting_event(request, number: int, pk: int):
    """Add a timeline event (GET: the blank form again, e.g. after cancelling a correction)."""
    meeting = meeting_for(request, number, pk)
    permissions.require(request.user, "edit", meeting.postmortem)  # before the form
    if request.method == "GET":
        if not request.htmx:
            return redirect(_present_url(meeting))
        context = {"meeting": meeting, "incident": meeting.postmortem.incident, **_forms(meeting)}
        return render(request, "postmortems/meeting_present.html#capture-event", context)
    form = TimelineEventForm(request.POST, auto_id="ev_%s")
    return save_capture(
        request,
        meeting,
        "event",
        form,
        lambda data: meetings.capture_event(meeting=meeting, by=request.user, **data),
        "event_form",
    )


@require_http_methods(["GET", "POST"])
def meeting_correct_event(request, number: int, pk: int, event_pk: int):
    meeting = meeting_for(request, number, pk)
    permissions.require(request.user, "edit", meeting.postmortem)  # before the form
    event = get_object_or_404(TimelineEvent, incident=meeting.postmortem.incident, pk=event_pk)
    form = TimelineEventForm(request.POST or None, instance=event, auto_id=f"ev{event.pk}_%s")
    context = {"meeting": meeting, "incident": meeting.postmortem.incident}
    if request.method == "GET":
        if not request.htmx:  # without JavaScript: the whole view, the correction form open
            page = {
                **_live_context(request, meeting, since=None),
                **_forms(meeting, event_form=form, correcting=event),
                "open_slot": "event",
            }
            return render(request, "postmortems/meeting_present.html", page)
        page = {**context, **_forms(meeting, event_form=form, correcting=event)}
        return render(request, "postmortems/meeting_present.html#capture-event", page)
    if not form.is_valid():
        return _capture_response(
            request, meeting, "event", status=422, event_form=form, correcting=event
        )
    # The form wrote its values onto `event` while validating; the service compares them
    # against a fresh copy so the record keeps what the event said before.
    try:
        capture = meetings.correct_event(
            meeting=meeting, event=event, by=request.user, **form.cleaned_data
        )
    except ValidationError as err:
        form.add_error(None, err)
        return _capture_response(
            request, meeting, "event", status=422, event_form=form, correcting=event
        )
    if capture is None:
        return _capture_response(request, meeting, "event")
    return _capture_response(request, meeting, "event", capture=capture)


@require_POST
def meeting_factor(request, number: int, pk: int):
    meeting = meeting_for(request, number, pk)
    permissions.require(request.user, "edit", meeting.postmortem)  # before the form
    form = FactorForm(request.POST, auto_id="fa_%s")
    return save_capture(
        request,
        meeting,
        "factor",
        form,
        lambda data: meetings.capture_factor(
            meeting=meeting,
            by=request.user,
            category=data["category"],
            description=data["description"],
            whys=data["whys"],
        ),
        "factor_form",
    )


@require_POST
def meeting_note(request, number: int, pk: int):
    meeting = meeting_for(request, number, pk)
    permissions.require(request.user, "edit", meeting.postmortem)  # before the form
    form = NoteForm(request.POST, auto_id="no_%s")

    def capture(data):
        if data["kind"] == "decision":
            if data["section"]:
                raise ValidationError("A decision stays with the meeting; add notes to sections.")
            return meetings.capture_decision(meeting=meeting, by=request.user, text=data["text"])
        return meetings.capture_note(
            meeting=meeting, by=request.user, text=data["text"], section=data["section"]
        )

    return save_capture(request, meeting, "note", form, capture, "note_form")


@require_POST
def meeting_publish_date(request, number: int, pk: int):
    """The close step: the publication date agreed in the room (drivers only)."""
    meeting = meeting_for(request, number, pk)
    permissions.require(request.user, "drive_meeting", meeting)
    form = PublishDateForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            meetings.agree_publish_date(
                meeting=meeting, by=request.user, publish_by=form.cleaned_data["publish_by"]
            )
        except ValidationError as err:
            error = " ".join(err.messages)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if request.htmx:
        return _deck_response(request, meeting, error=error)
    if error:
        messages.error(request, error)
    return redirect(_present_url(meeting))


@require_POST
def meeting_email_summary(request, number: int, pk: int):
    meeting = meeting_for(request, number, pk)
    error = ""
    try:
        meetings.request_summary_email(meeting=meeting, by=request.user)
    except ValidationError as err:
        error = " ".join(err.messages)
    if request.htmx:
        return _deck_response(request, meeting, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "The summary is being emailed to the attendees.")
    return redirect(meeting if request.POST.get("next") == "detail" else _present_url(meeting))
