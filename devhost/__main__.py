"""``python -m devhost``: serve the Functions app in the current directory.

Settings come from the environment and from ``local.settings.json`` ``Values``
(the environment wins). Prints ``devhost listening on http://HOST:PORT`` once
ready; SIGINT and SIGTERM stop the server, the blob poller and the activity workers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .activities import quiet_storage_logs
from .server import DevHost, DevHostConfig, ListenError
from .settings import apply_local_settings

log = logging.getLogger("devhost")


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--app",
        default="function_app",
        help="module[:attribute] of the FunctionApp (default: function_app:app)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071, help="0 picks a free port")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="activity worker processes (default: host.json "
        "maxConcurrentActivityFunctions, else one per CPU)",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=0.25, help="seconds between blob trigger scans"
    )
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    app_dir = Path.cwd()
    sys.path.insert(0, str(app_dir))  # the app module lives in the current directory
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_storage_logs()
    apply_local_settings(app_dir)
    # SIGTERM behaves like Ctrl+C: uvicorn shuts down gracefully on either, then
    # re-raises it, and KeyboardInterrupt below ends the process with status 0.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    config = DevHostConfig(
        app=args.app,
        host=args.host,
        port=args.port,
        max_workers=args.workers,
        poll_interval=args.poll_interval,
        app_dir=app_dir,
        log_level=args.log_level,
    )
    try:
        host = DevHost(config, settings=os.environ)
    except ListenError as error:
        log.error("%s", error)
        return 1
    except KeyboardInterrupt:
        return 0
    try:
        asyncio.run(host.serve(on_ready=lambda url: print(f"devhost listening on {url}", flush=True)))
    except KeyboardInterrupt:
        pass
    finally:
        host.close()
    log.info("devhost stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
