"""The signing secret: configured, from a file, or generated; never anywhere but here."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from live.config import Settings, resolve_secret


def test_a_configured_secret_wins(tmp_path: Path) -> None:
    settings = Settings(secret="configured-0123456789", secret_file=tmp_path / "unused",
                        redis_url="redis://127.0.0.1:6379/0")
    assert resolve_secret(settings).secret == "configured-0123456789"
    assert not (tmp_path / "unused").exists()


def test_a_secret_file_is_created_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    first = resolve_secret(Settings(secret_file=path)).secret
    assert first is not None and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_secret(Settings(secret_file=path)).secret == first  # a restart keeps the links


def test_an_existing_secret_file_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "docker-secret"
    path.write_text("from-a-docker-secret-file\n")
    assert resolve_secret(Settings(secret_file=path)).secret == "from-a-docker-secret-file"
    path.write_text("short\n")
    with pytest.raises(ValueError, match="at least 16"):
        resolve_secret(Settings(secret_file=path))


def test_on_redis_without_a_secret_the_default_file_holds_it(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    secret = resolve_secret(Settings(redis_url="redis://127.0.0.1:6379/0")).secret
    assert (tmp_path / ".tribune-secret").read_text().strip() == secret


def test_in_memory_each_start_has_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    a, b = resolve_secret(Settings()).secret, resolve_secret(Settings()).secret
    assert a and b and a != b
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_environment_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIBUNE_SECRET_FILE", str(tmp_path / "s"))
    monkeypatch.delenv("TRIBUNE_SECRET", raising=False)
    assert Settings.from_env().secret_file == tmp_path / "s"
