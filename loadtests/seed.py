"""Fast test data for load tests: `python -m loadtests.seed --residents N --out DIR`.

Runs against the stores of the environment (DATABASE_URL, REDIS_URL, DATA_KEY, KEYS_DIR, ... as
the API reads them), so the API under test accepts every token written here.

What it writes (each area only if its models exist in this tree; otherwise skipped cleanly):

- residents: `users` + one `auth_sessions` + one `refresh_tokens` row each, bulk-inserted
  (PostgreSQL: COPY through psycopg; SQLite: Core executemany). Refresh tokens are opaque
  `rt_...` values stored as SHA-256 hex exactly as api/services/sessions.py does; access tokens
  are minted in-process with api.identity.tokens.issue_access_token (app context, same key ring).
  A share of residents is real-name verified with a matching `persons` row (policies, campaigns,
  licences need one).
- venues with staff grants (scanners), an operator account, a licence issuer with licences for
  the verified residents (through api.licences.issuing.upsert_licence, the issuer API's service),
  mini-programs (api.services of miniprogram_adapter), and a place code per venue.

Output: DIR/residents.csv (user_id,phone,access_token,refresh_token,licence_id) and DIR/meta.json
(staff, operator, issuer, mini-programs, venues). The locustfile reads both (SSB_SEED_DIR).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import secrets
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRICTS = ("黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区", "宝山区",
             "嘉定区", "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区")
SCANNED_SCENES = ["general", "transport"]       # transport is single-use: replay protection is exercised
CAMPAIGN_DISTRICT = "崇明区"                     # operators' campaigns target this (small) district
PHONE_BASE = 13_300_000_000                      # seeded residents: +86133..., OTP logins use +86199...


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _id_number(i: int) -> str:
    from api.identity.identity_numbers import gb11643_check_char
    year = 1940 + i % 65
    first17 = f"310101{year:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    # The sequence part alone repeats; fold the index into the region so numbers are unique.
    first17 = f"31{(i // 1000) % 10000:04d}{first17[6:]}"
    return first17 + gb11643_check_char(first17)


class Writer:
    """Bulk rows into one table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"

    def write(self, table, rows: list[dict]) -> None:
        if not rows:
            return
        cols = list(rows[0])
        if self.pg:
            raw = self.engine.raw_connection()
            try:
                cur = raw.cursor()
                with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row([json.dumps(r[c], ensure_ascii=False) if isinstance(r[c], (list, dict))
                                      else r[c] for c in cols])
                raw.commit()
            finally:
                raw.close()
        else:
            with self.engine.begin() as conn:
                for i in range(0, len(rows), 20_000):
                    conn.execute(table.insert(), rows[i:i + 20_000])

    def next_id(self, table) -> int:
        from sqlalchemy import func, select
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(table.c.id), 0)))) + 1

    def fix_sequence(self, table) -> None:
        if self.pg:
            from sqlalchemy import text
            with self.engine.begin() as conn:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))


