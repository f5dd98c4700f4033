"""Static checks of the deployment files (Dockerfile, docker-compose.yml, the Hugging Face Space
README), for machines without a Docker engine. They read text only: nothing is built or run.

PyYAML is not a dependency of the project; the compose checks read the text, and one extra check
parses the file as YAML when PyYAML happens to be installed."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml  # PyYAML: a test dependency of its own (pyproject), never skipped

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.yml"
HF_README = ROOT / "deploy" / "huggingface" / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"

SERVICE = "crypto-data-engine"
# Variables of Python, pip and the images themselves (postgres' POSTGRES_*), not settings of the service.
NOT_SETTINGS = re.compile(r"^(PYTHON\w*|PIP_\w*|PATH|HOME|LANG|LC_\w+|POSTGRES_\w+)$")


# ---------------------------------------------------------------------------------------------
# helpers


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, arguments = current.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return instructions


def instructions_named(name: str) -> list[str]:
    return [arguments for keyword, arguments in dockerfile_instructions() if keyword == name]


def env_example_names() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def dockerfile_env_names() -> set[str]:
    names: set[str] = set()
    for arguments in instructions_named("ENV"):
        for token in shlex.split(arguments):
            if "=" in token:
                names.add(token.split("=", 1)[0])
            else:  # legacy `ENV NAME value`
                names.add(token)
                break
    return names


def compose_text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


def compose_service_blocks() -> dict[str, str]:
    """The text of each service under `services:` (indentation-based, enough for this file)."""
    lines = compose_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip() == "services:")
    blocks: dict[str, list[str]] = {}
    name = None
    for line in lines[start + 1 :]:
        if line and not line[0].isspace() and not line.startswith("#"):
            break  # the next top-level key
        match = re.match(r"^  ([A-Za-z0-9_.-]+):\s*$", line)
        if match:
            name = match.group(1)
            blocks[name] = []
        elif name is not None:
            blocks[name].append(line)
    return {key: "\n".join(value) for key, value in blocks.items()}


def compose_environment(block: str) -> dict[str, str]:
    """The `environment:` mapping (or list) of one service block."""
    env: dict[str, str] = {}
    lines = block.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "environment:":
            indent = len(line) - len(line.lstrip())
            for item in lines[i + 1 :]:
                if item.strip() and len(item) - len(item.lstrip()) <= indent:
                    break
                entry = item.strip()
                if not entry or entry.startswith("#"):
                    continue
                entry = entry.removeprefix("- ").strip().strip("'\"")
                if ":" in entry and ("=" not in entry or entry.index(":") < entry.index("=")):
                    key, _, value = entry.partition(":")
                else:
                    key, _, value = entry.partition("=")
                env[key.strip()] = value.split(" #")[0].strip().strip("'\"")
    return env


def front_matter(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, f"{path} does not start with a --- front matter block ---"
    fields = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def seconds(duration: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)?", duration):
        total += float(amount) * {"ms": 0.001, "h": 3600, "m": 60, "s": 1, "": 1}[unit]
    return total


# ---------------------------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_is_multi_stage_on_slim_python() -> None:
    stages = instructions_named("FROM")
    assert len(stages) >= 2, "expected a build stage and a runtime stage"
    for stage in stages:
        assert re.match(r"python:(\$\{PYTHON_VERSION\}|3\.1[1-9])-slim\b", stage), stage
    runtime = stages[-1]
    assert " AS " in runtime.upper()


def test_runtime_installs_from_wheels_only_and_has_no_compilers() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    runtime = text[text.rindex("\nFROM ") :]
    build = text[: text.rindex("\nFROM ")]
    assert re.search(r"pip wheel\b.*--wheel-dir /wheels", build), "the build stage makes wheels in /wheels"
    installs = [line for line in runtime.splitlines() if "pip install" in line]
    assert installs, "the runtime stage installs the service"
    for line in installs:
        assert "--no-index" in line and "--find-links /wheels" in line, line
    for compiler in ("build-essential", "gcc", "g++", "apt-get install"):
        assert compiler not in runtime, f"{compiler} in the runtime stage"


def test_runs_as_a_fixed_non_root_user_in_app() -> None:
    users = instructions_named("USER")
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"useradd\b.*--uid \d+", text), "the user has a fixed UID"
    assert instructions_named("WORKDIR")[-1] == "/app"


def test_healthcheck_asks_api_health_with_the_standard_library() -> None:
    checks = instructions_named("HEALTHCHECK")
    assert len(checks) == 1
    check = checks[0]
    assert "/api/health" in check and "127.0.0.1" in check
    assert "urllib.request" in check, "slim images have no curl"
    assert "curl" not in check and "wget" not in check


def test_exposes_rest_and_grpc_ports() -> None:
    exposed = {port for arguments in instructions_named("EXPOSE") for port in arguments.split()}
    assert {"8000", "50051"} <= exposed


def test_cmd_is_exec_form_so_the_service_is_pid_1() -> None:
    cmds = instructions_named("CMD")
    assert cmds, "no CMD"
    assert cmds[-1].startswith("["), "shell-form CMD: /bin/sh would be PID 1 and swallow SIGTERM"
    command = json.loads(cmds[-1])  # exec form is a JSON array
    assert command == [SERVICE, "serve"]
    assert not instructions_named("ENTRYPOINT"), "an ENTRYPOINT would wrap the service"
    for signal in instructions_named("STOPSIGNAL"):
        assert signal in {"SIGTERM", "15"}


def test_dockerfile_environment() -> None:
    env = dict(
        token.split("=", 1) for a in instructions_named("ENV") for token in shlex.split(a) if "=" in token
    )
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert env.get("LOG_FORMAT") == "json"


def test_dockerignore_keeps_secrets_out_and_the_package_in() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ".env" in patterns and ".git" in patterns
    for needed in (
        "pyproject.toml",
        "README.md",
        "domain",
        "application",
        "adapters",
        "entrypoints",
        "protos",
    ):
        assert needed not in patterns, f"{needed} is needed by the build"
    for copied in re.findall(
        r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE
    ):
        for source in copied.split():
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


# ---------------------------------------------------------------------------------------------
# docker-compose.yml


def test_compose_has_redis_with_a_healthcheck() -> None:
    services = compose_service_blocks()
    assert "redis" in services
    redis = services["redis"]
    assert re.search(r"image:\s*redis:7-alpine", redis)
    assert "healthcheck:" in redis and "redis-cli" in redis and "ping" in redis


def test_compose_service_uses_redis() -> None:
    services = compose_service_blocks()
    assert SERVICE in services, f"services: {sorted(services)}"
    service = services[SERVICE]
    env = compose_environment(service)
    assert env.get("CACHE_BACKEND") == "redis"
    assert re.fullmatch(r"redis://redis:6379(/\d+)?", env.get("REDIS_URL", "")), env.get("REDIS_URL")
    assert re.search(r"depends_on:\s*\n\s+redis:\s*\n\s+condition:\s*service_healthy", service)
    assert re.search(r"build:\s*\.", service)


def test_compose_has_postgres_as_the_candle_store_with_a_volume_and_a_healthcheck() -> None:
    document = yaml.safe_load(compose_text())
    postgres = document["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["volumes"] == ["candles:/var/lib/postgresql/data"]
    assert "candles" in document["volumes"]
    assert "ports" not in postgres  # only the service reaches it
    env = postgres["environment"]
    service = document["services"][SERVICE]
    assert service["environment"]["CANDLE_STORE"] == "postgres"
    assert service["environment"]["DATABASE_URL"] == (
        f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    )
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_ports_env_file_and_stop_grace() -> None:
    service = compose_service_blocks()[SERVICE]
    assert re.search(r"""["']?8000:8000["']?""", service)
    assert re.search(r"""["']?50051:50051["']?""", service)
    assert re.search(r"env_file:\s*\n\s+- path:\s*\.env\s*\n\s+required:\s*false", service), (
        "the .env file must be optional"
    )
    grace = re.search(r"stop_grace_period:\s*(\S+)", service)
    assert grace, "no stop_grace_period"
    shutdown_grace = float(
        re.search(r"^SHUTDOWN_GRACE=(\S+)", ENV_EXAMPLE.read_text(), re.MULTILINE).group(1)
    )
    # API.md: on SIGTERM the process has exited within SHUTDOWN_GRACE + 1 s; Compose must wait that long
    assert seconds(grace.group(1)) >= shutdown_grace + 1
    assert "init: true" not in service, "the service itself must be PID 1"


def test_compose_parses_as_yaml() -> None:
    document = yaml.safe_load(compose_text())
    service = document["services"][SERVICE]
    assert document["services"]["redis"]["image"] == "redis:7-alpine"
    assert service["environment"]["CACHE_BACKEND"] == "redis"
    assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379")
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert service["env_file"] == [{"path": ".env", "required": False}]
    assert {"8000:8000", "50051:50051"} <= set(service["ports"])


# ---------------------------------------------------------------------------------------------
# Hugging Face Space README


def test_hugging_face_front_matter() -> None:
    fields = front_matter(HF_README)
    assert fields.get("sdk") == "docker"
    assert fields.get("app_port") == "8000"
    assert fields.get("pinned") == "false"
    for key in ("title", "emoji", "colorFrom", "colorTo"):
        assert fields.get(key), f"{key} missing"


def test_hugging_face_readme_mentions_what_operators_need() -> None:
    text = HF_README.read_text(encoding="utf-8")
    for needed in (
        "BINANCE_BASE_URL=https://data-api.binance.vision",
        "COINCAP_API_KEY",
        "ADMIN_TOKEN",
        "50051",
    ):
        assert needed in text, needed


# ---------------------------------------------------------------------------------------------
# every setting named in the deployment files is a real one


def test_every_env_var_named_exists_in_env_example() -> None:
    known = env_example_names()
    named = set(dockerfile_env_names())
    for block in compose_service_blocks().values():
        named |= set(compose_environment(block))
    settings = {name for name in named if not NOT_SETTINGS.match(name)}
    assert {"LOG_FORMAT", "CACHE_BACKEND", "REDIS_URL"} <= settings
    assert settings - known == set(), f"not in .env.example: {sorted(settings - known)}"


def test_env_vars_mentioned_in_hugging_face_readme_exist() -> None:
    known = env_example_names()
    mentioned = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})(?:=|`)", HF_README.read_text(encoding="utf-8")))
    assert mentioned, "the Space README names settings"
    assert mentioned - known == set(), f"not in .env.example: {sorted(mentioned - known)}"


def test_every_setting_is_in_env_example_with_its_default_and_in_the_readme() -> None:
    from entrypoints.settings import Settings

    example = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    readme = (ROOT / "README.md").read_text()
    names = env_example_names()
    for name in Settings.model_fields:
        assert name.upper() in names, f"{name.upper()} missing from .env.example"
        assert getattr(example, name) == getattr(defaults, name), f"{name.upper()}: .env.example is not the default"
        parts = name.upper().split("_")
        grouped = any(  # a row like "CACHE_TTL_PRICES / _OHLCV / _SENTIMENT"
            "_".join(parts[:i]) + "_" in readme and "/ _" + "_".join(parts[i:]) in readme for i in range(1, len(parts))
        )
        assert name.upper() in readme or grouped, f"{name.upper()} missing from the README"
