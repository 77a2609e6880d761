"""The APNs client against a loopback fake that speaks HTTP/2 (h2c, prior knowledge)."""

import time
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from push.providers import PushMessage, RetryPolicy, send_with_retry
from push.providers.apns import PROVIDER_TOKEN_LIFETIME, ApnsProvider
from tests.push.fakes.apns_server import ApnsConfig, FakeApns

TEAM_ID = "TEAM123456"
KEY_ID = "KEY7654321"
TOPIC = "cn.gov.sh.suishenban"
MESSAGE = PushMessage(
    title="养老补贴",
    body="您可能符合新的养老补贴政策",
    data={"policy_id": "42"},
    collapse_key="policy-42",
    ttl_seconds=3600,
    priority="high",
)


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def fake(signing_key: ec.EllipticCurvePrivateKey) -> Iterator[FakeApns]:
    with FakeApns(ApnsConfig(TEAM_ID, KEY_ID, signing_key.public_key(), TOPIC)) as server:
        yield server


class Clock:
    """A settable clock for the client; starts at real time so the fake accepts its tokens."""

    def __init__(self, offset: float = 0) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def make_provider(
    fake: FakeApns, signing_key: ec.EllipticCurvePrivateKey
) -> Iterator[Callable[..., ApnsProvider]]:
    pem = signing_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    providers: list[ApnsProvider] = []

    def make(**overrides: object) -> ApnsProvider:
        options: dict[str, object] = {
            "team_id": TEAM_ID,
            "key_id": KEY_ID,
            "private_key": pem,
            "topic": TOPIC,
            "base_url": fake.url,
        }
        options.update(overrides)
        provider = ApnsProvider(**options)  # type: ignore[arg-type]
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


