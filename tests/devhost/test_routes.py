"""Functions route templates: syntax, constraints and which template wins."""

import pytest

from devhost.routes import Router, RouteTemplate


@pytest.mark.parametrize(
    "template, path, expected",
    [
        ("health", "health", {}),
        ("health", "HEALTH", {}),
        ("health", "health/x", None),
        ("users/{id}", "users/42", {"id": "42"}),
        ("users/{id}", "users", None),
        ("users/{id:int}", "users/42", {"id": "42"}),
        ("users/{id:int}", "users/abc", None),
        ("users/{id:int}", "users/99999999999", None),  # beyond Int32
        ("users/{id:long:min(10)}", "users/9", None),
        ("users/{id:long:min(10)}", "users/10", {"id": "10"}),
        (
            "users/{id:guid}",
            "users/0f8fad5b-d9cb-469f-a165-70867728950e",
            {"id": "0f8fad5b-d9cb-469f-a165-70867728950e"},
        ),
        ("users/{flag:bool}", "users/True", {"flag": "True"}),
        ("users/{name:alpha}", "users/ab1", None),
        ("users/{name:maxlength(3)}", "users/abcd", None),
        ("docs/{name?}", "docs", {}),
        ("docs/{name?}", "docs/readme", {"name": "readme"}),
        ("docs/{name=index}", "docs", {"name": "index"}),
        ("files/{*path}", "files/a/b/c.txt", {"path": "a/b/c.txt"}),
        ("files/{*path}", "files", {}),
        ("reports/{name}.csv", "reports/q1.csv", {"name": "q1"}),
        ("reports/{name}.csv", "reports/q1.json", None),
        ("", "", {}),
    ],
)
def test_template_matching(template, path, expected):
    assert RouteTemplate.parse(template).match(path) == expected


def test_unsupported_constraint_is_rejected_at_start_up():
    with pytest.raises(ValueError, match="unsupported route constraint"):
        RouteTemplate.parse("users/{id:regex(^a$)}")


def test_catch_all_must_be_last():
    with pytest.raises(ValueError, match="catch-all"):
        RouteTemplate.parse("files/{*path}/meta")


def test_most_specific_template_wins():
    router = Router(
        [(t, t) for t in ["{*any}", "items/{name}", "items/{id:int}", "items/special", "items/{*rest}"]]
    )
    first = lambda path: router.match(path)[0][0]  # noqa: E731
    assert first("items/special") == "items/special"
    assert first("items/7") == "items/{id:int}"
    assert first("items/abc") == "items/{name}"
    assert first("items/a/b") == "items/{*rest}"
    assert first("other") == "{*any}"
    assert [payload for payload, _ in router.match("items/7")] == [
        "items/{id:int}",
        "items/{name}",
        "items/{*rest}",
        "{*any}",
    ]


def test_router_ignores_surrounding_slashes():
    router = Router([("users/{id}", "users")])
    assert router.match("/users/1/") == [("users", {"id": "1"})]


def test_remembered_matches_hand_out_fresh_route_values():
    router = Router([("realtime/{name}/score", "score"), ("realtime/{name}", "get")])
    first = router.match("realtime/cars/score")
    first[0][1]["name"] = "changed"
    assert router.match("realtime/cars/score") == [("score", {"name": "cars"})]
    assert router.match("/realtime/trucks/score/") == [("score", {"name": "trucks"})]
    assert router.match("realtime/cars") == [("get", {"name": "cars"})]
