"""Custom relations: a charm author's requirer for an endpoint flask-k8s does not know.

A requirer turns the provider's answer into the app's variables, exactly as the built-in
integrations do (they are requirers too), with the same rules: ``common.NotReady`` while
the provider is still answering (Waiting, or Blocked ``missing integrations`` for an endpoint
declared ``optional: false``), ``common.InvalidData`` when its answer cannot be used
(Blocked, naming the endpoint), every credential redacted. Register one per endpoint::

    class ShopCharm(flask_k8s._charm.FlaskCharm):
        requirers = {"payments": flask_k8s._requirer.Databag(PaymentsAnswer, prefix="PAYMENTS_")}

Pure: nothing here imports ops; pydantic is imported only by a requirer that has a model.
"""

from __future__ import annotations

import collections.abc
import json
import typing

from ._interfaces import common

__all__ = [
    "Context",
    "Databag",
    "InvalidData",
    "NotReady",
    "RemoteData",
    "Requirer",
    "SecretReader",
]

Context = common.Context
RemoteData = common.RemoteData
SecretReader = common.SecretReader
NotReady = common.NotReady
InvalidData = common.InvalidData


class Requirer(typing.Protocol):
    """The requirer side of one relation, pure: databags in, variables out."""

    def request(
        self, context: common.Context, local_app: collections.abc.Mapping[str, str]
    ) -> collections.abc.Mapping[str, str]:
        """What our application databag should hold (the leader writes what differs)."""
        ...

    def environment(
        self,
        context: common.Context,
        data: common.RemoteData,
        read_secret: common.SecretReader,
    ) -> collections.abc.Mapping[str, str]:
        """The app's variables from the provider's answer; NotReady or InvalidData if none."""
        ...


class _Model(typing.Protocol):
    """What is used of a pydantic model class (its ``model_fields`` too, read as data)."""

    @classmethod
    def model_validate(cls, obj: typing.Any) -> typing.Any:
        """The validated model, or pydantic's ValidationError."""
        ...


class Databag:
    """A requirer for a provider that answers in its application databag.

    ``model`` is a pydantic model of the answer (or None: every key of the databag is taken
    as it is). Each of its fields becomes ``<prefix><FIELD>`` (upper case); a databag value
    that is JSON (a number, a list...) is decoded before validation. Until ``required`` keys
    are all there the relation is NotReady; an answer the model refuses is InvalidData,
    naming the fields and what is wrong, never the values. ``secret_fields`` name keys whose
    value is a Juju secret ID: the secret's content is read and its keys become variables
    (``<prefix><KEY>``), every value redacted. ``request`` is what we write in our own bag.
    """

    def __init__(
        self,
        model: type[_Model] | None = None,
        *,
        prefix: str = "",
        required: collections.abc.Collection[str] = (),
        secret_fields: collections.abc.Collection[str] = (),
        request: collections.abc.Mapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self.prefix = prefix
        self.required = tuple(required)
        self.secret_fields = tuple(secret_fields)
        self._request = dict(request or {})

    def request(
        self, context: common.Context, local_app: collections.abc.Mapping[str, str]
    ) -> dict[str, str]:
        """The fixed request given at construction."""
        return dict(self._request)

    def environment(
        self,
        context: common.Context,
        data: common.RemoteData,
        read_secret: common.SecretReader,
    ) -> dict[str, str]:
        """The provider's answer as variables."""
        bag = {key: value for key, value in data.app.items() if common.is_text(value)}
        absent = [key for key in self.required if not bag.get(key)]
        if absent:
            raise common.NotReady(f"waiting for the provider to send {', '.join(absent)}")
        variables: dict[str, str] = {}
        for key in self.secret_fields:
            secret_id = bag.pop(key, None)
            if not secret_id:
                continue
            try:
                content = read_secret(secret_id)
            except common.SecretUnavailable:
                raise common.NotReady(f"waiting for access to the secret in {key}") from None
            for name, value in content.items():
                variables[self._variable(name)] = value
        if self.model is None:
            values: collections.abc.Mapping[str, object] = bag
        else:
            values = self._validated(self.model, bag)
        for name, value in values.items():
            if value is None:
                continue
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            variables[self._variable(name)] = text
        return variables

    def _variable(self, name: str) -> str:
        return self.prefix + name.replace("-", "_").upper()

    @staticmethod
    def _validated(
        model: type[_Model], bag: collections.abc.Mapping[str, str]
    ) -> dict[str, object]:
        decoded: dict[str, object] = {}
        for key, value in bag.items():
            try:
                decoded[key] = json.loads(value)
            except ValueError:
                decoded[key] = value
        try:
            validated = model.model_validate(decoded)
        except Exception as error:  # pydantic's ValidationError, without importing pydantic
            raise common.InvalidData(_describe(error)) from None
        dumped = typing.cast("dict[str, object]", validated.model_dump(mode="json"))
        fields = typing.cast("collections.abc.Mapping[str, object]", model.model_fields)  # type: ignore[attr-defined]
        return {name: dumped.get(name) for name in fields}


def _describe(error: Exception) -> str:
    """Pydantic's errors as fields and reasons; the input values are never quoted."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return f"the answer does not fit its model ({type(error).__name__})"
    parts: list[str] = []
    found = typing.cast(
        "list[dict[str, typing.Any]]", errors(include_input=False, include_url=False)
    )
    for item in found:
        location = ".".join(str(part) for part in item.get("loc", ())) or "the answer"
        parts.append(f"{location}: {_reason(item)}")
    return "; ".join(parts[:5]) + ("; ..." if len(parts) > 5 else "")


def _reason(item: collections.abc.Mapping[str, typing.Any]) -> str:
    # pydantic's message can quote the value ("Input should be ..., not 'x'"): its kind only.
    kind = str(item.get("type", "invalid"))
    return {
        "missing": "missing",
        "int_parsing": "not an integer",
        "float_parsing": "not a number",
        "bool_parsing": "not a boolean",
        "url_parsing": "not a URL",
        "string_type": "not text",
        "int_type": "not an integer",
        "literal_error": "not one of the allowed values",
        "extra_forbidden": "not expected",
    }.get(kind, kind.replace("_", " "))
