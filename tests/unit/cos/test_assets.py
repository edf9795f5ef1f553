"""Shipped and custom asset files: found, prefixed, filtered; unreadable ones reported."""

from __future__ import annotations

import pathlib

from flask_k8s.cos import assets


def custom(charm_dir: pathlib.Path, kind: str) -> pathlib.Path:
    directory = charm_dir / "cos_custom" / kind
    directory.mkdir(parents=True)
    return directory


def test_without_cos_custom_only_the_shipped_files_come(tmp_path):
    rule_files, problems = assets.load(assets.PROMETHEUS_RULES, tmp_path)
    dashboards, _ = assets.load(assets.DASHBOARDS, tmp_path)

    assert [(f.name, f.source) for f in rule_files] == [
        ("flask", "flask_k8s/cos/prometheus_alert_rules/flask.rules")
    ]
    assert [f.name for f in dashboards] == ["flask"]
    assert problems == []


def test_custom_files_come_after_the_shipped_ones_with_a_prefix(tmp_path):
    directory = custom(tmp_path, assets.PROMETHEUS_RULES)
    (directory / "flask.rules").write_text("alert: Mine\nexpr: up\n")
    (directory / "b.rule").write_text("alert: B\nexpr: up\n")

    files, _ = assets.load(assets.PROMETHEUS_RULES, tmp_path)

    assert [(f.name, f.source) for f in files] == [
        ("flask", "flask_k8s/cos/prometheus_alert_rules/flask.rules"),
        ("custom_b", "cos_custom/prometheus_alert_rules/b.rule"),
        ("custom_flask", "cos_custom/prometheus_alert_rules/flask.rules"),
    ]
    assert files[2].text == "alert: Mine\nexpr: up\n"


def test_other_files_hidden_files_and_directories_are_ignored(tmp_path):
    directory = custom(tmp_path, assets.DASHBOARDS)
    (directory / "notes.md").write_text("x")
    (directory / ".hidden.json").write_text("{}")
    (directory / "dir.json").mkdir()
    (directory / "shop.json").write_text("{}")

    files, problems = assets.load(assets.DASHBOARDS, tmp_path)

    assert [f.name for f in files] == ["flask", "custom_shop"]
    assert problems == []


def test_a_file_that_is_not_utf8_is_reported_and_skipped(tmp_path):
    directory = custom(tmp_path, assets.LOKI_RULES)
    (directory / "bad.rules").write_bytes(b"\xff\xfe\x00")

    files, problems = assets.load(assets.LOKI_RULES, tmp_path)

    assert files == []
    assert problems == [
        "cos_custom/loki_alert_rules/bad.rules: cannot be read (UnicodeDecodeError); file skipped"
    ]


def test_cos_custom_as_a_file_is_no_directory_of_assets(tmp_path):
    (tmp_path / "cos_custom").write_text("oops")

    files, problems = assets.load(assets.DASHBOARDS, tmp_path)

    assert [f.name for f in files] == ["flask"]
    assert problems == []
