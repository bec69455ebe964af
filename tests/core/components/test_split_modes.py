"""Split Data's Regular Expression and Relative Expression modes (Split Rows is in test_transformation)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.components.base import RunContext
from core.components.transformation import SplitData, SplitDataParams
from core.errors import ColumnNotFound, ComponentError


@pytest.fixture
def people() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "name": ["alice", "bob", "Anna", "carl", None, "dave"],
            "age": [34, 17, 25, 61, 40, np.nan],
            "city": ["Oslo", "Rome", "Oslo & Co", "Paris", "Rome", "Oslo"],
            "member": [True, False, True, False, True, False],
            "joined": pd.to_datetime(
                ["2009-05-01", "2011-01-01", "2010-01-01", "2015-07-07", "2008-01-01", "2012-12-12"]
            ),
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    df.attrs["label"] = "member"
    return df


def split(df: pd.DataFrame, **params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = SplitData().run({"dataset": df}, SplitDataParams.model_validate(params), RunContext())
    return out["results_dataset1"], out["results_dataset2"]


def regex(df: pd.DataFrame, expression: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(df, **{"Splitting mode": "Regular Expression", "Regular expression": expression})


def relation(df: pd.DataFrame, expression: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(df, **{"Splitting mode": "Relative Expression", "Relational expression": expression})


def test_expression_defaults_match_the_designer() -> None:
    p = SplitDataParams()
    assert p.splitting_mode == "Split Rows"
    assert p.regular_expression == '\\"column name" ^start'
    assert p.relational_expression == '\\"column name" > 3'
    assert (
        SplitDataParams.model_validate({"Splitting mode": "Relative Expression"}).splitting_mode
        == "Relative Expression"
    )


def test_recommender_split_is_not_offered() -> None:
    with pytest.raises(ValidationError):
        SplitDataParams.model_validate({"Splitting mode": "Recommender Split"})


# ---- Regular Expression ---------------------------------------------------------------------------


def test_regex_rows_that_match_go_first(people: pd.DataFrame) -> None:
    first, second = regex(people, '\\"name" ^a')
    assert first["name"].tolist() == ["alice"]  # case-sensitive: "Anna" does not match
    assert second["name"].fillna("-").tolist() == ["bob", "Anna", "carl", "-", "dave"]
    assert list(first.index) == [10] and first.attrs == second.attrs == {"label": "member"}


def test_regex_searches_anywhere_in_the_value(people: pd.DataFrame) -> None:
    first, _ = regex(people, '\\"name" (?i)an')
    assert first["name"].tolist() == ["Anna"]
    first, _ = regex(people, '\\"city" Oslo  ')  # trailing spaces are ignored
    assert first["city"].tolist() == ["Oslo", "Oslo & Co", "Oslo"]


def test_regex_column_by_zero_based_index(people: pd.DataFrame) -> None:
    first, second = regex(people, "(\\2) ^[P-R]")
    assert first["city"].tolist() == ["Rome", "Paris", "Rome"]
    assert len(first) + len(second) == len(people)


def test_regex_on_numbers_matches_their_text(people: pd.DataFrame) -> None:
    first, _ = regex(people, '\\"age" ^[34]')
    assert first["age"].tolist() == [34.0, 40.0]  # the missing age never matches


def test_regex_missing_column_names_it(people: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        regex(people, '\\"column name" ^start')
    assert info.value.column == "column name"


@pytest.mark.parametrize(
    "expression, position",
    [
        ("^start", 1),  # no column reference
        ('\\"name ^a', 1),  # unclosed column name
        ('\\"name"', 8),  # no pattern
        ('\\"name" a(b', 10),  # invalid regex: unbalanced parenthesis at the pattern's '('
    ],
)
def test_regex_parse_errors_name_the_parameter_and_position(
    people: pd.DataFrame, expression: str, position: int
) -> None:
    with pytest.raises(ComponentError) as info:
        regex(people, expression)
    assert info.value.code == "ParameterParsing"
    assert "'Regular expression'" in str(info.value)
    assert f"position {position}" in str(info.value)


def test_regex_index_out_of_range(people: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        regex(people, "(\\9) x")
    assert info.value.code == "NotInRangeValue"


# ---- Relative Expression --------------------------------------------------------------------------


def test_relation_numeric_comparison(people: pd.DataFrame) -> None:
    first, second = relation(people, '\\"age" > 30')
    assert first["age"].tolist() == [34.0, 61.0, 40.0]
    assert second["age"].tolist()[:2] == [17.0, 25.0] and np.isnan(second["age"].iloc[2])  # missing: second


@pytest.mark.parametrize(
    "expression, ages",
    [
        ('\\"age" >= 34', [34, 61, 40]),
        ('\\"age" <= 25', [17, 25]),
        ('\\"age" < 25', [17]),
        ('\\"age" == 40', [40]),
        ('\\"age" != 40', [34, 17, 25, 61]),  # a missing value satisfies nothing, not even !=
    ],
)
def test_relation_operators(people: pd.DataFrame, expression: str, ages: list[int]) -> None:
    first, _ = relation(people, expression)
    assert first["age"].tolist() == ages


def test_relation_and_with_the_column_omitted_after_the_first(people: pd.DataFrame) -> None:
    first, _ = relation(people, "(\\1)<=40 & !=17")
    assert first["age"].tolist() == [34, 25, 40]


def test_relation_or_and_precedence(people: pd.DataFrame) -> None:
    # & binds before |: age < 20  OR  (age > 50 & age < 70)
    first, _ = relation(people, '\\"age" < 20 | > 50 & < 70')
    assert first["age"].tolist() == [17, 61]
    first, _ = relation(people, '\\"age" > 60 | \\"name" == "alice"')
    assert first["name"].tolist() == ["alice", "carl"]


def test_relation_strings_bare_or_quoted(people: pd.DataFrame) -> None:
    first, _ = relation(people, '\\"city" == Rome')
    assert first["name"].fillna("-").tolist() == ["bob", "-"]
    first, _ = relation(people, '\\"city" == "Oslo & Co"')  # quotes protect & inside a value
    assert first["name"].tolist() == ["Anna"]
    first, _ = relation(people, '\\"city" != Oslo & != Rome')
    assert first["city"].tolist() == ["Oslo & Co", "Paris"]


def test_relation_dates_and_booleans(people: pd.DataFrame) -> None:
    first, _ = relation(people, '\\"joined" > 1/1/2010')
    assert first["name"].tolist() == ["bob", "carl", "dave"]
    first, _ = relation(people, '\\"member" == true')
    assert first["name"].fillna("-").tolist() == ["alice", "Anna", "-"]


def test_relation_ordering_on_text_is_refused(people: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        relation(people, '\\"city" > Oslo')
    assert info.value.code == "InvalidColumnType"
    assert info.value.column == "city"


@pytest.mark.parametrize(
    "expression, position, words",
    [
        ("> 3", 1, "expected a column"),
        ('\\"age" 3', 8, "expected one of"),
        ('\\"age" >', 9, "expected a value"),
        ('\\"age" > abc', 10, "needs a number"),
        ('\\"age" > 3 & (\\"age" < 5)', 14, "expected one of"),  # no parentheses
        ('\\"age" > 3 , < 5', 10, "needs a number"),  # ',' is not a connector: part of the value
        ('\\"city" == "Oslo', 12, "no closing quote"),
        ('\\"city" == "Oslo" x', 19, "expected & or |"),
        ('\\"age" > 3 &', 13, "expected one of"),
    ],
)
def test_relation_parse_errors_name_the_parameter_and_position(
    people: pd.DataFrame, expression: str, position: int, words: str
) -> None:
    with pytest.raises(ComponentError) as info:
        relation(people, expression)
    assert info.value.code == "ParameterParsing"
    message = str(info.value)
    assert "'Relational expression'" in message and f"position {position}" in message and words in message


def test_relation_never_evaluates_code(people: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        relation(people, '\\"age" > __import__("os").getpid()')
    assert info.value.code == "ParameterParsing"


def test_relation_missing_column(people: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        relation(people, '\\"column name" > 3')
    assert info.value.column == "column name"


def test_split_rows_still_works_with_expression_parameters_present(people: pd.DataFrame) -> None:
    first, second = split(
        people,
        **{
            "Fraction of rows in the first output dataset": 0.5,
            "Randomized split": False,
            "Regular expression": "ignored",
        },
    )
    assert list(first.index) == [10, 11, 12] and list(second.index) == [13, 14, 15]


def test_describe_builds() -> None:
    schema = SplitData.describe()["parameters"]
    assert "Relative Expression" in str(schema) and "relational_expression" in schema["properties"]
