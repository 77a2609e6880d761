"""Locust user classes for the Suishenban API: residents, venue staff scanners, mini-program
backends and operators. Task weights come from the traffic model (loadtests.model.task_weights),
user class weights from user_class_weights; requests are named after contract path templates.

Environment:
  SSB_SEED_DIR      output of `python -m loadtests.seed` (residents.csv, meta.json) — required
  SSB_SMS_FILE      the API's SMS_BACKEND file, for the rare full OTP logins (skipped if unset)
  SSB_WRITES_FILE   JSON lines of every 2xx write (faults.py checks they survived)
  SSB_EVENTS_FILE   JSON lines of every request outcome (t, name, status, error, ms) for faults.py
  SSB_SHAPE         peak | soak | steps (loadtests/shapes.py); unset: --users/--run-time
  SSB_WAIT_MIN/MAX  think time between tasks, seconds (default 0.5-1.5, the same for every class)
  SSB_REQUEST_TIMEOUT  client timeout, seconds (a hang counts as an error of kind "timeout")
  SSB_FAULT_WRITERS N  add N FaultWriter users (faults run): every kind of write in turn, steadily
"""
from __future__ import annotations

import collections
import csv
import hashlib
import itertools
import json
import os
import random
import threading
import time
from pathlib import Path

from locust import HttpUser, between, constant, events, task

from loadtests import model as traffic

MODEL = traffic.PRESETS[os.environ.get("SSB_PRESET", "normal")]
CLASS_WEIGHTS = traffic.user_class_weights(MODEL)
SEED_DIR = Path(os.environ.get("SSB_SEED_DIR", Path(__file__).parent / "results" / "seed"))
TIMEOUT = float(os.environ.get("SSB_REQUEST_TIMEOUT", "10"))
WAIT = between(float(os.environ.get("SSB_WAIT_MIN", "0.5")), float(os.environ.get("SSB_WAIT_MAX", "1.5")))


def _load_seed():
    residents, meta = [], {}
    if (SEED_DIR / "residents.csv").exists():
        with open(SEED_DIR / "residents.csv", newline="") as fh:
            residents = list(csv.DictReader(fh))
        meta = json.loads((SEED_DIR / "meta.json").read_text())
    return residents, meta


RESIDENTS, META = _load_seed()
LICENCE_HOLDERS = [r for r in RESIDENTS if r.get("licence_id")]
_next_resident = itertools.count(random.randrange(max(1, len(RESIDENTS))))
_next_staff = itertools.count()

# Codes shown by simulated residents, verified by simulated staff (newest first: they expire in 60 s).
CODES: collections.deque = collections.deque(maxlen=2000)
PRESENTATIONS: collections.deque = collections.deque(maxlen=500)
MP_CODES: collections.deque = collections.deque(maxlen=1000)
CAMPAIGNS: list[int] = []


class _JsonLines:
    def __init__(self, path: str | None, *, stamp: bool = False) -> None:
        self.fh = open(path, "a", buffering=1) if path else None
        self.lock = threading.Lock()
        self.stamp = stamp

    def write(self, obj: dict) -> None:
        if self.fh:
            if self.stamp:
                obj = {"t": round(time.time(), 3), **obj}   # when the write was acknowledged
            with self.lock:
                self.fh.write(json.dumps(obj, ensure_ascii=False) + "\n")


WRITES = _JsonLines(os.environ.get("SSB_WRITES_FILE"), stamp=True)
EVENTS = _JsonLines(os.environ.get("SSB_EVENTS_FILE"))


@events.request.add_listener
def _record_event(request_type, name, response_time, response_length, response=None, exception=None, **_):
    if not EVENTS.fh:
        return
    status = getattr(response, "status_code", 0) or 0
    error = None
    if exception is not None and not status:
        text = f"{type(exception).__name__}: {exception}".lower()
        error = "timeout" if "timeout" in text or "timed out" in text else "connection"
    elif status >= 400:
        try:
            error = response.json().get("error")
        except Exception:
            error = "non-json"
    elif exception is not None:
        # A 2xx the task judged a failure: WeChat-style APIs answer HTTP 200 with an errcode.
        error = str(exception)[:80]
    EVENTS.write({"t": round(time.time(), 3), "name": f"{request_type} {name}", "status": status, "error": error,
                  "ok": exception is None, "ms": round(response_time or 0, 1)})


