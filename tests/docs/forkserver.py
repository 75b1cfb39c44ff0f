"""Run `siamdup` commands without paying torch's import each time: a fork server and its client.

    python forkserver.py serve SOCKET PIDFILE   # imports siamdup's CLI once, then forks one child a command
    python forkserver.py SOCKET ARGS...         # the client: runs `siamdup ARGS...` in a fresh child

The client passes its stdin, stdout and stderr, working directory and environment to the server over a
Unix socket (SCM_RIGHTS); the child runs the typer app with them exactly as the console script would and
sends back its pid, then its exit status; the client passes on the signals it gets (`kill %1`) to that pid.
Every child's pid is appended to PIDFILE, so the test can stop a child that
keeps running (`siamdup serve`) by its id. The parent never runs torch code, so forking after the import is
safe: no thread pool exists yet.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys


def serve(path: str, pidfile: str) -> None:
    from siamdup.cli import app  # the expensive import, done once

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        pid = os.fork()
        if pid == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            request = json.loads(message)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            sys.stdin, sys.stdout, sys.stderr = (
                os.fdopen(0, "r", closefd=False),
                os.fdopen(1, "w", closefd=False),
                os.fdopen(2, "w", closefd=False),
            )
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            conn.sendall(f"{os.getpid()}\n".encode())  # the client forwards its signals to this pid
            code = 0
            try:
                app(args=request["argv"], prog_name="siamdup", standalone_mode=True)
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            except BaseException as error:  # a traceback is a failed command, reported as such
                import traceback

                traceback.print_exc()
                code = 1 if not isinstance(error, KeyboardInterrupt) else 130
            sys.stdout.flush()
            sys.stderr.flush()
            conn.sendall(str(code).encode())
            os._exit(0)
        with open(pidfile, "a") as handle:
            handle.write(f"{pid}\n")
        conn.close()
        for fd in fds:
            os.close(fd)


def client(path: str, argv: list[str]) -> int:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
    reply = b""
    while b"\n" not in reply and (chunk := conn.recv(64)):
        reply += chunk
    child, _, reply = reply.partition(b"\n")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # `kill %1` stops the command, as it would
        signal.signal(sig, lambda number, _frame: os.kill(int(child), number))
    while chunk := conn.recv(64):
        reply += chunk
    return int(reply or b"1")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit(client(sys.argv[1], sys.argv[2:]))
