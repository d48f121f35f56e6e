"""Single sign-on's configuration, the login page's button, and the groups mapping on its own."""

import logging
import time

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.urls import reverse

from incidents.group_roles import GroupRule, parse_group_roles
from incidents.sso import SingleSignOnBackend, apply_group_roles, groups_in
from tests.config.support import load_settings
from tests.factories import TeamFactory, UserFactory

# --- The OIDC_GROUP_ROLES format -----------------------------------------------------------


def test_the_documented_example_reads_as_four_rules():
    rules = parse_group_roles(
        "sre-admins=admin;support=viewer;payments=team:Payments;payments-leads=manager:Payments"
    )
    assert rules == (
        GroupRule("sre-admins", "admin"),
        GroupRule("support", "viewer"),
        GroupRule("payments", "team", "Payments"),
        GroupRule("payments-leads", "manager", "Payments"),
    )


def test_spaces_and_empty_pairs_are_ignored_and_group_names_may_hold_equals_signs():
    rules = parse_group_roles(" cn=sre,ou=groups = Admin ; ;\n /Platform Team=team:Platform ")
    assert rules == (
        GroupRule("cn=sre,ou=groups", "admin"),
        GroupRule("/Platform Team", "team", "Platform"),
    )


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("sre-admins", "'sre-admins' is not group=role"),
        ("=admin", "'=admin' is not group=role"),
        ("sre=boss", "the role must be admin, viewer, team:<team> or manager:<team>"),
        ("payments=team", "the role must be"),
        ("payments=team:", "the role must be"),
        ("sre=admin:Payments", "the role must be"),
    ],
)
def test_a_pair_that_cannot_be_read_is_named(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_group_roles(text)


def test_a_bad_mapping_stops_start_up():
    with pytest.raises(ImproperlyConfigured, match="OIDC_GROUP_ROLES: 'sre=boss'"):
        load_settings({"DEBUG": "true", "OIDC_GROUP_ROLES": "sre=boss"})


def test_single_sign_on_is_off_without_a_client_id():
    conf = load_settings({"DEBUG": "true"})
    assert conf.OIDC_ENABLED is False and conf.OIDC_GROUP_ROLES == ()


def test_a_client_id_without_the_endpoints_stops_start_up_naming_what_is_missing():
    env = {"DEBUG": "true", "OIDC_CLIENT_ID": "debrief", "OIDC_CLIENT_SECRET": "s"}
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(env)
    assert str(refused.value) == (
        "OIDC_CLIENT_ID is set, so single sign-on also needs OIDC_AUTHORIZATION_ENDPOINT, "
        "OIDC_TOKEN_ENDPOINT, OIDC_USERINFO_ENDPOINT, OIDC_JWKS_ENDPOINT"
    )


def test_the_environment_configures_the_client():
    idp = "https://id.example.com/oauth2"
    conf = load_settings(
        {
            "DEBUG": "true",
            "OIDC_CLIENT_ID": "debrief",
            "OIDC_CLIENT_SECRET": "s3cret",
            "OIDC_AUTHORIZATION_ENDPOINT": f"{idp}/authorize",
            "OIDC_TOKEN_ENDPOINT": f"{idp}/token",
            "OIDC_USERINFO_ENDPOINT": f"{idp}/userinfo",
            "OIDC_JWKS_ENDPOINT": f"{idp}/keys",
            "OIDC_PROVIDER_NAME": "Okta",
            "OIDC_GROUP_ROLES": "sre=admin",
        }
    )
    assert conf.OIDC_ENABLED and conf.OIDC_PROVIDER_NAME == "Okta"
    assert conf.OIDC_RP_CLIENT_ID == "debrief"
    assert conf.OIDC_OP_JWKS_ENDPOINT == "https://id.example.com/oauth2/keys"
    assert conf.OIDC_RP_SIGN_ALGO == "RS256" and conf.OIDC_USE_PKCE is True
    assert conf.OIDC_RP_SCOPES == "openid email profile" and conf.OIDC_GROUPS_CLAIM == "groups"
    assert list(conf.OIDC_GROUP_ROLES) == [GroupRule("sre", "admin")]


# --- The login page and the routes -----------------------------------------------------------


@pytest.mark.django_db
def test_without_single_sign_on_the_page_offers_passwords_and_the_routes_are_absent(client):
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with" not in page and 'name="password"' in page
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404


@pytest.mark.django_db
def test_with_single_sign_on_the_page_offers_the_provider_and_keeps_next(client, settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "Okta"
    page = client.get(reverse("login"), {"next": "/incidents/?severity=1"}).content.decode()
    assert "Sign in with Okta" in page
    assert 'href="/oidc/authenticate/?next=/incidents/%3Fseverity%3D1"' in page
    assert 'name="password"' in page  # local accounts still sign in


@pytest.mark.django_db
def test_the_sign_on_routes_answer_get_only(client, settings):
    settings.OIDC_ENABLED = True
    for name in ["oidc_authentication_init", "oidc_authentication_callback"]:
        assert client.post(reverse(name)).status_code == 405


@pytest.mark.django_db
def test_starting_a_sign_on_sends_the_browser_to_the_provider_with_state_nonce_and_pkce(
    client, settings
):
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "debrief"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://id.example.com/authorize"
    response = client.get(reverse("oidc_authentication_init"))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://id.example.com/authorize?")
    for part in ["state=", "nonce=", "code_challenge=", "code_challenge_method=S256"]:
        assert part in location
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Foidc%2Fcallback%2F" in location


# --- The mapping applied ---------------------------------------------------------------------


@pytest.fixture
def rules():
    return parse_group_roles("ops=team:Payments; leads=team:payments; boss=manager:Payments")


@pytest.mark.django_db
def test_a_team_named_by_name_and_by_slug_is_one_target(rules):
    payments = TeamFactory(name="Payments", slug="payments")
    user = UserFactory()
    apply_group_roles(user=user, groups={"ops"}, rules=rules)
    assert user in payments.members.all()  # "leads" not held, but "ops" grants the same team
    apply_group_roles(user=user, groups=set(), rules=rules)
    assert user not in payments.members.all()


@pytest.mark.django_db
def test_a_team_that_does_not_exist_is_reported_and_skipped(caplog):
    user = UserFactory()
    with caplog.at_level(logging.WARNING, logger="incidents.sso"):
        apply_group_roles(user=user, groups={"x"}, rules=parse_group_roles("x=team:Nowhere"))
    assert "OIDC_GROUP_ROLES names a team 'Nowhere' that does not exist" in caplog.text


@pytest.mark.django_db
def test_admin_and_viewer_are_left_alone_when_the_mapping_does_not_mention_them(rules):
    user = UserFactory(is_superuser=True, is_staff=True)
    user.profile.read_only = True
    user.profile.save()
    apply_group_roles(user=user, groups=set(), rules=rules)
    user.refresh_from_db()
    assert user.is_superuser and user.profile.read_only


def test_the_groups_claim_may_be_a_list_a_single_name_or_absent(settings):
    settings.OIDC_GROUPS_CLAIM = "roles"
    assert groups_in({"roles": ["a", "b"]}) == {"a", "b"}
    assert groups_in({"roles": "a"}) == {"a"}
    assert groups_in({"roles": []}) == set()
    assert groups_in({"groups": ["a"]}) is None  # absent: roles are left as they were


# --- ID tokens: the library checks signature, expiry and nonce; Debrief adds audience, issuer --


@pytest.fixture
def token_for(settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "debrief"
    settings.OIDC_OP_ISSUER = "https://id.example.com"
    # The provider's public key given directly, instead of fetched from its JWKS endpoint.
    settings.OIDC_RP_IDP_SIGN_KEY = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    def sign(**claims):
        now = int(time.time())
        payload = {"iss": "https://id.example.com", "sub": "42", "aud": "debrief", "nonce": "n"}
        payload |= {"iat": now, "exp": now + 300} | claims
        return jwt.encode(payload, key, algorithm="RS256")

    return sign


def test_an_id_token_for_this_client_from_the_issuer_is_accepted(token_for):
    payload = SingleSignOnBackend().verify_token(token_for(aud=["other", "debrief"]), nonce="n")
    assert payload["sub"] == "42"


@pytest.mark.parametrize(
    "claims, refusal",
    [
        ({"aud": "another-app"}, "addressed to another client"),
        ({"iss": "https://evil.example.com"}, "comes from 'https://evil.example.com'"),
        ({"nonce": "other"}, "Nonce verification failed"),
    ],
)
def test_an_id_token_for_another_client_or_from_another_issuer_is_refused(
    token_for, claims, refusal
):
    with pytest.raises(SuspiciousOperation, match=refusal):
        SingleSignOnBackend().verify_token(token_for(**claims), nonce="n")


def test_an_expired_id_token_is_refused(token_for):
    with pytest.raises(jwt.ExpiredSignatureError):
        SingleSignOnBackend().verify_token(token_for(exp=int(time.time()) - 60), nonce="n")
