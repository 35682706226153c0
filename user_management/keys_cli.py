"""`keys generate|rotate|list`: the keyset file whose private keys sign access tokens.

    flask --app wsgi:user_management_app keys rotate
    python -m user_management.keys_cli generate --path /run/secrets/jwt-signing-keys.json

The `python -m` form needs no running configuration, so it can create the first keyset
of a production deployment (which refuses to start without one). Settings come from the
app when there is one, else from the environment (JWT_SIGNING_KEYS, JWT_ALGORITHM,
JWT_ACCESS_EXPIRES).
"""
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app, has_app_context

from servicekit.config import env_int, env_str

from .utils.signing_keys import ALGORITHMS, KeySet, KeySetError, new_key, read_keyset, write_keyset
from .utils.timeutil import isoformat, utcnow


def _settings():
    if has_app_context():
        config = current_app.config
        return config.get("JWT_SIGNING_KEYS"), config["JWT_ALGORITHM"], config["JWT_ACCESS_EXPIRES"]
    return (env_str("JWT_SIGNING_KEYS"), env_str("JWT_ALGORITHM", "EdDSA"),
            timedelta(seconds=env_int("JWT_ACCESS_EXPIRES", 15 * 60)))


def _path(path):
    path = path or _settings()[0]
    if not path:
        raise click.UsageError("give --path, or set JWT_SIGNING_KEYS")
    return Path(path)


path_option = click.option("--path", type=click.Path(dir_okay=False), help="Keyset file (default: JWT_SIGNING_KEYS).")
alg_option = click.option("--alg", type=click.Choice(ALGORITHMS), help="Algorithm of the new key (default: JWT_ALGORITHM).")


@click.group("keys")
def keys():
    """Access-token signing keys: generate, rotate, list."""


@keys.command("generate")
@path_option
@alg_option
@click.option("--force", is_flag=True, help="Replace an existing keyset (every token it signed stops verifying).")
def generate(path, alg, force):
    """Write a new keyset file with one signing key."""
    path = _path(path)
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use `keys rotate` (or --force to replace it)")
    key = new_key(alg or _settings()[1])
    write_keyset(path, KeySet([key]))
    click.echo(f"Created {path} with key {key.kid} ({key.alg})")


def _read(path):
    """The keyset at `path`, or a clear CLI error."""
    try:
        return read_keyset(path)
    except KeySetError as error:
        raise click.ClickException(str(error)) from None


@keys.command("rotate")
@path_option
@alg_option
def rotate(path, alg):
    """Add a new signing key; the previous one verifies until its last token expires."""
    path = _path(path)
    _, algorithm, lifetime = _settings()
    keyset = _read(path)
    rotated = keyset.rotated(alg or algorithm, lifetime)
    write_keyset(path, rotated)
    dropped = {key.kid for key in keyset.keys} - {key.kid for key in rotated.keys}
    click.echo(f"New signing key {rotated.signing_key.kid} ({rotated.signing_key.alg})"
               + (f"; dropped expired {', '.join(sorted(dropped))}" if dropped else ""))


@keys.command("list")
@path_option
def list_keys(path):
    """Show each key: signing, verifying until a time, or expired (dropped at the next rotation)."""
    path = _path(path)
    _, _, lifetime = _settings()
    keyset = _read(path)
    now = utcnow()
    signing = keyset.signing_key
    for key in keyset.keys:
        until = key.verifies_until(lifetime)
        if key is signing:
            state = "signing"
        elif until is None:
            state = "verifying (not signing: a newer key signs)"
        elif until > now:
            state = f"verifying until {isoformat(until)}"
        else:
            state = "expired"
        click.echo(f"{key.kid}  {key.alg:6}  created {isoformat(key.created_at)}  {state}")


if __name__ == "__main__":
    keys()
