"""The production profile in deploy/: the instance, the pool limit, Celery, the image, Helm.

The end-to-end tests run against this machine's PostgreSQL and Redis (skipping,
with the reason, when they are unreachable): a scratch database per test holds
the instance of deploy/dagster.yaml, and the daemon, the backfill and the Celery
worker are the commands of docs/production.md as subprocesses.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    ExecutorDefinition,
    RunsFilter,
)
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.tags import BACKFILL_ID_TAG
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError

from inventory_api_sim import InventoryApiSimulator
from inventory_assets.definitions import defs as code_location
from inventory_assets.defs.inventory_api import executor
from inventory_assets.settings import (
    INSTANCE_POSTGRES_URL_ENV,
    SettingsError,
    instance_storage_problem,
    settings_from_yaml,
)
from inventory_assets.warehouse.destination import DESTINATION_ENV
from inventory_assets.warehouse.postgres import (
    POSTGRES,
    POSTGRES_URL_ENV,
    PostgresDestinationResource,
)
from inventory_assets_tests.cli_runner import (
    BIN,
    ROOT,
    cli_env,
    dagster,
    finish,
    materialize,
    service,
    stop,
)
from inventory_assets_tests.conftest import (
    CONTRACT_COLUMNS,
    INVENTORY_DATA_KEY,
    as_warehouse_row,
    day_window,
    expected_records,
    inventory_endpoint,
    make_simulator,
    shipped_settings,
    warehouse_rows,
)
from inventory_assets_tests.dagster_dev import DagsterDev, free_port
from inventory_assets_tests.services import (
    NEEDS_PRODUCTION_EXTRA,
    scratch_postgres_database,
    scratch_redis_database,
)
from inventory_assets_tests.support import doc_pages

DEPLOY = ROOT / "deploy"
POOL_LIMIT = 2
STEP_KEY = "load_inventory__inventory_data"  # the op of inventory_data's @dlt_assets
BACKFILL_DAYS = [f"2026-11-{day:02d}" for day in range(1, 11)]
RUNS_TIMEOUT_SECONDS = 240
WORKER_READY_TIMEOUT_SECONDS = 60
WEBSERVER_TIMEOUT_SECONDS = 120
WEBSERVER_COMMAND = ("dagster-webserver", "-w", "workspace.yaml")
BACKFILL_VIEW_QUERY = f"""
{{ runsOrError(filter: {{tags: [{{key: "{BACKFILL_ID_TAG}", value: "$backfill_id"}}]}}) {{
    ... on Runs {{ count }} }}
  assetNodes {{ assetKey {{ path }} kinds }} }}
