"""Connection URLs: any password survives, multi-host URLs pass through, parts are decoded."""

from __future__ import annotations

import urllib.parse

import pytest

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import urls

NASTY = "p@ss:/?#% w"


def test_built_url_encodes_every_special_character_of_the_credentials():
    url = urls.build("postgresql", ["db:5432"], username="u@x", password=NASTY, path="flask-k8s")

    assert url == "postgresql://u%40x:p%40ss%3A%2F%3F%23%25%20w@db:5432/flask-k8s"
    parsed = urllib.parse.urlparse(url)
    assert parsed.hostname == "db"
    assert parsed.port == 5432
    assert urllib.parse.unquote(parsed.password or "") == NASTY


def test_variables_hold_decoded_credentials():
    url = urls.build("postgresql", ["db:5432"], username="u", password=NASTY, path="app")

    env = urls.variables("POSTGRESQL_DB", url)

    assert env["POSTGRESQL_DB_CONNECT_STRING"] == url
    assert env["POSTGRESQL_DB_USERNAME"] == "u"
    assert env["POSTGRESQL_DB_PASSWORD"] == NASTY
    assert env["POSTGRESQL_DB_HOSTNAME"] == "db"
    assert env["POSTGRESQL_DB_PORT"] == "5432"
    assert env["POSTGRESQL_DB_NAME"] == "app"
    assert env["POSTGRESQL_DB_SCHEME"] == "postgresql"
    assert env["POSTGRESQL_DB_PATH"] == "/app"
    assert env["POSTGRESQL_DB_QUERY"] == ""


def test_multi_host_url_passes_through_and_describes_its_first_host():
    url = "mongodb://u:pw@h1:27017,h2:27018/db?replicaSet=rs0&authSource=admin"

    env = urls.variables("MONGODB_DB", url)

    assert env["MONGODB_DB_CONNECT_STRING"] == url
    assert env["MONGODB_DB_NETLOC"] == "u:pw@h1:27017,h2:27018"
    assert env["MONGODB_DB_HOSTNAME"] == "h1"
    assert env["MONGODB_DB_PORT"] == "27017"
    assert env["MONGODB_DB_QUERY"] == "replicaSet=rs0&authSource=admin"
    assert env["MONGODB_DB_NAME"] == "db"


def test_trailing_dot_hostnames_work():
    host, port = urls.split_host("mysql-k8s-primary.m.svc.cluster.local.:3306")

    assert (host, port) == ("mysql-k8s-primary.m.svc.cluster.local.", 3306)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("[::1]:5432", ("::1", 5432)),
        ("::1", ("::1", None)),
        ("db", ("db", None)),
        (" db:1 ", ("db", 1)),
    ],
)
def test_endpoints_split_into_host_and_port(endpoint, expected):
    assert urls.split_host(endpoint) == expected


@pytest.mark.parametrize("endpoint", ["db:port", "db:0", "db:70000", ":5432", "[]:1"])
def test_malformed_endpoints_are_invalid_data(endpoint):
    with pytest.raises(relation.InvalidData):
        urls.split_host(endpoint)


def test_ipv6_hosts_are_bracketed_in_urls():
    assert urls.join_host("::1", 5432) == "[::1]:5432"
    assert urls.join_host("db", None) == "db"


def test_raw_credentials_in_a_provider_uri_are_encoded():
    raw = f"postgresql://u:{NASTY}@db:5432/app"

    url = urls.reencode_userinfo(raw, "u", NASTY)

    assert url == "postgresql://u:p%40ss%3A%2F%3F%23%25%20w@db:5432/app"
    assert urls.variables("P", url)["P_PASSWORD"] == NASTY


def test_an_already_encoded_uri_is_left_alone():
    encoded = "postgresql://u:p%40ss@db:5432/app"

    assert urls.reencode_userinfo(encoded, "u", "p@ss") == encoded
    assert urls.reencode_userinfo(encoded, None, None) == encoded


def test_a_url_that_cannot_be_parsed_is_invalid_data():
    with pytest.raises(relation.InvalidData):
        urls.variables("P", "postgresql://[::1:5432/app")


def test_url_without_credentials_or_path_has_no_such_variables():
    env = urls.variables("REDIS_DB", "redis://cache:6379")

    assert "REDIS_DB_USERNAME" not in env
    assert "REDIS_DB_PASSWORD" not in env
    assert "REDIS_DB_NAME" not in env
    assert env["REDIS_DB_PORT"] == "6379"


def test_a_port_of_thousands_of_digits_is_invalid_data_not_a_crash():
    # int() refuses numbers past 4,300 digits with ValueError; the port is never parsed.
    with pytest.raises(relation.InvalidData, match="invalid port"):
        urls.split_host("db:" + "9" * 5000)
