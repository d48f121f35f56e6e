"""Single sign-on against a real OpenID Connect provider, over real HTTP.

django-oauth-toolkit's provider runs on the live server at http://localhost:PORT/o/ with an RSA
key made here; Debrief is the same server reached as http://127.0.0.1:PORT, so the two keep
separate session cookies, as two sites would. Each test walks the authorization-code flow with
`requests` (state, nonce, PKCE, the back-channel token, JWKS and userinfo calls): nothing in
mozilla-django-oidc is mocked.
"""

import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.urls import reverse
from oauth2_provider.models import Application

from incidents.group_roles import parse_group_roles
from incidents.models import SingleSignOnIdentity
from tests.factories import TeamFactory, UserFactory

from .provider import PEOPLE

User = get_user_model()
PASSWORD = "correct-horse-battery"
SECRET = "debrief-client-secret-for-tests-only"
MAPPING = (
    "sre-admins=admin; support=viewer; payments=team:Payments; payments-leads=manager:payments"
)


@pytest.fixture(scope="session")
def signing_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class Sites:
    def __init__(self, port: int):
        self.provider = f"http://localhost:{port}"
        self.debrief = f"http://127.0.0.1:{port}"


@pytest.fixture
def sites(live_server, settings, signing_key):
    port = urlsplit(live_server.url).port
    sites = Sites(port)
    issuer = f"{sites.provider}/o"
    settings.ROOT_URLCONF = "tests.signin.provider"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.OAUTH2_PROVIDER = {
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": signing_key,
        "OIDC_ISS_ENDPOINT": issuer,
        "PKCE_REQUIRED": True,
        "OAUTH2_VALIDATOR_CLASS": "tests.signin.provider.Validator",
        "SCOPES": {
            "openid": "Sign you in",
            "email": "Your email",
            "profile": "Your name",
            "groups": "Your groups",
        },
    }
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "Example ID"
    settings.OIDC_RP_CLIENT_ID = "debrief"
    settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{issuer}/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{issuer}/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{issuer}/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{issuer}/.well-known/jwks.json"
    settings.OIDC_OP_ISSUER = issuer
    settings.OIDC_TIMEOUT = 60  # the back-channel calls go to this same, busy, test server
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_GROUP_ROLES = parse_group_roles(MAPPING)
    Application.objects.create(
        name="Debrief",
        client_id="debrief",
        client_secret=SECRET,
        hash_client_secret=False,  # RS256 tokens; the secret only authenticates the client
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{sites.debrief}/oidc/callback/",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    yield sites
    PEOPLE.clear()
    # A live-server thread keeps its database connection while a browser keeps its socket
    # alive; close them before the database is flushed (PostgreSQL cannot truncate under them).
    while OPEN_SESSIONS:
        OPEN_SESSIONS.pop().close()


def person_at_provider(username: str, **claims):
    """An account at the provider, and what the provider says about it."""
    UserFactory(username=username)
    PEOPLE[username] = claims
    return username


def carol(**overrides):
    claims = {
        "email": "carol@example.com",
        "email_verified": True,
        "preferred_username": "carol",
        "given_name": "Carol",
        "family_name": "Diaz",
        "groups": ["payments", "support"],
    }
    return person_at_provider("idp-carol", **(claims | overrides))


OPEN_SESSIONS: list[requests.Session] = []


def http_session() -> requests.Session:
    session = requests.Session()
    OPEN_SESSIONS.append(session)
    return session


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


class Browser:
    """One person's browser: cookies per host, redirects followed by hand so tests can meddle."""

    def __init__(self, sites: Sites):
        self.sites = sites
        self.http = http_session()

    def start(self) -> str:
        """Press "Sign in with …" on Debrief; returns where Debrief sends the browser."""
        response = self.http.get(f"{self.sites.debrief}/oidc/authenticate/", allow_redirects=False)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def authorize(self, url: str, username: str) -> str:
        """At the provider: sign in there if asked; returns the callback URL it redirects to."""
        response = self.http.get(url, allow_redirects=False)
        if response.headers.get("Location", "").startswith("/login/"):
            login = f"{self.sites.provider}{response.headers['Location']}"
            page = self.http.get(login).text
            form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": _csrf(page)}
            form["next"] = parse_qs(urlsplit(login).query)["next"][0]
            response = self.http.post(login, data=form, allow_redirects=False)
            assert response.status_code == 302, response.text
            response = self.http.get(
                f"{self.sites.provider}{response.headers['Location']}", allow_redirects=False
            )
        location = response.headers["Location"]
        assert location.startswith(f"{self.sites.debrief}/oidc/callback/"), location
        return location

    def finish(self, callback: str) -> requests.Response:
        return self.http.get(callback, allow_redirects=False)

    def sign_on(self, username: str) -> requests.Response:
        return self.finish(self.authorize(self.start(), username))

    def home(self) -> requests.Response:
        return self.http.get(f"{self.sites.debrief}/incidents/", allow_redirects=False)


def signed_in(browser: Browser) -> bool:
    return browser.home().status_code == 200


def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.django_db(transaction=True)
def test_a_first_sign_on_creates_the_account_with_a_profile_and_the_mapped_roles(sites):
    payments = TeamFactory(name="Payments", slug="payments")
    idp_carol = carol()
    browser = Browser(sites)
    response = browser.sign_on(idp_carol)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = browser.home()
    assert home.status_code == 200 and "Carol Diaz" in home.text

    user = User.objects.get(username="carol")
    assert (user.email, user.first_name, user.last_name) == ("carol@example.com", "Carol", "Diaz")
    assert not user.has_usable_password()  # signs in only through the provider
    assert user.profile.read_only is True  # support=viewer
    assert list(payments.members.all()) == [user]  # payments=team:Payments
    assert not payments.managers.exists()
    assert not user.is_superuser and not user.is_staff
    identity = SingleSignOnIdentity.objects.get(user=user)
    assert identity.issuer == f"{sites.provider}/o"
    assert identity.subject == str(User.objects.get(username="idp-carol").pk)


@pytest.mark.django_db(transaction=True)
def test_signing_on_again_brings_roles_up_to_date_and_leaves_unmapped_teams_alone(sites):
    payments = TeamFactory(name="Payments", slug="payments")
    checkout = TeamFactory(name="Checkout", slug="checkout")
    idp_carol = carol(groups=["payments", "payments-leads", "sre-admins"])
    assert Browser(sites).sign_on(idp_carol).status_code == 302
    user = User.objects.get(username="carol")
    assert user.is_superuser and user.is_staff
    assert user in payments.members.all() and user in payments.managers.all()
    assert user.profile.read_only is False
    checkout.members.add(user)  # given by hand, in Debrief; the mapping never mentions it

    PEOPLE[idp_carol] |= {"groups": ["support"], "email": "carol.diaz@example.com"}
    browser = Browser(sites)
    assert browser.sign_on(idp_carol).status_code == 302 and signed_in(browser)
    user.refresh_from_db()
    assert not user.is_superuser and not user.is_staff
    assert user not in payments.members.all() and user not in payments.managers.all()
    assert user.profile.read_only is True
    assert user in checkout.members.all()
    assert user.email == "carol.diaz@example.com"
    assert User.objects.filter(username__startswith="carol").count() == 1  # same account


@pytest.mark.django_db(transaction=True)
def test_a_forged_state_is_refused(sites):
    browser = Browser(sites)
    callback = browser.authorize(browser.start(), carol())
    response = browser.finish(with_query(callback, state="forged-by-an-attacker"))
    assert response.status_code == 302 and response.headers["Location"] == reverse("login")
    assert not signed_in(browser)
    assert not User.objects.filter(username="carol").exists()
    page = browser.http.get(f"{sites.debrief}/login/").text
    assert "Signing in with Example ID did not complete" in page


@pytest.mark.django_db(transaction=True)
def test_a_callback_from_another_browser_is_refused(sites):
    # Login CSRF: an attacker's own valid code and state, delivered to a victim's browser.
    attacker = Browser(sites)
    callback = attacker.authorize(attacker.start(), carol())
    victim = Browser(sites)
    victim.start()  # the victim's session has a state of its own
    assert victim.finish(callback).headers["Location"] == reverse("login")
    assert not signed_in(victim)


@pytest.mark.django_db(transaction=True)
def test_a_callback_used_twice_is_refused(sites):
    browser = Browser(sites)
    callback = browser.authorize(browser.start(), carol())
    assert browser.finish(callback).headers["Location"] == "/"
    assert browser.finish(callback).headers["Location"] == reverse("login")


@pytest.mark.django_db(transaction=True)
def test_an_id_token_with_another_nonce_is_refused(sites):
    browser = Browser(sites)
    authorize = with_query(browser.start(), nonce="a-nonce-debrief-never-issued")
    callback = browser.authorize(authorize, carol())
    response = browser.finish(callback)  # the state is right; the token's nonce is not
    assert response.headers["Location"] == reverse("login")
    assert not signed_in(browser)
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.django_db(transaction=True)
def test_a_local_account_with_the_verified_email_is_linked_and_keeps_its_password(sites):
    local = UserFactory(username="cdiaz", email="Carol@Example.com")
    browser = Browser(sites)
    assert browser.sign_on(carol()).status_code == 302 and signed_in(browser)
    assert SingleSignOnIdentity.objects.get().user == local
    assert not User.objects.filter(username="carol").exists()
    # The password still works on the login page.
    password_browser = http_session()
    page = password_browser.get(f"{sites.debrief}/login/").text
    assert "Sign in with Example ID" in page
    response = password_browser.post(
        f"{sites.debrief}/login/",
        data={"username": "cdiaz", "password": PASSWORD, "csrfmiddlewaretoken": _csrf(page)},
        allow_redirects=False,
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.django_db(transaction=True)
def test_an_unverified_email_does_not_take_over_a_local_account(sites):
    local = UserFactory(username="admin-carol", email="carol@example.com", is_superuser=True)
    browser = Browser(sites)
    assert browser.sign_on(carol(email_verified=False, groups=[])).status_code == 302
    user = SingleSignOnIdentity.objects.get().user
    assert user != local and user.username == "carol" and not user.is_superuser


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_account_cannot_sign_on(sites):
    idp_carol = carol()
    assert Browser(sites).sign_on(idp_carol).status_code == 302
    User.objects.filter(username="carol").update(is_active=False)
    browser = Browser(sites)
    assert browser.sign_on(idp_carol).headers["Location"] == reverse("login")
    assert not signed_in(browser)
