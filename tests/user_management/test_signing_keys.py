"""Access tokens signed with an asymmetric key; public keys at /.well-known/jwks.json; rotation; the keys CLI."""
import json
from datetime import timedelta

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa

from support.factory import Factory
from support.jwks import keyset_file
from user_management import create_app
from user_management.config import ConfigurationError, TestingConfig
from user_management.keys_cli import keys as keys_command
from user_management.middleware.signing import build_keyring
from user_management.utils.roles import SUPER_ADMIN
from user_management.utils.signing_keys import KeySet, SigningKey, new_key, read_keyset, write_keyset
from user_management.utils.timeutil import utcnow


def _login(client, factory):
    user = factory.user(SUPER_ADMIN)
    response = client.post("/api/auth/login", json={"email": user.email, "password": "Correct-Horse-42"})
    assert response.status_code == 200, response.json
    return response.json["accessToken"]


def _profile(client, token):
    return client.get("/api/auth/profile", headers={"Authorization": f"Bearer {token}"})


def test_access_token_is_signed_by_a_published_key(app, client, factory):
    """The token names its key; the JWKS gives the public key that verifies it, issuer and audience included."""
    token = _login(client, factory)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"]
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    [jwk] = response.json["keys"]
    assert jwk["kid"] == header["kid"] and jwk["use"] == "sig" and jwk["kty"] == "OKP" and "d" not in jwk
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], audience=app.config["FRONTEND_URL"],
                        issuer=app.config["FRONTEND_URL"])
    assert claims["type"] == "access" and claims["role"] == SUPER_ADMIN and claims["tv"] == 0


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_tokens_are_refused(app, client, factory):
    """HMAC with user_management's own secret, `alg: none`, or a key not in the set: 401."""
    token = _login(client, factory)
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    forgeries = [
        jwt.encode(claims, app.config["JWT_ACCESS_SECRET"], algorithm="HS256", headers={"kid": kid}),
        jwt.encode(claims, app.config["JWT_ACCESS_SECRET"], algorithm="HS256"),
        jwt.encode(claims, None, algorithm="none", headers={"kid": kid}),
        jwt.encode(claims, new_key().private_key, algorithm="EdDSA", headers={"kid": kid}),
        jwt.encode(claims, new_key().private_key, algorithm="EdDSA", headers={"kid": "someone-else"}),
        jwt.encode(claims, new_key("RS256").private_key, algorithm="RS256", headers={"kid": kid}),
    ]
    assert _profile(client, token).status_code == 200
    for forged in forgeries:
        response = _profile(client, forged)
        assert response.status_code == 401, forged
        assert response.json["message"] == "Invalid access token"


def test_rsa_signing(app_factory):
    """JWT_ALGORITHM=RS256 signs with an RSA key and publishes it."""
    app = app_factory(JWT_ALGORITHM="RS256")
    client = app.test_client()
    with app.app_context():
        token = _login(client, Factory(app))
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert client.get("/.well-known/jwks.json").json["keys"][0]["kty"] == "RSA"
    assert _profile(client, token).status_code == 200


def test_rotation_without_downtime(app_factory, tmp_path, factory):
    """After `keys rotate` the new key signs, tokens of the old one still verify, both are published."""
    path = keyset_file(tmp_path)
    app = app_factory(JWT_SIGNING_KEYS=str(path))
    client = app.test_client()
    with app.app_context():
        old_token = _login(client, factory)
        result = app.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        app.extensions["signing_keys"].refresh(force=True)  # the running app notices within a second by itself
        new_token = _login(client, factory)
    old_kid, new_kid = (jwt.get_unverified_header(token)["kid"] for token in (old_token, new_token))
    assert old_kid != new_kid
    assert {key["kid"] for key in client.get("/.well-known/jwks.json").json["keys"]} == {old_kid, new_kid}
    assert _profile(client, old_token).status_code == 200
    assert _profile(client, new_token).status_code == 200


