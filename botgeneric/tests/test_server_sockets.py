"""The app server spreads connections over its workers: each worker listens on a socket of its own
(gunicorn.conf.py, `reuse_port`), so the kernel, not a race to accept(), decides which worker serves a
new connection. A port another process listens on stops the server with an error instead of being shared.
"""

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from testing.app_servers import ROOT, start_app_servers, stop_app_servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.app_servers]


def _listening_inodes(port: int) -> set[str]:
    """The inodes of the sockets listening on 127.0.0.1:`port` (state 0A in /proc/net/tcp)."""
    local = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return {fields[9] for fields in (line.split() for line in lines) if fields[1] == local and fields[3] == "0A"}


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _workers(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_each_worker_listens_on_a_socket_of_its_own(django_db_blocker):
    with django_db_blocker.unblock():
        [(process, url)] = start_app_servers(1, {}, workers=2)
    try:
        port = int(url.rsplit(":", 1)[1])
        listening = _listening_inodes(port)
        workers = _workers(process.pid)
        owned = [_socket_inodes(pid) & listening for pid in workers]

        assert len(workers) == 2
        assert all(len(inodes) == 1 for inodes in owned), owned
        assert owned[0] != owned[1]
        assert not _socket_inodes(process.pid) & listening  # the master accepts nothing
    finally:
        stop_app_servers([(process, url)])


def test_a_port_another_process_listens_on_stops_the_server():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "gunicorn", "botgeneric.asgi:application", "--bind", f"127.0.0.1:{port}"]
        command += ["--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "2"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr


def _config_module():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_master_started_by_a_running_one_takes_over_its_port():
    """USR2: the new master starts while the old one's workers still listen; the check stands aside."""
    check = _config_module().refuse_taken_addresses
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = SimpleNamespace(address=[taken.getsockname()])

        check(SimpleNamespace(master_pid=4242, cfg=config))
        with pytest.raises(RuntimeError, match="Address already in use"):
            check(SimpleNamespace(master_pid=0, cfg=config))
