"""Rule and dashboard files: the library's own, then the charm author's.

The library ships its defaults inside the package (``flask_k8s/_cos/<kind>/``), so every
charm built on it gets them; its dashboards are the repository's ``grafana_dashboards/``
(the package's directory links there). A charm author adds dashboards under
``<charm dir>/grafana_dashboards/``, with their own names (a shipped name is refused), and
files of every kind under ``<charm dir>/cos_custom/<kind>/`` (paas-charm's place):

- ``grafana_dashboards/*.json``: Grafana dashboards;
- ``prometheus_alert_rules/*.rule`` or ``*.rules``: Prometheus alert rules;
- ``loki_alert_rules/*.rule`` or ``*.rules``: Loki alert rules.

A custom file's name gets the prefix ``custom_``, so it never replaces or collides with a
shipped one.
"""

from __future__ import annotations

import pathlib

from .. import _record

SHIPPED = pathlib.Path(__file__).resolve().parent
CUSTOM_DIR = "cos_custom"
CUSTOM_PREFIX = "custom_"
DASHBOARDS = "grafana_dashboards"
PROMETHEUS_RULES = "prometheus_alert_rules"
LOKI_RULES = "loki_alert_rules"
SUFFIXES = {
    DASHBOARDS: (".json",),
    PROMETHEUS_RULES: (".rule", ".rules"),
    LOKI_RULES: (".rule", ".rules"),
}


class File(_record.Record):
    """One asset file's contents."""

    name: str  # Its stem; ``custom_<stem>`` for the charm author's files.
    source: str  # Where it comes from, for messages.
    text: str


def load(kind: str, charm_dir: pathlib.Path) -> tuple[list[File], list[str]]:
    """The files of a kind, shipped ones first; and a problem for each unreadable file."""
    files: list[File] = []
    problems: list[str] = []
    suffixes = SUFFIXES[kind]
    sources = [(SHIPPED / kind, "", f"flask_k8s/_cos/{kind}")]
    if kind == DASHBOARDS:
        sources.append((charm_dir / DASHBOARDS, "", DASHBOARDS))
    sources.append((charm_dir / CUSTOM_DIR / kind, CUSTOM_PREFIX, f"{CUSTOM_DIR}/{kind}"))
    seen: set[pathlib.Path] = set()
    for directory, prefix, shown in sources:
        for path in _listing(directory):
            suffix = next((s for s in suffixes if path.name.endswith(s)), None)
            if suffix is None or path.name.startswith(".") or not path.is_file():
                continue
            real = path.resolve()
            if real in seen:  # The library's own, seen through the charm's directory.
                continue
            seen.add(real)
            source = f"{shown}/{path.name}"
            name = prefix + path.name[: -len(suffix)]
            if any(file.name == name for file in files):
                problems.append(f"{source}: a shipped file has this name; rename it")
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                problems.append(f"{source}: cannot be read ({type(error).__name__}); file skipped")
                continue
            files.append(File(name, source, text))
    return files, problems


def _listing(directory: pathlib.Path) -> list[pathlib.Path]:
    try:
        return sorted(directory.iterdir())
    except OSError:  # Absent (the usual case for cos_custom) or not a directory.
        return []