def weighted(user_class: str, mapping: dict) -> dict:
    """{task function: weight} from the model; mapping is {"METHOD /path": function}."""
    weights = traffic.task_weights(MODEL, user_class)
    missing = set(weights) - set(mapping)
    if missing:
        raise RuntimeError(f"locustfile lacks tasks for {sorted(missing)}")
    return {fn: weights[endpoint] for endpoint, fn in mapping.items()}


def _ok(resp, *statuses: int) -> bool:
    if resp.status_code in statuses:
        resp.success()
        return True
    resp.failure(f"{resp.status_code} {_error(resp)}")
    return False


def _error(resp) -> str:
    try:
        return resp.json().get("error") or ""
    except Exception:
        return ""


def token_claims(token: str) -> dict:
    """The payload of one of our JWTs (not verified: the server just issued it to us)."""
    import base64
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sms_code(sms_file: str, phone: str) -> str | None:
    """The last one-time code the API's file SMS backend sent to `phone`."""
    with open(sms_file, "rb") as fh:
        fh.seek(max(0, os.path.getsize(sms_file) - 65536))
        for line in reversed(fh.read().decode("utf-8", "replace").splitlines()):
            if phone in line:
                try:
                    return json.loads(line)["code"]
                except (ValueError, KeyError):
                    return None
    return None


def exchange_code(user, app: dict, code: str, user_id: int) -> None:
    """The mini-program backend's jscode2session: HTTP 200 with an errcode is a failure."""
    with user.req("GET", "/sns/jscode2session", "/sns/jscode2session",
                  params={"appid": app["appid"], "secret": app["secret"], "js_code": code,
                          "grant_type": "authorization_code"}) as r:
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code == 200 and not body.get("errcode") and body.get("openid"):
            r.success()
            WRITES.write({"kind": "mp_user", "appid": app["appid"], "openid": body["openid"], "user_id": user_id})
        else:
            r.failure(f"{r.status_code} errcode={body.get('errcode')}")


_campaign_seq = itertools.count(1)


def publish_campaign(user, op_token: str) -> None:
    rule = {"==": [{"var": "district"}, META.get("campaign_district", "崇明区")]}
    title = f"压测政策 {os.getpid()}-{next(_campaign_seq)}"
    with user.req("POST", "/v1/admin/policies", "/v1/admin/policies", op_token,
                  json={"title": title, "body": "压测正文", "topic": "general", "rule": rule}) as r:
        if not _ok(r, 201):
            return
        policy_id = r.json()["id"]
    with user.req("POST", f"/v1/admin/policies/{policy_id}/campaigns", "/v1/admin/policies/{id}/campaigns",
                  op_token) as r:
        if _ok(r, 202):
            CAMPAIGNS.append(r.json()["campaign_id"])
            WRITES.write({"kind": "campaign", "id": r.json()["campaign_id"], "policy_id": policy_id, "title": title,
                          "district": META.get("campaign_district", "崇明区")})


class Base(HttpUser):
    abstract = True
    wait_time = WAIT

    def req(self, method: str, path: str, name: str, token: str | None = None, **kw):
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.request(method, path, name=name, headers=headers, timeout=TIMEOUT,
                                   catch_response=True, **kw)


# ------------------------------------------------------------------------------------- resident

