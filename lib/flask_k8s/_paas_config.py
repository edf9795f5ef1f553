"""paas-config.yaml: the file paas-charm 1.12 reads at the charm's root, read the same way.

A charm author moving from paas-charm keeps this file, so its keys, types and rules are
paas-charm 1.12's: ``framework_logging_format`` (``none`` or ``json``) and
``prometheus.scrape_configs`` (extra scrape jobs, each with a unique ``job_name``, an optional
``metrics_path`` and ``static_configs`` of ``targets`` and ``labels``; a target
``@scheduler:PORT`` stands for the unit that runs the schedulers). No key outside these is
allowed. Where flask-k8s differs:

- A bad file is a Blocked status naming the problem and where it is; paas-charm fails the
  hook instead (and crashes outright on some files, such as a list or non-UTF-8 text).
- Values that 1.12 takes but Prometheus refuses are refused here: an empty target, a target
  with a ``/``, a label name that is not a Prometheus label name. The Prometheus charm drops
  every job of an application when one of its jobs is invalid, so with paas-charm such a
  file silently stops the scraping of the statsd exporter too.
- The port of ``@scheduler:PORT`` must be ASCII digits (1.12 takes any Unicode digit).
- A list must be a YAML sequence and a string a YAML string (1.12, through pydantic, also
  takes a ``!!set`` for a list and ``!!binary`` for a string).
- The file is read from the charm's directory; paas-charm reads the working directory, which
  Juju makes the charm's directory, so the same file is read.
- paas-charm 2.0's keys ``port``, ``metrics-port`` and ``metrics-path`` are refused, as
  1.12 refuses them, with a message that says so.

It is read in every hook: standard library and PyYAML only.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import pathlib
import re
import types
import typing

import yaml

from . import _config, _record, _status

FILE_NAME = "paas-config.yaml"
DEFAULT_METRICS_PATH = "/metrics"
LOGGING_FORMATS = ("none", "json")
# A target starting with this stands for the scheduler unit's address: ``@scheduler:PORT``.
SCHEDULER = "@scheduler"

# Keys that only paas-charm 2.0 (unreleased) reads; 1.12 refuses them as unknown.
_NEWER_KEYS = frozenset({"port", "metrics-port", "metrics-path"})
# Prometheus' label names (its "legacy" scheme, the one every version accepts).
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCHEDULER_TARGET = re.compile(re.escape(SCHEDULER) + r":[0-9]+")
# libyaml's parser recurses once per nested [ or {, in C: tens of thousands of levels crash
# the process. The schema itself is five levels deep.
_MAX_DEPTH = 100
_SHOWN_CHARS = 40


def _frozen(
    mapping: collections.abc.Mapping[str, str] | None = None,
) -> types.MappingProxyType[str, str]:
    return types.MappingProxyType(dict(mapping or {}))


class StaticConfig(_record.Record):
    """Targets Prometheus scrapes, and the labels their series get."""

    targets: tuple[str, ...]
    labels: collections.abc.Mapping[str, str] = dataclasses.field(default_factory=_frozen)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen(self.labels))


class ScrapeConfig(_record.Record):
    """An extra scrape job, published after the library's own."""

    job_name: str
    static_configs: tuple[StaticConfig, ...]
    metrics_path: str = DEFAULT_METRICS_PATH


class PaasConfig(_record.Record):
    """What paas-config.yaml says; the defaults are an absent or empty file."""

    framework_logging_format: str = "none"
    scrape_configs: tuple[ScrapeConfig, ...] = ()

    @property
    def json_logging(self) -> bool:
        """Whether gunicorn should log JSON lines."""
        return self.framework_logging_format == "json"


def load(charm_dir: pathlib.Path) -> PaasConfig:
    """The charm's paas-config.yaml, or the defaults when it has none.

    Raises:
        _status.Blocked: the file cannot be read, is not YAML or breaks a rule; the message
            says what and where.
    """
    try:
        raw = (charm_dir / FILE_NAME).read_bytes()
    except FileNotFoundError:
        return PaasConfig()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise _invalid(f"cannot read the file ({reason})") from None
    return parse(raw)


