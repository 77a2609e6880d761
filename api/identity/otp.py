"""One-time codes for SMS login.

A 6-digit code from the CSPRNG, stored only as an HMAC in Redis under the phone's key, valid
OTP_TTL, single use, dead after OTP_MAX_ATTEMPTS wrong tries. Resend cooldown and caps per phone
(per day) and per IP (per hour). Known and unknown phones get the same answer, so the endpoint
says nothing about who has an account. Keys use `{phone}` hash tags: one slot in Redis Cluster.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from limits import parse

from api.errors import AppError
from api.identity.sms import SmsError

# KEYS[1]=otp hash; ARGV[1]=candidate digest, ARGV[2]=max attempts.
# Returns 1 ok, 0 wrong, -1 no code, -2 locked (the code is deleted on lock and on success).
_VERIFY_LUA = """
local stored = redis.call('HGET', KEYS[1], 'digest')
if not stored then return -1 end
if stored == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) return -2 end
return 0
"""


@dataclass(frozen=True)
class OtpSent:
    resend_after: int               # seconds before another code may be asked
    dev_code: str | None = None     # the code itself, only with DEV_SHOW_OTP (development)


class OtpService:
    def __init__(self, *, redis, rate_limiter, sms, secret_key: str, ttl: int, max_attempts: int,
                 cooldown: int, daily_cap_per_phone: int, hourly_cap_per_ip: int,
                 reveal_codes: bool = False) -> None:
        self.redis = redis
        self.reveal_codes = reveal_codes   # Config.DEV_SHOW_OTP: refused with a real SMS gateway
        self.rate_limiter = rate_limiter
        self.sms = sms
        self.secret = hashlib.sha256(b"ssb otp\x00" + secret_key.encode()).digest()
        self.ttl, self.max_attempts, self.cooldown = ttl, max_attempts, cooldown
        self.phone_cap = parse(f"{daily_cap_per_phone}/day")
        self.ip_cap = parse(f"{hourly_cap_per_ip}/hour")
        self._verify = redis.register_script(_VERIFY_LUA)

    def _digest(self, phone: str, code: str) -> str:
        return hmac.new(self.secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    def _retry_after(self, item, *ids: str) -> dict:
        stats = self.rate_limiter.get_window_stats(item, *ids)
        return {"Retry-After": str(max(1, int(stats.reset_time - time.time())))}

    def request_code(self, phone: str, *, client_ip: str) -> OtpSent:
        """Send a code; the cooldown before another may be asked (and, in development with
        DEV_SHOW_OTP, the code, so the sign-in pages can show it)."""
        if not self.rate_limiter.hit(self.ip_cap, "otp-ip", client_ip):
            raise AppError("RATE_LIMITED", headers=self._retry_after(self.ip_cap, "otp-ip", client_ip))
        cooldown_key = f"otp:{{{phone}}}:cooldown"
        if not self.redis.set(cooldown_key, 1, nx=True, ex=self.cooldown):
            wait = max(1, int(self.redis.ttl(cooldown_key)))
            raise AppError("OTP_COOLDOWN", headers={"Retry-After": str(wait)})
        if not self.rate_limiter.hit(self.phone_cap, "otp-phone", phone):
            raise AppError("RATE_LIMITED", headers=self._retry_after(self.phone_cap, "otp-phone", phone))
        code = f"{secrets.randbelow(10**6):06d}"
        key = f"otp:{{{phone}}}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"digest": self._digest(phone, code), "tries": 0})
        pipe.expire(key, self.ttl)
        pipe.execute()
        try:
            self.sms.send_otp(phone, code, ttl_minutes=self.ttl // 60)
        except SmsError:
            # Nothing was delivered: forget the code and the cooldown so the resident can retry.
            self.redis.delete(key, cooldown_key)
            raise AppError("UPSTREAM_UNAVAILABLE", detail="SMS") from None
        return OtpSent(self.cooldown, code if self.reveal_codes else None)

    def check_code(self, phone: str, code: str) -> None:
        """Consume the code or raise OTP_INVALID / OTP_LOCKED."""
        if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
            raise AppError("OTP_INVALID")
        result = self._verify(keys=[f"otp:{{{phone}}}"], args=[self._digest(phone, code), self.max_attempts])
        if result == 1:
            return
        raise AppError("OTP_LOCKED" if result == -2 else "OTP_INVALID")
