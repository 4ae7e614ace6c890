"""The simulator's probe server: answers while the process lives, off unless a port is set."""

import socket

import aiohttp

from fraud_simulator import cli
from fraud_simulator.health import start_health_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_healthz_and_metrics_answer():
    port = free_port()
    runner = await start_health_server("127.0.0.1", port)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200 and (await response.json())["status"] == "ok"
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200 and "python_info" in await response.text()
    finally:
        await runner.cleanup()


def test_health_server_is_off_by_default_and_set_from_the_environment():
    assert cli.parse_args(["run"], env={}).health_port == 0
    args = cli.parse_args(["run"], env={"SIMULATOR_HEALTH_PORT": "8080", "SIMULATOR_HEALTH_HOST": "0.0.0.0"})
    assert (args.health_port, args.health_host) == (8080, "0.0.0.0")
