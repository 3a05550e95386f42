"""Local fakes of Google's and Apple's OAuth 2.0 / OpenID Connect servers, so allauth's real Google and
Apple providers (and our ID-token exchange) run end to end over HTTP.

One class, two flavours with the real paths and issuers:

- Google: `/o/oauth2/v2/auth` redirects back with a code; `/token` checks the client secret (and a
  PKCE verifier when the authorization had a challenge); keys at `/oauth2/v1/certs` (PEM
  certificates by kid, what allauth reads) and `/oauth2/v3/certs` (a JWK set); `/oauth2/v2/userinfo`.
- Apple: `/auth/authorize` answers with an auto-submitting `form_post` page carrying `code`, `state`,
  `id_token` and, on a person's first authorization only, the `user` JSON with their name; `/auth/token`
  accepts only a client secret that is an ES256 JWT signed with the team's key (kid, iss = team id,
  sub = client id, aud = Apple); keys at `/auth/keys`. ID tokens carry `email_verified` and
  `is_private_email` as the strings Apple sends.

The server auto-approves as `person` (set it before the flow). ID tokens are RS256 with the fake's
key; `id_token(...)` mints one directly, as a mobile SDK would receive it, with any claim overridden
or signed by another key. Codes are single-use and bound to their client and redirect URI.
"""

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from testing.fakes.json_http import JsonRequestHandler

GOOGLE_ISSUER = "https://accounts.google.com"
APPLE_ISSUER = "https://appleid.apple.com"


@dataclass
class Person:
    """The signed-in account at the provider: who the authorization endpoint approves as."""

    sub: str = field(default_factory=lambda: str(uuid.uuid4().int)[:21])
    email: str = "person@example.com"
    email_verified: bool = True
    given_name: str = "Pat"
    family_name: str = "Doe"
    is_private_email: bool = False


