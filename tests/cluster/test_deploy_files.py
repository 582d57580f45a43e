"""deploy/ stays consistent with itself and with the code (part of ``make test``: no
process is started here; ``make test-cluster`` runs the files for real).

The proxy's error pages are well-formed Chinese HTTP responses; every command of the
systemd units exists in a checkout (the venv's programs, the gunicorn settings, the flask
commands); the ports of cme.target are the proxy's servers; gunicorn's worker count is the
proxy's ``maxconn``; and the environment template is production behind one proxy.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cluster.harness import (
    DEPLOY,
    ENV_FILE,
    INSTALL_ROOT,
    UNITS,
    Cluster,
    haproxy_servers,
    haproxy_setting,
    here,
    read_env_template,
    read_unit,
)

HAPROXY = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
CJK = re.compile(r"[\u4e00-\u9fff]")
LONG_RUNNING = {"cme-web@.service": "8001", "cme-worker@.service": "1"}
ONESHOT = ("cme-periodic.service", "cme-digest.service")


@pytest.mark.parametrize("code, path", re.findall(r"errorfile (\d+) (\S+)", HAPROXY))
def test_the_proxys_error_pages_are_chinese_http_responses(code, path):
    raw = Path(here(path)).read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {code} ")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert int(headers["Content-Length"]) == len(body)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = body.decode("utf-8")
    assert f'<meta name="cme-proxy-error" content="{code}">' in text
    assert CJK.search(re.search(r"<h1>(.*)</h1>", text).group(1))
    # HAProxy keeps an error page in one buffer (tune.bufsize, 16 kB by default).
    assert len(raw) < 16_000


@pytest.mark.parametrize("name", [*LONG_RUNNING, *ONESHOT])
def test_each_unit_runs_a_command_of_the_checkout_with_the_shared_environment(name):
    unit = read_unit(name, LONG_RUNNING.get(name, ""))
    assert unit.environment_file == ENV_FILE
    assert unit.cwd == INSTALL_ROOT
    program = Path(here(unit.argv[0]))
    assert program.parent == DEPLOY.parent / ".venv" / "bin"
    assert os.access(program, os.X_OK), program
    for arg in unit.argv[1:]:
        if arg.startswith(INSTALL_ROOT):
            assert Path(here(arg)).is_file(), arg
    text = (UNITS / name).read_text(encoding="utf-8")
    if name in LONG_RUNNING:
        assert "\nRestart=always\n" in text


def test_the_flask_commands_of_the_units_exist():
    from app import create_app

    commands = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).cli.list_commands(None)
    for name in ONESHOT:
        argv = read_unit(name).argv
        assert argv[1:3] == ["--app", "app"]
        assert argv[3] in commands, f"{name}: flask has no command {argv[3]}"


def test_the_target_starts_the_instances_the_proxy_sends_to():
    wants = re.search(r"^Wants=(.*)$", (UNITS / "cme.target").read_text(), re.M).group(1)
    ports = sorted(re.findall(r"cme-web@(\d+)\.service", wants))
    assert ports == sorted(address.split(":")[1] for _, address in haproxy_servers())
    assert "cme-periodic.timer" in wants and "cme-worker@1.service" in wants


def test_the_environment_is_production_behind_one_proxy_and_matches_the_proxy():
    env = read_env_template()
    assert env["CME_ENV"] == "production"
    assert env["PROXY_FIX_X_FOR"] == env["PROXY_FIX_X_PROTO"] == "1"
    for key in ("SECRET_KEY", "SECURITY_PASSWORD_SALT", "DATABASE_URL", "REDIS_URL", "JOBS_DIR"):
        assert env[key], key
    assert not any(v.startswith(("'", '"')) for v in env.values()), "systemd keeps quotes"
    maxconn = int(haproxy_setting(r"default-server .*\bmaxconn (\d+)"))
    assert int(env["WEB_CONCURRENCY"]) == maxconn


def test_gunicorn_settings_come_from_the_environment_and_fit_the_proxys_timeouts(monkeypatch):
    monkeypatch.setenv("CME_BIND", "127.0.0.1:8123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    spec = importlib.util.spec_from_file_location("cme_gunicorn_conf", DEPLOY / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert (conf.bind, conf.workers) == ("127.0.0.1:8123", 3)
    server_timeout = int(haproxy_setting(r"^\s+timeout server (\d+)s"))
    assert server_timeout > conf.timeout
    assert conf.control_socket_disable is True


def test_systemd_accepts_the_units(tmp_path):
    """``systemd-analyze verify`` on the units as installed in this checkout: no unknown
    key, no wrong value, every command present."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    names = []
    for unit in sorted(UNITS.iterdir()):
        text = here(unit.read_text(encoding="utf-8"))
        text = text.replace(ENV_FILE, str(DEPLOY / "cme.env.example"))
        name = unit.name.replace("@.", f"@{LONG_RUNNING.get(unit.name, '')}.")
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(f"./{name}")
    result = subprocess.run(
        [analyze, "verify", *names], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_haproxy_accepts_its_configuration_with_only_ports_and_paths_changed():
    """``haproxy -c`` on deploy/haproxy.cfg as the cluster test renders it (its own ports,
    certificate and error-page paths; every replacement must match exactly once)."""
    if shutil.which("haproxy") is None or shutil.which("openssl") is None:
        pytest.skip("haproxy or openssl is not installed")
    cluster = Cluster()
    try:
        config = cluster.root / "haproxy.cfg"
        config.write_text(cluster.haproxy_config(cluster.make_certificate()), encoding="utf-8")
        result = subprocess.run(
            ["haproxy", "-c", "-q", "-f", str(config)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        cluster.stop()
