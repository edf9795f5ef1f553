"""The alert rules and the dashboard against the real tools.

promtool checks every rule file. Then the app runs as the charm runs it (Pebble, gunicorn and
the statsd exporter), a real Prometheus scrapes it with a configuration built from the scrape
job we publish, as the Prometheus charm builds it, and loads the alert rules we publish.
After a mix of 2xx, 3xx, 4xx and 5xx answers, every query of the dashboard and of the rules
must return data, and the status ratios must match the traffic sent. The scrape jobs, with
paas-config.yaml's, pass ``promtool check config`` once the Prometheus charm has made them
its configuration, for the example file and for any file ``paas_config`` accepts.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import http.client
import json
import pathlib
import re
import shutil
import socket
import subprocess
import time
import typing
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_k8s import _paas_config as paas_config
from flask_k8s import _state as state
from flask_k8s import _status as status
from flask_k8s._cos import assets, metrics, promql, rules, topology
from tests.integration.conftest import Workload, free_port, wait_until
from tests.unit import test_paas_config as paas_cases

TOPOLOGY = topology.Topology(
    model="test-model",
    model_uuid="8c4d1e2a-5b6f-4a7d-9e0c-1f2a3b4c5d6e",
    application="flask-k8s",
    unit="flask-k8s/0",
    charm_name="flask-k8s",
)
# Another application scraped by the same Prometheus (the same exporter, other labels): the
# published rules must not see it.
OTHER = topology.Topology("test-model", TOPOLOGY.model_uuid, "other-app", "other-app/0", "x")
# Grafana's variables, as a user who picks our application sees them.
GRAFANA_VARIABLES = {
    "juju_model": TOPOLOGY.model,
    "juju_model_uuid": TOPOLOGY.model_uuid,
    "juju_application": TOPOLOGY.application,
    "juju_unit": TOPOLOGY.unit,
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "5m",
}
CUSTOM_RULES = """\
groups:
  - name: orders
    rules:
      - alert: NoRequests
        expr: sum(rate(flask_requests[10m])) == 0
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.juju_application }} gets no requests"
"""
# Expressions that exercise the matcher injection; Prometheus' own parser must accept the
# result.
TRICKY_EXPRESSIONS = [
    "up == 0",
    "absent(up)",
    'sum by (status) (rate(flask_response_code{status=~"5.."}[5m])) / on() group_left sum(x)',
    "sum(x) by (job) > bool 1e-3",
    'label_replace(up, "dst", "$1", "src", "(.*)")',
    "max_over_time(up[10m:1m] offset 5m)",
    '{__name__="up", job=~".+"}',
    "up{%%juju_topology%%} < 1",
    "x @ start() + foo:bar_total unless y",
    'count_values("v", up) or vector(0)',
]


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed (Debian's prometheus package); run `make setup`")
    return path


def check_rules(path: pathlib.Path) -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def published_rules(charm_dir: pathlib.Path, topo: topology.Topology) -> dict[str, typing.Any]:
    files, problems = assets.load(assets.PROMETHEUS_RULES, charm_dir)
    alert_rules, invalid = rules.alert_rules(files, topo)
    assert problems == invalid == []
    return alert_rules


def test_promtool_accepts_the_shipped_custom_and_published_rules(tmp_path):
    custom = tmp_path / "cos_custom" / "prometheus_alert_rules"
    custom.mkdir(parents=True)
    (custom / "orders.rules").write_text(CUSTOM_RULES)
    for path in [*(assets.SHIPPED / "prometheus_alert_rules").iterdir(), *custom.iterdir()]:
        check_rules(path)

    # What Prometheus gets: topology labels and matchers added to the same files.
    published = tmp_path / "published.rules"
    alert_rules = published_rules(tmp_path, TOPOLOGY)
    assert len(alert_rules["groups"]) == 2
    published.write_text(yaml.safe_dump(alert_rules))
    check_rules(published)


def test_promtool_parses_every_injected_expression(tmp_path):
    group = {
        "name": "tricky",
        "rules": [
            {"alert": f"A{index}", "expr": promql.inject(expr, TOPOLOGY.matchers())}
            for index, expr in enumerate(TRICKY_EXPRESSIONS)
        ],
    }
    path = tmp_path / "tricky.rules"
    path.write_text(yaml.safe_dump({"groups": [group]}))

    check_rules(path)


# A charm author's paas-config.yaml with each kind of job (paas-charm 1.12's example charm has
# the same two).
PAAS_CONFIG = """\
prometheus:
  scrape_configs:
    - job_name: flask-custom-metrics
      metrics_path: /internal/metrics
      static_configs:
        - targets: ["*:8081", "db.example.com:9187", "[fd00::1]:9100"]
          labels: {app: flask, env: "production", __scheme__: http}
    - job_name: flask-scheduler-metrics
      static_configs:
        - targets: ["@scheduler:8082"]
          labels: {role: scheduler}
    - job_name: ""
      static_configs: [{targets: []}, {targets: ["*"]}]
