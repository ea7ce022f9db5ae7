"""Killing or racing real trainer processes never leaves LATEST pointing at a broken model.

The trainers are real processes started from a forkserver that has already imported the
training code, so twenty kills cost seconds rather than twenty interpreter start-ups.
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import time
from multiprocessing.context import ForkServerContext
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from training.artifact import load_artifact
from training.train import TrainOptions, train


def run_trainer(models: Path) -> None:
    train(TrainOptions(data=SAMPLE, models_dir=models, k_max=4, report=False))


@pytest.fixture(scope="module")
def ctx() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["training.train", "tests.faults.test_training_faults"])
    return context


def _versions(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir() if p.is_dir() and not p.name.startswith("."))


def _start(ctx: ForkServerContext, models: Path) -> multiprocessing.process.BaseProcess:
    proc = ctx.Process(target=run_trainer, args=(models,))
    proc.start()
    return proc


def test_sigkill_at_random_moments_leaves_latest_loadable(
    ctx: ForkServerContext, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    durations: list[float] = []
    for run in range(3):  # the first run also starts the forkserver; time the two warm ones
        start = time.perf_counter()
        trainer = _start(ctx, models)
        trainer.join(timeout=300)
        assert trainer.exitcode == 0
        if run:
            durations.append(time.perf_counter() - start)
    duration = statistics.median(durations)
    rng = random.Random(20)
    killed = 0
    for _ in range(20):
        proc = _start(ctx, models)
        proc.join(timeout=rng.uniform(0.0, 0.9 * duration))
        if proc.is_alive():
            proc.kill()  # SIGKILL: no cleanup handler runs
            killed += 1
        proc.join(timeout=30)
        loaded = load_artifact(models)  # verifies every checksum
        assert loaded.version in _versions(models)
    for version in _versions(models):  # no half-written version was ever published
        load_artifact(models, version)
    # Only a guard against a test that injected no fault: runs may be faster than timed.
    assert killed >= 5, f"only {killed} of 20 runs were killed before they finished"


def test_five_concurrent_trainers_give_five_versions(
    ctx: ForkServerContext, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    procs = [_start(ctx, models) for _ in range(5)]
    for proc in procs:
        proc.join(timeout=300)
        assert proc.exitcode == 0
    versions = _versions(models)
    assert len(versions) == 5
    for version in versions:
        assert load_artifact(models, version).version == version
    assert (models / "LATEST").read_text().strip() in versions
