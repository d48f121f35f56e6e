from outbox.models import Dispatch
from outbox.tasks import send_email


def send_pending(kind: str | None = None) -> int:
    """What the outbox worker does with queued sends: each pending row once; how many went out."""
    rows = Dispatch.objects.filter(state=Dispatch.State.PENDING).order_by("pk")
    if kind:
        rows = rows.filter(kind=kind)
    return sum(send_email(pk) for pk in list(rows.values_list("pk", flat=True)))
