"""Content-addressed artifacts, the signature check on pickled objects and their version record."""

from __future__ import annotations

import hashlib
import hmac
import io
import platform
import uuid

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.linear_model import Ridge

from core.components import PortType
from core.components.models import Learner
from core.errors import Conflict
from core.storage.artifacts import (
    FORMAT,
    FORMAT_VERSION,
    ArtifactIntegrityError,
    Artifacts,
    IncompatibleArtifact,
    encode_versions,
    incompatibility,
    running_versions,
)


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


def _learner(alpha: float) -> Learner:
    return Learner(estimator=Ridge(alpha=alpha), task="regression", algorithm="Linear Regression")


def _planted(store, data: bytes, metadata: dict[str, str]) -> str:
    digest = hashlib.sha256(data).hexdigest()
    store.put_blob("artifacts", digest, data, metadata=metadata)
    return f"artifacts/{digest}"


def test_models_record_their_format_and_the_library_versions_that_wrote_them(service):
    ref = service.artifacts.put(PortType.MODEL, {"recorded": uuid.uuid4().hex})
    recorded = service.artifacts.versions(ref)
    assert recorded is not None
    assert recorded["format"] == FORMAT and recorded["format_version"] == FORMAT_VERSION
    assert recorded["scikit-learn"] == sklearn.__version__
    assert recorded["numpy"] == np.__version__ and recorded["pandas"] == pd.__version__
    assert recorded["joblib"] == joblib.__version__ and recorded["python"] == platform.python_version()
    assert service.artifacts.versions(service.artifacts.put(PortType.DATA, pd.DataFrame({"x": [1]}))) is None


def test_a_model_written_by_another_scikit_learn_minor_is_refused_clearly(service, store, settings):
    older = Artifacts(
        store, settings.artifact_signing_key, versions={**running_versions(), "scikit-learn": "1.4.2"}
    )
    ref = older.put(PortType.MODEL, _learner(uuid.uuid4().int % 1000 + 0.25))
    with pytest.raises(IncompatibleArtifact) as refused:
        service.artifacts.get(ref, PortType.MODEL)
    message = refused.value.message
    assert ref in message and "scikit-learn 1.4.2" in message
    assert f"scikit-learn {sklearn.__version__}" in message and "retrain" in message
    assert isinstance(refused.value, Conflict) and refused.value.status == 409
    assert refused.value.problems[0].code == "incompatible_artifact"


def test_a_patch_release_apart_still_loads(service, store, settings):
    major, minor, *_ = sklearn.__version__.split(".")
    patched = Artifacts(
        store,
        settings.artifact_signing_key,
        versions={**running_versions(), "scikit-learn": f"{major}.{minor}.999"},
    )
    ref = patched.put(PortType.MODEL, _learner(uuid.uuid4().int % 1000 + 0.5))
    assert service.artifacts.get(ref, PortType.MODEL).task == "regression"


def test_the_compatibility_rule():
    here = {"scikit-learn": "1.9.1", "numpy": "2.4.6", "pandas": "3.1.1", "python": "3.12.7"}
    record = {"format": FORMAT, "format_version": FORMAT_VERSION}
    assert incompatibility({**record, "versions": encode_versions(here)}, here) is None
    other_python = encode_versions({**here, "python": "3.11.9", "numpy": "2.0.0rc1"})
    assert incompatibility({**record, "versions": other_python}, here) is None
    assert "numpy 1.26.4" in (incompatibility({**record, "versions": "numpy=1.26.4"}, here) or "")
    assert "scikit-learn 2.9.1" in (incompatibility({**record, "versions": "scikit-learn=2.9.1"}, here) or "")
    newer_layout = {"format": FORMAT, "format_version": "2.0", "versions": ""}
    assert "format joblib 2.0" in (incompatibility(newer_layout, here) or "")
    assert incompatibility({**record, "format_version": "1.7", "versions": ""}, here) is None


def test_models_written_before_versions_were_recorded_still_load(service, store, settings):
    buffer = io.BytesIO()
    joblib.dump(_learner(uuid.uuid4().int % 1000 + 0.75), buffer, compress=3)
    data = buffer.getvalue()
    signature = hmac.new(settings.artifact_signing_key.encode(), data, hashlib.sha256).hexdigest()
    ref = _planted(store, data, {"kind": "model", "signature": signature})
    assert service.artifacts.versions(ref) is None
    assert service.artifacts.get(ref, PortType.MODEL).task == "regression"


def test_an_old_model_these_libraries_cannot_unpickle_says_so(service, store, settings):
    data = b"\x80\x04cgone_library\nModel\n."  # a pickle of a class from a library since removed
    signature = hmac.new(settings.artifact_signing_key.encode(), data, hashlib.sha256).hexdigest()
    ref = _planted(store, data, {"kind": "model", "signature": signature})
    with pytest.raises(IncompatibleArtifact, match=r"unpickling failed .*no versions") as refused:
        service.artifacts.get(ref, PortType.MODEL)
    assert ref in refused.value.message and "retrain" in refused.value.message


def test_tampering_with_the_recorded_versions_is_detected(service, store):
    ref = service.artifacts.put(PortType.MODEL, {"tampered": uuid.uuid4().hex})
    name = ref.split("/", 1)[1]
    data = store.get_blob("artifacts", name)
    metadata = {
        k: v for k, v in (store.blob_metadata("artifacts", name) or {}).items() if k not in ("etag", "size")
    }
    forged = {**metadata, "versions": metadata["versions"].replace("scikit-learn=", "scikit-learn=0.")}
    store.put_blob("artifacts", name, data, metadata=forged)
    with pytest.raises(ArtifactIntegrityError, match="altered"):
        service.artifacts.get(ref, PortType.MODEL)
    stripped = {k: v for k, v in metadata.items() if k not in ("format", "format_version", "versions")}
    store.put_blob("artifacts", name, data, metadata=stripped)  # passing it off as an older artifact
    with pytest.raises(ArtifactIntegrityError):
        service.artifacts.get(ref, PortType.MODEL)


def test_same_bytes_written_after_an_upgrade_take_the_new_record(service, store, settings):
    value = {"plain": uuid.uuid4().hex}  # nothing of scikit-learn's in it: the same bytes either way
    older = Artifacts(
        store, settings.artifact_signing_key, versions={**running_versions(), "scikit-learn": "0.24.2"}
    )
    ref = older.put(PortType.MODEL, value)
    assert service.artifacts.put(PortType.MODEL, value) == ref  # same content, same name
    assert (service.artifacts.versions(ref) or {})["scikit-learn"] == sklearn.__version__
    assert service.artifacts.get(ref, PortType.MODEL) == value
