"""The FCM HTTP v1 client against a loopback fake of the OAuth token endpoint and messages:send."""

import time
import urllib.parse
from collections.abc import Callable, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from push.providers import PushMessage, RetryPolicy, parse_retry_after, send_with_retry
from push.providers.fcm import FCM_SCOPE, FcmProvider, ServiceAccount
from tests.push.fakes.fcm_server import FakeFcm

PROJECT = "suishenban-prod"
CLIENT_EMAIL = "push@suishenban-prod.iam.gserviceaccount.com"
KEY_ID = "0123456789abcdef"
MESSAGE = PushMessage(
    title="补贴到账",
    body="您申请的补贴已发放",
    data={"policy_id": "7", "kind": "policy"},
    collapse_key="policy-7",
    ttl_seconds=3600,
    priority="high",
)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def fake(rsa_key: rsa.RSAPrivateKey) -> Iterator[FakeFcm]:
    with FakeFcm(
        project_id=PROJECT,
        client_email=CLIENT_EMAIL,
        key_id=KEY_ID,
        public_key=rsa_key.public_key(),
    ) as server:
        yield server


@pytest.fixture
def make_provider(
    fake: FakeFcm, rsa_key: rsa.RSAPrivateKey
) -> Iterator[Callable[..., FcmProvider]]:
    providers: list[FcmProvider] = []

    def make(
        private_key: str | None = None, project_id: str = PROJECT, **overrides: object
    ) -> FcmProvider:
        account = ServiceAccount.from_info(
            {
                "type": "service_account",
                "project_id": project_id,
                "client_email": CLIENT_EMAIL,
                "private_key": private_key or pem(rsa_key),
                "private_key_id": KEY_ID,
                "token_uri": fake.token_uri,
            }
        )
        provider = FcmProvider(
            service_account=account, base_url=fake.url, **overrides  # type: ignore[arg-type]
        )
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        provider.close()


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_success_uses_the_jwt_bearer_grant_and_the_v1_message_format(
    fake: FakeFcm, make_provider: Callable[..., FcmProvider], rsa_key: rsa.RSAPrivateKey
) -> None:
    [result] = make_provider().send(["device-1"], MESSAGE)

    assert result.outcome == "ok"
    assert result.detail and result.detail.startswith(f"projects/{PROJECT}/messages/")

    [token_request] = fake.token_requests
    form = dict(urllib.parse.parse_qsl(token_request.body.decode()))
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        form["assertion"], rsa_key.public_key(), algorithms=["RS256"], audience=fake.token_uri
    )
    assert claims["iss"] == CLIENT_EMAIL and claims["scope"] == FCM_SCOPE
    assert jwt.get_unverified_header(form["assertion"])["kid"] == KEY_ID

    [send] = fake.send_requests
    assert send.path == f"/v1/projects/{PROJECT}/messages:send"
    assert send.headers["authorization"] == "Bearer ya29.fake-1"
    message = send.json()["message"]
    assert message["token"] == "device-1"
    assert message["notification"] == {"title": "补贴到账", "body": "您申请的补贴已发放"}
    assert message["data"] == {"policy_id": "7", "kind": "policy"}
    assert message["android"] == {"ttl": "3600s", "priority": "HIGH", "collapse_key": "policy-7"}
    apns = message["apns"]["headers"]
    assert apns["apns-priority"] == "10" and apns["apns-collapse-id"] == "policy-7"
    assert abs(int(apns["apns-expiration"]) - (time.time() + 3600)) <= 2


def test_normal_priority_without_collapse_key_or_data(
    fake: FakeFcm, make_provider: Callable[..., FcmProvider]
) -> None:
    make_provider().send(["device-1"], PushMessage(title="t", body="b", ttl_seconds=60))

    message = fake.send_requests[0].json()["message"]
    assert message["android"] == {"ttl": "60s", "priority": "NORMAL"}
    assert message["apns"]["headers"]["apns-priority"] == "5"
    assert "data" not in message


def test_one_request_per_token_and_one_cached_access_token(
    fake: FakeFcm, make_provider: Callable[..., FcmProvider]
) -> None:
    provider = make_provider()
    tokens = [f"device-{i}" for i in range(20)]

    results = provider.send(tokens, MESSAGE)
    provider.send(["again"], MESSAGE)

    assert [r.token for r in results] == tokens
    assert {r.outcome for r in results} == {"ok"}
    sent = sorted(r.json()["message"]["token"] for r in fake.send_requests)
    assert sent == sorted(tokens + ["again"])
    assert len(fake.token_requests) == 1