class Resident(Base):
    """The phone app on the morning commute: refresh the token, show the 随申码 (refreshed every
    minute), glance at the inbox, sometimes show a licence or scan a venue's place code."""

    weight = CLASS_WEIGHTS["resident"]

    def on_start(self) -> None:
        self._take_identity()

    def _take_identity(self) -> None:
        if not RESIDENTS:
            raise RuntimeError(f"no seed in {SEED_DIR}: run python -m loadtests.seed first")
        r = RESIDENTS[next(_next_resident) % len(RESIDENTS)]   # each user owns one session
        self.me = dict(r)

    @property
    def token(self) -> str:
        return self.me["access_token"]

    def code(self) -> None:
        scene = "transport" if random.random() < 0.5 else "general"
        with self.req("GET", f"/v1/codes/suishen?scene={scene}", "/v1/codes/suishen", self.token) as r:
            if _ok(r, 200):
                for c in r.json().get("codes", []):
                    CODES.append((c["payload"], int(self.me["user_id"]), scene))

    def unread(self) -> None:
        with self.req("GET", "/v1/inbox/unread-count", "/v1/inbox/unread-count", self.token) as r:
            _ok(r, 200)

    def refresh(self) -> None:
        with self.req("POST", "/v1/auth/refresh", "/v1/auth/refresh",
                      json={"refresh_token": self.me["refresh_token"]}) as r:
            if r.status_code == 200:
                r.success()
                body = r.json()
                self.me["access_token"], self.me["refresh_token"] = body["access_token"], body["refresh_token"]
                WRITES.write({"kind": "refresh", "token_hash": hashlib.sha256(body["refresh_token"].encode())
                              .hexdigest(), "session_id": token_claims(body["access_token"])["sid"]})
            elif r.status_code == 401:
                # Rotated away by an earlier attempt whose answer was lost (e.g. a 503 mid-outage):
                # reuse detection revoked the family, as designed. Sign in as another resident.
                r.success()
                self._take_identity()
            else:
                _ok(r, 200)

    def me_(self) -> None:
        with self.req("GET", "/v1/me", "/v1/me", self.token) as r:
            _ok(r, 200)

    def inbox(self) -> None:
        with self.req("GET", "/v1/inbox?limit=20", "/v1/inbox", self.token) as r:
            _ok(r, 200)

    def policies(self) -> None:
        with self.req("GET", "/v1/policies/for-me", "/v1/policies/for-me", self.token) as r:
            _ok(r, 200)

    def checkin(self) -> None:
        venues = META.get("venues") or []
        if not venues:
            return
        v = random.choice(venues)
        with self.req("POST", "/v1/checkins", "/v1/checkins", self.token, json={"payload": v["place_code"]}) as r:
            if _ok(r, 201):
                WRITES.write({"kind": "checkin", "id": r.json()["id"], "user_id": int(self.me["user_id"]),
                              "venue_id": v["id"]})

    def _holder(self) -> dict:
        return random.choice(LICENCE_HOLDERS) if LICENCE_HOLDERS else self.me

    def licences(self) -> None:
        with self.req("GET", "/v1/licences", "/v1/licences", self._holder()["access_token"]) as r:
            _ok(r, 200)

    def present(self) -> None:
        if not LICENCE_HOLDERS:
            return
        h = self._holder()
        with self.req("POST", f"/v1/licences/{h['licence_id']}/presentations", "/v1/licences/{id}/presentations",
                      h["access_token"], json={"fields": ["vehicle_class"], "purpose": "压测出示"}) as r:
            if _ok(r, 201):
                body = r.json()
                PRESENTATIONS.append((body["payload"], body["presentation_id"]))
                WRITES.write({"kind": "presentation", "id": body["presentation_id"], "licence_id": int(h["licence_id"]),
                              "user_id": int(h["user_id"]), "fields": ["vehicle_class"], "purpose": "压测出示"})

    def otp(self) -> None:
        self._phone = f"199{random.randrange(10**8):08d}"
        with self.req("POST", "/v1/auth/otp", "/v1/auth/otp", json={"phone": self._phone}) as r:
            _ok(r, 202)

    def login(self) -> None:
        sms = os.environ.get("SSB_SMS_FILE")
        phone = getattr(self, "_phone", None)
        if not sms or not phone or not os.path.exists(sms):
            return
        code = sms_code(sms, phone)
        if code is None:
            return
        self._phone = None
        with self.req("POST", "/v1/auth/login", "/v1/auth/login",
                      json={"phone": phone, "otp": code, "device_id": "locust"}) as r:
            _ok(r, 200)

    tasks = weighted("resident", {
        "GET /v1/codes/suishen": code, "GET /v1/inbox/unread-count": unread, "POST /v1/auth/refresh": refresh,
        "GET /v1/me": me_, "GET /v1/inbox": inbox, "GET /v1/policies/for-me": policies,
        "POST /v1/checkins": checkin, "GET /v1/licences": licences,
        "POST /v1/licences/{id}/presentations": present, "POST /v1/auth/otp": otp, "POST /v1/auth/login": login,
    })


# ------------------------------------------------------------------------------------- scanner

