from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from actions.models import ActionItem
from incidents.models import Incident, Service, Team, TimelineEvent
from incidents.services import apply_postmortem_policy
from postmortems.models import ContributingFactor, Postmortem


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"service-{n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    team = factory.SubFactory(TeamFactory)


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident that is resolved, two hours long, with the policy applied."""

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: 1001 + n)
    title = factory.Sequence(lambda n: f"Checkout errors #{n}")
    severity = 2
    status = Incident.Status.RESOLVED
    team = factory.SubFactory(TeamFactory)
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    detected_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(minutes=5))
    mitigated_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(minutes=40))
    resolved_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(hours=2))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        incident = model_class(*args, **kwargs)
        apply_postmortem_policy(incident)
        incident.save()
        return incident

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.set(extracted)


class TimelineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    incident = factory.SubFactory(IncidentFactory)
    occurred_at = factory.LazyAttribute(lambda o: o.incident.started_at + timedelta(minutes=3))
    text = factory.Sequence(lambda n: f"Alert fired for checkout latency ({n})")
    source = TimelineEvent.Source.ALERT
    phase = TimelineEvent.Phase.DETECTION


class PostmortemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Postmortem

    incident = factory.SubFactory(IncidentFactory)
    author = factory.SubFactory(UserFactory)
    summary = "Checkout returned 503s for 42 minutes after a config push."


class ContributingFactorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContributingFactor

    postmortem = factory.SubFactory(PostmortemFactory)
    category = ContributingFactor.Category.TECHNICAL
    description = "The config loader accepted an empty upstream list."


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    class Params:
        overdue = factory.Trait(
            due_on=factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=3))
        )

    postmortem = factory.SubFactory(PostmortemFactory)
    title = factory.Sequence(
        lambda n: f"Add a config validation check to the deploy pipeline ({n})"
    )
    owner = factory.SubFactory(UserFactory)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))
    priority = ActionItem.Priority.P1
    leverage = ActionItem.Leverage.PREVENTION


class ReviewMeetingFactory(factory.django.DjangoModelFactory):
    """A review meeting tomorrow, facilitated by someone new; attendees via `attendees=[...]`."""

    class Meta:
        model = "postmortems.ReviewMeeting"
        skip_postgeneration_save = True

    postmortem = factory.SubFactory(PostmortemFactory)
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    facilitator = factory.SubFactory(UserFactory)
    step_times = factory.LazyFunction(lambda: [[0, 0] for _ in range(5)])

    @factory.post_generation
    def attendees(self, create, extracted, **kwargs):
        from postmortems.models import MeetingAttendee

        if create and extracted:
            MeetingAttendee.objects.bulk_create(
                [MeetingAttendee(meeting=self, user=u) for u in extracted]
            )


def on_team(incident, *users):
    """Put `users` in the incident's owning team (team members edit it) and return it."""
    incident.team.members.add(*users)
    return incident