def test_access_token_is_renewed_before_it_expires(
    fake: FakeFcm, make_provider: Callable[..., FcmProvider]
) -> None:
    offset = [-(3600 - 30)]  # the first token was fetched almost an hour ago
    provider = make_provider(clock=lambda: time.time() + offset[0])
    provider.send(["a"], MESSAGE)
    offset[0] = 0  # 30 s before expiry: inside the refresh margin

    provider.send(["b"], MESSAGE)

    assert len(fake.token_requests) == 2
    assert fake.send_requests[1].headers["authorization"] == "Bearer ya29.fake-2"


@pytest.mark.parametrize("token", ["dead-1", "bad-1"])
def test_unregistered_or_invalid_token_is_a_dead_token(
    make_provider: Callable[..., FcmProvider], token: str
) -> None:
    [result] = make_provider().send([token], MESSAGE)

    assert result.outcome == "dead_token"


def test_a_wrong_project_fails_without_blaming_the_token(
    make_provider: Callable[..., FcmProvider],
) -> None:
    [result] = make_provider(project_id="someone-else").send(["device-1"], MESSAGE)

    assert result.outcome == "failed"


def test_an_invalid_message_fails_without_blaming_the_token(
    make_provider: Callable[..., FcmProvider],
) -> None:
    [result] = make_provider().send(["badmsg-1"], MESSAGE)

    assert result.outcome == "failed"
    assert "INVALID_ARGUMENT" in (result.detail or "")


def test_quota_exceeded_is_retried_after_retry_after(
    fake: FakeFcm, make_provider: Callable[..., FcmProvider]
) -> None:
    sleep = RecordingSleep()

    results = send_with_retry(
        make_provider(), ["rl-1", "ok-1"], MESSAGE,
        policy=RetryPolicy(base_delay=0.2), sleep=sleep, random=lambda: 0.5,
    )

    assert [r.outcome for r in results] == ["ok", "ok"]
    assert sleep.delays == [1.0]
    assert [r.json()["message"]["token"] for r in fake.send_requests].count("rl-1") == 2


def test_internal_error_is_retried_with_backoff(
    make_provider: Callable[..., FcmProvider],
) -> None:
    sleep = RecordingSleep()

    [result] = send_with_retry(
        make_provider(), ["err-1"], MESSAGE,
        policy=RetryPolicy(base_delay=0.4), sleep=sleep, random=lambda: 0.5,
    )

    assert result.outcome == "ok"
    assert sleep.delays == [pytest.approx(0.3)]  # 0.4 / 2 + 0.5 * 0.4 / 2


def test_a_rejected_access_token_is_replaced_and_the_send_retried(
    fake: FakeFcm, make_provider: Callable[..., FcmProvider]
) -> None:
    provider = make_provider()
    provider.send(["a"], MESSAGE)
    fake.revoke_access_tokens()

    [result] = provider.send(["b"], MESSAGE)

    assert result.outcome == "ok"
    assert len(fake.token_requests) == 2
    assert [r.headers["authorization"] for r in fake.send_requests[1:]] == [
        "Bearer ya29.fake-1",
        "Bearer ya29.fake-2",
    ]


def test_a_refused_assertion_fails_the_batch_without_sending(
    fake: FakeFcm, make_provider: Callable[..., FcmProvider]
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    results = make_provider(private_key=pem(stranger)).send(["a", "b"], MESSAGE)

    assert [r.outcome for r in results] == ["failed", "failed"]
    assert "invalid_grant" in (results[0].detail or "")
    assert fake.send_requests == []


# --- the provider-neutral message, validated once for every provider ---------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"priority": "urgent"},
        {"ttl_seconds": -1},
        {"ttl_seconds": 29 * 24 * 3600},  # FCM caps TTL at four weeks
        {"data": {"from": "x"}},  # reserved by FCM
        {"data": {"google.c.a": "x"}},
        {"data": {"aps": "x"}},  # would clobber the APNs payload
        {"data": {"n": 1}},
    ],
)
def test_push_message_rejects_what_a_provider_would(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PushMessage(**{"title": "t", "body": "b", **overrides})  # type: ignore[arg-type]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412500.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
