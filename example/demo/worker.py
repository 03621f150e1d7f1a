"""Background process: `python -m demo.worker` (the seed's Celery worker)."""

import os
import signal
import sys
import time
from pathlib import Path

INTERVAL = float(os.environ.get("WORKER_INTERVAL", "2"))
HEARTBEAT = Path(os.environ.get("WORKER_HEARTBEAT", "/tmp/worker-heartbeat"))


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("worker: started", flush=True)
    tick = 0
    while True:
        tick += 1
        HEARTBEAT.write_text(f"{tick} {time.time():.0f}\n")
        print(f"worker: tick {tick}", flush=True)
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()
