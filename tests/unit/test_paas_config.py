"""paas-config.yaml, read as paas-charm 1.12 reads it; a bad file is a Blocked status.

The accepted files and the rules come from paas-charm 1.12 (branch v1 of canonical/paas-charm,
src/paas_charm/paas_config.py): every rule has a row in ``REFUSED`` that fails without it,
and ``ACCEPTED`` holds what 1.12 takes and we must take too. Property tests feed random
structures, text and bytes: ``load`` returns a configuration or raises Blocked, nothing else.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile
import textwrap
import typing

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_k8s import _paas_config as paas_config
from flask_k8s import _status as status

PREFIX = "invalid paas-config.yaml: "
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def dump(data: object) -> str:
    """YAML as PyYAML's safe dumper writes it, with libyaml's emitter when there is one."""
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)


def write(charm_dir: pathlib.Path, text: str) -> pathlib.Path:
    (charm_dir / "paas-config.yaml").write_text(text)
    return charm_dir


def refusal(text: str | bytes) -> str:
    """The Blocked message a file's contents give, without the common prefix."""
    with pytest.raises(status.Blocked) as caught:
        paas_config.parse(text)
    assert caught.value.name == "blocked"
    message = caught.value.message
    assert message.startswith(PREFIX)
    return message.removeprefix(PREFIX)


def job(body: str) -> str:
    """A file with one job whose static config is ``body`` (YAML flow mapping contents)."""
    return f"prometheus: {{scrape_configs: [{{job_name: j, static_configs: [{{{body}}}]}}]}}\n"


# What a charm on paas-charm 1.12 has, after its docs and example charm: both kinds of job.
EXAMPLE = """\
framework_logging_format: json

prometheus:
  scrape_configs:
    - job_name: "flask-custom-metrics"
      metrics_path: "/metrics"
      static_configs:
        - targets:
            - "*:8081"
          labels:
            app: "flask"
    - job_name: "flask-scheduler-metrics"
      static_configs:
        - targets: ["@scheduler:8082"]
"""


def test_without_the_file_the_defaults_apply(tmp_path):
    config = paas_config.load(tmp_path)

    assert config == paas_config.PaasConfig()
    assert config.framework_logging_format == "none"
    assert config.json_logging is False
    assert config.scrape_configs == ()


def test_a_missing_charm_dir_gives_the_defaults_too(tmp_path):
    assert paas_config.load(tmp_path / "absent") == paas_config.PaasConfig()


def test_the_example_file_gives_both_jobs_and_json_logging(tmp_path):
    config = paas_config.load(write(tmp_path, EXAMPLE))

    assert config == paas_config.PaasConfig(
        framework_logging_format="json",
        scrape_configs=(
            paas_config.ScrapeConfig(
                job_name="flask-custom-metrics",
                metrics_path="/metrics",
                static_configs=(
                    paas_config.StaticConfig(targets=("*:8081",), labels={"app": "flask"}),
                ),
            ),
            paas_config.ScrapeConfig(
                job_name="flask-scheduler-metrics",
                static_configs=(paas_config.StaticConfig(targets=("@scheduler:8082",)),),
            ),
        ),
    )
    assert config.json_logging is True
    assert config.scrape_configs[1].metrics_path == "/metrics"


@pytest.mark.parametrize(
    "text",
    ["", "\n", "# only a comment\n", "~\n", "{}\n", "---\n", "false\n", "0\n", "[]\n", "''\n"],
)
def test_an_empty_document_gives_the_defaults(text):
    # paas-charm reads any false document (its `or {}`) as an empty mapping.
    assert paas_config.parse(text) == paas_config.PaasConfig()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("framework_logging_format: json\n", "json"),
        ("framework_logging_format: none\n", "none"),
        ("framework_logging_format:\n", "none"),  # null is "none" in 1.12
        ("framework_logging_format: null\n", "none"),
    ],
)
def test_framework_logging_format(text, expected):
    config = paas_config.parse(text)

    assert config.framework_logging_format == expected
    assert config.json_logging is (expected == "json")