def parse(raw: bytes | str) -> PaasConfig:
    """The configuration a paas-config.yaml's contents give.

    Raises:
        _status.Blocked: as ``load``.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _invalid(f"not UTF-8 text (byte {error.start + 1})") from None
    else:
        text = raw
    _check_depth(text)
    try:
        data = _config.load_yaml(text)
    except yaml.MarkedYAMLError as error:
        line = f" at line {error.problem_mark.line + 1}" if error.problem_mark else ""
        raise _invalid(f"not valid YAML{line}: {_printable(error.problem)}") from None
    except (yaml.YAMLError, ValueError, OverflowError) as error:
        # ValueError: a YAML timestamp that is no date, such as 2001-02-30.
        raise _invalid(f"not valid YAML: {_printable(str(error))}") from None
    return _document(data)


def _check_depth(text: str) -> None:
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    if deepest > _MAX_DEPTH:
        raise _invalid(f"[ and {{ nested more than {_MAX_DEPTH} levels deep")


def _document(data: object) -> PaasConfig:
    if not data:  # An empty file, or only comments. paas-charm reads any false value so.
        return PaasConfig()
    document = _mapping(data, "")
    for key in document:
        if key not in ("framework_logging_format", "prometheus"):
            if key in _NEWER_KEYS:
                raise _invalid(
                    f"unknown key {key!r}: a paas-charm 2.0 key, which neither paas-charm 1.12 "
                    "nor flask-k8s reads"
                )
            raise _invalid(f"unknown key {_key(key)}")
    return PaasConfig(
        framework_logging_format=_logging_format(document.get("framework_logging_format")),
        scrape_configs=_prometheus(document.get("prometheus")),
    )


def _logging_format(value: object) -> str:
    if value is None:
        return "none"
    if not isinstance(value, str) or value not in LOGGING_FORMATS:
        raise _invalid(f"framework_logging_format must be 'json' or 'none', not {_show(value)}")
    return value


def _prometheus(value: object) -> tuple[ScrapeConfig, ...]:
    if value is None:
        return ()
    section = _mapping(value, "prometheus", known=("scrape_configs",))
    items = section.get("scrape_configs")
    if items is None:
        return ()
    jobs: list[ScrapeConfig] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(_list(items, "prometheus.scrape_configs")):
        where = f"prometheus.scrape_configs[{index}]"
        job = _job(item, where)
        if job.job_name in first_index:
            raise _invalid(
                f"{where}.job_name must be unique: {_show(job.job_name)} is also the job_name "
                f"of prometheus.scrape_configs[{first_index[job.job_name]}]"
            )
        first_index[job.job_name] = index
        jobs.append(job)
    return tuple(jobs)


def _job(value: object, where: str) -> ScrapeConfig:
    job = _mapping(value, where, known=("job_name", "metrics_path", "static_configs"))
    job_name = _string(_required(job, "job_name", where), f"{where}.job_name")
    metrics_path = _string(job.get("metrics_path", DEFAULT_METRICS_PATH), f"{where}.metrics_path")
    statics = _list(_required(job, "static_configs", where), f"{where}.static_configs")
    return ScrapeConfig(
        job_name=job_name,
        metrics_path=metrics_path,
        static_configs=tuple(
            _static(static, f"{where}.static_configs[{index}]")
            for index, static in enumerate(statics)
        ),
    )


def _static(value: object, where: str) -> StaticConfig:
    static = _mapping(value, where, known=("targets", "labels"))
    targets = _list(_required(static, "targets", where), f"{where}.targets")
    return StaticConfig(
        targets=tuple(
            _target(target, f"{where}.targets[{index}]") for index, target in enumerate(targets)
        ),
        labels=_labels(static.get("labels"), f"{where}.labels"),
    )


def _target(value: object, where: str) -> str:
    target = _string(value, where)
    if target.startswith(SCHEDULER) and not _SCHEDULER_TARGET.fullmatch(target):
        raise _invalid(f"{where} {_show(target)} must be @scheduler:PORT, with PORT a number")
    if not target:
        raise _invalid(f"{where} is empty: Prometheus needs a host and port")
    if "/" in target:
        raise _invalid(
            f"{where} {_show(target)} has a '/': a target is host:port, and the path goes "
            "in metrics_path"
        )
    return target


def _labels(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    labels = _mapping(value, where)
    for name, label_value in labels.items():
        if not isinstance(name, str):
            raise _invalid(f"{where} has a label name that is not a string: {_show(name)}")
        if not _LABEL_NAME.fullmatch(name):
            raise _invalid(
                f"{where} has a label name Prometheus refuses, {_show(name)}: letters, digits "
                "and _, not starting with a digit"
            )
        _string(label_value, f"{where}.{name}")
    return typing.cast("dict[str, str]", labels)


def _mapping(
    value: object, where: str, known: tuple[str, ...] | None = None
) -> dict[typing.Any, typing.Any]:
    if not isinstance(value, dict):
        raise _invalid(f"{where or 'the file'} must be a mapping of keys, not {_show(value)}")
    # YAML: its keys and values may be anything; the callers check them.
    mapping = typing.cast("dict[typing.Any, typing.Any]", value)
    if known is not None:
        for key in mapping:
            if key not in known:
                raise _invalid(f"unknown key {_key(key)} in {where}")
    return mapping


def _list(value: object, where: str) -> list[typing.Any]:
    if not isinstance(value, list):
        raise _invalid(f"{where} must be a list, not {_show(value)}")
    # YAML: its items may be anything; the callers check them.
    return typing.cast("list[typing.Any]", value)


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        hint = " (quote it)" if isinstance(value, (bool, int, float, datetime.date)) else ""
        raise _invalid(f"{where} must be a string, not {_show(value)}{hint}")
    return value


def _required(mapping: dict[typing.Any, typing.Any], key: str, where: str) -> object:
    if key not in mapping:
        raise _invalid(f"{where}.{key} is missing")
    return mapping[key]


def _show(value: object) -> str:
    """A value for a message: strings quoted and cut short, other values by their kind."""
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return repr(value[:_SHOWN_CHARS]) + "..."
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) or (isinstance(value, int) and abs(value) < 10**15):
        return f"the number {value!r}"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "a date"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (set, frozenset)):
        return "a set"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__}"


def _key(key: object) -> str:
    """A mapping key as the file spells it (YAML keys can be numbers, true, null...)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, float) or (isinstance(key, int) and abs(key) < 10**15):
        return repr(key)
    return _show(key)


def _printable(text: str | None) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text or "")


def _invalid(problem: str) -> _status.Blocked:
    return _status.Blocked(f"invalid {FILE_NAME}: {problem}")
