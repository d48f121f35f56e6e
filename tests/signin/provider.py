"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit's, mounted
under /o/ beside the shipped URLs on the live server (never in config/urls.py)."""

from django.urls import include, path
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.urls import base_urlpatterns, oidc_urlpatterns

from config.urls import urlpatterns as shipped

# What the provider says about each of its people, by their username at the provider. Tests
# set it, and change it between two sign-ons to see the roles follow.
PEOPLE: dict[str, dict] = {}


class Validator(OAuth2Validator):
    # Claims are released by scope; "groups" comes with the groups scope, as at most providers.
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "groups"}

    def get_additional_claims(self, request):
        return dict(PEOPLE.get(request.user.get_username(), {}))


urlpatterns = [
    *shipped,
    path("o/", include((base_urlpatterns + oidc_urlpatterns, "oauth2_provider"))),
]