def test_success_sends_the_apns_wire_format(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    clock = Clock()
    provider = make_provider(clock=clock)

    [result] = provider.send(["a1b2c3"], MESSAGE)

    assert result.outcome == "ok"
    [request] = fake.requests
    assert request.stream_id is not None  # it arrived as an HTTP/2 stream
    assert (request.method, request.path) == ("POST", "/3/device/a1b2c3")
    headers = request.headers
    assert headers["apns-topic"] == TOPIC
    assert headers["apns-push-type"] == "alert"
    assert headers["apns-priority"] == "10"
    assert headers["apns-collapse-id"] == "policy-42"
    assert abs(int(headers["apns-expiration"]) - (clock() + 3600)) <= 2
    assert headers["authorization"].startswith("bearer ")
    assert request.json() == {
        "aps": {"alert": {"title": "养老补贴", "body": "您可能符合新的养老补贴政策"}},
        "policy_id": "42",
    }


def test_normal_priority_and_long_collapse_keys(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    message = PushMessage(title="t", body="b", collapse_key="政策" * 40, priority="normal")

    [result] = make_provider().send(["tok"], message)

    assert result.outcome == "ok"
    headers = fake.requests[0].headers
    assert headers["apns-priority"] == "5"
    assert len(headers["apns-collapse-id"].encode()) <= 64


def test_tokens_fan_out_over_a_few_long_lived_http2_connections(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    provider = make_provider(concurrency=4)
    tokens = [f"tok-{i}" for i in range(40)]

    results = provider.send(tokens, MESSAGE)
    provider.send(["later"], MESSAGE)

    assert [r.token for r in results] == tokens
    assert {r.outcome for r in results} == {"ok"}
    connections = {r.connection_id for r in fake.requests}
    assert 1 <= len(connections) <= 4  # one per sender thread, kept open across sends
    for connection in connections:
        streams = [r.stream_id for r in fake.requests if r.connection_id == connection]
        assert streams == list(range(1, 2 * len(streams), 2))  # client streams 1, 3, 5, ...


def test_unregistered_device_is_a_dead_token(
    make_provider: Callable[..., ApnsProvider],
) -> None:
    results = make_provider().send(["dead-1", "alive"], MESSAGE)

    assert [(r.token, r.outcome) for r in results] == [("dead-1", "dead_token"), ("alive", "ok")]
    assert "Unregistered" in (results[0].detail or "")


def test_rate_limit_is_retried_after_backoff_honouring_retry_after(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    sleep = RecordingSleep()

    results = send_with_retry(
        make_provider(),
        ["rl-1", "fine"],
        MESSAGE,
        policy=RetryPolicy(base_delay=0.1),
        sleep=sleep,
        random=lambda: 0.0,
    )

    assert [r.outcome for r in results] == ["ok", "ok"]
    assert sleep.delays == [1.0]  # Retry-After: 1 beats the 0.05 s jittered backoff
    assert [r.path for r in fake.requests].count("/3/device/rl-1") == 2
    assert [r.path for r in fake.requests].count("/3/device/fine") == 1


def test_server_error_is_retried(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    provider = make_provider()
    [first] = provider.send(["err-1"], MESSAGE)
    assert first.outcome == "retryable"

    sleep = RecordingSleep()
    [result] = send_with_retry(provider, ["err-2"], MESSAGE, sleep=sleep, random=lambda: 1.0)

    assert result.outcome == "ok"
    assert sleep.delays == [1.0]  # base_delay * 2**0 with full jitter drawn


def test_expired_provider_token_is_refreshed_once_and_the_request_retried(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    clock = Clock(offset=-600)
    provider = make_provider(clock=clock)
    assert provider.send(["before"], MESSAGE)[0].outcome == "ok"
    first_iat = fake.jwt_iats[0]

    # Apple now considers that token expired although our 50-minute cache still holds it.
    fake.min_iat = first_iat + 1
    clock.offset = 0
    results = provider.send(["after-1", "after-2"], MESSAGE)

    assert [r.outcome for r in results] == ["ok", "ok"]
    # Both concurrent requests may hit the stale token, yet only one new token is minted:
    # Apple throttles refreshes (TooManyProviderTokenUpdates).
    assert len(set(fake.provider_tokens)) == 2
    assert fake.jwt_iats[-1] > first_iat
    assert fake.provider_tokens.count(fake.provider_tokens[-1]) == 2  # one per retried token


def test_provider_token_is_cached_and_renewed_before_apple_expires_it(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    clock = Clock(offset=-(PROVIDER_TOKEN_LIFETIME + 60))
    provider = make_provider(clock=clock, concurrency=1)
    provider.send(["a", "b"], MESSAGE)
    clock.offset = 0
    provider.send(["c"], MESSAGE)

    assert fake.jwt_iats[0] == fake.jwt_iats[1]
    assert fake.jwt_iats[2] - fake.jwt_iats[0] >= PROVIDER_TOKEN_LIFETIME


def test_a_wrong_signing_key_fails_without_retrying(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    sleep = RecordingSleep()

    [result] = send_with_retry(make_provider(private_key=other), ["tok"], MESSAGE, sleep=sleep)

    assert result.outcome == "failed"
    assert "InvalidProviderToken" in (result.detail or "")
    assert sleep.delays == []
    assert len(fake.requests) == 1


def test_an_unreachable_server_is_retryable(make_provider: Callable[..., ApnsProvider]) -> None:
    [result] = make_provider(base_url="http://127.0.0.1:9", timeout=2.0).send(["tok"], MESSAGE)

    assert result.outcome == "retryable"


def test_a_malformed_token_cannot_reshape_the_request_path(
    fake: FakeApns, make_provider: Callable[..., ApnsProvider]
) -> None:
    make_provider().send(["../../admin?x=1"], MESSAGE)

    assert fake.requests[0].path == "/3/device/..%2F..%2Fadmin%3Fx%3D1"


def test_a_key_that_is_not_ec_is_refused_at_construction(
    make_provider: Callable[..., ApnsProvider],
) -> None:
    wrong = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="EC"):
        make_provider(private_key=wrong)