class Scanner(Base):
    """Venue staff devices verifying codes the simulated residents fetched (real signed codes)."""

    weight = CLASS_WEIGHTS["scanner"]

    def on_start(self) -> None:
        staff = META.get("staff") or []
        if not staff:
            raise RuntimeError("no staff in the seed")
        self.staff = staff[next(_next_staff) % len(staff)]

    def verify(self) -> None:
        try:
            payload, user_id, scene = CODES.pop()    # the newest code: each is scanned once
        except IndexError:
            return
        with self.req("POST", "/v1/verify", "/v1/verify", self.staff["access_token"],
                      json={"payload": payload, "venue_id": self.staff["venue_id"]}) as r:
            if r.status_code == 422 and _error(r) == "CODE_EXPIRED":
                r.success()   # sat in the queue past its 60 s life: a client-side artefact, not a server fault
            elif _ok(r, 200):
                WRITES.write({"kind": "scan", "user_id": user_id, "scene": scene, "venue_id": self.staff["venue_id"]})

    def verify_presentation(self) -> None:
        try:
            payload, pid = PRESENTATIONS.pop()
        except IndexError:
            return
        with self.req("POST", "/v1/presentations/verify", "/v1/presentations/verify", self.staff["access_token"],
                      json={"payload": payload}) as r:
            if _ok(r, 200):
                WRITES.write({"kind": "presentation_verify", "id": pid, "verified_by": int(self.staff["user_id"])})

    tasks = weighted("scanner", {"POST /v1/verify": verify, "POST /v1/presentations/verify": verify_presentation})


# ----------------------------------------------------------------------------------- mini-program

class MiniProgram(Base):
    """A resident opens a mini-program (wx.login → login code); its backend exchanges the code."""

    weight = CLASS_WEIGHTS["miniprogram"]

    def _app(self) -> dict | None:
        apps = META.get("miniprograms") or []
        return random.choice(apps) if apps else None

    def login_code(self) -> None:
        app = self._app()
        if not app or not RESIDENTS:
            return
        who = random.choice(RESIDENTS)
        if random.random() < 0.2:   # first use of this app: consent
            with self.req("POST", f"/v1/mp/{app['appid']}/consents", "/v1/mp/{appid}/consents",
                          who["access_token"], json={"scopes": ["scope.userinfo"]}) as r:
                if _ok(r, 200):
                    WRITES.write({"kind": "consent", "user_id": int(who["user_id"]), "appid": app["appid"],
                                  "scopes": ["scope.userinfo"]})
        with self.req("POST", f"/v1/mp/{app['appid']}/login-code", "/v1/mp/{appid}/login-code",
                      who["access_token"]) as r:
            if _ok(r, 201):
                MP_CODES.append((app, r.json()["code"], int(who["user_id"])))

    def code2session(self) -> None:
        try:
            app, code, user_id = MP_CODES.popleft()
        except IndexError:
            return
        exchange_code(self, app, code, user_id)

    tasks = weighted("miniprogram", {"POST /v1/mp/{appid}/login-code": login_code,
                                     "GET /sns/jscode2session": code2session})


# ------------------------------------------------------------------------------------- operator

class Operator(Base):
    """Departments upserting licences, and operators publishing a campaign while residents read."""

    fixed_count = 1   # city-wide traffic: one operator whatever the number of residents

    def on_start(self) -> None:
        self.issuer_token = None
        self.n = random.randrange(10**6)

    def issuer_login(self) -> None:
        creds = META.get("issuer")
        if not creds:
            return
        with self.req("POST", "/v1/issuer/token", "/v1/issuer/token", json=creds) as r:
            if _ok(r, 200):
                self.issuer_token = r.json()["access_token"]

    def upsert(self) -> None:
        if not self.issuer_token:
            self.issuer_login()
            if not self.issuer_token:
                return
        from api.identity.identity_numbers import gb11643_check_char
        self.n += 1
        first17 = f"310115{1960 + self.n % 40:04d}0101{self.n % 1000:03d}"
        number = first17 + gb11643_check_char(first17)
        body = {"holder": {"id_type": "resident_id", "id_number": number, "name": "压测持证人"},
                "fields": {"vehicle_class": random.choice(["C1", "C2", "B2"])}, "valid_from": "2021-01-01",
                "valid_until": "2031-01-01", "region": "310000"}
        with self.req("PUT", f"/v1/issuer/licences/driving_licence/{number}", "/v1/issuer/licences/{type}/{number}",
                      self.issuer_token, json=body) as r:
            if r.status_code == 401:
                self.issuer_token = None
            if _ok(r, 200):
                WRITES.write({"kind": "licence", "id": r.json()["id"], "number": number,
                              "vehicle_class": body["fields"]["vehicle_class"], "valid_until": body["valid_until"]})

    def campaign(self) -> None:
        op = (META.get("operator") or {}).get("access_token")
        if not op or not META.get("areas", {}).get("notifications"):
            return
        publish_campaign(self, op)

    def campaign_status(self) -> None:
        op = (META.get("operator") or {}).get("access_token")
        if not op or not CAMPAIGNS:
            return
        cid = CAMPAIGNS[-1]
        with self.req("GET", f"/v1/admin/campaigns/{cid}", "/v1/admin/campaigns/{id}", op) as r:
            _ok(r, 200)

    tasks = weighted("operator", {
        "PUT /v1/issuer/licences/{type}/{number}": upsert, "POST /v1/issuer/token": issuer_login,
        "POST /v1/admin/policies/{id}/campaigns": campaign, "GET /v1/admin/campaigns/{id}": campaign_status,
    })


