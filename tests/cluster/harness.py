"""A whole CME installation on this machine, built from deploy/ (the cluster test and
bench/cluster.py): its own PostgreSQL cluster and Redis server, two web instances
(gunicorn), two job workers, HAProxy in front with TLS, all on free 127.0.0.1 ports, in a
temporary directory.

The files of deploy/ are used as they are, so the test and the installation cannot drift:

- the environment is deploy/cme.env.example with only the secrets and addresses replaced
  (each replaced key must be in the template);
- each process runs the ``ExecStart`` command of its systemd unit (deploy/systemd/), with
  the unit's ``Environment=`` lines, ``%i`` and the install folder (/srv/cme) replaced by
  this checkout;
- HAProxy runs deploy/haproxy.cfg with only the ports, addresses and file paths replaced
  (each replacement must match exactly once: a changed line stops the test, not a silent
  drift).

``Cluster.stop()`` kills every process it started (each in a process group of its own) and
removes the directory, whatever happened before.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
# Where deploy/ says the checkout is installed.
INSTALL_ROOT = "/srv/cme"
ENV_FILE = "/etc/cme/cme.env"
HEALTH_PATH = "/static/cme-handlers.js"
PASSWORD = "demo-pass-2026"


class ClusterError(RuntimeError):
    """The installation could not be brought up (a process did not start in time)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin() -> Path:
    """The newest PostgreSQL server binaries of Debian's packages."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        raise ClusterError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return found[-1].parent


def as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root: run its commands as the postgres user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


# -- deploy/ read as the installation reads it ---------------------------------------------
def read_env_template(path: Path = DEPLOY / "cme.env.example") -> dict[str, str]:
    """The KEY=value lines of an environment file (systemd's EnvironmentFile= format)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def render_env(replacements: dict[str, str]) -> dict[str, str]:
    """deploy/cme.env.example with ``replacements``; each must replace a key it has."""
    values = read_env_template()
    missing = sorted(set(replacements) - set(values))
    if missing:
        raise ClusterError(f"deploy/cme.env.example has no {', '.join(missing)}")
    return values | replacements


@dataclass
class Unit:
    """The [Service] settings of a systemd unit that the test needs."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    restart_sec: float
    environment_file: str


def read_unit(name: str, instance: str = "") -> Unit:
    """``deploy/systemd/<name>``'s ExecStart, Environment=, WorkingDirectory=, RestartSec=
    and EnvironmentFile=, with ``%i`` replaced by ``instance``."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in (UNITS / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value.replace("%i", instance))
    env = {}
    for assignment in settings.get("Environment", []):
        for item in shlex.split(assignment):
            key, _, value = item.partition("=")
            env[key] = value
    (exec_start,) = settings["ExecStart"]
    return Unit(
        argv=shlex.split(exec_start),
        env=env,
        cwd=settings["WorkingDirectory"][0],
        restart_sec=float(settings.get("RestartSec", ["0.1"])[0]),
        environment_file=settings["EnvironmentFile"][0],
    )


def here(value: str) -> str:
    """A path of the installation as a path of this checkout."""
    return value.replace(INSTALL_ROOT, str(ROOT))


def replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise ClusterError(f"deploy/haproxy.cfg: {old!r} found {text.count(old)} times, not once")
    return text.replace(old, new)


def haproxy_setting(pattern: str) -> str:
    match = re.search(pattern, (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8"), re.M)
    if not match:
        raise ClusterError(f"deploy/haproxy.cfg has no line matching {pattern!r}")
    return match.group(1)


def haproxy_servers() -> list[tuple[str, str]]:
    """(name, address) of each ``server`` line of the backend."""
    text = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    return re.findall(r"^\s+server (\S+) (\S+)\s*$", text, re.M)


# -- processes -----------------------------------------------------------------------------
def die_with_parent() -> None:
    """In the child before it runs: SIGKILL it when the test's process dies, even by
    ``kill -9`` (Linux's PR_SET_PDEATHSIG), so that no server outlives a killed run."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class Service:
    """One long-running process, started in a process group of its own."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: str
    log: Path
    restart_sec: float = 0.1
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.starts += 1

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """``sig`` to the whole process group (gunicorn's master and its workers), as
        systemd's KillMode=mixed ends what is left of a unit whose main process died."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Workers of a killed master may outlive it for a moment: none may stay.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def restart_after_kill(self) -> None:
        """What systemd does for Restart=always: wait RestartSec, start again."""
        self.kill()
        time.sleep(self.restart_sec)
        self.start()


def wait_until(check, what: str, timeout: float = 60.0, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as error:  # not up yet: connection refused, reset, …
            last = error
        time.sleep(every)
    raise ClusterError(f"{what} not ready after {timeout:.0f} s ({last})")


def http_ok(url: str, **kwargs) -> bool:
    return requests.get(url, timeout=2, **kwargs).status_code == 200


# -- the installation ----------------------------------------------------------------------
@dataclass
class Cluster:
    """PostgreSQL, Redis, ``webs`` gunicorn instances, ``workers`` job workers, HAProxy."""

    webs: int = 2
    workers: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cme-cluster-")))
    services: dict[str, Service] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pg_dir = self.root / "pg"
        self.pg_port, self.redis_port = free_port(), free_port()
        self.http_port, self.https_port, self.stats_port = free_port(), free_port(), free_port()
        self.web_ports = [free_port() for _ in range(self.webs)]
        self.jobs_dir = self.root / "jobs"
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.database_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/cme"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.base = f"https://127.0.0.1:{self.https_port}"
        self.cert = self.root / "tls.crt"
        self.pg_started = False

    # -- environment ---------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        values = render_env(
            {
                "SECRET_KEY": secrets.token_hex(32),
                "SECURITY_PASSWORD_SALT": secrets.token_hex(32),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "JOBS_DIR": str(self.jobs_dir),
                "SITE_URL": self.base,
            }
        )
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        return base | values | self.extra_env

    def unit_process(self, unit_name: str, instance: str, name: str) -> Service:
        unit = read_unit(unit_name, instance)
        if unit.environment_file != ENV_FILE:
            raise ClusterError(f"{unit_name}: EnvironmentFile is not {ENV_FILE}")
        env = self.env | unit.env
        service = Service(
            name=name,
            argv=[here(arg) for arg in unit.argv],
            env=env,
            cwd=here(unit.cwd),
            log=self.logs / f"{name}.log",
            restart_sec=unit.restart_sec,
        )
        self.services[name] = service
        return service

    def run_unit_once(self, unit_name: str, env: dict[str, str] | None = None):
        """A oneshot unit's command (the periodic pass), to its end."""
        unit = read_unit(unit_name)
        return subprocess.run(
            [here(arg) for arg in unit.argv],
            env=self.env | unit.env | (env or {}),
            cwd=here(unit.cwd),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise ClusterError(f"flask {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    # -- PostgreSQL ------------------------------------------------------------------------
    def pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [*as_postgres(), str(postgres_bin() / args[0]), *args[1:]]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise ClusterError(f"{args[0]}: {result.stdout}{result.stderr}")
        return result

    def start_postgres(self) -> None:
        self.pg_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.pg_dir, "postgres")
        self.pg("initdb", "-D", str(self.pg_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--no-locale", "--no-sync")  # fmt: skip
        self.pg_start()
        self.pg("createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "cme")

    def pg_start(self) -> None:
        options = (
            f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.pg_dir}"
            " -c max_connections=200"
        )
        log = self.pg_dir / "server.log"
        self.pg("pg_ctl", "-D", str(self.pg_dir), "-l", str(log), "-o", options, "-w", "start")
        self.pg_started = True

    def pg_restart(self) -> None:
        """A fast shutdown (sessions ended, transactions rolled back) and a start."""
        self.pg("pg_ctl", "-D", str(self.pg_dir), "-m", "fast", "-w", "stop")
        self.pg_start()

    # -- Redis -----------------------------------------------------------------------------
    def redis_service(self) -> Service:
        argv = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.root)]  # fmt: skip
        service = Service("redis", argv, dict(os.environ), str(self.root), self.logs / "redis.log")
        self.services["redis"] = service
        return service

    def redis_restart(self) -> None:
        """systemctl restart redis-server: SIGTERM, then a new server (its data gone)."""
        redis = self.services["redis"]
        redis.kill(signal.SIGTERM)
        redis.start()
        self.wait_redis()

    def wait_redis(self) -> None:
        from redis import Redis

        client = Redis.from_url(self.redis_url, socket_timeout=1)
        wait_until(client.ping, "Redis", timeout=20)
        client.close()

    # -- HAProxy ---------------------------------------------------------------------------
    def make_certificate(self) -> Path:
        key = self.root / "tls.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(self.cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        pem = self.root / "tls.pem"
        pem.write_bytes(self.cert.read_bytes() + key.read_bytes())
        return pem

    def haproxy_config(self, pem: Path, servers: list[int] | None = None) -> str:
        """deploy/haproxy.cfg with this machine's ports, addresses and paths."""
        text = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
        text = replace_once(text, "bind :80\n", f"bind 127.0.0.1:{self.http_port}\n")
        text = replace_once(
            text,
            "bind :443 ssl crt /etc/cme/tls.pem",
            f"bind 127.0.0.1:{self.https_port} ssl crt {pem}",
        )
        text = replace_once(text, "bind 127.0.0.1:8404\n", f"bind 127.0.0.1:{self.stats_port}\n")
        text = replace_once(text, "log /dev/log local0", "log stdout format raw local0")
        for path in re.findall(r"errorfile \d+ (\S+)", text):
            text = replace_once(text, path, here(path))
        ports = servers if servers is not None else self.web_ports
        lines = haproxy_servers()
        if len(lines) != len(self.web_ports):
            raise ClusterError(f"deploy/haproxy.cfg lists {len(lines)} servers, not {self.webs}")
        for (name, address), port in zip(lines, self.web_ports, strict=True):
            wanted = f"server {name} 127.0.0.1:{port}" if port in ports else f"#{name}"
            text = replace_once(text, f"server {name} {address}", wanted)
        if os.geteuid() != 0:  # only root may change its user
            text = text.replace("    user haproxy\n", "").replace("    group haproxy\n", "")
        return text

    def start_haproxy(self, servers: list[int] | None = None) -> None:
        config = self.root / "haproxy.cfg"
        config.write_text(self.haproxy_config(self.make_certificate(), servers), encoding="utf-8")
        check = subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], capture_output=True)
        if check.returncode != 0:
            raise ClusterError(f"haproxy -c: {check.stdout!r} {check.stderr!r}")
        argv = ["haproxy", "-db", "-f", str(config)]
        service = Service(
            "haproxy", argv, dict(os.environ), str(self.root), self.logs / "haproxy.log"
        )
        self.services["haproxy"] = service
        service.start()
        wait_until(lambda: http_ok(self.base + HEALTH_PATH, verify=str(self.cert)), "HAProxy")

    # -- web instances and workers ---------------------------------------------------------
    def web(self, index: int) -> Service:
        return self.services[f"web{index + 1}"]

    def web_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.web_ports[index]}"

    def wait_web(self, index: int) -> None:
        wait_until(lambda: http_ok(self.web_url(index) + HEALTH_PATH), f"web{index + 1}")

    def restart_web(self, index: int) -> None:
        self.web(index).restart_after_kill()
        self.wait_web(index)

    def worker(self, index: int) -> Service:
        return self.services[f"worker{index + 1}"]

    # -- the whole ---------------------------------------------------------------------------
    def start(self, *, web_count: int | None = None) -> Cluster:
        """Everything, in the order of a first installation; ``web_count`` instances of
        the ``webs`` the proxy lists are started (one, for the single-instance bench)."""
        self.env = self.environment()
        self.mark("start")
        self.start_postgres()
        self.redis_service().start()
        self.wait_redis()
        self.mark("postgresql and redis")
        self.flask("db", "upgrade")
        self.mark("db upgrade")
        self.flask("seed-demo")
        self.mark("seed-demo")
        started = self.web_ports[: web_count or self.webs]
        for index, port in enumerate(self.web_ports):
            service = self.unit_process("cme-web@.service", str(port), f"web{index + 1}")
            if port in started:
                service.start()
        for index in range(self.workers):
            self.unit_process("cme-worker@.service", str(index + 1), f"worker{index + 1}").start()
        for index, port in enumerate(self.web_ports):
            if port in started:
                self.wait_web(index)
        self.mark("web instances and workers")
        self.start_haproxy(started)
        self.mark("haproxy")
        return self

    def mark(self, step: str) -> None:
        """Seconds since the previous step, kept in ``timings`` (the test prints them)."""
        now = time.monotonic()
        if step != "start":
            self.timings[step] = round(now - self._last, 1)
        self._last = now

    def stop(self) -> None:
        """Every process killed, the PostgreSQL cluster stopped, the directory removed."""
        for service in reversed(list(self.services.values())):
            with contextlib.suppress(Exception):
                service.kill(signal.SIGKILL)
        if self.pg_started:
            self.pg("pg_ctl", "-D", str(self.pg_dir), "-m", "immediate", "-w", "stop", check=False)
        if os.environ.get("CME_CLUSTER_KEEP"):
            print(f"cluster directory kept: {self.root}")
            return
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stats(self) -> list[dict[str, str]]:
        """HAProxy's counters, one dict per frontend, backend and server."""
        text = requests.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=5).text
        header, *rows = text.strip().splitlines()
        names = header.lstrip("# ").split(",")
        return [dict(zip(names, row.split(","), strict=False)) for row in rows]