"""
# The spellings of DAGSTER_POSTGRES_URL the docs show, and two that cannot work, with
# the line that refuses each.
DOCUMENTED_SCHEMES = ("postgresql", "postgresql+psycopg2")
PSYCOPG2_FORM = "postgresql+psycopg2://user:password@host:port/database"
REFUSALS = {
    "postgresql+psycopg": "Invalid DAGSTER_POSTGRES_URL: the scheme postgresql+psycopg uses the"
    " psycopg driver, which Dagster's PostgreSQL event log cannot use; write it as"
    f" {PSYCOPG2_FORM} (or postgresql://).",
    "postgres": "Invalid DAGSTER_POSTGRES_URL: SQLAlchemy knows no scheme postgres; write it as"
    f" {PSYCOPG2_FORM} (or postgresql://).",
}
AFTER_SCHEME = "dagster:PASSWORD@db-host:5432/dagster"  # deploy/dagster.yaml's example
URL_PASSWORD = "pw-Zq7-never-printed"
PARTITION = "2026-11-02"
STEP_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
}

# The keys deploy/helm/values.yaml may set: checked by hand against the `dagster`
# chart's values.yaml and values.schema.json (dagster-io/dagster, helm/dagster,
# 1.13 releases). `[]` stands for every item of a list.
KNOWN_CHART_KEYS = frozenset(
    {
        "dagster-user-deployments.enabled",
        "dagster-user-deployments.enableSubchart",
        "dagster-user-deployments.deployments[].name",
        "dagster-user-deployments.deployments[].image.repository",
        "dagster-user-deployments.deployments[].image.tag",
        "dagster-user-deployments.deployments[].image.pullPolicy",
        "dagster-user-deployments.deployments[].dagsterApiGrpcArgs[]",
        "dagster-user-deployments.deployments[].port",
        "dagster-user-deployments.deployments[].env[].name",
        "dagster-user-deployments.deployments[].env[].value",
        "dagster-user-deployments.deployments[].envSecrets[].name",
        "dagster-user-deployments.deployments[].includeConfigInLaunchedRuns.enabled",
        "runLauncher.type",
        "postgresql.enabled",
        "postgresql.postgresqlHost",
        "postgresql.postgresqlUsername",
        "postgresql.postgresqlDatabase",
        "postgresql.postgresqlScheme",
        "postgresql.service.port",
        "generatePostgresqlPasswordSecret",
        "global.postgresqlSecretName",
        "dagsterDaemon.enabled",
        "dagsterDaemon.runCoordinator.enabled",
        "dagsterDaemon.runCoordinator.type",
        "concurrency.enabled",
        "concurrency.runs.maxConcurrentRuns",
        "concurrency.pools.defaultLimit",
        "concurrency.pools.granularity",
        "telemetry.enabled",
    }
)


def _dagster_yaml() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "dagster.yaml").read_text())


def _helm_values() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


def _leaf_keys(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaf_keys(child, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for child in value:
            yield from _leaf_keys(child, f"{prefix}[]")
    else:
        yield prefix


def test_dagster_yaml_is_valid_instance_config(tmp_path: Path) -> None:
    shutil.copy(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")

    config, _ = dagster_instance_config(str(tmp_path))

    assert config["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"]["default_limit"] == POOL_LIMIT
    assert config["telemetry"] == {"enabled": False}


def test_the_docs_show_only_the_tested_spellings_of_dagster_postgres_url() -> None:
    """deploy/dagster.yaml and every doc page (README.md, docs/*.md: production.md shows
    it) show `DAGSTER_POSTGRES_URL=...`, the Helm values a scheme; each spelling they show
    is materialized through below."""
    shown = re.compile(r"DAGSTER_POSTGRES_URL='?([A-Za-z0-9+.\-]+)://")
    texts = [(DEPLOY / "dagster.yaml").read_text(), *(page.read_text() for page in doc_pages())]
    assert shown.search((ROOT / "docs" / "production.md").read_text()), "production.md shows it"
    schemes = {scheme for text in texts for scheme in shown.findall(text)}
    schemes.add(_helm_values()["postgresql"]["postgresqlScheme"])

    assert schemes == set(DOCUMENTED_SCHEMES)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (None, None),
        ("", None),
        *[(f"{scheme}://{AFTER_SCHEME}", None) for scheme in DOCUMENTED_SCHEMES],
        *[(f"{scheme}://{AFTER_SCHEME}", refusal) for scheme, refusal in REFUSALS.items()],
        (
            f"postgresql+asyncpg://{AFTER_SCHEME}",
            "the scheme postgresql+asyncpg uses the asyncpg driver",
        ),
        (AFTER_SCHEME, "it does not start with a scheme and ://"),
        ("PASSWORD@db-host/x?next=http://db-host", "it does not start with a scheme and ://"),
    ],
)
def test_instance_storage_problem_names_the_variable_and_the_spelling_to_use(
    production_sqlalchemy: None, monkeypatch: pytest.MonkeyPatch, url: str | None, problem: str
) -> None:
    if url is None:
        monkeypatch.delenv(INSTANCE_POSTGRES_URL_ENV, raising=False)
    else:
        monkeypatch.setenv(INSTANCE_POSTGRES_URL_ENV, url)

    found = instance_storage_problem()

    if problem is None:
        assert found is None
        return
    assert found is not None and problem in found
    assert found.startswith("Invalid DAGSTER_POSTGRES_URL: ") and "\n" not in found
    assert found.endswith(f"write it as {PSYCOPG2_FORM} (or postgresql://).")
    assert "PASSWORD" not in found and "db-host" not in found, "only the scheme is shown"


def test_the_installed_sqlalchemy_maps_the_bare_scheme_to_psycopg2(
    production_sqlalchemy: None,
) -> None:
    """The `sqlalchemy<2.1` of the production extra: 2.1 maps it to psycopg 3."""
    assert make_url("postgresql://").get_dialect().driver == "psycopg2"


@pytest.mark.parametrize("scheme", REFUSALS)
def test_the_code_location_refuses_a_dagster_postgres_url_dagster_cannot_use(
    production_sqlalchemy: None, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """Every load, not only the first: the build of the definitions is cached."""
    assert code_location() is code_location()
    monkeypatch.setenv(INSTANCE_POSTGRES_URL_ENV, f"{scheme}://{AFTER_SCHEME}")

    with pytest.raises(SettingsError) as caught:
        code_location()

    assert str(caught.value) == REFUSALS[scheme]


@pytest.mark.e2e
@pytest.mark.parametrize("scheme", DOCUMENTED_SCHEMES)
def test_every_spelling_of_dagster_postgres_url_the_docs_show_runs_a_materialization(
    production_home: Path, simulator: InventoryApiSimulator, tmp_path: Path, scheme: str
) -> None:
    """The command of docs/production.md on deploy/dagster.yaml, each spelling on a database
    of its own.

    The run and its events are read back: with a driver Dagster cannot use (psycopg 3,
    which SQLAlchemy 2.1 picks for `postgresql://`), an empty instance opens and lists
    its runs, and the first event of a run fails.
    """
    env, password = _spelled_env(production_home, simulator.url, tmp_path, scheme)

    output = finish(materialize(env, "--partition", PARTITION))

    assert password not in output
    with _instance(production_home) as instance:
        (run,) = instance.get_runs()
        records = instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
        ).records
    assert run.status == DagsterRunStatus.SUCCESS
    assert [(r.asset_key, r.partition_key) for r in records] == [(INVENTORY_DATA_KEY, PARTITION)]


@pytest.mark.e2e
@pytest.mark.parametrize("scheme", REFUSALS)
def test_a_dagster_postgres_url_dagster_cannot_use_stops_the_cli_before_any_run(
    production_home: Path, simulator: InventoryApiSimulator, tmp_path: Path, scheme: str
) -> None:
    env, password = _spelled_env(production_home, simulator.url, tmp_path, scheme)

    process = materialize(env, "--partition", PARTITION)
    output, _ = process.communicate(timeout=180)

    assert process.returncode != 0
    assert output.strip().splitlines()[-1] == _last_line_refusing(scheme), output[-3000:]
    assert "During handling" not in output and "direct cause" not in output, "one error"
    assert password not in output
    assert "RUN_START" not in output and simulator.request_count == 0
    with _instance(production_home) as instance:
        assert instance.get_runs() == []


def _spelled_env(
    home: Path, base_url: str, tmp_path: Path, scheme: str
) -> tuple[dict[str, str], str]:
    """The environment of docs/production.md with DAGSTER_POSTGRES_URL spelled with `scheme`,
    and its password (a placeholder the machine's trust auth ignores, if the URL has none).

    This process keeps the psycopg2 spelling, to create the tables and read them back.
    """
    env = cli_env(base_url, tmp_path / "warehouse.duckdb", home)
    url = make_url(env[INSTANCE_POSTGRES_URL_ENV])
    password = url.password or URL_PASSWORD
    spelled = url.set(drivername=scheme, password=password)
    env[INSTANCE_POSTGRES_URL_ENV] = spelled.render_as_string(hide_password=False)
    return env, password


def _last_line_refusing(scheme: str) -> str:
    """What ends the CLI's output for a spelling Dagster cannot use.

    Dagster opens the instance before it loads the code location: a scheme SQLAlchemy
    lacks, or one whose driver is not installed (the production extra installs no
    psycopg 3), stops there, in Dagster's words. With the driver installed, the
    instance opens and the code location refuses the spelling in one line.
    """
    try:
        make_url(f"{scheme}://").get_dialect().import_dbapi()
    except NoSuchModuleError as unknown:
        return f"sqlalchemy.exc.NoSuchModuleError: {unknown}"
    except ModuleNotFoundError as missing:
        return f"ModuleNotFoundError: {missing}"
    return f"inventory_assets.settings.SettingsError: {REFUSALS[scheme]}"


def test_inventory_data_steps_are_in_the_limited_pool() -> None:
    assert inventory_endpoint().assets.op.pool == shipped_settings().api.pool
    assert _dagster_yaml()["concurrency"]["pools"]["default_limit"] == POOL_LIMIT
    assert _helm_values()["concurrency"]["pools"]["defaultLimit"] == POOL_LIMIT


def test_helm_values_set_only_keys_the_chart_has() -> None:
    values = _helm_values()

    assert set(_leaf_keys(values)) <= KNOWN_CHART_KEYS, set(_leaf_keys(values)) - KNOWN_CHART_KEYS
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "inventory_assets.definitions"]
    exposed = re.search(r"^EXPOSE (\d+)", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)
    assert exposed and int(exposed[1]) == deployment["port"]
    env = {item["name"]: item.get("value") for item in deployment["env"]}
    assert env[DESTINATION_ENV] == POSTGRES, "pods share no disk: the warehouse is PostgreSQL"
    assert POSTGRES_URL_ENV not in env, "the URL holds a password: it comes from the Secret"
    # The chart renders the same instance as deploy/dagster.yaml.
    instance = _dagster_yaml()["concurrency"]
    chart = values["concurrency"]
    assert chart["enabled"] is True
    assert chart["runs"]["maxConcurrentRuns"] == instance["runs"]["max_concurrent_runs"]
    assert chart["pools"]["granularity"] == instance["pools"]["granularity"]


def test_the_executor_is_chosen_by_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dagster_celery", reason="needs the `production` extra")

    def chosen() -> ExecutorDefinition:
        return executor.build_executor(settings_from_yaml().executor)

    monkeypatch.delenv("INVENTORY_EXECUTOR", raising=False)
    assert chosen().name == "in_process", "the default when unset"

    monkeypatch.setenv("INVENTORY_EXECUTOR", "multiprocess")
    assert chosen().name == "multiprocess"

    monkeypatch.setenv("INVENTORY_EXECUTOR", "celery")
    monkeypatch.setenv(executor.CELERY_BROKER_ENV, "redis://broker.invalid:6379/3")
    celery = chosen()
    assert celery.name == "celery"
    config = celery.apply_config_mapping({}).value["config"]
    assert config["broker"] == config["backend"] == "redis://broker.invalid:6379/3"

    monkeypatch.setenv("INVENTORY_EXECUTOR", "kubernetes")
    with pytest.raises(SettingsError, match="INVENTORY_EXECUTOR='kubernetes'"):
        chosen()


def test_celery_workers_start_with_the_executors_config() -> None:
    worker = yaml.safe_load((DEPLOY / "celery_worker.yaml").read_text())
    assert worker["execution"]["config"] == executor.CELERY_EXECUTOR_CONFIG


def test_the_image_holds_no_simulator() -> None:
    # The simulator is a distribution of its own (simulator/): nothing the image
    # copies holds it or imports it, and the project declares no script of it.
    # check_dockerfile.py cannot show this: its scratch image sees our packages.
    copies = re.findall(r"^COPY (.+)$", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)
    sources = [ROOT / source for line in copies for source in line.split()[:-1]]
    files = [p for s in sources for p in ([s] if s.is_file() else s.rglob("*")) if p.is_file()]
    assert ROOT / "inventory_assets" in sources
    assert not [p for p in files if p.is_relative_to(ROOT / "simulator")]
    assert not [p for p in files if p.suffix == ".py" and "inventory_api_sim" in p.read_text()]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "inventory-api-sim" not in pyproject["project"].get("scripts", {})


@pytest.mark.e2e
def test_dockerfile_build_steps_run_and_its_cmd_serves(tmp_path: Path) -> None:
    # Output to a file, not a pipe: a process the check failed to stop could hold a
    # pipe open and hide the check's own exit until the timeout.
    log = tmp_path / "check_dockerfile.log"
    with log.open("w") as output:
        result = subprocess.run(
            [sys.executable, str(DEPLOY / "check_dockerfile.py")],
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    text = log.read_text()
    assert result.returncode == 0, text[-4000:]
    assert "all build steps passed" in text


@pytest.fixture
def production_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A DAGSTER_HOME holding deploy/dagster.yaml as is, on a scratch PostgreSQL database."""
    with scratch_postgres_database() as url:
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", url)
        home = tmp_path / "production_home"
        home.mkdir()
        shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
        yield home


@pytest.fixture
def production_env(
    production_home: Path, postgres_destination: PostgresDestinationResource, tmp_path: Path
) -> Callable[[str], dict[str, str]]:
    """The environment of every process of the deployment, for an API at the given URL:
    the Postgres-backed instance and the PostgreSQL destination, in scratch databases."""

    def make(base_url: str) -> dict[str, str]:
        env = cli_env(base_url, tmp_path / "unused.duckdb", production_home)
        return {
            **env,
            DESTINATION_ENV: POSTGRES,
            POSTGRES_URL_ENV: postgres_destination.url,
            # `dagster-celery worker start` runs `celery` from PATH.
            "PATH": f"{BIN}:{env.get('PATH', '')}",
        }

    return make


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of the test's own, as the Celery broker."""
    with scratch_redis_database() as url:
        yield url


@pytest.fixture
def production_sqlalchemy() -> None:
    """The SQLAlchemy of the production extra (a base install may have 2.1)."""
    pytest.importorskip("dagster_postgres", reason=NEEDS_PRODUCTION_EXTRA)


def _instance(home: Path) -> DagsterInstance:
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _wait_for_runs(instance: DagsterInstance, tags: dict[str, str], count: int) -> list:
    deadline = time.monotonic() + RUNS_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        runs = instance.get_runs(RunsFilter(tags=tags))
        if len(runs) == count and all(run.is_finished for run in runs):
            return runs
        time.sleep(1)
    statuses = [run.status.value for run in instance.get_runs(RunsFilter(tags=tags))]
    raise TimeoutError(f"runs {tags} not finished in {RUNS_TIMEOUT_SECONDS}s: {statuses}")


def _most_steps_in_progress(instance: DagsterInstance, run_ids: Sequence[str]) -> int:
    """The most `load_inventory__inventory_data` steps between STEP_START and their end at
    once, across runs.

    Read from the event log in storage order (one sequence for the whole instance),
    not from timestamps: a step starts only after it claimed a pool slot and frees
    it only after its end is stored, so the count never exceeds what the pool allowed.
    """
    records = [
        record
        for run_id in run_ids
        for record in instance.get_records_for_run(run_id, of_type=STEP_EVENTS).records
        if record.event_log_entry.step_key == STEP_KEY
    ]
    in_progress = most = 0
    for record in sorted(records, key=lambda record: record.storage_id):
        started = record.event_log_entry.dagster_event_type == DagsterEventType.STEP_START
        in_progress += 1 if started else -1
        most = max(most, in_progress)
    return most


def _exact_rows(simulator, *days: str) -> list[tuple]:
    return sorted(
        (
            as_warehouse_row(record)
            for day in days
            for record in expected_records(simulator, *day_window(day))
        ),
        key=lambda row: row[0],
    )


@pytest.mark.e2e
def test_a_backfill_through_the_daemon_never_exceeds_the_pool_limit(
    production_env: Callable[[str], dict[str, str]],
    production_home: Path,
    postgres_destination: PostgresDestinationResource,
    tmp_path: Path,
) -> None:
    """Ten partition runs, queued by the backfill and launched by the daemon, into
    the PostgreSQL destination, with the webserver serving the same instance.

    Steps run in the run's process (the default executor); the pool is claimed
    from the instance whichever executor runs them. Pages are slow (0.7 s) so that
    steps of different runs overlap.
    """
    with ExitStack() as running:
        simulator = make_simulator(rows=3000, days=len(BACKFILL_DAYS), latency_ms=700)
        running.callback(simulator.stop)
        env = production_env(simulator.url)
        log = tmp_path / "daemon.log"
        running.callback(stop, service(env, log, "dagster-daemon", "run", "-w", "workspace.yaml"))
        port, web_log = free_port(), tmp_path / "webserver.log"
        web = service(env, web_log, *WEBSERVER_COMMAND, "-h", "127.0.0.1", "-p", str(port))
        running.callback(stop, web)
        output = finish(
            dagster(
                env,
                *(
                    "job",
                    "backfill",
                    "-w",
                    "workspace.yaml",
                    "-j",
                    "inventory__inventory_data_ingest_job",
                ),
                *("--from", BACKFILL_DAYS[0], "--to", BACKFILL_DAYS[-1], "--noprompt"),
            )
        )
        backfill = re.search(r"Launched backfill job `(\w+)`", output)
        assert backfill, output[-2000:]
        with _instance(production_home) as instance:
            runs = _wait_for_runs(instance, {BACKFILL_ID_TAG: backfill[1]}, len(BACKFILL_DAYS))
            most = _most_steps_in_progress(instance, [run.run_id for run in runs])
            pool = instance.event_log_storage.get_concurrency_info(shipped_settings().api.pool)
            webserver = DagsterDev(web, f"http://127.0.0.1:{port}", web_log, instance)
            seen_in_ui = _webserver_view(webserver, backfill[1])

    assert [run.status for run in runs] == [DagsterRunStatus.SUCCESS] * len(runs)
    assert pool.slot_count == POOL_LIMIT
    assert most == POOL_LIMIT, (
        f"at most {POOL_LIMIT} steps of the pool at once, and the backfill reached it: {most}"
    )
    assert warehouse_rows(postgres_destination, CONTRACT_COLUMNS) == _exact_rows(
        simulator, *BACKFILL_DAYS
    )
    assert seen_in_ui == (len(BACKFILL_DAYS), ["dlt", "postgres"])


def _webserver_view(webserver: DagsterDev, backfill_id: str) -> tuple[int, list[str]]:
    """What the UI serves: how many runs the backfill has, and inventory_data's kinds."""
    webserver.wait_until(
        webserver.location_loaded,
        WEBSERVER_TIMEOUT_SECONDS,
        lambda: f"the webserver did not serve the code location:\n{webserver.log_tail()}",
    )
    data = webserver.graphql(BACKFILL_VIEW_QUERY.replace("$backfill_id", backfill_id))
    kinds = {tuple(node["assetKey"]["path"]): node["kinds"] for node in data["assetNodes"]}
    return data["runsOrError"]["count"], sorted(kinds[("inventory", "inventory_data")])


def _wait_for_worker(log: Path, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + WORKER_READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if worker.poll() is not None or " ready." in log.read_text():
            break
        time.sleep(0.5)
    assert " ready." in log.read_text(), log.read_text()[-3000:]


@pytest.mark.e2e
def test_a_run_executes_its_steps_on_a_celery_worker(
    redis_url: str,
    production_env: Callable[[str], dict[str, str]],
    production_home: Path,
    postgres_destination: PostgresDestinationResource,
    tmp_path: Path,
) -> None:
    """The worker command of docs/production.md, and a run with INVENTORY_EXECUTOR=celery.

    The steps must execute in the worker (not in the run's process) and report to
    the shared Postgres-backed instance.
    """
    day = "2026-11-03"
    with ExitStack() as running:
        simulator = make_simulator()
        running.callback(simulator.stop)
        env = {
            **production_env(simulator.url),
            "INVENTORY_EXECUTOR": "celery",
            executor.CELERY_BROKER_ENV: redis_url,
        }
        log = tmp_path / "worker.log"
        worker = service(
            env,
            log,
            *("dagster-celery", "worker", "start", "-A", "dagster_celery.app", "-y"),
            *(str(DEPLOY / "celery_worker.yaml"), "-n", f"inventory-test-{uuid.uuid4().hex[:8]}"),
        )
        running.callback(stop, worker)
        _wait_for_worker(log, worker)
        output = finish(materialize(env, "--partition", day))

    assert 'Submitting celery task for step "load_inventory__inventory_data"' in output
    with _instance(production_home) as instance:
        (run,) = instance.get_runs()
        events = [entry for entry in instance.all_logs(run.run_id) if entry.dagster_event]
    assert run.status == DagsterRunStatus.SUCCESS
    pids = {
        kind: {e.dagster_event.pid for e in events if e.dagster_event_type == kind}
        for kind in (DagsterEventType.RUN_START, DagsterEventType.STEP_START)
    }
    (run_pid,) = pids[DagsterEventType.RUN_START]
    step_pids = pids[DagsterEventType.STEP_START]
    assert step_pids and run_pid not in step_pids, "steps ran outside the run's process"
    worker_log = log.read_text()
    assert run.run_id in worker_log and "succeeded" in worker_log, "on the worker we started"
    assert warehouse_rows(postgres_destination, CONTRACT_COLUMNS) == _exact_rows(simulator, day)
