"""Content-addressed artifacts and the signature check on pickled objects."""

from __future__ import annotations

import hashlib
import io

import joblib
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from core.components import PortType
from core.components.models import Learner
from core.storage.artifacts import ArtifactIntegrityError, Artifacts


def test_same_content_same_reference(service):
    df = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    first = service.artifacts.put(PortType.DATA, df)
    assert first == service.artifacts.put(PortType.DATA, df.copy())
    pd.testing.assert_frame_equal(service.artifacts.get(first, PortType.DATA), df)


def test_models_round_trip_when_signed_by_this_service(service):
    learner = Learner(estimator=Ridge(alpha=0.5), task="regression", algorithm="Linear Regression")
    ref = service.artifacts.put(PortType.UNTRAINED_MODEL, learner)
    back = service.artifacts.get(ref, PortType.UNTRAINED_MODEL)
    assert back.estimator.alpha == 0.5 and back.task == "regression"


def test_a_pickle_the_service_did_not_write_is_never_loaded(service, store):
    buffer = io.BytesIO()
    joblib.dump({"planted": True}, buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    store.put_blob("artifacts", digest, data, metadata={"signature": "0" * 64})
    with pytest.raises(ArtifactIntegrityError, match="not signed"):
        service.artifacts.get(f"artifacts/{digest}", PortType.MODEL)


def test_another_key_cannot_load_our_models(service, store):
    ref = service.artifacts.put(PortType.UNTRAINED_MODEL, {"m": 1})
    with pytest.raises(ArtifactIntegrityError):
        Artifacts(store, "a-different-signing-key").get(ref, PortType.UNTRAINED_MODEL)


def test_tampered_content_is_refused(service, store):
    ref = service.artifacts.put(PortType.DATA, pd.DataFrame({"x": [1]}))
    name = ref.split("/", 1)[1]
    store.put_blob("artifacts", name, b"tampered")
    with pytest.raises(ArtifactIntegrityError, match="does not match"):
        service.artifacts.get(ref, PortType.DATA)
