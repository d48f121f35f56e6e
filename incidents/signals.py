from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Profile, Service, Team
from .widgets import forget_options


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def create_profile(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        Profile.objects.get_or_create(user=instance)


@receiver([post_save, post_delete], sender=Team)
@receiver([post_save, post_delete], sender=Service)
def forget_filter_options(sender, **kwargs):
    """The filter selects list teams and services from the cache: a change shows at once."""
    forget_options(sender)
