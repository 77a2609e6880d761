"""Operator commands for the signing key ring: `flask --app wsgi keys rotate`, `keys list`.

Rotation writes a new `<ts>.pem` into KEYS_DIR (the newest key signs) and marks every older
active key in `keys.json` as retired with `published_until = now + --publish-for`. The default
is the longest lifetime of any token a third party verifies with the JWKS (access tokens,
prefetched 随申码, licence presentations) plus the clock-skew allowance, so no outstanding token
ever fails offline verification because its key vanished from the JWKS.

Place codes (场所码) live a year but are only ever verified by this server (POST /v1/checkins),
which keeps every PEM in KEYS_DIR, retired ones included, and checks that a place code's `iat`
precedes its key's retirement. So the JWKS stays small, and printed place codes keep working
after a rotation; they pick up the new key the next time a venue fetches its place code.
Delete a retired PEM only after PLACE_CODE_TTL (a year) has passed since its retirement.
Every process re-reads KEYS_DIR within 10 s; a verifier seeing an unknown `kid` re-reads at once.
"""
from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext


def register(app: Flask) -> None:
    app.cli.add_command(keys)


def default_publish_for(cfg) -> int:
    lifetimes = [cfg.ACCESS_TOKEN_TTL, cfg.CODE_TTL * 10, int(getattr(cfg, "LICENCE_TOKEN_TTL", 0) or 0)]
    return max(lifetimes) + cfg.CLOCK_SKEW


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def rotate_keys(keys_dir: str, *, now: int, publish_for: int) -> tuple[str, list[tuple[str, int]]]:
    """Create a new signing key; retire the others. Returns (new kid, [(retired kid, published_until)])."""
    from api.keyring import load_key_ring
    from qr.keys import SigningKey

    directory = Path(keys_dir)
    directory.mkdir(parents=True, exist_ok=True)
    ring = load_key_ring(directory)
    created = max([now] + [k.created_at + 1 for k in ring.keys])
    new = SigningKey.generate(created_at=created)
    meta_path = directory / "keys.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    retired = []
    for key in ring.keys:
        if key.retired_at is None:
            meta[key.kid] = {"retired_at": now, "published_until": now + publish_for}
            retired.append((key.kid, now + publish_for))
    # The PEM first, keys.json second: a process reading in between sees both keys active (the
    # newest signs), never a ring whose every key is retired.
    pem_path = directory / f"{created}.pem"
    tmp = directory / f".{created}.{os.getpid()}.tmp"
    tmp.write_bytes(new.private_pem())
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, pem_path)
    finally:
        tmp.unlink(missing_ok=True)
    _write_atomic(meta_path, json.dumps(meta, indent=2, sort_keys=True).encode())
    return new.kid, retired


@click.group("keys")
def keys() -> None:
    """Manage the Ed25519 signing key ring (KEYS_DIR)."""


@keys.command("rotate")
@with_appcontext
@click.option("--publish-for", type=int, default=None,
              help="Seconds retired keys stay in the JWKS (default: longest token lifetime + skew).")
def rotate(publish_for: int | None) -> None:
    """Start signing with a new key; keep the old one published until its tokens expire."""
    from api.codes.venues import record_key_retired
    from api.extensions import get_config, get_keyring

    cfg = get_config()
    now = int(time.time())
    publish_for = default_publish_for(cfg) if publish_for is None else publish_for
    kid, retired = rotate_keys(cfg.KEYS_DIR, now=now, publish_for=publish_for)
    for old_kid, until in retired:
        record_key_retired(kid=old_kid, published_until=until, now=now)
    get_keyring(reload=True)
    click.echo(f"new signing key {kid}")
    for old_kid, until in retired:
        click.echo(f"retired {old_kid}, published until {_iso(until)}")


@keys.command("list")
@with_appcontext
def list_keys() -> None:
    """Every key in KEYS_DIR: kid, created, retired, published until, and which one signs."""
    from api.extensions import get_config
    from api.keyring import load_key_ring

    ring = load_key_ring(get_config().KEYS_DIR)
    try:
        signer = ring.signing_key().kid
    except LookupError:
        signer = None
    for k in sorted(ring.keys, key=lambda k: k.created_at):
        state = "signing" if k.kid == signer else ("retired" if k.retired_at else "active")
        click.echo(f"{k.kid}  created {_iso(k.created_at)}  {state}"
                   + (f"  published until {_iso(k.published_until)}" if k.published_until else ""))


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