@dataclass
class _Grant:
    person: Person
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _self_signed_pem(key: rsa.RSAPrivateKey) -> str:
    """Google's v1 certs endpoint serves each key as a PEM X.509 certificate."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google-oauth")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


class FakeOIDCProvider:
    """A Google or Apple sign-in server on 127.0.0.1. Build it with `google()` or `apple()`."""

    def __init__(self, flavour: str, *, client_id: str, client_secret: str = ""):
        self.flavour = flavour
        self.issuer = GOOGLE_ISSUER if flavour == "google" else APPLE_ISSUER
        self.client_id = client_id
        self.client_secret = client_secret
        self.person = Person()
        self.kid = secrets.token_hex(8)
        self.signing_key = _rsa_key()
        #: Apple only: the team's key pair (the .p8 file a developer downloads) and its ids.
        self.team_id = "TEAM123456"
        self.key_id = "KEY1234567"
        self.team_key = ec.generate_private_key(ec.SECP256R1())
        self.requests: list[tuple[str, str, dict]] = []
        self._grants: dict[str, _Grant] = {}
        self._access_tokens: dict[str, Person] = {}
        self._authorized_subs: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @classmethod
    def google(cls, *, client_id: str = "fake-google-client.apps.googleusercontent.com") -> "FakeOIDCProvider":
        return cls("google", client_id=client_id, client_secret="fake-google-secret")

    @classmethod
    def apple(cls, *, client_id: str = "com.example.signin") -> "FakeOIDCProvider":
        return cls("apple", client_id=client_id)

    def start(self) -> "FakeOIDCProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- where things are ---

    @property
    def authorize_url(self) -> str:
        return self.url + ("/o/oauth2/v2/auth" if self.flavour == "google" else "/auth/authorize")

    @property
    def token_url(self) -> str:
        return self.url + ("/token" if self.flavour == "google" else "/auth/token")

    @property
    def jwks_url(self) -> str:
        return self.url + ("/oauth2/v3/certs" if self.flavour == "google" else "/auth/keys")

    @property
    def pem_certs_url(self) -> str:
        return self.url + "/oauth2/v1/certs"

    @property
    def userinfo_url(self) -> str:
        return self.url + "/oauth2/v2/userinfo"

    @property
    def team_private_key_pem(self) -> str:
        return self.team_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    # --- tokens ---

    def id_token(
        self,
        person: Person | None = None,
        *,
        audience: str | None = None,
        issuer: str | None = None,
        expires_in: int = 3600,
        signing_key: rsa.RSAPrivateKey | None = None,
        **claims,
    ) -> str:
        """An ID token for `person` (default: the current one), as the provider signs it."""
        person = person or self.person
        now = int(time.time())
        body = {
            "iss": issuer or self.issuer,
            "aud": audience or self.client_id,
            "sub": person.sub,
            "iat": now,
            "exp": now + expires_in,
            "email": person.email,
        }
        if self.flavour == "google":
            body.update(
                azp=audience or self.client_id,
                email_verified=person.email_verified,
                name=f"{person.given_name} {person.family_name}".strip(),
                given_name=person.given_name,
                family_name=person.family_name,
            )
        else:
            # Apple sends these booleans as strings.
            body.update(
                email_verified=str(person.email_verified).lower(),
                is_private_email=str(person.is_private_email).lower(),
                auth_time=now,
                nonce_supported=True,
            )
        body.update(claims)
        return jwt.encode(body, signing_key or self.signing_key, algorithm="RS256", headers={"kid": self.kid})

    def _authorize(self, query: dict[str, str]) -> tuple[str, _Grant]:
        grant = _Grant(
            person=self.person,
            client_id=query["client_id"],
            redirect_uri=query["redirect_uri"],
            nonce=query.get("nonce"),
            code_challenge=query.get("code_challenge"),
        )
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = grant
        return code, grant

    def _client_secret_ok(self, form: dict[str, str]) -> bool:
        secret = form.get("client_secret", "")
        if self.flavour == "google":
            return secrets.compare_digest(secret, self.client_secret)
        try:
            if jwt.get_unverified_header(secret).get("kid") != self.key_id:
                return False
            claims = jwt.decode(
                secret, self.team_key.public_key(), algorithms=["ES256"], audience=APPLE_ISSUER, issuer=self.team_id
            )
        except jwt.PyJWTError:
            return False
        return claims.get("sub") == self.client_id

    def _exchange(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.client_id or not self._client_secret_ok(form):
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or grant.client_id != form["client_id"] or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        if grant.code_challenge:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.code_challenge:
                return 400, {"error": "invalid_grant", "error_description": "code_verifier mismatch"}
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[access_token] = grant.person
        claims = {"nonce": grant.nonce} if grant.nonce else {}
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": self.id_token(grant.person, **claims),
        }
        if self.flavour == "apple":
            body["refresh_token"] = secrets.token_urlsafe(32)
        else:
            body["scope"] = "openid email profile"
        return 200, body

    def _form_post_page(self, code: str, grant: _Grant, state: str) -> str:
        fields = {"code": code, "state": state, "id_token": self.id_token(grant.person)}
        if grant.person.sub not in self._authorized_subs:
            # Apple sends the name only the first time a person authorizes the app.
            self._authorized_subs.add(grant.person.sub)
            name = {"firstName": grant.person.given_name, "lastName": grant.person.family_name}
            fields["user"] = json.dumps({"name": name, "email": grant.person.email})
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
            for key, value in fields.items()
        )
        action = html.escape(grant.redirect_uri)
        return (
            f'<html><body onload="document.forms[0].submit()"><form method="post" action="{action}">'
            f"{inputs}</form></body></html>"
        )

    def _handler(self):
        fake = self

        class Handler(JsonRequestHandler):
            def _html(self, status: int, body: str) -> None:
                raw = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                url = urlparse(self.path)
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                fake.requests.append(("GET", url.path, query))
                if url.path == urlparse(fake.authorize_url).path:
                    return self._authorization(query)
                if url.path == urlparse(fake.jwks_url).path:
                    return self._reply(200, {"keys": [_public_jwk(fake.signing_key, fake.kid)]})
                if fake.flavour == "google" and url.path == "/oauth2/v1/certs":
                    return self._reply(200, {fake.kid: _self_signed_pem(fake.signing_key)})
                if fake.flavour == "google" and url.path == "/oauth2/v2/userinfo":
                    return self._userinfo()
                self._reply(404, {"error": "not_found"})

            def _authorization(self, query: dict[str, str]) -> None:
                if query.get("client_id") != fake.client_id or not query.get("redirect_uri"):
                    return self._reply(400, {"error": "invalid_request"})
                code, grant = fake._authorize(query)
                state = query.get("state", "")
                if fake.flavour == "apple":
                    if query.get("response_mode") != "form_post":
                        return self._reply(400, {"error": "invalid_request", "error_description": "form_post"})
                    return self._html(200, fake._form_post_page(code, grant, state))
                self.send_response(302)
                self.send_header("Location", f"{grant.redirect_uri}?{urlencode({'code': code, 'state': state})}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _userinfo(self) -> None:
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                person = fake._access_tokens.get(token)
                if person is None:
                    return self._reply(401, {"error": "invalid_token"})
                self._reply(
                    200,
                    {
                        "id": person.sub,
                        "email": person.email,
                        "verified_email": person.email_verified,
                        "name": f"{person.given_name} {person.family_name}".strip(),
                        "given_name": person.given_name,
                        "family_name": person.family_name,
                    },
                )

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                path = urlparse(self.path).path
                fake.requests.append(("POST", path, form))
                if path != urlparse(fake.token_url).path:
                    return self._reply(404, {"error": "not_found"})
                self._reply(*fake._exchange(form))

        return Handler


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action") or ""
        elif tag == "input" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


def read_form_post(page: str) -> tuple[str, dict[str, str]]:
    """What a browser would submit from Apple's `form_post` page: the form's action and its fields."""
    reader = _FormReader()
    reader.feed(page)
    return reader.action, reader.fields
