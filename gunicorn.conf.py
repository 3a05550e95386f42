"""gunicorn's settings file, read from the working directory by every `gunicorn` the project runs
(`make run`, the Dockerfile, docker-compose, the tests' app servers); command-line options still apply.

Metrics: the master gives this server a directory of its own for the workers' metric files, emptied at
start (PROMETHEUS_MULTIPROC_DIR, else a temporary one removed at exit), so that /metrics sums every
worker of this server and starts from zero with it (botgeneric.metrics_processes).
"""

import socket

from botgeneric import metrics_processes

# Each worker listens on a socket of its own (SO_REUSEPORT; gunicorn then binds in the workers, not the
# master), and the kernel spreads new connections over them. With one shared socket, the first worker to
# wake accepted every connection waiting: a client opening 32 connections at once had all of them served by
# one worker, one core, while the other idled (README, "Benchmark"). Linux balances; elsewhere it is
# harmless. Since the workers' sockets could join another server's on the same port, the master first
# checks that each address is free (`on_starting`).
reuse_port = True


def on_starting(server):
    refuse_taken_addresses(server)
    metrics_processes.prepare_directory("web")


def child_exit(server, worker):
    metrics_processes.process_exited(worker.pid)


def on_exit(server):
    metrics_processes.remove_directory()


def refuse_taken_addresses(server) -> None:
    """Stop with gunicorn's "Error: …" if another process listens on one of the TCP addresses (a bind
    without SO_REUSEPORT fails then), instead of sharing its connections with it. Not in a master started
    by a running one (USR2, a new binary): the old master's workers serve the port until it hands over."""
    if server.master_pid:
        return
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a Unix socket or a file descriptor
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise RuntimeError(f"cannot listen on {address[0]}:{address[1]}: {error.strerror}") from error
