from celery import shared_task
from django.core.management import call_command


@shared_task
def clear_expired_sessions() -> None:
    """Drop expired login sessions so the session table does not grow without bound."""
    call_command("clearsessions")


@shared_task
def ping(value: str) -> str:
    """Echo a value: lets health checks and tests prove a worker round-trips."""
    return value
