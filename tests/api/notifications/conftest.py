"""Notification fixtures: residents loaded through the registry CLI and verified through the
real services, an operator, the HMS/FCM fakes wired in through configuration, and a real
Dramatiq worker on the app's broker."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import dramatiq
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.extensions import db, population_registry
from api.identity.accounts import verify_real_name
from api.identity.sessions import get_or_create_user, start_session
from tests.conftest import bearer
from tests.factories import import_persons, resident_id
from tests.push.fakes.fcm_server import FakeFcm
from tests.push.fakes.hms_server import FakeHms

HMS_APP_ID = "104399999"
HMS_SECRET = "s3cret-app-secret"
HUANGPU_60_LOCAL = {"and": [{">=": [{"var": "age"}, 60]}, {"==": [{"var": "district"}, "黄浦区"]},
                            {"==": [{"var": "hukou"}, True]}]}


@dataclass
class Resident:
    user_id: int
    phone: str
    token: str
    session_id: str
    spec: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict:
        return bearer(self.token)


@pytest.fixture
def residents(app, tmp_path):
    """residents([{birth_date, district, hukou, veteran?, ...}, ...]) -> [Resident]: registry rows
    imported by `registry import-persons`, accounts signed in and real-name verified by the services.
    A spec with ``verified: False`` gets an account without a real name."""
    counter = iter(range(10_000))

    def _make(specs: list[dict]) -> list[Resident]:
        rows, planned = [], []
        for spec in specs:
            i = next(counter)
            birth = spec.get("birth_date", "1950-01-01")
            number = resident_id(region="310101", birth=birth.replace("-", ""), seq=f"{i % 1000:03d}")
            phone = f"+86139{i:08d}"
            row = {"id_type": "resident_id", "id_number": number, "name": f"居民{i}", "birth_date": birth,
                   "district": spec.get("district", "黄浦区"), "hukou": "true" if spec.get("hukou", True) else "false"}
            for flag in ("veteran", "disabled", "living_alone"):
                row[flag] = {True: "true", False: "false", None: ""}[spec.get(flag)]
            rows.append(row)
            planned.append((phone, row, spec))
        import_persons(app, tmp_path, rows)
        out = []
        with app.app_context():
            clock = int(app.extensions["ssb.clock"]())
            for phone, row, spec in planned:
                user = get_or_create_user(phone, now=clock)
                pair = start_session(user, device_id=f"phone-{phone}", user_agent="test", now=clock)
                if spec.get("verified", True):
                    verify_real_name(user.id, name=row["name"], id_type="resident_id", id_number=row["id_number"],
                                     now=clock, registry=population_registry())
                from api.identity.tokens import decode_access_token
                sid = decode_access_token(pair.access_token, now=clock).session_id
                out.append(Resident(user.id, phone, pair.access_token, sid, spec))
        return out

    return _make


@pytest.fixture
def operator(app) -> dict:
    with app.app_context():
        now = int(app.extensions["ssb.clock"]())
        user = get_or_create_user("+8613900000001", now=now)
        user.roles = ["resident", "operator"]
        db.session.commit()
        return bearer(start_session(user, device_id="ops", user_agent="test", now=now).access_token)


@pytest.fixture
def hms(app, monkeypatch):
    """The HMS fake, configured as the app's HMS provider (clients rebuilt from configuration
    on the way in, and again once the configuration is restored)."""
    from push.clients import rebuild_providers
    with FakeHms(app_id=HMS_APP_ID, client_secret=HMS_SECRET) as fake, monkeypatch.context() as patch:
        cfg = app.extensions["ssb.config"]
        patch.setattr(cfg, "PUSH_HMS_URL", fake.url)
        patch.setattr(cfg, "PUSH_HMS_TOKEN_URL", fake.token_url)
        patch.setattr(cfg, "PUSH_HMS_APP_ID", HMS_APP_ID)
        patch.setattr(cfg, "PUSH_HMS_CLIENT_SECRET", HMS_SECRET)
        rebuild_providers(app)
        yield fake
    rebuild_providers(app)


@pytest.fixture
def fcm(app, monkeypatch, tmp_path):
    """The FCM fake, configured through a service-account file as in production."""
    from push.clients import rebuild_providers
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    with FakeFcm(project_id="ssb-test", client_email="push@ssb-test.iam.gserviceaccount.com", key_id="k1",
                 public_key=key.public_key()) as fake, monkeypatch.context() as patch:
        creds = tmp_path / "fcm.json"
        creds.write_text(json.dumps({"type": "service_account", "project_id": "ssb-test",
                                     "client_email": "push@ssb-test.iam.gserviceaccount.com", "private_key": pem,
                                     "private_key_id": "k1", "token_uri": fake.token_uri}))
        cfg = app.extensions["ssb.config"]
        patch.setattr(cfg, "PUSH_FCM_URL", fake.url)
        patch.setattr(cfg, "PUSH_FCM_CREDENTIALS_FILE", str(creds))
        rebuild_providers(app)
        yield fake
    rebuild_providers(app)


@pytest.fixture
def worker(app):
    """run() drains the campaign and push queues with a real Dramatiq worker on the app's broker."""
    broker = app.extensions["ssb.broker"]

    def run(timeout_ms: int = 60_000) -> None:
        w = dramatiq.Worker(broker, worker_timeout=100, worker_threads=2)
        w.start()
        try:
            for _ in range(3):      # chunk jobs enqueue relay jobs and vice versa
                broker.join("campaigns", timeout=timeout_ms)
                broker.join("push", timeout=timeout_ms)
        finally:
            w.stop()

    return run


def register_device(client, resident: Resident, token: str, platform: str = "hms") -> int:
    r = client.post("/v1/devices", headers=resident.headers, json={"platform": platform, "token": token})
    assert r.status_code == 201, r.json
    return r.json["id"]
