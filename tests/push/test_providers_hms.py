"""The HMS Push Kit client against a loopback fake of Huawei's OAuth and messages:send APIs."""

import json
import urllib.parse
from collections.abc import Callable, Iterator

import pytest

from push.providers import PushMessage, RetryPolicy, send_with_retry
from push.providers.hms import HmsProvider, hms_collapse_key
from tests.push.fakes.hms_server import FakeHms

APP_ID = "104399999"
SECRET = "s3cret-app-secret"
MESSAGE = PushMessage(
    title="社区通知",
    body="本周六社区义诊",
    data={"notice_id": "99"},
    collapse_key="notice-99",
    ttl_seconds=3600,
    priority="high",
)


@pytest.fixture
def fake() -> Iterator[FakeHms]:
    with FakeHms(app_id=APP_ID, client_secret=SECRET) as server:
        yield server


@pytest.fixture
def make_provider(fake: FakeHms) -> Iterator[Callable[..., HmsProvider]]:
    providers: list[HmsProvider] = []

    def make(**overrides: object) -> HmsProvider:
        options: dict[str, object] = {
            "app_id": APP_ID,
            "client_secret": SECRET,
            "base_url": fake.url,
            "token_url": fake.token_url,
        }
        options.update(overrides)
        provider = HmsProvider(**options)  # type: ignore[arg-type]
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


def sent_tokens(fake: FakeHms) -> list[list[str]]:
    return [r.json()["message"]["token"] for r in fake.send_requests]


