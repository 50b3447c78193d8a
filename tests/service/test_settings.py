"""Settings come from the environment; the export CLI writes the committed format."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import openapi_export
from service.settings import Settings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("WORKERS", "3")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("LOSSCORE_MAX_BODY_BYTES", "1234")
    monkeypatch.setenv("LOSSCORE_MAX_CPU_JOBS", "5")
    monkeypatch.setenv("LOSSCORE_FORWARDED_ALLOW_IPS", "10.0.0.1,10.0.0.2")
    s = Settings()
    assert (s.host, s.port, s.workers, s.log_level) == ("0.0.0.0", 9001, 3, "warning")
    assert s.max_body_bytes == 1234
    assert s.max_cpu_jobs == 5
    assert s.forwarded_allow_ips == "10.0.0.1,10.0.0.2"


def test_invalid_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(ValueError, match="port"):
        Settings()


def test_export_cli_writes_the_committed_format(tmp_path: Path) -> None:
    out = tmp_path / "spec" / "openapi.json"
    assert openapi_export.main([str(out)]) == 0
    committed = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
    assert out.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")
