"""Sending HTTP requests to providers with ``requests``, from the caller's
thread or from a small pool of threads (no database in here).

The statuses of different orders are independent, so the requests of a batch
may be in flight together: the Odoo side builds them, takes their rate-limit
slots and reads the answers in its own thread; the pool only sends. Each
pool thread keeps one ``requests`` session per key (a database and a
source): connections are reused, and a session is never shared by threads.
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

_SESSIONS = threading.local()
_POOL = {"pid": None, "workers": 0, "executor": None}
_POOL_LOCK = threading.Lock()


def send(session, request, timeouts):
    """Send ``request`` (a dict: method, url, headers, body) once, without
    following redirects. Returns ``(response, error, duration)``: the answer
    or None, the transport error as text or None, the seconds it took."""
    started = time.monotonic()
    try:
        response = session.request(
            request.get("method", "POST"),
            request["url"],
            headers=request.get("headers"),
            data=request.get("body"),
            timeout=timeouts,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        return None, f"Timeout: {exc}", time.monotonic() - started
    except requests.RequestException as exc:
        return None, f"Connection error: {exc}", time.monotonic() - started
    return response, None, time.monotonic() - started


def thread_session(key):
    """The ``requests`` session of ``key`` in the current thread."""
    sessions = _SESSIONS.__dict__.setdefault("by_key", {})
    if key not in sessions:
        sessions[key] = requests.Session()
    return sessions[key]


def submit(key, request, timeouts, workers):
    """Send ``request`` from the pool (``workers`` threads) with the pool
    thread's session of ``key``; returns a future of ``send``'s result."""
    return _executor(workers).submit(_send_from_pool, key, request, timeouts)


def _send_from_pool(key, request, timeouts):
    return send(thread_session(key), request, timeouts)


def _executor(workers):
    # One pool per process, made on first use: Odoo's prefork workers fork
    # after this module is imported, and threads do not survive a fork.
    with _POOL_LOCK:
        if _POOL["pid"] != os.getpid() or _POOL["workers"] != workers:
            if _POOL["pid"] == os.getpid():
                _POOL["executor"].shutdown(wait=False)
            _POOL.update(
                pid=os.getpid(),
                workers=workers,
                executor=ThreadPoolExecutor(
                    max_workers=workers, thread_name_prefix="oms-send"
                ),
            )
        return _POOL["executor"]
