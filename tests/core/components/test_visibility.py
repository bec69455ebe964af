"""The catalogue says which parameters the designer hides, so forms can hide them too."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import TypeAdapter

from core.components import CATALOGUE, lookup
from core.components.visibility import VISIBLE_WHEN


@pytest.mark.parametrize("component_id", sorted(VISIBLE_WHEN))
def test_every_condition_names_real_fields_and_accepted_values(component_id: str) -> None:
    fields = CATALOGUE[component_id].Parameters.model_fields
    for name, condition in VISIBLE_WHEN[component_id].items():
        assert name in fields
        for parent, values in condition.items():
            assert parent in fields and parent != name
            adapter = TypeAdapter(fields[parent].annotation)
            for value in values:
                assert adapter.validate_python(value) == value


def test_learner_range_fields_show_only_in_parameter_range_mode() -> None:
    props = lookup("Linear Regression").describe()["parameters"]["properties"]
    assert props["range_for_learning_rate"]["x-visible-when"] == {"create_trainer_mode": ["ParameterRange"]}
    assert props["learning_rate"]["x-visible-when"] == {"create_trainer_mode": ["SingleParameter"]}
    assert "x-visible-when" not in props["solution_method"]
    # The mode itself is offered only where the designer offers it.
    modes = get_args(lookup("Linear Regression").Parameters.model_fields["solution_method"].annotation)
    assert props["create_trainer_mode"]["x-visible-when"]["solution_method"][0] in modes


def test_clean_missing_data_replacement_value_depends_on_mode() -> None:
    props = lookup("Clean Missing Data").describe()["parameters"]["properties"]
    assert props["replacement_value"]["x-visible-when"] == {"cleaning_mode": ["Custom substitution value"]}


def test_titles_are_the_designer_labels() -> None:
    props = lookup("Split Data").describe()["parameters"]["properties"]
    assert props["fraction"]["title"] == "Fraction of rows in the first output dataset"
