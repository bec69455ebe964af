"""Step-output reuse, clone and "set as pipeline parameter", against a real Azurite."""

from __future__ import annotations

import re
import uuid

import pandas as pd

from core.components.transformation import SplitData
from core.service.facade import PipelineInputRequest, Submission
from tests.core.service.test_service import run_inline, tutorial


def submit_and_run(service, **kwargs) -> dict:
    run, job = service.submit(Submission(experiment=f"reuse-{uuid.uuid4().hex[:6]}", **kwargs))
    run_inline(service, job)
    return service.get_run(run.run_id)


def reused(view: dict) -> set[str]:
    return {n for n, v in view["nodes"].items() if v["reused"]}


def unique_fraction() -> float:
    """A fraction no other test used, so the first run computes everything."""
    return round(0.4 + uuid.uuid4().int % 10**6 / 10**7, 7)


def test_unchanged_resubmission_reuses_every_node(service):
    fraction = unique_fraction()
    first = submit_and_run(
        service, pipeline=tutorial(), parameter_assignments={"training_fraction": fraction}
    )
    assert {"split", "train", "score", "evaluate"}.isdisjoint(reused(first))
    second = submit_and_run(
        service, pipeline=tutorial(), parameter_assignments={"training_fraction": fraction}
    )
    assert reused(second) == set(second["nodes"])
    assert second["nodes"]["train"]["reused_from"] == f"{first['run_id']}/train"
    assert second["metrics"] == first["metrics"]
    assert second["nodes"]["score"]["outputs"] == first["nodes"]["score"]["outputs"]


def test_changing_one_parameter_reruns_that_node_and_downstream_only(service):
    submit_and_run(
        service, pipeline=tutorial(), parameter_assignments={"training_fraction": unique_fraction()}
    )
    # A fraction no other test draws from: no earlier run split the rows this way, so what the
    # split feeds cannot be reused by content either.
    own = round(0.1 + uuid.uuid4().int % 10**6 / 10**8, 7)
    changed = submit_and_run(service, pipeline=tutorial(), parameter_assignments={"training_fraction": own})
    assert reused(changed) == {"automobile", "select", "clean", "learner"}


def test_regenerate_outputs_reruns_everything(service):
    fraction = unique_fraction()
    submit_and_run(service, pipeline=tutorial(), parameter_assignments={"training_fraction": fraction})
    again = submit_and_run(
        service,
        pipeline=tutorial(),
        regenerate_outputs=True,
        parameter_assignments={"training_fraction": fraction},
    )
    assert reused(again) == set()
    assert again["regenerate_outputs"] is True


def test_a_regenerated_node_with_identical_output_lets_downstream_reuse(service):
    fraction = unique_fraction()
    submit_and_run(service, pipeline=tutorial(), parameter_assignments={"training_fraction": fraction})
    doc = tutorial()
    doc.nodes[2].regenerate_output = True  # clean
    again = submit_and_run(service, pipeline=doc, parameter_assignments={"training_fraction": fraction})
    assert "clean" not in reused(again)
    assert {"split", "train", "score", "evaluate"} <= reused(again)  # same content in, same key


def test_non_deterministic_components_always_run(service, monkeypatch):
    fraction = unique_fraction()
    submit_and_run(service, pipeline=tutorial(), parameter_assignments={"training_fraction": fraction})
    monkeypatch.setattr(SplitData, "deterministic", False)
    again = submit_and_run(
        service, pipeline=tutorial(), parameter_assignments={"training_fraction": fraction}
    )
    assert "split" not in reused(again) and "clean" in reused(again)


def test_clone_gives_a_draft_of_exactly_what_ran(service):
    first = submit_and_run(service, pipeline=tutorial(), parameter_assignments={"training_fraction": 0.6})
    draft, problems = service.clone_run(first["run_id"])
    assert problems == []
    _, cloned = service.get_draft(draft.id)
    assert cloned.node("automobile").parameters == {"name": "automobile-price-raw", "version": 1}
    assert cloned.node("split").parameters["fraction"] == 0.6
    assert "clone of run" in cloned.name
    rerun = submit_and_run(service, draft_id=draft.id, parameter_assignments={"training_fraction": 0.6})
    assert reused(rerun) == set(rerun["nodes"])


def test_set_dataset_as_pipeline_parameter_and_replace_it_on_submit(service):
    cars = pd.read_csv(service.samples_dir / "automobile-price-raw.csv").head(120)
    name = f"cars-{uuid.uuid4().hex[:6]}"
    service.register_csv(name, cars.to_csv(index=False).encode())
    draft, _ = service.create_draft(tutorial())
    draft, problems = service.add_pipeline_parameter(
        draft.id, PipelineInputRequest(name="input_data", node="automobile", parameter="name"), None
    )
    assert problems == []
    _, doc = service.get_draft(draft.id)
    assert [(p.name, p.default) for p in doc.parameters][-1] == ("input_data", "automobile-price-raw")
    view = submit_and_run(service, draft_id=draft.id, parameter_assignments={"input_data": name})
    assert view["status"] == "Finished"
    split_log = view["nodes"]["split"]["logs"][0]
    assert re.search(r"split 11\d rows", split_log)  # 120 raw rows, a few less after cleaning


def test_a_pipeline_parameter_name_in_use_or_a_node_parameter_already_bound_is_refused(service):
    import pytest

    from core.errors import Conflict

    draft, _ = service.create_draft(tutorial())
    with pytest.raises(Conflict) as taken:
        service.add_pipeline_parameter(
            draft.id,
            PipelineInputRequest(name="training_fraction", node="train", parameter="Label column"),
            None,
        )
    assert [(p.code, p.field) for p in taken.value.problems] == [
        ("duplicate_pipeline_parameter", "parameters.training_fraction")
    ]
    with pytest.raises(Conflict) as bound:
        service.add_pipeline_parameter(
            draft.id,
            PipelineInputRequest(
                name="share", node="split", parameter="Fraction of rows in the first output dataset"
            ),
            None,
        )
    assert [(p.code, p.node, p.parameter, p.field) for p in bound.value.problems] == [
        ("parameter_bound_twice", "split", "fraction", "parameters.share")
    ]
    assert [p.name for p in service.get_draft(draft.id)[1].parameters] == ["training_fraction"]
