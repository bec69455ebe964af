"""Lineage of the batch-predictions guide flow: train, register, swap the MD- node, publish again;
and a real-time deployment of a published version. Against a real Azurite."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.service.facade import Submission
from core.service.lineage import Lineage
from core.service.realtime import RealtimeSource
from tests.core.service.test_service import run_inline, tutorial

CARS = Path(__file__).resolve().parents[3] / "samples" / "datasets" / "automobile-price-raw.csv"


@pytest.fixture(scope="module")
def flow(service) -> dict:
    tag = uuid.uuid4().hex[:6]
    data, model, batch, online = f"cars-{tag}", f"car-model-{tag}", f"car-batch-{tag}", f"car-online-{tag}"
    # Artifacts are content-addressed and the storage is shared by the whole suite: rows no other
    # test trains on keep this flow's model its own (no asset registered elsewhere holds it).
    rows = CARS.read_bytes().splitlines()
    service.register_csv(data, b"\n".join(rows[:-3]) + b"\n")  # version 1

    def train() -> str:
        pipeline = tutorial()
        pipeline.node("automobile").parameters = {"name": data}
        run, job = service.submit(Submission(experiment="lineage", pipeline=pipeline))
        run_inline(service, job)
        assert service.get_run(run.run_id)["status"] == "Finished"
        return run.run_id

    first = train()
    fewer = b"\n".join(rows[:-20]) + b"\n"
    service.register_csv(data, fewer)  # version 2, other rows: the second training reads it
    second = train()
    draft, _ = service.create_inference_pipeline(first, "batch")
    service.publish(draft.id, batch, "v1", False, "t")
    asset = service.register_output(second, "train", "trained_model", model, "retrained", "t")
    service.use_asset(draft.id, "MD-train", model, None, None)
    service.publish(draft.id, batch, "v2", True, "t")
    realtime_draft, _ = service.create_inference_pipeline(second, "realtime")
    service.publish(realtime_draft.id, online, "online v1", False, "t")
    deployed, _ = service.realtime.deploy(f"rt-{tag}", RealtimeSource(pipeline_endpoint=online), "", "t")
    return {
        "data": data,
        "model": model,
        "asset_version": asset["version"],
        "batch": batch,
        "online": online,
        "first": first,
        "second": second,
        "draft": draft.id,
        "deployment": deployed.name,
        "lineage": Lineage(service.store, service.artifacts),
    }


def test_the_first_version_came_from_the_first_training_run(flow):
    v1 = flow["lineage"].endpoint_version(flow["batch"], 1)
    assert v1["source_run"] == flow["first"] and v1["published_from"] == f"draft {flow['draft']}"
    sources = {m["node"]: m for m in v1["models"]}
    assert set(sources) == {"MD-train", "TD-clean"}  # the model and the fitted cleaning transformation
    model = sources["MD-train"]
    assert (model["origin"]["run_id"], model["origin"]["node"], model["origin"]["port"]) == (
        flow["first"],
        "train",
        "trained_model",
    )
    assert (sources["TD-clean"]["origin"]["run_id"], sources["TD-clean"]["origin"]["node"]) == (
        flow["first"],
        "clean",
    )
    assert model["origin"]["experiment"] == "lineage" and model["origin"]["assets"] == []
    assert v1["trained_on"] == [{"name": flow["data"], "version": 1}]
    assert v1["datasets"] == [
        {"name": flow["data"], "version": 1}
    ]  # the default batch input, as the run pinned it


def test_after_the_swap_the_second_version_names_the_asset_and_its_run(flow):
    v2 = flow["lineage"].endpoint_version(flow["batch"], None)  # the default is v2
    assert v2["version"] == 2
    sources = {m["node"]: m for m in v2["models"]}
    model = sources["MD-train"]
    assert model["origin"]["run_id"] == flow["second"] and model["origin"]["node"] == "train"
    assert model["origin"]["assets"] == [{"name": flow["model"], "version": flow["asset_version"]}]
    assert model["origin"]["trained_on"] == [{"name": flow["data"], "version": 2}]
    assert sources["TD-clean"]["origin"]["run_id"] == flow["first"]  # not swapped: still the first run's
    assert sorted(d["version"] for d in v2["trained_on"]) == [1, 2]
    assert v2["used_by"] == {"realtime_endpoints": []}


def test_the_deployment_names_its_published_version_model_and_data(flow):
    found = flow["lineage"].realtime(flow["deployment"])
    assert (found["pipeline_endpoint"], found["pipeline_version"]) == (flow["online"], 1)
    assert found["source_run"] == flow["second"]
    assert {m["node"]: m["origin"]["run_id"] for m in found["models"]} == {
        "MD-train": flow["second"],
        "TD-clean": flow["second"],
    }
    assert found["trained_on"] == [{"name": flow["data"], "version": 2}]
    assert flow["lineage"].endpoint_version(flow["online"], 1)["used_by"] == {
        "realtime_endpoints": [flow["deployment"]]
    }


def test_an_asset_answers_where_it_came_from_and_who_uses_it(flow):
    found = flow["lineage"].asset(flow["model"], None)
    assert found["origin"]["run_id"] == flow["second"] and found["origin"]["trained_on"] == [
        {"name": flow["data"], "version": 2}
    ]
    used = found["used_by"]
    assert sorted(
        (v["pipeline_endpoint"], v["version"], tuple(v["uses"])) for v in used["endpoint_versions"]
    ) == sorted([(flow["batch"], 2, ("model",)), (flow["online"], 1, ("model",))])
    assert [d["realtime_endpoint"] for d in used["realtime_endpoints"]] == [flow["deployment"]]


def test_dataset_versions_answer_what_was_trained_on_them(flow):
    lineage = flow["lineage"]
    first = lineage.dataset(flow["data"], 1)["used_by"]
    # v2 still replays the cleaning transformation fitted on version 1
    assert [(v["pipeline_endpoint"], v["version"], v["uses"]) for v in first["endpoint_versions"]] == [
        (flow["batch"], 1, ["trained_on", "reads"]),
        (flow["batch"], 2, ["trained_on", "reads"]),
    ]
    assert first["realtime_endpoints"] == [] and first["assets"] == []
    second = lineage.dataset(flow["data"], 2)["used_by"]
    assert sorted((v["pipeline_endpoint"], v["version"]) for v in second["endpoint_versions"]) == sorted(
        [(flow["batch"], 2), (flow["online"], 1)]
    )
    assert [d["realtime_endpoint"] for d in second["realtime_endpoints"]] == [flow["deployment"]]
    assert second["assets"] == [{"name": flow["model"], "version": flow["asset_version"]}]
    any_version = lineage.dataset(flow["data"], None)["used_by"]
    batch_uses = {
        v["version"]: v["uses"]
        for v in any_version["endpoint_versions"]
        if v["pipeline_endpoint"] == flow["batch"]
    }
    assert batch_uses == {1: ["trained_on", "reads"], 2: ["trained_on", "reads"]}


def test_a_run_output_answers_which_versions_use_it(flow):
    found = flow["lineage"].run_output(flow["first"], "train", "trained_model")
    assert found["origin"]["trained_on"] == [{"name": flow["data"], "version": 1}]
    assert [(v["pipeline_endpoint"], v["version"]) for v in found["used_by"]["endpoint_versions"]] == [
        (flow["batch"], 1)
    ]
