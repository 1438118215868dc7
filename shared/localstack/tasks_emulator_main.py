"""Start gcloud-tasks-emulator bound to 127.0.0.1 (its own CLI binds every interface).

Runs under the emulator's private virtualenv (the emulator pins protobuf 4, which the
project's clients cannot use), so this file imports nothing from the project. The emulator
only dispatches: rate limits, task-name dedup and retry backoff are not enforced by it.
"""

import argparse
import signal
import threading
from concurrent import futures

import grpc
from gcloud_tasks_emulator import server


class LoopbackAPIThread(server.APIThread):
    def run(self) -> None:
        self._httpd = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_CloudTasksServicer_to_server(server.Greeter(self._state), self._httpd)
        self._httpd.add_insecure_port(f"127.0.0.1:{self._port}")
        self._httpd.start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server.APIThread = LoopbackAPIThread
    emulator = server.create_server("127.0.0.1", args.port, "127.0.0.1", 80, [], 3)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    emulator.start()
    stopped.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
