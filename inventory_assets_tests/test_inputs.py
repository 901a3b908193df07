"""Bad inputs a new user makes: each fails with one line that names the setting and the fix."""

from __future__ import annotations

import logging
import socket
import threading
from contextlib import closing
from pathlib import Path

import pytest
from dagster import DagsterInstance

from inventory_assets_tests.conftest import (
    make_resources,
    materialize_partition,
    step_failure_message,
    warehouse_rows,
)

DAY = "2026-11-02"


def _failure(resources: dict, instance: DagsterInstance) -> str:
    message = step_failure_message(
        materialize_partition(resources, DAY, instance, raise_on_error=False)
    )
    assert "\n" not in message.strip(), message
    return message


@pytest.mark.parametrize(
    ("base_url", "expect"),
    [
        ("{host}", "has no scheme; set it to https://{host}"),
        ("{url}/v1/resource", "ends with the endpoint's path /v1/resource, which is appended"),
    ],
)
def test_a_base_url_the_api_cannot_be_reached_with_names_the_setting(
    simulator, tmp_path: Path, instance: DagsterInstance, base_url: str, expect: str
) -> None:
    host = simulator.url.removeprefix("http://")
    given = base_url.format(host=host, url=simulator.url)
    resources = make_resources(given, tmp_path / "w.duckdb", tmp_path)

    message = _failure(resources, instance)

    assert f"INVENTORY_API_BASE_URL={given!r}" in message
    assert expect.format(host=host) in message
    assert simulator.request_count == 0, "refused before any request"


def test_a_server_that_is_not_the_api_says_which_settings_to_check(
    simulator, tmp_path: Path, instance: DagsterInstance
) -> None:
    resources = make_resources(f"{simulator.url}/api", tmp_path / "w.duckdb", tmp_path)

    message = _failure(resources, instance)

    assert "HTTP 404 at /api/v1/resource" in message
    assert "INVENTORY_API_BASE_URL" in message and "INVENTORY_ENDPOINT_PATH" in message


class SilentServer:
    """Accepts connections and never answers: an API that hangs (the worst dead API)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.connections.append(self._socket.accept()[0])
            except OSError:
                return  # closed

    def close(self) -> None:
        self._socket.close()
        for connection in self.connections:
            connection.close()


def _closed_port_url() -> str:
    with closing(socket.create_server(("127.0.0.1", 0))) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


def _dlt_errors(caplog: pytest.LogCaptureFixture, captured: pytest.CaptureFixture) -> list[str]:
    """dlt's ERROR records (its thread pool's shutdown warning among them), however logged."""
    logged = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("dlt")
        and (record.levelno >= logging.ERROR or "thread pool" in record.getMessage())
    ]
    out, err = captured.readouterr()
    return logged + [line for line in (out + err).splitlines() if "thread pool" in line]


def test_a_closed_port_fails_in_one_line_after_the_retries(
    tmp_path: Path,
    instance: DagsterInstance,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture,
) -> None:
    url = _closed_port_url()
    resources = make_resources(url, tmp_path / "w.duckdb", tmp_path)

    with caplog.at_level(logging.INFO):
        message = _failure(resources, instance)

    assert f"Could not connect to the inventory API at {url}" in message
    assert "(3 retries included). Check INVENTORY_API_BASE_URL" in message
    assert not _dlt_errors(caplog, capfd)


def test_an_api_that_never_answers_fails_in_one_line_after_four_attempts(
    tmp_path: Path,
    instance: DagsterInstance,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture,
) -> None:
    """Each attempt waits the request timeout, so the budget is 4 x timeout + the backoff."""
    with closing(SilentServer()) as server:
        resources = make_resources(
            server.url, tmp_path / "w.duckdb", tmp_path, request_timeout_seconds=0.5
        )
        with caplog.at_level(logging.INFO):
            message = _failure(resources, instance)

    assert f"The inventory API at {server.url} did not answer in time, 3 retries" in message
    assert "INVENTORY_REQUEST_TIMEOUT_SECONDS" in message
    assert len(server.connections) == 4, "one request and the contract's 3 retries"
    assert not _dlt_errors(caplog, capfd)
    assert warehouse_rows(tmp_path / "w.duckdb") == [], "nothing was loaded"


@pytest.mark.parametrize(
    ("where", "expect"),
    [("directory", "is a directory; name a file in it"), ("under_a_file", "which is a file")],
)
def test_a_duckdb_path_that_cannot_be_a_database_names_the_setting(
    simulator, tmp_path: Path, instance: DagsterInstance, where: str, expect: str
) -> None:
    (tmp_path / "a_directory").mkdir()
    (tmp_path / "a_file").write_text("")
    path = tmp_path / ("a_directory" if where == "directory" else "a_file/warehouse.duckdb")
    resources = make_resources(simulator.url, path, tmp_path)

    message = _failure(resources, instance)

    assert f"INVENTORY_DUCKDB_PATH={str(path)!r}" in message and expect in message


def test_a_duckdb_path_whose_folder_cannot_be_made_asks_whether_the_disk_is_mounted(
    simulator, tmp_path: Path, instance: DagsterInstance
) -> None:
    """/proc stands in for a mount point that is not there: nothing can be made in it."""
    path = Path("/proc/inventory-assets-test/warehouse.duckdb")
    resources = make_resources(simulator.url, path, tmp_path)

    message = _failure(resources, instance)

    assert f"INVENTORY_DUCKDB_PATH={str(path)!r}: its folder" in message
    assert "cannot be created" in message and "is the disk mounted?" in message