"""
# Two units: 0 is the leader, 1 a follower.
UNITS = {"flask-k8s/0": "10.1.0.7", "flask-k8s/1": "10.1.0.8"}


def prometheus_jobs(app_bag: dict[str, str], units: dict[str, str]) -> list[dict[str, typing.Any]]:
    """Our jobs as the Prometheus charm makes them its configuration (prometheus_scrape v0).

    Names get the topology as a prefix; each ``*`` target becomes one job per unit with the
    unit's address; every target gets the topology labels, then the job's own labels. Names
    left equal are made unique, as the library does.
    """
    meta = json.loads(app_bag["scrape_metadata"])
    prefix = (
        f"juju_{meta['model']}_{meta['model_uuid'][:8]}_{meta['application']}_prometheus_scrape"
    )
    topology_labels = {
        "juju_model": meta["model"],
        "juju_model_uuid": meta["model_uuid"],
        "juju_application": meta["application"],
        "juju_charm": meta["charm_name"],
    }
    configs: list[dict[str, typing.Any]] = []
    for job in json.loads(app_bag["scrape_jobs"]):
        name = f"{prefix}_{job['job_name']}" if job.get("job_name") else prefix
        path = job.get("metrics_path") or "/metrics"
        others: list[dict[str, typing.Any]] = []
        for static in job["static_configs"]:
            wildcards = [t for t in static["targets"] if t.startswith("*")]
            rest = [t for t in static["targets"] if not t.startswith("*")]
            for unit, address in units.items() if wildcards else ():
                labels = {**topology_labels, "juju_unit": unit, **static.get("labels", {})}
                targets = [target.replace("*", address) for target in wildcards]
                configs.append(
                    {
                        "job_name": f"{name}-{unit.rpartition('/')[2]}",
                        "metrics_path": path,
                        "static_configs": [{"targets": targets, "labels": labels}],
                    }
                )
            if rest:
                labels = {**topology_labels, **static.get("labels", {})}
                others.append({"targets": rest, "labels": labels})
        if others:
            configs.append({"job_name": name, "metrics_path": path, "static_configs": others})
    names = [config["job_name"] for config in configs]
    for index, config in enumerate(configs):
        if names.count(config["job_name"]) > 1:
            config["job_name"] += f"_{index}"
    return configs


def check_config(directory: pathlib.Path, scrape_configs: list[dict[str, typing.Any]]) -> None:
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump({"scrape_configs": scrape_configs}))
    result = subprocess.run(
        [promtool(), "check", "config", "--syntax-only", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr + path.read_text()


def published_jobs(config: paas_config.PaasConfig) -> dict[str, str]:
    """The app bag the leader, flask-k8s/0, writes."""
    leader = state.unit_fqdn(TOPOLOGY.unit, TOPOLOGY.model)
    return metrics.app_bag(
        TOPOLOGY, 9102, {"groups": []}, config.scrape_configs, scheduler_host=leader
    )


def test_promtool_accepts_the_published_paas_config_jobs(tmp_path):
    (tmp_path / "paas-config.yaml").write_text(PAAS_CONFIG)
    app_bag = published_jobs(paas_config.load(tmp_path))

    configs = prometheus_jobs(app_bag, UNITS)

    check_config(tmp_path, configs)
    # The exporter's job and the unnamed one on each of two units, the custom job's wildcard
    # on each unit and its other targets, the scheduler's.
    assert len(configs) == 8

    def static(config_label: str, value: str) -> list[dict[str, typing.Any]]:
        return [
            static
            for config in configs
            for static in config["static_configs"]
            if static["labels"].get(config_label) == value
        ]

    leader = "flask-k8s-0.flask-k8s-endpoints.test-model.svc.cluster.local"
    assert [s["targets"] for s in static("role", "scheduler")] == [[f"{leader}:8082"]]
    assert [s["targets"] for s in static("app", "flask")] == [
        ["10.1.0.7:8081"],
        ["10.1.0.8:8081"],
        ["db.example.com:9187", "[fd00::1]:9100"],
    ]
    assert {c["metrics_path"] for c in configs if "flask-custom-metrics" in c["job_name"]} == {
        "/internal/metrics"
    }


# Files of the right shape whose targets and label names are any text: paas_config must
# refuse those Prometheus would refuse.
RIGHT_SHAPE_FILES = paas_cases.valid_files(
    targets=st.sampled_from(["", "shop/api:80", "http://a:1"])
    | paas_cases.TARGETS
    | st.text(max_size=12),
    label_names=st.sampled_from(["my-label", "1st", "", "\u00e9t\u00e9"])
    | paas_cases.LABEL_NAMES
    | st.text(max_size=8),
    min_size=1,
).map(lambda case: case[0])


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(RIGHT_SHAPE_FILES, RIGHT_SHAPE_FILES, paas_cases.NEAR_FILES))
def test_promtool_accepts_the_jobs_of_any_file_paas_config_accepts(tmp_path, data):
    try:
        config = paas_config.parse(paas_cases.dump(data))
    except status.Blocked:
        return

    check_config(tmp_path, prometheus_jobs(published_jobs(config), UNITS))


class Prometheus:
    """A Prometheus server on 127.0.0.1, with a throwaway database."""

    def __init__(self, directory: pathlib.Path, config: dict[str, typing.Any]):
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        if not pathlib.Path(binary).exists():
            pytest.fail("prometheus is not installed (Debian's package); run `make setup`")
        self.port = free_port()
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = (directory / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def api(self, path: str, **params: str) -> typing.Any:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as error:
            pytest.fail(f"Prometheus refused {params}: {error.read().decode()}")
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, typing.Any]]:
        """An instant query's series."""
        return self.api("query", query=expr)["result"]

    def value(self, expr: str) -> float:
        """The value of a query that returns one series."""
        [series] = self.query(expr)
        return float(series["value"][1])

    def ready(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/-/ready"
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def scrape_configs(topo: topology.Topology, address: str) -> list[dict[str, typing.Any]]:
    """What the Prometheus charm makes of our bags: one target per unit, with the topology."""
    fqdn = state.unit_fqdn(topo.unit, topo.model)
    app_bag = metrics.app_bag(topo, 9102, {"groups": []})
    unit_bag = metrics.unit_bag(topo.unit, metrics.unit_address(address, fqdn), fqdn)
    meta = json.loads(app_bag["scrape_metadata"])
    configs = []
    for index, job in enumerate(json.loads(app_bag["scrape_jobs"])):
        static_configs = [
            {
                "targets": [
                    target.replace("*", unit_bag["prometheus_scrape_unit_address"])
                    for target in static["targets"]
                ],
                "labels": {
                    **static.get("labels", {}),
                    "juju_model": meta["model"],
                    "juju_model_uuid": meta["model_uuid"],
                    "juju_application": meta["application"],
                    "juju_charm": meta["charm_name"],
                    "juju_unit": unit_bag["prometheus_scrape_unit_name"],
                },
            }
            for static in job["static_configs"]
        ]
        configs.append(
            {
                "job_name": f"juju_{meta['model']}_{meta['application']}_{index}",
                "metrics_path": job["metrics_path"],
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "static_configs": static_configs,
            }
        )
    return configs


@pytest.fixture
def prometheus(tmp_path: pathlib.Path) -> collections.abc.Iterator[Prometheus]:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "alert.rules").write_text(yaml.safe_dump(published_rules(tmp_path, TOPOLOGY)))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(directory / "alert.rules")],
        "scrape_configs": [
            *scrape_configs(TOPOLOGY, "127.0.0.1"),
            *scrape_configs(OTHER, "127.0.0.1"),
        ],
    }
    server = Prometheus(directory, config)
    try:
        wait_until(server.ready, "Prometheus to start")
        yield server
    finally:
        server.stop()