# Files paas-charm 1.12 takes. Each guards against a rule stricter than 1.12's.
ACCEPTED = {
    "prometheus null": "prometheus:\n",
    "prometheus empty": "prometheus: {}\n",
    "scrape_configs null": "prometheus: {scrape_configs: null}\n",
    "scrape_configs empty": "prometheus: {scrape_configs: []}\n",
    "no static configs": "prometheus: {scrape_configs: [{job_name: j, static_configs: []}]}\n",
    "no targets": job("targets: []"),
    "labels null": job("targets: ['*:80'], labels: null"),
    "labels empty": job("targets: ['*:80'], labels: {}"),
    "empty label value": job("targets: ['*:80'], labels: {a: ''}"),
    "reserved label name": job("targets: ['*:80'], labels: {__scheme__: https}"),
    "wildcard without port": job("targets: ['*']"),
    "host without port": job("targets: [db.example.com]"),
    "ipv6 target": job("targets: ['[fd00::1]:9100']"),
    "scheduler port 0": job("targets: ['@scheduler:0']"),
    "scheduler port above 65535": job("targets: ['@scheduler:99999']"),
    "other @ target": job("targets: ['@worker:80']"),
    "empty job_name": "prometheus: {scrape_configs: [{job_name: '', static_configs: []}]}\n",
    "odd job_name": "prometheus: {scrape_configs: [{job_name: 'é x\\n', static_configs: []}]}\n",
    "job_names differing in case": (
        "prometheus: {scrape_configs: [{job_name: a, static_configs: []},"
        " {job_name: A, static_configs: []}]}\n"
    ),
    "empty metrics_path": (
        "prometheus: {scrape_configs: [{job_name: j, metrics_path: '', static_configs: []}]}\n"
    ),
    "relative metrics_path": (
        "prometheus: {scrape_configs: [{job_name: j, metrics_path: m?x=1, static_configs: []}]}\n"
    ),
    "anchors and aliases": (
        "prometheus:\n  scrape_configs:\n"
        "    - {job_name: a, static_configs: [&s {targets: ['*:1'], labels: {t: x}}]}\n"
        "    - {job_name: b, static_configs: [*s]}\n"
    ),
    "a key given twice (the last wins)": (
        "framework_logging_format: none\nframework_logging_format: json\n"
    ),
}


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_what_paas_charm_accepts_is_accepted(text):
    paas_config.parse(text)


def test_the_accepted_values_are_kept_as_written():
    config = paas_config.parse(ACCEPTED["anchors and aliases"])

    assert [job.job_name for job in config.scrape_configs] == ["a", "b"]
    assert config.scrape_configs[1].static_configs[0].labels == {"t": "x"}
    assert (
        paas_config.parse(ACCEPTED["labels null"]).scrape_configs[0].static_configs[0].labels == {}
    )
    assert paas_config.parse(ACCEPTED["empty metrics_path"]).scrape_configs[0].metrics_path == ""


