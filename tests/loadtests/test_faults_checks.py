"""The faults run's judgement (loadtests/faults.py), on made-up outcomes: it must not pass with
nothing to check, must count a WeChat-style errcode as a failure, and must take its phases from
the actual stop and start times."""
from loadtests import faults


def test_phases_come_from_the_recorded_times():
    timeline = [("redis-freeze begin", 15.2), ("redis-freeze end", 36.9), ("db-crash begin", 57.0),
                ("db-crash end", 81.5)]
    assert faults.phases_from(timeline, 100.0) == [
        ("baseline", 0.0, 15.2), ("redis-freeze", 15.2, 36.9), ("redis-freeze-recovery", 36.9, 57.0),
        ("db-crash", 57.0, 81.5), ("db-crash-recovery", 81.5, 100.0)]


def _event(t, status=200, error=None, ok=None, ms=10.0):
    return {"t": t, "status": status, "error": error, "ok": 200 <= status < 400 if ok is None else ok, "ms": ms}


PLAN = [("baseline", 0.0, 10.0), ("redis-freeze", 10.0, 20.0), ("redis-freeze-recovery", 20.0, 30.0)]


def test_an_errcode_in_a_200_is_a_failure_and_a_hang_a_violation():
    events = [_event(1), _event(12, 503, "REDIS_UNAVAILABLE"), _event(13, 200, "200 errcode=-1", ok=False),
              _event(14, 0, "timeout", ms=5000), _event(26), _event(27)]
    result = faults.classify(events, 0.0, PLAN)
    assert result["counts"]["redis-freeze"] == {"503 REDIS_UNAVAILABLE": 1, "200 200 errcode=-1": 1, "0 timeout": 1}
    assert result["slowest_ms"]["redis-freeze"] == 5000
    violations = faults.answer_violations(result, timeout=5)
    assert violations == ["redis-freeze: 1 × 0 timeout (no answer within 5 s, or the connection dropped)"]


def test_500s_and_bare_503s_are_violations_and_recovery_must_be_clean():
    events = [_event(1), _event(12, 500, "INTERNAL_ERROR"), _event(13, 503, "non-json"),
              _event(26, 503, "REDIS_UNAVAILABLE"), _event(27, 503, "REDIS_UNAVAILABLE"), _event(28)]
    violations = faults.answer_violations(faults.classify(events, 0.0, PLAN), timeout=5)
    assert any("500 INTERNAL_ERROR" in v for v in violations)
    assert any("without the expected envelope" in v for v in violations)
    assert any(v.startswith("redis-freeze-recovery: not recovered: 2/3") for v in violations)


def test_a_recovery_phase_without_requests_is_not_a_recovery():
    violations = faults.answer_violations(faults.classify([_event(1)], 0.0, PLAN), timeout=5)
    assert "redis-freeze-recovery: not recovered: 0/0 server-side failures in its last 5 s" in violations


def test_too_few_writes_to_check_fail_the_run():
    writes = [{"t": 1.0, "kind": k} for k in faults.WRITE_KINDS for _ in range(3)] + \
             [{"t": 21.0, "kind": k} for k in faults.WRITE_KINDS if k != "scan" for _ in range(3)]
    counts = faults.write_counts(writes, 0.0, PLAN)
    assert faults.minimum_violations(counts, PLAN, minimum=3) == [
        "too few accepted writes to check: scan in redis-freeze-recovery: 0 < 3"]
    assert faults.minimum_violations(faults.write_counts([], 0.0, PLAN), PLAN, minimum=3)   # nothing at all


def test_content_is_compared_not_only_existence():
    class Row:
        user_id, public_id = 7, "vn_a"

    items = [{"id": 1, "user_id": 7, "venue_id": "vn_a"}, {"id": 2, "user_id": 7, "venue_id": "vn_b"},
             {"id": 3, "user_id": 7, "venue_id": "vn_a"}]
    missing, wrong = faults._compare(items, {1: Row(), 2: Row()}, "id",
                                     {"user_id": lambda r: r.user_id, "venue_id": lambda r: r.public_id})
    assert [m["id"] for m in missing] == [3]
    assert wrong == [{"write": items[1], "differs": {"venue_id": ["vn_b", "vn_a"]}}]
