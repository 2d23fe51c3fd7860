"""Fixtures shared by every test package."""

from __future__ import annotations

import pytest

from avatar import i18n
from avatar.cli import main


@pytest.fixture(scope="session", autouse=True)
def temporary_cache_dir(tmp_path_factory):
    """Keep model rewrites and extracted training pairs made during the tests out of the user's real cache."""
    with pytest.MonkeyPatch.context() as patch:
        cache = tmp_path_factory.mktemp("avatar-cache")
        patch.setenv("AVATAR_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture
def english_messages():
    """Show CLI messages in English whatever the machine's locale."""
    i18n.set_language("en")
    yield
    i18n.set_language(None)


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run `avatar ARGS` in-process; return the exit status, standard output and standard error."""
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err
