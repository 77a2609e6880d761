"""Loads the Ed25519 key ring from KEYS_DIR (generating a first dev key) and reloads on change.

KEYS_DIR holds `<created_unix_ts>.pem` private keys. The newest signs. Rotation is dropping a
newer PEM in (every process picks it up within RELOAD_EVERY seconds); an older key stays
published until `keys.json` marks it retired and its `published_until` time has passed.
`keys.json` (optional): {"<kid>": {"retired_at": ts, "published_until": ts}}.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from qr.keys import KeyRing, SigningKey

RELOAD_EVERY = 10.0


def load_key_ring(keys_dir: str | os.PathLike) -> KeyRing:
    directory = Path(keys_dir)
    meta_path = directory / "keys.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    keys = []
    for pem in sorted(directory.glob("*.pem")):
        created = int(pem.stem) if pem.stem.isdigit() else int(pem.stat().st_mtime)
        key = SigningKey.from_private_pem(pem.read_bytes(), created_at=created)
        info = meta.get(key.kid, {})
        keys.append(SigningKey(key.kid, key.public_key, key.private_key, created,
                               info.get("retired_at"), info.get("published_until")))
    return KeyRing(keys)


def ensure_dev_key(keys_dir: str | os.PathLike) -> None:
    """First run on a developer machine: create one key, atomically, once across processes."""
    directory = Path(keys_dir)
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.glob("*.pem")):
        return
    key = SigningKey.generate(created_at=int(time.time()))
    tmp = directory / f".{os.getpid()}.tmp"
    tmp.write_bytes(key.private_pem())
    os.chmod(tmp, 0o600)
    try:
        if not any(directory.glob("*.pem")):
            os.link(tmp, directory / f"{key.created_at}.pem")
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


class KeyRingProvider:
    """Caches the ring; re-reads the directory at most every RELOAD_EVERY seconds when it changed."""

    def __init__(self, keys_dir: str) -> None:
        self.keys_dir = keys_dir
        self._lock = threading.Lock()
        self._ring = load_key_ring(keys_dir)
        self._stamp = self._dir_stamp()
        self._checked = time.monotonic()

    def _dir_stamp(self) -> tuple:
        d = Path(self.keys_dir)
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in d.iterdir() if not p.name.startswith(".")))

    def current(self) -> KeyRing:
        if time.monotonic() - self._checked > RELOAD_EVERY:
            with self._lock:
                self._checked = time.monotonic()
                stamp = self._dir_stamp()
                if stamp != self._stamp:
                    self._ring, self._stamp = load_key_ring(self.keys_dir), stamp
        return self._ring

    def reload(self) -> KeyRing:
        with self._lock:
            self._ring, self._stamp = load_key_ring(self.keys_dir), self._dir_stamp()
            self._checked = time.monotonic()
        return self._ring
