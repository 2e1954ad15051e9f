"""Production refuses to start without its secrets; the demo makes its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(env_extra: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FENGQIAO_FIELD_KEY"}}
    env.update({"FENGQIAO_VAR": str(tmp_path), **env_extra})
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'fengqiao.settings'; "
        "django.setup(); print('ok')"
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_without_secrets_refuses_to_start(tmp_path):
    result = _run({"FENGQIAO_ENV": "production", "ALLOWED_HOSTS": "x.example"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_production_without_field_key_refuses_to_start(tmp_path):
    result = _run(
        {"FENGQIAO_ENV": "production", "ALLOWED_HOSTS": "x.example", "SECRET_KEY": "s" * 50},
        tmp_path,
    )
    assert result.returncode != 0
    assert "FENGQIAO_FIELD_KEY must be set in production" in result.stderr


def test_demo_generates_its_keys_once_and_keeps_them(tmp_path):
    assert _run({"FENGQIAO_ENV": "demo"}, tmp_path).stdout.strip() == "ok"
    first = (tmp_path / "fengqiao_field_key").read_text()
    assert _run({"FENGQIAO_ENV": "demo"}, tmp_path).returncode == 0
    assert (tmp_path / "fengqiao_field_key").read_text() == first
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_cli_help():
    result = subprocess.run(
        [sys.executable, "-m", "fengqiao", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0 and "audit verify" in result.stdout
