"""A running studio on a free local port, shared by the studio tests of one module."""

from __future__ import annotations

import socket

import pytest

from studio_app import StudioConfig, launch


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studio")
    config = StudioConfig(port=free_port(), outputs=folder / "outputs", ratings=folder / "ratings.db",
                          profiles=folder / "profiles")
    app = launch(config, block=False)
    yield config
    app.close()
