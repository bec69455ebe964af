"""Evaluate Model's plots are named during the run and drawn the first time they are viewed.

On a store of its own, so every PNG in it is known to the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.components.base import PLOT_NOT_DRAWN
from core.errors import Conflict, NotFound
from core.pipelines.document import Pipeline
from core.registry import runs
from core.registry.runs import RunStatus
from core.service import runs as run_use_cases
from core.service.facade import Service, Submission
from core.settings import Settings
from core.storage.artifacts import ARTIFACTS
from core.storage.memory import MemoryStore
from core.storage.store import PreconditionFailed
from tests.conftest import ROOT, SIGNING_KEY
from tests.core.service.test_service import run_inline, tutorial

PNG = b"\x89PNG\r\n\x1a\n"
CREDIT = ROOT / "samples" / "pipelines" / "german-credit-classification.json"
BINARY_PLOTS = {
    "roc_curve",
    "precision_recall_curve",
    "lift_curve",
    "confusion_matrix",
    "confusion_matrix_compare",
}


@pytest.fixture(scope="module")
def fresh() -> Iterator[Service]:
    store = MemoryStore()
    store.ensure()
    yield Service(store, Settings(artifact_signing_key=SIGNING_KEY), ROOT / "samples" / "datasets")


def run_pipeline(service: Service, pipeline: Pipeline, experiment: str, **given: Any) -> str:
    run, job = service.submit(Submission(experiment=experiment, pipeline=pipeline, **given))
    run_inline(service, job)
    assert runs.get_run(service.store, run.run_id).status == RunStatus.FINISHED
    return run.run_id


def credit() -> Pipeline:
    return Pipeline.model_validate(json.loads(Path(CREDIT).read_text()))


def png_artifacts(service: Service) -> set[str]:
    return {
        f"{ARTIFACTS}/{name}"
        for name in service.store.list_blobs(ARTIFACTS)
        if service.store.get_blob(ARTIFACTS, name).startswith(PNG)
    }


def evaluate_plots(service: Service, run_id: str) -> dict[str, str]:
    return runs.get_node(service.store, run_id, "evaluate").plots


class Drawings:
    """Counts the plots drawn on request."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        draw = run_use_cases.evaluation.draw_plot

        def counted(named: Any, name: str) -> bytes:
            self.names.append(name)
            return draw(named, name)

        monkeypatch.setattr(run_use_cases.evaluation, "draw_plot", counted)


