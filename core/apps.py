from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What is not the domain: demo data, the benchmark, `make run`'s supervisor, and the
    navigation and template helpers every page shares. Nothing in the domain apps imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