# ------------------------------------------------------------------------------- faults run only

if int(os.environ.get("SSB_FAULT_WRITERS", "0") or 0) > 0:
    class FaultWriter(Base):
        """Every kind of write in turn, a few rounds a second, whatever the traffic mix: each phase
        of the faults run must have accepted writes of every kind to check afterwards. Each write
        is recorded with what it wrote (loadtests/faults.py compares it with the database)."""

        fixed_count = int(os.environ["SSB_FAULT_WRITERS"])
        wait_time = constant(0.05)

        def on_start(self) -> None:
            self.round = 0
            self.session: dict | None = None       # a session of our own: login, refresh, logout
            self.issuer_token: str | None = None
            self.n = random.randrange(10**6)
            self.presentation: tuple | None = None

        @task
        def one_round(self) -> None:
            self.round += 1
            for step in (self.login, self.refresh, self.checkin, self.scan, self.present, self.verify_presentation,
                         self.consent, self.miniprogram, self.licence, self.logout):
                step()
            if self.round % 10 == 1:
                op = (META.get("operator") or {}).get("access_token")
                if op:
                    publish_campaign(self, op)

        def _resident(self) -> dict:
            return random.choice(RESIDENTS)

        def _staff(self) -> dict:
            return random.choice(META["staff"])

        def login(self) -> None:
            sms = os.environ.get("SSB_SMS_FILE")
            if not sms or self.session is not None:
                return
            phone = f"198{random.randrange(10**8):08d}"
            with self.req("POST", "/v1/auth/otp", "/v1/auth/otp", json={"phone": phone}) as r:
                if not _ok(r, 202):
                    return
            code = sms_code(sms, "+86" + phone) if os.path.exists(sms) else None
            if code is None:
                return
            device = f"faults-{self.n}-{self.round}"
            with self.req("POST", "/v1/auth/login", "/v1/auth/login",
                          json={"phone": phone, "otp": code, "device_id": device}) as r:
                if _ok(r, 200):
                    body = r.json()
                    claims = token_claims(body["access_token"])
                    self.session = {"sid": claims["sid"], "access": body["access_token"],
                                    "refresh": body["refresh_token"]}
                    WRITES.write({"kind": "session", "session_id": claims["sid"], "user_id": int(claims["sub"]),
                                  "phone": "+86" + phone, "device_id": device})

        def refresh(self) -> None:
            if self.session is None:
                return
            with self.req("POST", "/v1/auth/refresh", "/v1/auth/refresh",
                          json={"refresh_token": self.session["refresh"]}) as r:
                if r.status_code == 401:      # an earlier answer was lost and the token rotated: start over
                    r.success()
                    self.session = None
                elif _ok(r, 200):
                    body = r.json()
                    self.session.update(access=body["access_token"], refresh=body["refresh_token"])
                    WRITES.write({"kind": "refresh", "session_id": self.session["sid"],
                                  "token_hash": hashlib.sha256(body["refresh_token"].encode()).hexdigest()})

        def logout(self) -> None:
            if self.session is None or self.round % 3:
                return
            with self.req("POST", "/v1/auth/logout", "/v1/auth/logout", self.session["access"]) as r:
                if r.status_code == 401:
                    r.success()
                    self.session = None
                elif _ok(r, 204):
                    WRITES.write({"kind": "logout", "session_id": self.session["sid"]})
                    self.session = None

        def checkin(self) -> None:
            who, v = self._resident(), random.choice(META["venues"])
            with self.req("POST", "/v1/checkins", "/v1/checkins", who["access_token"],
                          json={"payload": v["place_code"]}) as r:
                if _ok(r, 201):
                    WRITES.write({"kind": "checkin", "id": r.json()["id"], "user_id": int(who["user_id"]),
                                  "venue_id": v["id"]})

        def scan(self) -> None:
            who, staff = self._resident(), self._staff()
            with self.req("GET", "/v1/codes/suishen?scene=transport", "/v1/codes/suishen", who["access_token"]) as r:
                if not _ok(r, 200):
                    return
                payload = r.json()["codes"][0]["payload"]
            with self.req("POST", "/v1/verify", "/v1/verify", staff["access_token"],
                          json={"payload": payload, "venue_id": staff["venue_id"]}) as r:
                if _ok(r, 200):
                    WRITES.write({"kind": "scan", "user_id": int(who["user_id"]), "scene": "transport",
                                  "venue_id": staff["venue_id"]})

        def present(self) -> None:
            if not LICENCE_HOLDERS:
                return
            h = random.choice(LICENCE_HOLDERS)
            purpose = f"故障测试 {self.round}"
            with self.req("POST", f"/v1/licences/{h['licence_id']}/presentations", "/v1/licences/{id}/presentations",
                          h["access_token"], json={"fields": ["vehicle_class"], "purpose": purpose}) as r:
                if _ok(r, 201):
                    body = r.json()
                    self.presentation = (body["payload"], body["presentation_id"])
                    WRITES.write({"kind": "presentation", "id": body["presentation_id"],
                                  "licence_id": int(h["licence_id"]), "user_id": int(h["user_id"]),
                                  "fields": ["vehicle_class"], "purpose": purpose})

        def verify_presentation(self) -> None:
            if self.presentation is None:
                return
            (payload, pid), staff = self.presentation, self._staff()
            self.presentation = None
            with self.req("POST", "/v1/presentations/verify", "/v1/presentations/verify", staff["access_token"],
                          json={"payload": payload}) as r:
                if _ok(r, 200):
                    WRITES.write({"kind": "presentation_verify", "id": pid, "verified_by": int(staff["user_id"])})

        def consent(self) -> None:
            apps = META.get("miniprograms") or []
            if not apps:
                return
            who, app = self._resident(), random.choice(apps)
            with self.req("POST", f"/v1/mp/{app['appid']}/consents", "/v1/mp/{appid}/consents",
                          who["access_token"], json={"scopes": ["scope.userinfo"]}) as r:
                if _ok(r, 200):
                    WRITES.write({"kind": "consent", "user_id": int(who["user_id"]), "appid": app["appid"],
                                  "scopes": ["scope.userinfo"]})

        def miniprogram(self) -> None:
            apps = META.get("miniprograms") or []
            if not apps:
                return
            who, app = self._resident(), random.choice(apps)
            with self.req("POST", f"/v1/mp/{app['appid']}/login-code", "/v1/mp/{appid}/login-code",
                          who["access_token"]) as r:
                if not _ok(r, 201):
                    return
                code = r.json()["code"]
            exchange_code(self, app, code, int(who["user_id"]))

        def licence(self) -> None:
            creds = META.get("issuer")
            if not creds:
                return
            if not self.issuer_token:
                with self.req("POST", "/v1/issuer/token", "/v1/issuer/token", json=creds) as r:
                    if not _ok(r, 200):
                        return
                    self.issuer_token = r.json()["access_token"]
            from api.identity.identity_numbers import gb11643_check_char
            self.n += 1
            first17 = f"310104{1960 + self.n % 40:04d}0202{self.n % 1000:03d}"
            number = first17 + gb11643_check_char(first17)
            body = {"holder": {"id_type": "resident_id", "id_number": number, "name": "故障测试持证人"},
                    "fields": {"vehicle_class": random.choice(["C1", "C2", "B2", "A1"])},
                    "valid_from": "2022-01-01", "valid_until": f"{2030 + self.round % 5}-06-30", "region": "310000"}
            with self.req("PUT", f"/v1/issuer/licences/driving_licence/{number}",
                          "/v1/issuer/licences/{type}/{number}", self.issuer_token, json=body) as r:
                if r.status_code == 401:
                    self.issuer_token = None
                if _ok(r, 200):
                    WRITES.write({"kind": "licence", "id": r.json()["id"], "number": number,
                                  "vehicle_class": body["fields"]["vehicle_class"],
                                  "valid_until": body["valid_until"]})


if os.environ.get("SSB_SHAPE"):
    from loadtests.shapes import SHAPES
    LoadShape = type("LoadShape", (SHAPES[os.environ["SSB_SHAPE"]],), {})