# Each rule, with the message it gives (after "invalid paas-config.yaml: ").
REFUSED = {
    # The document.
    "not a mapping": ("- a\n", "the file must be a mapping of keys, not a list"),
    "a scalar": ("hello\n", "the file must be a mapping of keys, not 'hello'"),
    "unknown top-level key": ("promtheus: {}\n", "unknown key 'promtheus'"),
    "number key": ("1: x\n", "unknown key 1"),
    "paas-charm 2.0 port": (
        "port: 8000\n",
        "unknown key 'port': a paas-charm 2.0 key, which neither paas-charm 1.12 nor flask-k8s"
        " reads",
    ),
    "paas-charm 2.0 metrics-port": ("metrics-port: 9000\n", "unknown key 'metrics-port': a "),
    "paas-charm 2.0 metrics-path": ("metrics-path: /m\n", "unknown key 'metrics-path': a "),
    # framework_logging_format.
    "logging format of another case": (
        "framework_logging_format: JSON\n",
        "framework_logging_format must be 'json' or 'none', not 'JSON'",
    ),
    "logging format unknown": (
        "framework_logging_format: text\n",
        "framework_logging_format must be 'json' or 'none', not 'text'",
    ),
    "logging format true": (
        "framework_logging_format: true\n",
        "framework_logging_format must be 'json' or 'none', not true",
    ),
    "logging format list": (
        "framework_logging_format: [json]\n",
        "framework_logging_format must be 'json' or 'none', not a list",
    ),
    # prometheus.
    "prometheus not a mapping": (
        "prometheus: [a]\n",
        "prometheus must be a mapping of keys, not a list",
    ),
    "unknown key in prometheus": (
        "prometheus: {scrape_config: []}\n",
        "unknown key 'scrape_config' in prometheus",
    ),
    "scrape_configs not a list": (
        "prometheus: {scrape_configs: {job_name: j}}\n",
        "prometheus.scrape_configs must be a list, not a mapping",
    ),
    "a set for a list": (
        "prometheus: {scrape_configs: !!set {a}}\n",
        "prometheus.scrape_configs must be a list, not a set",
    ),
    # A job.
    "job not a mapping": (
        "prometheus: {scrape_configs: [j]}\n",
        "prometheus.scrape_configs[0] must be a mapping of keys, not 'j'",
    ),
    "unknown key in a job": (
        "prometheus: {scrape_configs: [{job_name: j, static_configs: [], scrape_interval: 5s}]}\n",
        "unknown key 'scrape_interval' in prometheus.scrape_configs[0]",
    ),
    "job_name missing": (
        "prometheus: {scrape_configs: [{static_configs: []}]}\n",
        "prometheus.scrape_configs[0].job_name is missing",
    ),
    "job_name a number": (
        "prometheus: {scrape_configs: [{job_name: 2024, static_configs: []}]}\n",
        "prometheus.scrape_configs[0].job_name must be a string, not the number 2024 (quote it)",
    ),
    "job_name binary": (
        "prometheus: {scrape_configs: [{job_name: !!binary aGVsbG8=, static_configs: []}]}\n",
        "prometheus.scrape_configs[0].job_name must be a string, not binary data",
    ),
    "job_name null": (
        "prometheus: {scrape_configs: [{job_name: null, static_configs: []}]}\n",
        "prometheus.scrape_configs[0].job_name must be a string, not null",
    ),
    "job_name not unique": (
        "prometheus: {scrape_configs: [{job_name: a, static_configs: []},"
        " {job_name: b, static_configs: []}, {job_name: a, static_configs: []}]}\n",
        "prometheus.scrape_configs[2].job_name must be unique: 'a' is also the job_name of"
        " prometheus.scrape_configs[0]",
    ),
    "metrics_path null": (
        "prometheus: {scrape_configs: [{job_name: j, metrics_path: null, static_configs: []}]}\n",
        "prometheus.scrape_configs[0].metrics_path must be a string, not null",
    ),
    "metrics_path a list": (
        "prometheus: {scrape_configs: [{job_name: j, metrics_path: [/m], static_configs: []}]}\n",
        "prometheus.scrape_configs[0].metrics_path must be a string, not a list",
    ),
    "static_configs missing": (
        "prometheus: {scrape_configs: [{job_name: j}]}\n",
        "prometheus.scrape_configs[0].static_configs is missing",
    ),
    "static_configs not a list": (
        "prometheus: {scrape_configs: [{job_name: j, static_configs: {targets: []}}]}\n",
        "prometheus.scrape_configs[0].static_configs must be a list, not a mapping",
    ),
    # A static config.
    "static config not a mapping": (
        "prometheus: {scrape_configs: [{job_name: j, static_configs: ['*:80']}]}\n",
        "prometheus.scrape_configs[0].static_configs[0] must be a mapping of keys, not '*:80'",
    ),
    "unknown key in a static config": (
        job("targets: [], label: {}"),
        "unknown key 'label' in prometheus.scrape_configs[0].static_configs[0]",
    ),
    "targets missing": (
        job("labels: {}"),
        "prometheus.scrape_configs[0].static_configs[0].targets is missing",
    ),
    "targets a string": (
        job("targets: '*:80'"),
        "prometheus.scrape_configs[0].static_configs[0].targets must be a list, not '*:80'",
    ),
    "target a number": (
        job("targets: [8080]"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] must be a string, not the"
        " number 8080 (quote it)",
    ),
    "scheduler without port": (
        job("targets: ['*:1', '@scheduler']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[1] '@scheduler' must be"
        " @scheduler:PORT, with PORT a number",
    ),
    "scheduler with an empty port": (
        job("targets: ['@scheduler:']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] '@scheduler:' must be",
    ),
    "scheduler with a named port": (
        job("targets: ['@scheduler:http']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] '@scheduler:http' must be",
    ),
    "scheduler with two ports": (
        job("targets: ['@scheduler:80:81']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] '@scheduler:80:81' must be",
    ),
    "scheduler with a suffix": (
        job("targets: ['@schedulers:80']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] '@schedulers:80' must be",
    ),
    # Ours: 1.12's isdigit() takes these, which make a target no one can reach.
    "scheduler with a superscript digit": (
        job("targets: ['@scheduler:8²']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] '@scheduler:8²' must be",
    ),
    "scheduler with Arabic-Indic digits": (
        job("targets: ['@scheduler:\u0668\u0660']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] '@scheduler:\u0668\u0660'"
        " must be",
    ),
    # Ours, as Prometheus refuses them (and the Prometheus charm then drops every job of the
    # application, the statsd exporter's too).
    "empty target": (
        job("targets: ['']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] is empty: Prometheus needs"
        " a host and port",
    ),
    "target with a path": (
        job("targets: ['http://shop:8080']"),
        "prometheus.scrape_configs[0].static_configs[0].targets[0] 'http://shop:8080' has a"
        " '/': a target is host:port, and the path goes in metrics_path",
    ),
    "label name with a dash": (
        job("targets: [], labels: {my-label: x}"),
        "prometheus.scrape_configs[0].static_configs[0].labels has a label name Prometheus"
        " refuses, 'my-label': letters, digits and _, not starting with a digit",
    ),
    "label name starting with a digit": (
        job("targets: [], labels: {1st: x}"),
        "prometheus.scrape_configs[0].static_configs[0].labels has a label name Prometheus"
        " refuses, '1st'",
    ),
    "empty label name": (
        job("targets: [], labels: {'': x}"),
        "prometheus.scrape_configs[0].static_configs[0].labels has a label name Prometheus"
        " refuses, ''",
    ),
    "label name ending in a newline": (
        job('targets: [], labels: {"a\\n": x}'),
        "prometheus.scrape_configs[0].static_configs[0].labels has a label name Prometheus"
        " refuses, 'a\\n'",
    ),
    # 1.12's labels: dict of strings to strings.
    "labels a list": (
        job("targets: [], labels: [a]"),
        "prometheus.scrape_configs[0].static_configs[0].labels must be a mapping of keys, not a"
        " list",
    ),
    "label name a number": (
        job("targets: [], labels: {1: x}"),
        "prometheus.scrape_configs[0].static_configs[0].labels has a label name that is not a"
        " string: the number 1",
    ),
    "label value a number": (
        job("targets: [], labels: {version: 1.0}"),
        "prometheus.scrape_configs[0].static_configs[0].labels.version must be a string, not"
        " the number 1.0 (quote it)",
    ),
    "label value yes": (
        job("targets: [], labels: {canary: yes}"),
        "prometheus.scrape_configs[0].static_configs[0].labels.canary must be a string, not"
        " true (quote it)",
    ),
    "label value a date": (
        job("targets: [], labels: {since: 2024-01-31}"),
        "prometheus.scrape_configs[0].static_configs[0].labels.since must be a string, not a"
        " date (quote it)",
    ),
    "label value null": (
        job("targets: [], labels: {a: }"),
        "prometheus.scrape_configs[0].static_configs[0].labels.a must be a string, not null",
    ),
    # The file itself.
    "bad YAML": (
        "prometheus:\n  scrape_configs: [\n",
        "not valid YAML at line 3: did not find expected node content",
    ),
    "tab indentation": ("prometheus:\n\tscrape_configs: []\n", "not valid YAML at line 2: "),
    "unhashable key": ("? [a]\n: b\n", "not valid YAML at line 1: found unhashable key"),
    "python tag": (
        "a: !!python/name:os.system\n",
        "not valid YAML at line 1: could not determine",
    ),
    "impossible date": ("a: 2001-02-30\n", "not valid YAML: day is out of range for month"),
    "not UTF-8": (b"prometheus: \xff\n", "not UTF-8 text (byte 13)"),
    "too deep": ("a: " + "[" * 101 + "]" * 101 + "\n", "[ and { nested more than 100 levels deep"),
}


@pytest.mark.parametrize(("text", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_each_rule_blocks_with_what_and_where(text, message):
    assert refusal(text).startswith(message)


def test_nesting_up_to_the_limit_is_parsed():
    text = "a: " + "[" * 100 + "]" * 100 + "\n"

    assert refusal(text) == "unknown key 'a'"


def test_a_file_nested_beyond_what_libyaml_survives_is_refused_without_a_crash(tmp_path):
    # libyaml's parser recurses in C: this file kills the process (SIGSEGV) if it reaches it.
    write(tmp_path, "[" * 300_000 + "]" * 300_000)
    code = textwrap.dedent(
        f"""
        import pathlib, sys
        sys.path.insert(0, "lib")
        from flask_k8s import _paas_config as paas_config, _status as status
        try:
            paas_config.load(pathlib.Path({str(tmp_path)!r}))
        except status.Blocked as error:
            print(error.message)
        """
    )
    root = pathlib.Path(__file__).parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == PREFIX + "[ and { nested more than 100 levels deep"


def test_a_file_that_cannot_be_read_blocks(tmp_path):
    (tmp_path / "paas-config.yaml").mkdir()

    with pytest.raises(status.Blocked, match="cannot read the file") as caught:
        paas_config.load(tmp_path)

    assert caught.value.message == PREFIX + "cannot read the file (Is a directory)"


def test_load_reads_the_charm_dir(tmp_path):
    with pytest.raises(status.Blocked, match="unknown key 'x'"):
        paas_config.load(write(tmp_path, "x: 1\n"))


def test_long_and_odd_values_are_cut_short_and_escaped_in_the_message():
    name = "n\u2028" + "x" * 100
    text = yaml.safe_dump(
        {
            "prometheus": {
                "scrape_configs": [
                    {"job_name": name, "static_configs": []},
                    {"job_name": name, "static_configs": []},
                ]
            }
        }
    )

    message = refusal(text)

    assert message == (
        "prometheus.scrape_configs[1].job_name must be unique: 'n\\u2028"
        + "x" * 38
        + "'... is also the job_name of prometheus.scrape_configs[0]"
    )


def test_a_yaml_error_message_shows_no_raw_control_character():
    message = refusal("a: \x07\n")

    assert message.startswith("not valid YAML")
    assert message.isprintable()


# Random files: a structure near the schema, then anything.

SCHEMA_KEYS = st.sampled_from(
    [
        "prometheus",
        "framework_logging_format",
        "scrape_configs",
        "job_name",
        "metrics_path",
        "static_configs",
        "targets",
        "labels",
        "port",
        "app",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["json", "none", "@scheduler:80", "@scheduler", "*:80", "a/b", "", "a-b"])
)
ANYTHING = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(SCHEMA_KEYS | SCALARS, children, max_size=4)
    ),
    max_leaves=25,
)


def near(right: st.SearchStrategy[typing.Any]) -> st.SearchStrategy[typing.Any]:
    """Mostly the right shape, now and then anything."""
    return st.integers(0, 9).flatmap(lambda pick: right if pick else ANYTHING)


def with_extra(
    required: dict[str, st.SearchStrategy[typing.Any]],
    optional: dict[str, st.SearchStrategy[typing.Any]],
) -> st.SearchStrategy[dict[typing.Any, typing.Any]]:
    """A mapping of these keys, now and then with an extra key."""
    return st.builds(
        lambda mapping, extra: {**mapping, **extra},
        st.fixed_dictionaries(required, optional=optional),
        st.integers(0, 9).flatmap(
            lambda pick: st.just({}) if pick else st.dictionaries(SCHEMA_KEYS | SCALARS, ANYTHING)
        ),
    )


TARGET_TEXT = st.sampled_from(["*:9102", "@scheduler:8082", "db:5432", "@scheduler:x", "", "a/b"])
NEAR_STATIC = with_extra(
    {"targets": near(st.lists(near(TARGET_TEXT | st.text(max_size=8)), max_size=3))},
    {
        "labels": near(
            st.dictionaries(st.sampled_from(["app", "a-b", "1"]) | SCALARS, near(st.text()))
        )
    },
)
NEAR_JOB = with_extra(
    {
        "job_name": near(st.sampled_from(["a", "b", ""])),
        "static_configs": near(st.lists(near(NEAR_STATIC), max_size=3)),
    },
    {"metrics_path": near(st.text(max_size=8))},
)
NEAR_FILES = near(
    with_extra(
        {
            "prometheus": near(
                with_extra(
                    {"scrape_configs": near(st.lists(near(NEAR_JOB), min_size=1, max_size=3))}, {}
                )
            )
        },
        {"framework_logging_format": near(st.sampled_from(["json", "none", "JSON"]))},
    )
)


def outcome(text: str | bytes) -> paas_config.PaasConfig | str:
    """The configuration, or the Blocked message; any other exception fails the test."""
    try:
        return paas_config.parse(text)
    except status.Blocked as error:
        message = error.message
    assert message.startswith(PREFIX)
    assert message.isprintable(), message  # One line, no control character: a status.
    assert len(message) < 400
    return message


@PROPERTY
@given(NEAR_FILES)
def test_random_structures_give_a_configuration_or_blocked(data):
    outcome(dump(data))


@PROPERTY
@given(st.text())
def test_random_text_gives_a_configuration_or_blocked(text):
    outcome(text)


@PROPERTY
@given(st.binary())
def test_random_bytes_give_a_configuration_or_blocked(raw):
    outcome(raw)


@settings(PROPERTY, max_examples=100)
@given(NEAR_FILES, st.data())
def test_random_files_on_disk_give_a_configuration_or_blocked(data, draw):
    text = dump(data)
    cut = draw.draw(st.integers(0, len(text)))  # Sometimes a file cut short.
    with tempfile.TemporaryDirectory() as directory:
        charm_dir = write(pathlib.Path(directory), text[:cut])
        try:
            paas_config.load(charm_dir)
        except status.Blocked as error:
            assert error.message.startswith(PREFIX)


# Valid files, and the configuration each must give: used by the promtool check too.

LABEL_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
TARGETS = (
    st.sampled_from(["*:8081", "*", "db.example.com:5432", "[fd00::1]:9100", "10.0.0.1:9100"])
    | st.integers(0, 65535).map(lambda port: f"@scheduler:{port}")
    | st.text(min_size=1, max_size=20).filter(
        lambda t: "/" not in t and not t.startswith(paas_config.SCHEDULER)
    )
)


@st.composite
def valid_files(
    draw: st.DrawFn,
    targets: st.SearchStrategy[str] = TARGETS,
    label_names: st.SearchStrategy[str] = LABEL_NAMES,
    min_size: int = 0,
) -> tuple[dict[str, typing.Any], paas_config.PaasConfig]:
    """A paas-config.yaml's data that 1.12 and flask-k8s accept, and what it gives.

    Other ``targets`` and ``label_names`` make files of the right shape with any values;
    ``min_size`` is the least number of jobs, static configs and targets.
    """
    data: dict[str, typing.Any] = {}
    logging_format = draw(st.sampled_from([None, "none", "json", "absent"]))
    if logging_format != "absent":
        data["framework_logging_format"] = logging_format
    names = draw(st.lists(st.text(max_size=20), unique=True, min_size=min_size, max_size=4))
    jobs: list[dict[str, typing.Any]] = []
    expected: list[paas_config.ScrapeConfig] = []
    for name in names:
        statics: list[dict[str, typing.Any]] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"targets": st.lists(targets, min_size=min_size, max_size=3)},
                    optional={
                        "labels": st.none() | st.dictionaries(label_names, st.text(), max_size=3)
                    },
                ),
                min_size=min_size,
                max_size=3,
            )
        )
        job_data: dict[str, typing.Any] = {"job_name": name, "static_configs": statics}
        path = draw(st.none() | st.text(max_size=20))
        if path is not None:
            job_data["metrics_path"] = path
        jobs.append(job_data)
        expected.append(
            paas_config.ScrapeConfig(
                job_name=name,
                metrics_path="/metrics" if path is None else path,
                static_configs=tuple(
                    paas_config.StaticConfig(
                        targets=tuple(static["targets"]), labels=static.get("labels") or {}
                    )
                    for static in statics
                ),
            )
        )
    sections = ["jobs"] if min_size else ["jobs", "absent", "null", "empty", "null jobs"]
    section = draw(st.sampled_from(sections))
    if section == "jobs":
        data["prometheus"] = {"scrape_configs": jobs}
    elif section != "absent":
        data["prometheus"] = {"null": None, "empty": {}, "null jobs": {"scrape_configs": None}}[
            section
        ]
    return data, paas_config.PaasConfig(
        framework_logging_format=logging_format if logging_format == "json" else "none",
        scrape_configs=tuple(expected) if section == "jobs" else (),
    )


VALID_FILES = valid_files()


@settings(PROPERTY, max_examples=150)
@given(VALID_FILES)
def test_valid_files_give_what_they_say(case):
    data, expected = case

    # PyYAML's default escapes every non-ASCII character (with allow_unicode it writes U+0085
    # as is, which its loader then reads as a line break).
    assert paas_config.parse(dump(data)) == expected
