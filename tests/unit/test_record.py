"""Records behave as the frozen dataclasses they replace, without compiling methods per class."""

from __future__ import annotations

import dataclasses
import typing

import pytest

import flask_k8s
from flask_k8s import _record


class Point(_record.Record):
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)
    kind: typing.ClassVar[str] = "point"


class Checked(_record.Record):
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low above high")


class Labelled(Point):
    label: str = ""


def test_fields_are_set_by_position_or_keyword_in_declaration_order():
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2)
    assert _record.fields(Point) == ("x", "y", "tags")
    assert (Point(3).x, Point(3).y) == (3, 0)


def test_a_class_variable_is_not_a_field():
    assert "kind" not in _record.fields(Point)
    assert Point(1).kind == "point"


def test_a_default_factory_gives_each_record_its_own_value():
    one, two = Point(1), Point(1)
    assert one.tags == [] and one.tags is not two.tags
    assert "tags" not in vars(Point)  # The Field object does not stay behind as a default.


def test_missing_unexpected_repeated_or_extra_arguments_are_refused():
    with pytest.raises(TypeError, match="missing argument 'x'"):
        Point()  # pyright: ignore[reportCallIssue]
    with pytest.raises(TypeError, match="unexpected argument 'z'"):
        Point(1, z=2)  # pyright: ignore[reportCallIssue]
    with pytest.raises(TypeError, match="multiple values for 'x'"):
        Point(1, x=2)  # pyright: ignore[reportCallIssue]
    with pytest.raises(TypeError, match="positional"):
        Point(1, 2, [], 4)  # pyright: ignore[reportCallIssue]


def test_a_field_without_default_after_one_with_a_default_is_refused_when_declared():
    with pytest.raises(TypeError, match="non-default field 'b'"):

        class _Bad(_record.Record):
            a: int = 0
            b: int  # pyright: ignore[reportGeneralTypeIssues]


def test_post_init_runs_after_the_fields_are_set():
    assert Checked(1, 2).high == 2
    with pytest.raises(ValueError, match="low above high"):
        Checked(3, 2)


def test_a_record_cannot_be_changed():
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # pyright: ignore[reportAttributeAccessIssue]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.x  # pyright: ignore[reportAttributeAccessIssue]
    assert point.x == 1


def test_equality_and_hash_are_by_value_and_class():
    assert Point(1, 2) == Point(1, 2)
    assert hash(Checked(1, 2)) == hash(Checked(1, 2)) != hash(Checked(0, 3))
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != Labelled(1)
    assert Point(1) != (1, 0, [])
    assert len({Checked(1, 2), Checked(1, 2), Checked(0, 2)}) == 2


def test_repr_reads_as_a_dataclass_repr():
    assert repr(Point(1, 2, ["a"])) == "Point(x=1, y=2, tags=['a'])"


def test_a_subclass_adds_its_fields_after_its_base_fields():
    labelled = Labelled(1, 2, [], "l")
    assert _record.fields(labelled) == ("x", "y", "tags", "label")
    assert labelled.label == "l" and labelled.kind == "point"


def test_a_subclass_redeclaring_a_field_uses_its_own_default_or_factory():
    class Tagged(Point):
        tags: list[str] = dataclasses.field(default_factory=lambda: ["new"])
        y: int = dataclasses.field(default_factory=lambda: 7)

    class Plain(Tagged):
        tags: list[str] = ()  # type: ignore[assignment]

    assert (Tagged(1).y, Tagged(1).tags) == (7, ["new"])
    assert Plain(1).tags == () and Plain(1).y == 7
    assert _record.fields(Plain) == ("x", "y", "tags")


def test_replace_makes_a_changed_copy_and_runs_post_init():
    point = Point(1, 2, ["a"])
    moved = flask_k8s.replace(point, y=5)
    assert moved == Point(1, 5, ["a"]) and point.y == 2
    assert type(flask_k8s.replace(Labelled(1), label="x")) is Labelled
    with pytest.raises(ValueError, match="low above high"):
        flask_k8s.replace(Checked(1, 2), low=3)


def test_as_dict_gives_the_fields_by_name():
    assert _record.as_dict(Point(1, 2)) == {"x": 1, "y": 2, "tags": []}


def test_the_library_value_classes_are_records():
    # What the hook cost depends on: no dataclass left to compile on import.
    for value_class in (flask_k8s.CharmState, flask_k8s.WorkloadSpec, flask_k8s.Context):
        assert issubclass(value_class, _record.Record)
        assert not dataclasses.is_dataclass(value_class)
