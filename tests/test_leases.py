"""A claim's lease is renewed while its hook runs, and only while it does."""

import threading
from datetime import datetime

import pytest

from prorch_nb import OnStartMixin, Pipeline, Status, Step, TinyDBRepository, register_pipeline, register_step
from prorch_nb.store import Store
from tests.sql_databases import postgres_repository, sqlite_repository
from tests.waiting import wait_for

GATE = threading.Event()


@register_step
class HoldsOn(OnStartMixin, Step):
    name = "LeasesHoldsOn"

    def on_start(self):
        assert GATE.wait(300), "the test never let the hook go on"
        self.finish()


@register_pipeline
class LongHook(Pipeline):
    name = "LeasesLongHook"
    steps = [HoldsOn]


@pytest.fixture(params=["tinydb", "sqlite", "postgres"])
def repository(request, tmp_path):
    if request.param == "postgres":
        with postgres_repository() as repository:
            yield repository
    else:
        yield TinyDBRepository.at(tmp_path / "runs.json") if request.param == "tinydb" else sqlite_repository(tmp_path)


@pytest.mark.slow
def test_a_long_hook_keeps_its_claim_renewed_until_it_ends(repository):
    GATE.clear()
    run = LongHook(repository_class=repository)
    store = Store(repository)
    ticking = threading.Thread(target=lambda: run.start(lease_seconds=0.6))
    ticking.start()
    try:
        step_uuid = wait_for(lambda: next((s.uuid for s in store.steps_of(run.uuid) if s.claimed_by), None))
        leases = [store.step(step_uuid).claimed_until]
        while len(leases) < 4:  # the first lease, then three renewals, each later than the last
            lease = wait_for(lambda: (found := store.step(step_uuid).claimed_until) != leases[-1] and found)
            leases.append(lease)
        claimant = store.step(step_uuid).claimed_by
    finally:
        GATE.set()
        ticking.join(timeout=300)

    assert [datetime.fromisoformat(lease) for lease in leases] == sorted(datetime.fromisoformat(x) for x in leases)
    assert claimant is not None and claimant.count(":") == 2
    step = store.step(step_uuid)
    assert (step.status, step.claimed_by, step.claimed_until) == (Status.FINISHED, None, None)


def test_a_worker_whose_claim_was_taken_over_cannot_write_its_step(repository):
    GATE.clear()
    run = LongHook(repository_class=repository)
    store = Store(repository)
    outcome = []
    ticking = threading.Thread(target=lambda: outcome.append(run.start()))
    ticking.start()
    try:
        step_uuid = wait_for(lambda: next((s.uuid for s in store.steps_of(run.uuid) if s.claimed_by), None))
        with store.unit_of_work():  # its lease ran out (a frozen worker): another host took the step over
            store.steps.update(step_uuid, {"claimed_by": "another-host:1:0badc0de"})
    finally:
        GATE.set()
        ticking.join(timeout=300)

    step = store.step(step_uuid)
    assert (step.status, step.claimed_by) == (Status.PENDING, "another-host:1:0badc0de")  # its finish() was refused
    assert outcome[0].conflict and not outcome[0].error


def test_the_keeper_outlives_a_renewal_that_raises_and_renews_the_next_claims(tmp_path):
    from prorch_nb.leases import LeaseKeeper

    class Flaky(TinyDBRepository.at(tmp_path / "runs.json")):
        failures = 1

        def renew_claim(self, uuid, claimant, until):
            if Flaky.failures:
                Flaky.failures -= 1
                raise RuntimeError("the pool is exhausted")
            return super().renew_claim(uuid, claimant, until)

    GATE.clear()
    keeper, run = LeaseKeeper(), LongHook(repository_class=Flaky)
    store = Store(Flaky)
    ticking = threading.Thread(target=lambda: run.start(lease_seconds=3600))
    ticking.start()
    try:
        step = wait_for(lambda: next((s for s in store.steps_of(run.uuid) if s.claimed_by), None))
        with pytest.warns(Warning, match="could not renew the claim .*: the pool is exhausted"):
            keeper.hold(step.claimed_by, step.uuid, Flaky, 0.3)  # renewed every 0.1 s: the first raises
            wait_for(lambda: Flaky.failures == 0)
        first = step.claimed_until
        wait_for(lambda: store.step(step.uuid).claimed_until != first)  # renewed all the same, later
        assert keeper._thread.is_alive()
        keeper.release(step.claimed_by)
    finally:
        GATE.set()
        ticking.join(timeout=300)


def test_claims_are_not_renewed_through_a_repository_without_units_of_work(tmp_path, monkeypatch):
    from tests.seed_repository import SeedTinyDBRepository

    monkeypatch.chdir(tmp_path)
    assert Store(SeedTinyDBRepository).renews_claims is False  # renewing would race the tick's writes
    assert Store(TinyDBRepository.at(tmp_path / "runs.json")).renews_claims is True


def test_a_claim_names_this_boot_of_the_machine_so_cloned_hosts_differ():
    from pathlib import Path

    from prorch_nb.claims import new_claimant

    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:12]
    assert f"/boot{boot}/pidns" in new_claimant()
