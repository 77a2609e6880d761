"""loadtests.cpu: CPU seconds per process tree from /proc, and the per-request arithmetic."""
import os
import time

import pytest

from loadtests import cpu


def test_a_busy_process_tree_shows_the_cpu_it_spent():
    before = cpu.snapshot({"me": os.getpid()})
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    after = cpu.snapshot({"me": os.getpid()})
    used = cpu.usage(before, after, requests=100)
    me = used["parts"]["me"]
    assert me["cpu_s"] >= 0.1
    spent = after.parts["me"] - before.parts["me"]          # (cpu_s is rounded for the report)
    assert me["ms_per_request"] == pytest.approx(1000 * spent / 100, abs=0.001)
    assert used["machine_cores_busy"] > 0


def test_a_process_that_is_gone_counts_nothing():
    assert cpu.cpu_seconds(2**22 + 12345) == 0.0


def test_projection_divides_the_cores_by_the_cpu_per_request():
    assert cpu.projected_rps(2.0) == pytest.approx(1000)              # 2 cores, 2 ms each
    assert cpu.projected_rps(2.0, utilisation=0.6) == pytest.approx(600)
    assert cpu.projected_rps(1.0, cores=4) == pytest.approx(4000)
