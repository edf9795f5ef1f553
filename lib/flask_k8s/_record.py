"""Frozen value classes that cost a hook next to nothing to define.

Juju runs a fresh Python process for every event, so every class the charm defines is built
again on every hook. ``dataclasses.dataclass(frozen=True)`` compiles five or six methods from
source text per class, about 1 ms each time on the machines we measure (bench/hook_cost.py):
the library's two dozen value classes cost more than the rest of its import. ``Record`` gives
the same behaviour a frozen dataclass has (keyword or positional construction in field order,
defaults, ``dataclasses.field(default_factory=...)``, ``__post_init__``, equality and hash by
value, a dataclass-style repr, ``dataclasses.FrozenInstanceError`` on assignment) with shared
methods instead of generated ones; type checkers see a frozen dataclass through
``typing.dataclass_transform``. ``replace``, ``fields`` and ``as_dict`` stand for
``dataclasses.replace``, ``dataclasses.fields`` (names only) and ``dataclasses.asdict``
(shallow); ``replace`` is public as ``flask_k8s.replace``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing

_MISSING = dataclasses.MISSING
_Self = typing.TypeVar("_Self", bound="Record")


def _is_class_var(annotation: object) -> bool:
    """Whether an annotation (a string under postponed evaluation) declares a class variable."""
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return typing.get_origin(annotation) is typing.ClassVar or annotation is typing.ClassVar


if typing.TYPE_CHECKING:
    from typing_extensions import dataclass_transform as _dataclass_transform
else:
    # Only type checkers read the marker; Python 3.10 has no typing.dataclass_transform.
    def _dataclass_transform(**_: object) -> typing.Callable[[type], type]:
        return lambda cls: cls


@_dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
class Record:
    """Base of an immutable value class whose fields are its annotated attributes."""

    # Field names in construction order, and the default (or default factory) of each field
    # that has one: set per subclass by __init_subclass__.
    __record_fields__: typing.ClassVar[tuple[str, ...]] = ()
    __record_defaults__: typing.ClassVar[dict[str, object]] = {}
    __record_factories__: typing.ClassVar[dict[str, typing.Callable[[], object]]] = {}

    def __init_subclass__(cls, **kwargs: typing.Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = list(cls.__record_fields__)
        defaults = dict(cls.__record_defaults__)
        factories = dict(cls.__record_factories__)
        for name, annotation in inspect.get_annotations(cls).items():
            if _is_class_var(annotation):
                continue
            if name not in fields:
                fields.append(name)
            value = cls.__dict__.get(name, _MISSING)
            factory: typing.Callable[[], object] | None = None
            if isinstance(value, dataclasses.Field):
                field = typing.cast("dataclasses.Field[object]", value)
                if field.default_factory is not _MISSING:
                    factory = field.default_factory
                value = field.default
                if value is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, value)
            # A subclass may redeclare a field: its own default or factory replaces the base's.
            if factory is not None:
                factories[name] = factory
                defaults.pop(name, None)
            elif value is not _MISSING:
                defaults[name] = value
                factories.pop(name, None)
            else:
                defaults.pop(name, None)
                factories.pop(name, None)
                if defaults or factories:
                    raise TypeError(f"non-default field {name!r} follows a field with a default")
        cls.__record_fields__ = tuple(fields)
        cls.__record_defaults__ = defaults
        cls.__record_factories__ = factories

    def __init__(self, *args: object, **kwargs: object) -> None:
        fields = self.__record_fields__
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} positional arguments")
        values = dict(zip(fields, args, strict=False))
        for name, value in kwargs.items():
            if name not in fields:
                raise TypeError(f"{type(self).__name__}() got an unexpected argument {name!r}")
            if name in values:
                raise TypeError(f"{type(self).__name__}() got multiple values for {name!r}")
            values[name] = value
        set_attribute = object.__setattr__
        for name in fields:
            if name in values:
                set_attribute(self, name, values[name])
            elif name in self.__record_defaults__:
                set_attribute(self, name, self.__record_defaults__[name])
            elif name in self.__record_factories__:
                set_attribute(self, name, self.__record_factories__[name]())
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__record_fields__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_fields__)
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == typing.cast("Record", other)._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def replace(record: _Self, /, **changes: typing.Any) -> _Self:
    """A copy of ``record`` with ``changes``, as ``dataclasses.replace`` makes of a dataclass."""
    return type(record)(**{**as_dict(record), **changes})


def fields(record: Record | type[Record]) -> tuple[str, ...]:
    """The field names of a record or record class, in construction order."""
    return record.__record_fields__


def as_dict(record: Record) -> dict[str, typing.Any]:
    """The fields of ``record`` by name (not recursive, unlike ``dataclasses.asdict``)."""
    return {name: getattr(record, name) for name in record.__record_fields__}