def test_a_worker_picks_up_a_rotation_it_did_not_make(app_factory, tmp_path, factory):
    """Two apps on one file (two workers): a token signed after one rotated verifies on the other at once."""
    path = keyset_file(tmp_path)
    first, second = app_factory(JWT_SIGNING_KEYS=str(path)), app_factory(JWT_SIGNING_KEYS=str(path))
    write_keyset(path, read_keyset(path).rotated())
    first.extensions["signing_keys"].refresh(force=True)
    with first.app_context():
        token = _login(first.test_client(), factory)
    assert jwt.get_unverified_header(token)["kid"] == read_keyset(path).signing_key.kid
    assert _profile(second.test_client(), token).status_code == 200


def test_retired_key_dropped_once_its_tokens_expired():
    """A retired key is published for the token lifetime plus a minute, then left out and pruned by a rotation."""
    lifetime = timedelta(minutes=15)
    keyset = KeySet([new_key()]).rotated(token_lifetime=lifetime)
    old, current = keyset.keys
    assert old.retired_at is not None and current.retired_at is None
    soon = old.retired_at + lifetime
    later = old.retired_at + lifetime + timedelta(minutes=2)
    assert [key["kid"] for key in keyset.jwks(lifetime, now=soon)["keys"]] == [old.kid, current.kid]
    assert [key["kid"] for key in keyset.jwks(lifetime, now=later)["keys"]] == [current.kid]
    assert [key.kid for key in keyset.rotated(token_lifetime=lifetime, now=later).keys][0] == current.kid


def test_cli_generate_list_rotate(runner, tmp_path):
    """generate refuses to overwrite; list shows which key signs; rotate keeps the old key verifying."""
    path = tmp_path / "keys.json"
    assert runner.invoke(args=["keys", "generate", "--path", str(path)]).exit_code == 0
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = runner.invoke(args=["keys", "generate", "--path", str(path)])
    assert again.exit_code != 0 and "exists" in again.output
    assert runner.invoke(args=["keys", "rotate", "--path", str(path), "--alg", "RS256"]).exit_code == 0
    listing = runner.invoke(args=["keys", "list", "--path", str(path)]).output.splitlines()
    assert len(listing) == 2
    assert "EdDSA" in listing[0] and "verifying until" in listing[0]
    assert "RS256" in listing[1] and listing[1].endswith("signing")
    assert "PRIVATE" not in "".join(listing)


def test_cli_works_without_an_app(tmp_path, monkeypatch):
    """`python -m user_management.keys_cli generate` makes production's first keyset (no app can start yet)."""
    path = tmp_path / "keys.json"
    monkeypatch.setenv("JWT_SIGNING_KEYS", str(path))
    result = CliRunner().invoke(keys_command, ["generate"])
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text())["keys"][0]["alg"] == "EdDSA"


def test_development_creates_its_keyset_once(tmp_path):
    """Dev makes the keyset file at first start; the next start (or another worker) reuses it."""
    path = tmp_path / "instance" / "keys.json"
    settings = {"JWT_ACCESS_EXPIRES": timedelta(minutes=15), "JWT_ALGORITHM": "EdDSA", "JWT_SIGNING_KEYS": str(path),
                "ENV_NAME": "development"}
    first = build_keyring(settings).signing_key().kid
    assert build_keyring(settings).signing_key().kid == first


def test_keyset_file_of_another_algorithm_is_refused(app_factory, tmp_path):
    """A keyset signing with RS256 while JWT_ALGORITHM says EdDSA stops the start."""
    path = keyset_file(tmp_path, alg="RS256")
    with pytest.raises(ConfigurationError, match="JWT_ALGORITHM"):
        create_app(TestingConfig, JWT_SIGNING_KEYS=str(path))


def test_weak_rsa_key_is_refused(tmp_path):
    """An RSA key under 2048 bits is not accepted into a keyset."""
    weak = SigningKey("weak", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=1024), utcnow())
    path = tmp_path / "keys.json"
    path.write_text(KeySet([weak]).to_json())
    with pytest.raises(ValueError, match="2048"):
        read_keyset(path)