class RacingWrites:
    """Every view reads the node for its first write before any view writes, so all but one
    first writes carry a stale ETag: what a naive write-back of the plots would lose."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, views: int) -> None:
        self.refused = 0
        barrier, seen = threading.Barrier(views), threading.local()
        read, write = runs.get_node_for_update, runs.update_node

        def read_together(*args: Any) -> Any:
            found = read(*args)
            if not getattr(seen, "read", False):
                seen.read = True
                barrier.wait(timeout=30)
            return found

        def counted_write(*args: Any, **kwargs: Any) -> Any:
            try:
                return write(*args, **kwargs)
            except PreconditionFailed:
                self.refused += 1
                raise

        monkeypatch.setattr(runs, "get_node_for_update", read_together)
        monkeypatch.setattr(runs, "update_node", counted_write)


def recorded_plot_refs(service: Service) -> set[str]:
    return {
        ref
        for experiment in runs.list_experiments(service.store)
        for run in runs.list_runs(service.store, experiment)
        for node in runs.get_nodes(service.store, run.run_id)
        for ref in node.plots.values()
        if ref != PLOT_NOT_DRAWN
    }


@pytest.fixture(scope="module")
def tutorial_run(fresh: Service) -> str:
    return run_pipeline(fresh, tutorial(), "lazy-regression")


@pytest.fixture(scope="module")
def credit_run(fresh: Service) -> str:
    return run_pipeline(fresh, credit(), "lazy-binary")


def test_a_run_names_the_evaluate_plots_and_stores_no_png_for_them(fresh: Service, tutorial_run: str):
    assert evaluate_plots(fresh, tutorial_run) == {
        "residual_histogram": PLOT_NOT_DRAWN,
        "predicted_vs_actual": PLOT_NOT_DRAWN,
    }
    assert png_artifacts(fresh) == set()
    view = fresh.get_run(tutorial_run)["nodes"]["evaluate"]
    assert view["plots"] == ["predicted_vs_actual", "residual_histogram"]  # names, as before


def test_the_first_view_draws_and_records_the_plot_and_the_next_reads_it(
    fresh: Service, tutorial_run: str, monkeypatch: pytest.MonkeyPatch
):
    drawings = Drawings(monkeypatch)
    first = fresh.node_plot(tutorial_run, "evaluate", "residual_histogram")
    assert first.startswith(PNG) and len(first) > 5_000
    assert drawings.names == ["residual_histogram"]
    ref = evaluate_plots(fresh, tutorial_run)["residual_histogram"]
    assert ref != PLOT_NOT_DRAWN and fresh.artifacts.get_bytes(ref) == first
    assert png_artifacts(fresh) == {ref}
    assert evaluate_plots(fresh, tutorial_run)["predicted_vs_actual"] == PLOT_NOT_DRAWN  # only the one

    assert fresh.node_plot(tutorial_run, "evaluate", "residual_histogram") == first
    assert drawings.names == ["residual_histogram"]  # read, not drawn again


def test_drawn_plots_are_the_same_bytes_as_drawing_again(fresh: Service, tutorial_run: str):
    drawn = fresh.node_plot(tutorial_run, "evaluate", "predicted_vs_actual")
    again = run_pipeline(fresh, tutorial(), "lazy-regression-again", regenerate_outputs=True)
    assert evaluate_plots(fresh, again)["predicted_vs_actual"] == PLOT_NOT_DRAWN
    assert fresh.node_plot(again, "evaluate", "predicted_vs_actual") == drawn


def test_plots_drawn_at_once_are_all_recorded(
    fresh: Service, credit_run: str, monkeypatch: pytest.MonkeyPatch
):
    plots = evaluate_plots(fresh, credit_run)
    assert plots == dict.fromkeys(BINARY_PLOTS, PLOT_NOT_DRAWN)
    assert PLOT_NOT_DRAWN not in runs.get_node(fresh.store, credit_run, "cross_validate").plots.values()
    assert png_artifacts(fresh) == recorded_plot_refs(fresh)  # Cross Validate Model's, and views'

    names = sorted(BINARY_PLOTS)
    drawings = Drawings(monkeypatch)
    racing = RacingWrites(monkeypatch, len(names))
    served: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def view(name: str) -> None:
        try:
            served[name] = fresh.node_plot(credit_run, "evaluate", name)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=view, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and sorted(drawings.names) == names
    assert racing.refused >= len(names) - 1  # the race happened: stale writes were refused, then retried
    recorded = evaluate_plots(fresh, credit_run)
    assert PLOT_NOT_DRAWN not in recorded.values()
    assert {name: fresh.artifacts.get_bytes(ref) for name, ref in recorded.items()} == served
    assert len(set(served.values())) == len(names)  # each its own picture, the compare one too


def test_a_plot_recorded_by_an_older_run_is_served_as_it_is(
    fresh: Service, tutorial_run: str, monkeypatch: pytest.MonkeyPatch
):
    old = run_pipeline(fresh, tutorial(), "lazy-older", regenerate_outputs=True)
    node, etag = runs.get_node_for_update(fresh.store, old, "evaluate")
    stored = PNG + b"drawn by the run itself"
    node.plots = {"residual_histogram": fresh.artifacts.put_bytes(stored, "plot", "image/png")}
    runs.update_node(fresh.store, node, "plots", etag=etag)
    drawings = Drawings(monkeypatch)
    assert fresh.node_plot(old, "evaluate", "residual_histogram") == stored
    assert drawings.names == []


def test_a_reused_evaluate_node_draws_from_its_own_run(
    fresh: Service, credit_run: str, monkeypatch: pytest.MonkeyPatch
):
    reused = run_pipeline(fresh, credit(), "lazy-reused")
    node = runs.get_node(fresh.store, reused, "evaluate")
    assert node.reused_from == f"{credit_run}/evaluate"
    assert set(node.plots.values()) == {PLOT_NOT_DRAWN}  # the cache holds what the run recorded
    drawings = Drawings(monkeypatch)
    png = fresh.node_plot(reused, "evaluate", "roc_curve")
    assert drawings.names == ["roc_curve"]
    assert png == fresh.node_plot(credit_run, "evaluate", "roc_curve")
    assert evaluate_plots(fresh, reused)["roc_curve"] == evaluate_plots(fresh, credit_run)["roc_curve"]


def test_an_unknown_plot_or_an_unfinished_node_is_not_found(fresh: Service, tutorial_run: str):
    with pytest.raises(NotFound, match="has no plot 'roc_curve'"):
        fresh.node_plot(tutorial_run, "evaluate", "roc_curve")
    failed = run_pipeline(fresh, tutorial(), "lazy-failed", regenerate_outputs=True)
    node, etag = runs.get_node_for_update(fresh.store, failed, "evaluate")
    node.status = RunStatus.FAILED
    runs.update_node(fresh.store, node, "status", etag=etag)
    with pytest.raises(NotFound, match="did not finish"):
        fresh.node_plot(failed, "evaluate", "residual_histogram")


def test_a_plot_whose_inputs_are_gone_or_undrawable_is_a_client_error(fresh: Service):
    gone = run_pipeline(fresh, tutorial(), "lazy-gone", regenerate_outputs=True)
    score, etag = runs.get_node_for_update(fresh.store, gone, "score")
    score.outputs = {}
    runs.update_node(fresh.store, score, "outputs", etag=etag)
    with pytest.raises(NotFound, match="no output"):
        fresh.node_plot(gone, "evaluate", "residual_histogram")

    odd = run_pipeline(fresh, tutorial(), "lazy-odd", regenerate_outputs=True)
    node, etag = runs.get_node_for_update(fresh.store, odd, "evaluate")
    node.plots = {"roc_curve": PLOT_NOT_DRAWN}  # a name the regression inputs cannot draw
    runs.update_node(fresh.store, node, "plots", etag=etag)
    with pytest.raises(Conflict):
        fresh.node_plot(odd, "evaluate", "roc_curve")
