"""Shipped and custom asset files: found, prefixed, filtered; unreadable ones reported."""

from __future__ import annotations

import pathlib

from flask_k8s._cos import assets


def custom(charm_dir: pathlib.Path, kind: str) -> pathlib.Path:
    directory = charm_dir / "cos_custom" / kind
    directory.mkdir(parents=True)
    return directory


def test_without_cos_custom_only_the_shipped_files_come(tmp_path):
    rule_files, problems = assets.load(assets.PROMETHEUS_RULES, tmp_path)
    dashboards, _ = assets.load(assets.DASHBOARDS, tmp_path)

    assert [(f.name, f.source) for f in rule_files] == [
        ("flask", "flask_k8s/_cos/prometheus_alert_rules/flask.rules")
    ]
    assert [f.name for f in dashboards] == ["flask"]
    assert problems == []


def test_custom_files_come_after_the_shipped_ones_with_a_prefix(tmp_path):
    directory = custom(tmp_path, assets.PROMETHEUS_RULES)
    (directory / "flask.rules").write_text("alert: Mine\nexpr: up\n")
    (directory / "b.rule").write_text("alert: B\nexpr: up\n")

    files, _ = assets.load(assets.PROMETHEUS_RULES, tmp_path)

    assert [(f.name, f.source) for f in files] == [
        ("flask", "flask_k8s/_cos/prometheus_alert_rules/flask.rules"),
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


def test_the_charms_own_dashboards_come_from_grafana_dashboards_at_its_root(tmp_path):
    directory = tmp_path / "grafana_dashboards"
    directory.mkdir()
    (directory / "shop.json").write_text('{"title": "Shop"}')
    custom(tmp_path, assets.DASHBOARDS)
    (tmp_path / "cos_custom" / "grafana_dashboards" / "old.json").write_text("{}")

    files, problems = assets.load(assets.DASHBOARDS, tmp_path)

    assert [(f.name, f.source) for f in files] == [
        ("flask", "flask_k8s/_cos/grafana_dashboards/flask.json"),
        ("shop", "grafana_dashboards/shop.json"),
        ("custom_old", "cos_custom/grafana_dashboards/old.json"),
    ]
    assert problems == []


def test_a_dashboard_named_as_a_shipped_one_is_refused_by_name(tmp_path):
    directory = tmp_path / "grafana_dashboards"
    directory.mkdir()
    (directory / "flask.json").write_text('{"title": "Not the library\'s"}')

    files, problems = assets.load(assets.DASHBOARDS, tmp_path)

    assert [f.source for f in files] == ["flask_k8s/_cos/grafana_dashboards/flask.json"]
    assert problems == ["grafana_dashboards/flask.json: a shipped file has this name; rename it"]


def test_this_repository_is_a_charm_whose_dashboards_are_the_shipped_ones():
    # flask-k8s's own grafana_dashboards/ is what the package ships: seen once, not twice.
    root = pathlib.Path(__file__).resolve().parents[3]

    files, problems = assets.load(assets.DASHBOARDS, root)

    assert [f.name for f in files] == ["flask"]
    assert problems == []
    assert (assets.SHIPPED / "grafana_dashboards").resolve() == root / "grafana_dashboards"


def test_only_dashboards_are_read_from_the_charms_root(tmp_path):
    (tmp_path / "prometheus_alert_rules").mkdir()
    (tmp_path / "prometheus_alert_rules" / "mine.rules").write_text("alert: A\nexpr: up\n")

    files, _ = assets.load(assets.PROMETHEUS_RULES, tmp_path)

    assert [f.name for f in files] == ["flask"]
