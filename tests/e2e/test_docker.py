"""The docker compose setup is well-formed (validated by docker itself where it can)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from matching.cli.main import build_parser
from matching.queues import REMATCH_QUEUE

ROOT = Path(__file__).resolve().parents[2]


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_services_and_order():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "migrate", "worker", "edit-lane"}
    assert services["db"]["image"].startswith("pgvector/pgvector:")
    assert services["migrate"]["command"] == ["matching", "migrate"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    worker_deps = services["worker"]["depends_on"]
    assert worker_deps["migrate"]["condition"] == "service_completed_successfully"
    for name in ("migrate", "worker", "edit-lane"):
        assert "@db:5432/" in services[name]["environment"]["DATABASE_URL"]


def test_compose_edit_lane_is_optional_and_its_command_is_valid():
    lane = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["edit-lane"]
    assert lane["profiles"] == ["edit-lane"]  # only with --profile edit-lane
    assert lane["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert lane["healthcheck"]["test"] == ["CMD", "matching", "worker", "--check"]
    command = lane["command"]
    assert command[:2] == ["matching", "worker"]
    # the CLI accepts it, and it names the rematch queue alone: no bulk batches
    args = build_parser().parse_args(command[1:])
    assert args.queues == [REMATCH_QUEUE]
    assert int(lane["environment"]["MATCHING_EMBEDDING_THREADS"]) >= 1


def test_compose_restarts_and_health_checks_the_worker():
    worker = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]
    assert worker["restart"] in ("unless-stopped", "always", "on-failure")
    assert worker["healthcheck"]["test"] == ["CMD", "matching", "worker", "--check"]


def test_dockerfile_installs_cpu_torch_and_ships_migrations():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "download.pytorch.org/whl/cpu" in dockerfile
    assert "COPY migrations/" in dockerfile and "COPY supabase/" in dockerfile
    assert "HF_HUB_OFFLINE=1" in dockerfile


COMPOSE = _compose_command()


@pytest.mark.skipif(COMPOSE is None, reason="neither `docker compose` nor `docker-compose` here")
def test_docker_compose_config(tmp_path):
    assert COMPOSE is not None
    command = COMPOSE
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    done = subprocess.run(
        [*command, "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
