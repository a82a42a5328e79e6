"""A private Mosquitto for tests: the real broker on a free 127.0.0.1 port."""
import pathlib
import shutil
import socket
import subprocess

from conftest import free_port, stop_processes
from receiver import wait_for

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    """A private Mosquitto on 127.0.0.1; restartable on the same port."""

    def __init__(self, tmp, message_size_limit=None, listener_options=()):
        self.port = free_port()
        self.conf = pathlib.Path(tmp) / "mosquitto.conf"
        self.log = pathlib.Path(tmp) / "mosquitto.log"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false",
                 "log_dest stderr", "log_type all"]
        if message_size_limit:
            lines.append(f"message_size_limit {message_size_limit}")
        # Options of the listener (TLS files), after the listener line.
        lines += list(listener_options)
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc = None
        self.start()

    def start(self):
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                         stdout=subprocess.DEVNULL, stderr=log)

        def accepting():
            assert self.proc.poll() is None, "mosquitto exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(accepting, 10, "mosquitto to accept connections")

    def stop(self):
        if self.proc:
            stop_processes(self.proc)
