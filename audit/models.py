from auditlog.models import AbstractLogEntry, LogEntryManager
from django.db import models

from . import trail


class EntryManager(LogEntryManager):
    """auditlog's manager, filling in who acted and which incident the row belongs to.

    Every entry, from a signal or written by `trail`, passes through `log_create` or
    `log_m2m_changes`, so the actor named by the service (`trail.acting`) is set here even in
    a Celery task or a command, where no request names one.
    """

    def log_create(self, instance, force_log: bool = False, **kwargs):
        kwargs.update(trail.entry_context(instance, kwargs))
        return super().log_create(instance, force_log=force_log, **kwargs)

    def log_m2m_changes(self, changed_queryset, instance, operation, field_name, **kwargs):
        kwargs.update(trail.entry_context(instance, kwargs))
        return super().log_m2m_changes(changed_queryset, instance, operation, field_name, **kwargs)


class Entry(AbstractLogEntry):
    """One recorded change. Never edited; the rows it names may be gone, so no foreign key."""

    # The incident the changed row belongs to, for the incident's Activity page. A plain
    # number, not a foreign key: the trail outlives a deleted incident.
    incident_pk = models.BigIntegerField(null=True, blank=True)

    objects = EntryManager()

    class Meta(AbstractLogEntry.Meta):
        ordering = ["-timestamp", "-pk"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["incident_pk", "-timestamp"], name="audit_incident_time"),
            models.Index(fields=["actor", "-timestamp"], name="audit_actor_time"),
            models.Index(fields=["content_type", "-timestamp"], name="audit_type_time"),
        ]