def _accounts(w: Writer, *, count: int, phone_base: int, roles: list[str], now: int, verified: int = 0,
              pii=None, id_offset: int = 0) -> list[dict]:
    """users + sessions + refresh tokens; returns [{user_id, phone, holder_id, session_id, refresh_token,
    id_number?}] for the first `count`; the first `verified` are real-name verified with a person row."""
    from api.db import from_timestamp
    from api.identity.models import AuthSession, Person, RefreshToken, User
    from api.pii import mask_id_number, mask_name

    stamp = from_timestamp(now)
    idle = w_cfg().REFRESH_TOKEN_IDLE_TTL
    expires = from_timestamp(now + idle)
    first = w.next_id(User.__table__)
    users, sessions, tokens, persons, out = [], [], [], [], []
    person_id = w.next_id(Person.__table__) if verified else 0
    for i in range(count):
        uid = first + i
        phone = f"+86{phone_base + i}"
        holder = secrets.token_hex(16)
        row = {"id": uid, "phone": phone, "roles": roles, "status": "active", "holder_id": holder,
               "created_at": stamp, "real_name_enc": None, "masked_name": None, "id_type": None,
               "id_number_enc": None, "id_number_bidx": None, "id_number_masked": None,
               "real_name_verified_at": None}
        rec = {"user_id": uid, "phone": phone, "holder_id": holder}
        if i < verified:
            k = id_offset + i
            number = _id_number(k)
            name = "测试" + "甲乙丙丁戊己庚辛壬癸"[k % 10] + "子丑寅卯辰巳午未申酉戌亥"[(k // 10) % 12]
            bidx = pii.blind_index("resident_id", number)
            district = CAMPAIGN_DISTRICT if k % 50 == 0 else DISTRICTS[k % (len(DISTRICTS) - 1)]
            row.update(real_name_enc=pii.encrypt(name, context="users.real_name"), masked_name=mask_name(name),
                       id_type="resident_id", id_number_enc=pii.encrypt(number, context="users.id_number"),
                       id_number_bidx=bidx, id_number_masked=mask_id_number(number), real_name_verified_at=stamp)
            persons.append({"id": person_id + i, "id_type": "resident_id", "id_number_bidx": bidx,
                            "id_number_enc": pii.encrypt(number, context="persons.id_number"), "name": name,
                            "birth_date": date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                            "district": district, "hukou": k % 3 != 0, "attributes": {}})
            rec.update(id_number=number, name=name)
        sid = secrets.token_hex(16)
        refresh = "rt_" + secrets.token_urlsafe(32)
        users.append(row)
        sessions.append({"id": sid, "user_id": uid, "device_id": f"loadtest-{uid}", "user_agent": "locust",
                         "created_at": stamp, "last_seen_at": stamp, "revoked_at": None, "revoked_reason": None})
        tokens.append({"token_hash": _hash(refresh), "session_id": sid, "issued_at": stamp, "expires_at": expires,
                       "used_at": None})
        rec.update(session_id=sid, refresh_token=refresh, roles=roles)
        out.append(rec)
    w.write(User.__table__, users)
    w.fix_sequence(User.__table__)
    w.write(AuthSession.__table__, sessions)
    w.write(RefreshToken.__table__, tokens)
    if persons:
        w.write(Person.__table__, persons)
        w.fix_sequence(Person.__table__)
    return out


def w_cfg():
    from api.extensions import get_config
    return get_config()


def _mint(records: list[dict], *, now: int) -> None:
    from api.identity.tokens import issue_access_token
    for r in records:
        r["access_token"], _ = issue_access_token(user_id=r["user_id"], session_id=r["session_id"],
                                                  roles=r["roles"], now=now, holder_id=r["holder_id"])


def seed(*, residents: int, staff: int, venues: int, verified: int, licences: int, miniprograms: int,
         out: Path, token_ttl: int, log=print) -> dict:
    from api.config import Config
    from api.extensions import db
    from api.identity.tokens import Principal
    from api.pii import PiiCipher
    from wsgi import create_app

    cfg = Config.from_env()
    cfg.ACCESS_TOKEN_TTL = token_ttl      # tokens minted here outlive the run; the server only checks exp
    app = create_app(cfg)
    out.mkdir(parents=True, exist_ok=True)
    meta: dict = {"areas": {}}
    t0 = time.perf_counter()
    now = int(time.time())
    with app.app_context():
        w = Writer(db.engine)
        pii = PiiCipher(cfg.DATA_KEY)
        verified = min(verified, residents)
        # Phones never collide with an earlier seed of the same database: start after the last one.
        from sqlalchemy import func, select

        from api.identity.models import User
        already = int(db.session.scalar(select(func.count()).select_from(User).where(User.phone.like("+86133%")))
                      or 0)
        db.session.remove()
        res = _accounts(w, count=residents, phone_base=PHONE_BASE + already, roles=["resident"], now=now,
                        verified=verified, pii=pii, id_offset=already)
        t_rows = time.perf_counter() - t0
        _mint(res, now=now)
        log(f"residents: {residents} rows in {t_rows:.1f}s, tokens minted in {time.perf_counter() - t0 - t_rows:.1f}s")

        scanners = _accounts(w, count=staff, phone_base=13_200_000_000 + _count(db, "+86132"),
                             roles=["resident", "staff"], now=now)
        operator = _accounts(w, count=1, phone_base=13_100_000_000 + _count(db, "+86131"),
                             roles=["operator", "resident"], now=now)[0]
        _mint(scanners, now=now)
        _mint([operator], now=now)
        op = Principal(user_id=operator["user_id"], session_id=operator["session_id"],
                       roles=frozenset({"operator", "resident"}))
        meta["operator"] = {"user_id": operator["user_id"], "access_token": operator["access_token"]}

        # Venues with staff (codes/venues area).
        venue_rows: list[dict] = []
        if staff:
            from api.codes import venues as venue_svc
            from api.codes.models import Venue, VenueStaff
            first = w.next_id(Venue.__table__)
            stamp = datetime.fromtimestamp(now, UTC)
            vrows = [{"id": first + i, "public_id": "vn_" + secrets.token_hex(8), "name": f"压测场所{i}",
                      "address": f"测试路{i}号", "district": DISTRICTS[i % len(DISTRICTS)], "kind": "transit",
                      "scenes": list(SCANNED_SCENES), "status": "active", "created_by": operator["user_id"],
                      "created_at": stamp} for i in range(venues)]
            w.write(Venue.__table__, vrows)
            w.fix_sequence(Venue.__table__)
            grants = [{"id": None, "venue_id": vrows[i % venues]["id"], "user_id": s["user_id"],
                       "scenes": list(SCANNED_SCENES), "granted_by": operator["user_id"], "granted_at": stamp,
                       "revoked_at": None} for i, s in enumerate(scanners)]
            gfirst = w.next_id(VenueStaff.__table__)
            for i, g in enumerate(grants):
                g["id"] = gfirst + i
            w.write(VenueStaff.__table__, grants)
            w.fix_sequence(VenueStaff.__table__)
            for v in vrows:
                place = venue_svc.place_code(principal=op, venue_id=v["public_id"], now=now)
                venue_rows.append({"id": v["public_id"], "place_code": place["payload"]})
            meta["areas"]["venues"] = True
        meta["venues"] = venue_rows
        meta["staff"] = [{"user_id": s["user_id"], "access_token": s["access_token"],
                          "venue_id": venue_rows[i % len(venue_rows)]["id"] if venue_rows else None}
                         for i, s in enumerate(scanners)]

        # Licences through the issuer's service (encryption, content hash, blind indexes as the API does).
        licence_of: dict[int, int] = {}
        if licences:
            from api.licences import issuers as issuer_svc
            from api.licences import issuing as licence_svc
            creds = issuer_svc.create_issuer(name="压测发证部门", licence_types=["driving_licence"],
                                             created_by=operator["user_id"], now=now)
            meta["issuer"] = {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
            principal = issuer_svc.IssuerPrincipal(issuer_id=creds["id"], name=creds["name"],
                                                   licence_types=frozenset(["driving_licence"]))
            t1 = time.perf_counter()
            for r in res[:min(licences, verified)]:
                lic = licence_svc.upsert_licence(
                    principal, licence_type="driving_licence", number=r["id_number"],
                    holder={"id_type": "resident_id", "id_number": r["id_number"], "name": r["name"]},
                    fields={"vehicle_class": "C1", "address": "上海市测试路1号"}, valid_from=date(2020, 1, 1),
                    valid_until=date(2032, 1, 1), region="310000", now=now)
                licence_of[r["user_id"]] = lic["id"]
            log(f"licences: {len(licence_of)} in {time.perf_counter() - t1:.1f}s")
            meta["areas"]["licences"] = True

        # Mini-programs.
        meta["miniprograms"] = []
        if miniprograms:
            from miniprogram_adapter import apps as mp_apps
            for i in range(miniprograms):
                created = mp_apps.register_miniprogram(name=f"压测小程序{i}", owner_org="压测机构",
                                                       scopes=["scope.userinfo"], request_domain=None,
                                                       created_by=operator["user_id"], now=now)
                meta["miniprograms"].append({"appid": created["appid"], "secret": created["secret"]})
            meta["areas"]["miniprograms"] = True
        meta["areas"]["notifications"] = True
        meta["campaign_district"] = CAMPAIGN_DISTRICT
        db.session.remove()

    with open(out / "residents.csv", "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["user_id", "phone", "access_token", "refresh_token", "licence_id"])
        for r in res:
            wr.writerow([r["user_id"], r["phone"], r["access_token"], r["refresh_token"],
                         licence_of.get(r["user_id"], "")])
    meta["residents"] = residents
    meta["seconds"] = round(time.perf_counter() - t0, 2)
    (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))
    log(f"seeded {residents} residents, {staff} staff, {len(venue_rows)} venues, {len(licence_of)} licences, "
        f"{len(meta['miniprograms'])} mini-programs in {meta['seconds']}s -> {out}")
    return meta


def _count(db, prefix: str) -> int:
    from sqlalchemy import func, select

    from api.identity.models import User
    n = int(db.session.scalar(select(func.count()).select_from(User).where(User.phone.like(prefix + "%"))) or 0)
    db.session.remove()
    return n


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtests.seed", description=__doc__.split("\n\n")[0])
    p.add_argument("--residents", type=int, default=1000)
    p.add_argument("--staff", type=int, default=50)
    p.add_argument("--venues", type=int, default=20)
    p.add_argument("--verified", type=int, default=2000, help="real-name verified residents (persons rows)")
    p.add_argument("--licences", type=int, default=500, help="driving licences for verified residents")
    p.add_argument("--miniprograms", type=int, default=10)
    p.add_argument("--token-ttl", type=int, default=6 * 3600, help="lifetime of the minted access tokens")
    p.add_argument("--out", type=Path, default=ROOT / "loadtests" / "results" / "seed")
    a = p.parse_args(argv)
    seed(residents=a.residents, staff=a.staff, venues=a.venues, verified=a.verified, licences=a.licences,
         miniprograms=a.miniprograms, out=a.out, token_ttl=a.token_ttl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