def get(path: str) -> float:
    """One request to the app, whatever its status; how long it took, in seconds."""
    start = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=10)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
    finally:
        connection.close()
    return time.monotonic() - start


def exporter_counts() -> dict[str, float]:
    """The exporter's own counters, by status code, and the request count."""
    with urllib.request.urlopen("http://127.0.0.1:9102/metrics", timeout=5) as response:
        text = response.read().decode()
    counts = {
        match[1]: float(match[2])
        for match in re.finditer(r'^flask_response_code\{status="(\d+)"\} (\S+)$', text, re.M)
    }
    requests = re.search(r"^flask_requests (\S+)$", text, re.M)
    counts["requests"] = float(requests[1]) if requests else 0.0
    return counts


def by_class(counts: dict[str, float], cls: str) -> float:
    return sum(value for status, value in counts.items() if status.startswith(cls))


def fill(expr: str) -> str:
    """A Grafana query as Grafana sends it once the variables are chosen."""

    def variable(match: re.Match[str]) -> str:
        name = match[1] or match[2]
        return GRAFANA_VARIABLES[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", variable, expr)


def dashboard() -> dict[str, typing.Any]:
    return json.loads((assets.SHIPPED / "grafana_dashboards" / "flask.json").read_text())


# Every status class the example app answers with; /status/<code> answers with any code.
# /fail raises: a 500 counted as an unhandled exception on its route too.
TRAFFIC = {
    "/status/200": 24,
    "/token": 6,
    "/status/302": 6,
    "/status/404": 12,
    "/status/500": 10,
    "/fail": 2,
}
SENT = {"2": 30, "3": 6, "4": 12, "5": 12}
# Our application's series, as the published rules select them.
OURS = ",".join(f'{name}="{value}"' for name, value in TOPOLOGY.matchers().items())


@dataclasses.dataclass(frozen=True)
class Traffic:
    """What the exporter counted while the test sent ``TRAFFIC``."""

    by_class: dict[str, float]  # Answers by status class ("2" for 2xx, ...).
    requests: float
    slowest: float  # The slowest answer the client saw, in seconds.

    def ratio(self, cls: str) -> float:
        return self.by_class[cls] / sum(self.by_class.values())


def warm_up() -> None:
    """Answers of each class before Prometheus starts.

    Its first samples then already have every series (rate() counts from a series' first
    sample). Mostly 2xx: a dashboard that divided cumulative counters instead of rates would
    show a much lower 5xx ratio than the traffic sent afterwards.
    """
    warm = ("/status/302", "/status/404", "/status/500", "/fail", "/token", *["/status/200"] * 40)
    for path in warm:
        get(path)
    first = {"2": 41, "3": 1, "4": 1, "5": 2}
    wait_until(
        lambda: all(by_class(exporter_counts(), c) >= n for c, n in first.items()),
        "the exporter to count the first answers",
    )


def send_traffic(server: Prometheus) -> Traffic:
    """``TRAFFIC``, once Prometheus has every series; returns when it has scraped it all."""
    wait_until(lambda: len(server.query(f"flask_response_code{{{OURS}}}")) == 4, "a scrape")
    before = exporter_counts()
    latencies = [get(path) for path, times in TRAFFIC.items() for _ in range(times)]

    def counted() -> dict[str, float]:
        now = exporter_counts()
        return {cls: by_class(now, cls) - by_class(before, cls) for cls in "2345"}

    # statsd is UDP: the exporter counts a moment after the answers. Pebble's readiness
    # check may add a 2xx or two.
    wait_until(lambda: all(counted()[c] >= n for c, n in SENT.items()), "the exporter")
    after = exporter_counts()
    traffic = Traffic(counted(), after["requests"] - before["requests"], max(latencies))
    assert [traffic.by_class[c] for c in "345"] == [SENT[c] for c in "345"]
    total = sum(by_class(after, cls) for cls in "2345")
    wait_until(lambda: server.value(f"sum(flask_response_code{{{OURS}}})") >= total, "the scrape")
    # rate() extrapolates each series a little past its samples; with about ten samples that
    # blurs the ratios by a percent or two, well within the tolerance.
    wait_until(
        lambda: server.value(f"count_over_time(flask_requests{{{OURS}}}[1m])") >= 10,
        "ten samples",
    )
    return traffic


def assert_dashboard_shows(server: Prometheus, traffic: Traffic) -> None:
    """Every query of the dashboard returns data, and the right figures."""
    results: dict[str, list[dict[str, typing.Any]]] = {}
    for panel in dashboard()["panels"]:
        for target in panel["targets"]:
            series = server.query(fill(target["expr"]))
            assert series, f"{panel['title']}: no data for {fill(target['expr'])}"
            results[f"{panel['title']}/{target['refId']}"] = series
    for variable in dashboard()["templating"]["list"]:
        found = re.fullmatch(r"label_values\((.*),(\w+)\)", variable["definition"])
        assert found, variable["definition"]
        selector, label = found.groups()
        values = {series["metric"].get(label) for series in server.query(fill(selector))}
        assert GRAFANA_VARIABLES[label] in values, variable["name"]

    def value(key: str) -> float:
        [series] = results[key]
        return float(series["value"][1])

    for cls in "2345":
        assert value(f"{cls}XX rate/A") == pytest.approx(traffic.ratio(cls), abs=0.03), cls
    assert value("Requests/A") == pytest.approx(traffic.requests, rel=0.2)
    # Durations are in seconds: of the order of the slowest answer the client measured (in
    # milliseconds they would be a thousand times more, in microseconds far below 1e-5). Not
    # at most that answer: the exporter also timed requests the client did not send (Pebble's
    # readiness checks, the first requests while the app warmed up).
    assert 1e-5 < value("Average request duration/A") < 10 * traffic.slowest
    assert value("Request duration percentiles/C") < 10 * traffic.slowest
    assert_route_panels_show(results, traffic)


def assert_route_panels_show(
    results: dict[str, list[dict[str, typing.Any]]], traffic: Traffic
) -> None:
    """flask_k8s_app's per-route series: by route template and method, never by raw path."""
    rates = {
        (series["metric"]["method"], series["metric"]["route"]): float(series["value"][1])
        for series in results["Top routes by request rate/A"]
    }
    assert ("GET", "/status/<int:code>") in rates
    assert ("GET", "/token") in rates
    assert not any(route.startswith("/status/2") for _, route in rates)
    # /status/<int:code> answered 2xx, 3xx, 4xx and 5xx: its 5xx share is that of the traffic
    # sent to it; /token never failed; /fail always did.
    ratios = {
        series["metric"]["route"]: float(series["value"][1])
        for series in results["5XX ratio by route/A"]
    }
    assert ratios["/token"] == 0
    assert ratios["/fail"] == pytest.approx(1)
    sent = TRAFFIC["/status/200"] + TRAFFIC["/status/302"] + TRAFFIC["/status/404"]
    share = TRAFFIC["/status/500"] / (sent + TRAFFIC["/status/500"])
    assert ratios["/status/<int:code>"] == pytest.approx(share, abs=0.05)
    p99 = {
        series["metric"]["route"]: float(series["value"][1])
        for series in results["p99 duration by route/A"]
    }
    assert 0 < p99["/token"] < 10 * traffic.slowest
    [exceptions] = results["Unhandled exceptions by route/A"]
    assert exceptions["metric"]["route"] == "/fail"
    assert exceptions["metric"]["exception"] == "RuntimeError"


def assert_alert_rules_fire(
    server: Prometheus, traffic: Traffic, flask_workload: Workload, tmp_path: pathlib.Path
) -> None:
    """Each published rule as Prometheus loaded it: quiet while fine, firing when not."""
    wait_until(
        lambda: all(rule.get("health") == "ok" for rule in loaded_rules(server)),
        "every rule to be evaluated",
    )
    exprs = {rule["name"]: rule["query"] for rule in loaded_rules(server)}
    assert set(exprs) == {
        "FlaskTargetDown",
        "FlaskTargetMissing",
        "FlaskHighServerErrorRate",
        "FlaskSlowResponses",
        "FlaskRouteHighServerErrorRate",
    }

    # 5xx: 12 of about 60 answers.
    [errors] = server.query(exprs["FlaskHighServerErrorRate"])
    assert errors["metric"]["juju_application"] == "flask-k8s"
    assert float(errors["value"][1]) == pytest.approx(traffic.ratio("5"), abs=0.03)
    wait_until(lambda: "FlaskHighServerErrorRate" in pending(server), "the 5xx alert")

    # Per route: the route that failed, with its own ratio. /token never failed; /fail
    # always did, but 3 requests in 5 minutes are below the rule's floor of a request a
    # minute: one failing request on a quiet route pages nobody.
    routes = {
        series["metric"]["route"]: float(series["value"][1])
        for series in server.query(exprs["FlaskRouteHighServerErrorRate"])
    }
    assert set(routes) == {"/status/<int:code>"}
    sent = sum(n for path, n in TRAFFIC.items() if path.startswith("/status/"))
    assert routes["/status/<int:code>"] == pytest.approx(TRAFFIC["/status/500"] / sent, abs=0.05)
    wait_until(lambda: "FlaskRouteHighServerErrorRate" in pending(server), "the route alert")

    # Latency: fast so far; then slow requests (3s timers, as gunicorn sends them, in ms).
    assert server.query(exprs["FlaskSlowResponses"]) == []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(5):
            sock.sendto(b"gunicorn.request.duration:3000|ms", ("127.0.0.1", 9125))
    wait_until(lambda: server.query(exprs["FlaskSlowResponses"]) != [], "the latency alert")
    [slow] = server.query(exprs["FlaskSlowResponses"])
    assert float(slow["value"][1]) == pytest.approx(3.0)

    # A target that exists is not missing; an application without targets is.
    assert server.query(exprs["FlaskTargetMissing"]) == []
    gone = topology.Topology("test-model", TOPOLOGY.model_uuid, "gone", "gone/0", "flask-k8s")
    missing = {
        rule["alert"]: rule["expr"]
        for group in published_rules(tmp_path, gone)["groups"]
        for rule in group["rules"]
    }["FlaskTargetMissing"]
    [absent] = server.query(missing)
    assert absent["metric"]["juju_application"] == "gone"

    # Down: the exporter stops; only our application's target is reported, not other-app's.
    assert server.query(exprs["FlaskTargetDown"]) == []
    flask_workload.container.stop("statsd-exporter")
    wait_until(lambda: server.query(exprs["FlaskTargetDown"]) != [], "the down alert")
    [down] = server.query(exprs["FlaskTargetDown"])
    assert down["metric"]["juju_application"] == "flask-k8s"
    assert down["metric"]["juju_unit"] == "flask-k8s/0"


def test_dashboard_and_alerts_show_the_traffic_sent(flask_workload, tmp_path, request):
    assert flask_workload.reconcile(token="m") == "active"
    warm_up()
    server = request.getfixturevalue("prometheus")

    traffic = send_traffic(server)

    assert_dashboard_shows(server, traffic)
    assert_alert_rules_fire(server, traffic, flask_workload, tmp_path)


def loaded_rules(server: Prometheus) -> list[dict[str, typing.Any]]:
    return [rule for group in server.api("rules")["groups"] for rule in group["rules"]]


def pending(server: Prometheus) -> set[str]:
    """Our application's alerts that Prometheus holds as pending (waiting for their `for`)."""
    return {
        alert["labels"]["alertname"]
        for alert in server.api("alerts")["alerts"]
        if alert["state"] == "pending" and alert["labels"].get("juju_application") == "flask-k8s"
    }