def test_success_uses_client_credentials_and_the_push_kit_format(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    results = make_provider().send(["t1", "t2"], MESSAGE)

    assert [(r.token, r.outcome) for r in results] == [("t1", "ok"), ("t2", "ok")]
    [token_request] = fake.token_requests
    assert dict(urllib.parse.parse_qsl(token_request.body.decode())) == {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": SECRET,
    }
    [send] = fake.send_requests
    assert send.path == f"/v1/{APP_ID}/messages:send"
    assert send.headers["authorization"] == "Bearer hms-at-1"
    body = send.json()
    assert body["validate_only"] is False
    message = body["message"]
    assert message["token"] == ["t1", "t2"]
    assert message["notification"] == {"title": "社区通知", "body": "本周六社区义诊"}
    assert json.loads(message["data"]) == {"notice_id": "99"}  # a JSON string, per HMS
    assert message["android"] == {
        "collapse_key": hms_collapse_key("notice-99"),
        "urgency": "HIGH",
        "ttl": "3600s",
        "notification": {"click_action": {"type": 3}},
    }


def test_collapse_keys_map_to_hms_groups() -> None:
    assert hms_collapse_key(None) == -1
    assert all(1 <= hms_collapse_key(f"k{i}") <= 100 for i in range(500))
    assert hms_collapse_key("notice-99") == hms_collapse_key("notice-99")


def test_normal_priority_without_collapse_key_or_data(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    make_provider().send(["t1"], PushMessage(title="t", body="b", ttl_seconds=0))

    message = fake.send_requests[0].json()["message"]
    assert message["android"]["urgency"] == "NORMAL"
    assert message["android"]["collapse_key"] == -1
    assert message["android"]["ttl"] == "0s"
    assert "data" not in message


def test_batches_are_split_at_1000_tokens(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    provider = make_provider()
    tokens = [f"tok-{i}" for i in range(2500)]

    results = send_with_retry(provider, tokens, MESSAGE, sleep=RecordingSleep())

    assert provider.max_batch == 1000
    assert [len(batch) for batch in sent_tokens(fake)] == [1000, 1000, 500]
    assert [r.token for r in results] == tokens
    assert {r.outcome for r in results} == {"ok"}
    assert len(fake.token_requests) == 1  # the access token is cached across requests


def test_send_splits_oversized_calls_itself(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    results = make_provider().send([f"tok-{i}" for i in range(1001)], MESSAGE)

    assert [len(batch) for batch in sent_tokens(fake)] == [1000, 1]
    assert len(results) == 1001


def test_partial_success_marks_only_the_illegal_tokens_dead(
    make_provider: Callable[..., HmsProvider],
) -> None:
    results = make_provider().send(["t1", "dead-1", "t2"], MESSAGE)

    assert [(r.token, r.outcome) for r in results] == [
        ("t1", "ok"),
        ("dead-1", "dead_token"),
        ("t2", "ok"),
    ]


def test_all_tokens_invalid_marks_every_token_dead(
    make_provider: Callable[..., HmsProvider],
) -> None:
    results = make_provider().send(["dead-1", "dead-2"], MESSAGE)

    assert [r.outcome for r in results] == ["dead_token", "dead_token"]
    assert "80300007" in (results[0].detail or "")


def test_traffic_control_is_retried_after_retry_after(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    sleep = RecordingSleep()

    results = send_with_retry(
        make_provider(), ["rl-1", "t1"], MESSAGE,
        policy=RetryPolicy(base_delay=0.1), sleep=sleep, random=lambda: 0.0,
    )

    assert [r.outcome for r in results] == ["ok", "ok"]
    assert sleep.delays == [1.0]
    assert sent_tokens(fake) == [["rl-1", "t1"], ["rl-1", "t1"]]


def test_a_retry_after_beyond_max_delay_is_left_to_the_job_queue(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    fake.retry_after = "120"
    sleep = RecordingSleep()

    [result] = send_with_retry(
        make_provider(), ["rl-1"], MESSAGE, policy=RetryPolicy(max_delay=60), sleep=sleep
    )

    assert (result.outcome, result.retry_after) == ("rate_limited", 120.0)
    assert sleep.delays == []


def test_system_error_is_retried_with_growing_backoff(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    provider = make_provider()
    [first] = provider.send(["err-0"], MESSAGE)
    assert first.outcome == "retryable" and "81000001" in (first.detail or "")

    sleep = RecordingSleep()
    results = send_with_retry(
        provider, ["err-1"], MESSAGE,
        policy=RetryPolicy(base_delay=1.0), sleep=sleep, random=lambda: 1.0,
    )

    assert [r.outcome for r in results] == ["ok"]
    assert sleep.delays == [1.0]


def test_expired_oauth_token_is_refreshed_and_the_request_retried(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    provider = make_provider()
    provider.send(["t1"], MESSAGE)
    fake.expire_access_tokens()

    [result] = provider.send(["t2"], MESSAGE)

    assert result.outcome == "ok"
    assert len(fake.token_requests) == 2
    assert [r.headers["authorization"] for r in fake.send_requests] == [
        "Bearer hms-at-1",
        "Bearer hms-at-1",
        "Bearer hms-at-2",
    ]


def test_wrong_client_secret_fails_without_sending(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    sleep = RecordingSleep()

    results = send_with_retry(
        make_provider(client_secret="wrong"), ["t1", "t2"], MESSAGE, sleep=sleep
    )

    assert [r.outcome for r in results] == ["failed", "failed"]
    assert "invalid client" in (results[0].detail or "")
    assert fake.send_requests == [] and sleep.delays == []


def test_persistent_failures_give_up_after_max_attempts(
    fake: FakeHms, make_provider: Callable[..., HmsProvider]
) -> None:
    fake.script.decide = lambda token: "error"  # type: ignore[method-assign]
    sleep = RecordingSleep()

    [result] = send_with_retry(
        make_provider(), ["t1"], MESSAGE,
        policy=RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=3.0),
        sleep=sleep, random=lambda: 1.0,
    )

    assert result.outcome == "retryable"  # left for the job queue to reschedule
    assert sleep.delays == [1.0, 2.0, 3.0]  # exponential, capped at max_delay
    assert len(fake.send_requests) == 4
