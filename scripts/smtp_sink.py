"""A local SMTP server for the fault drill: records one JSON line per message received.

    python scripts/smtp_sink.py --port 2525 --out var/drill/sink.jsonl

Each line holds the ledger key (the X-Debrief-Email header), Message-ID and recipient, written
and flushed before the server answers "250", so a line exists for every accepted message.
SIGTERM stops it; the drill starts it again on the same port to end an outage.
"""

from __future__ import annotations

import argparse
import email
import json
import signal
import threading
import time

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, path: str, delay: float):
        self.out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's life
        self.delay, self.lock = delay, threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        line = {
            "key": message.get("X-Debrief-Email", ""),
            "message_id": message.get("Message-ID", ""),
            "to": envelope.rcpt_tos,
            "at": time.time(),
        }
        with self.lock:
            self.out.write(json.dumps(line) + "\n")
            self.out.flush()  # in the kernel's hands: the line survives this process dying
        if self.delay:
            time.sleep(self.delay)  # a slower relay, so faults land mid-sweep
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    controller = Controller(Recorder(args.out, args.delay), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"smtp sink listening on 127.0.0.1:{args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
