"""A charm author's requirer: databags in, variables out, bad answers named without values."""

from __future__ import annotations

import pydantic
import pytest

from flask_k8s import _requirer as requirer

CONTEXT = requirer.Context(endpoint="payments", interface="payments", app_name="shop")


class PaymentsAnswer(pydantic.BaseModel):
    """What the payments provider answers."""

    url: pydantic.AnyHttpUrl
    timeout: int = 5
    regions: list[str] = []


def answer(app: dict[str, str]) -> requirer.RemoteData:
    return requirer.RemoteData(relation_id=3, app=app, remote_app_name="payments")


def no_secrets(uri: str) -> dict[str, str]:
    raise requirer.common.SecretUnavailable(uri)


def test_a_model_turns_the_answer_into_prefixed_variables_json_decoded():
    databag = requirer.Databag(PaymentsAnswer, prefix="PAYMENTS_", required=["url"])

    variables = databag.environment(
        CONTEXT,
        answer({"url": "https://pay.example.com/", "timeout": "9", "regions": '["eu", "us"]'}),
        no_secrets,
    )

    assert variables == {
        "PAYMENTS_URL": "https://pay.example.com/",
        "PAYMENTS_TIMEOUT": "9",
        "PAYMENTS_REGIONS": '["eu", "us"]',
    }


def test_until_the_required_keys_are_there_the_relation_is_not_ready():
    databag = requirer.Databag(PaymentsAnswer, required=["url"])

    with pytest.raises(requirer.NotReady, match="waiting for the provider to send url"):
        databag.environment(CONTEXT, answer({"timeout": "3"}), no_secrets)


def test_an_answer_the_model_refuses_names_the_fields_and_never_the_values():
    databag = requirer.Databag(PaymentsAnswer, required=["url"])

    with pytest.raises(requirer.InvalidData) as refused:
        databag.environment(
            CONTEXT, answer({"url": "not-a-url-hunter2", "timeout": "soon-hunter2"}), no_secrets
        )

    assert refused.value.message == "url: not a URL; timeout: not an integer"
    assert "hunter2" not in refused.value.message


def test_without_a_model_every_key_is_a_variable():
    databag = requirer.Databag(prefix="X_")

    assert databag.environment(CONTEXT, answer({"api-key": "k", "host": "h"}), no_secrets) == {
        "X_API_KEY": "k",
        "X_HOST": "h",
    }


def test_a_secret_field_is_read_and_its_keys_become_variables():
    databag = requirer.Databag(prefix="PAY_", secret_fields=["secret-id"])
    secrets = {"secret:abc": {"token": "t0k3n"}}

    variables = databag.environment(
        CONTEXT, answer({"secret-id": "secret:abc", "host": "h"}), lambda uri: secrets[uri]
    )

    assert variables == {"PAY_TOKEN": "t0k3n", "PAY_HOST": "h"}


def test_a_secret_not_granted_yet_is_waited_for():
    databag = requirer.Databag(secret_fields=["secret-id"])

    with pytest.raises(requirer.NotReady, match="secret in secret-id"):
        databag.environment(CONTEXT, answer({"secret-id": "secret:abc"}), no_secrets)


def test_the_request_is_what_was_given():
    databag = requirer.Databag(request={"scope": "read"})

    assert databag.request(CONTEXT, {}) == {"scope": "read"}
