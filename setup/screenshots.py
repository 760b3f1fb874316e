"""Take the readme's screenshots from a running Odoo (the demo of
``setup/run.sh``) in headless Chromium.

    python setup/screenshots.py --odoo-url http://localhost:8069 --db oms_demo \
        --out oms_integration/static/description/screenshots

Each shot is a path of the web client (``/odoo/...``) and a file name; the
script logs in as the given user, opens the path, waits until the web client
is idle and saves a PNG. It drives the browser through the DevTools protocol
(websocket-client, which Odoo's own tours use too).
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests
import websocket

# (file name, path in the web client, CSS selector that must be shown first)
ACTION = "/odoo/action-oms_integration.oms_integration_"
SHOTS = [
    (
        "dashboard.png",
        ACTION + "source_action",
        ".o_kanban_record",
    ),
    (
        "source_readiness.png",
        ACTION + "source_action/{source_id}",
        ".o_form_view",
    ),
    (
        "dead_letters.png",
        ACTION + "dead_letter_action",
        ".o_list_view",
    ),
    (
        "mapping_center.png",
        ACTION + "mapping_action",
        ".o_list_view",
    ),
]


def login(odoo_url, db, user, password):
    session = requests.Session()
    response = session.post(
        f"{odoo_url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "params": {"db": db, "login": user, "password": password},
        },
        timeout=30,
    )
    response.raise_for_status()
    if response.json().get("error"):
        sys.exit(f"Login failed: {response.json()['error'].get('message')}")
    return session


def call(session, odoo_url, model, method, *args, **kwargs):
    response = session.post(
        f"{odoo_url}/web/dataset/call_kw",
        json={
            "jsonrpc": "2.0",
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": kwargs,
            },
        },
        timeout=30,
    )
    return response.json()["result"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    def __init__(self, width, height):
        exe = next(
            filter(
                None,
                map(shutil.which, ["google-chrome", "chromium", "chromium-browser"]),
            ),
            None,
        )
        if not exe:
            sys.exit("No Chromium found (Debian: apt-get install chromium).")
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="oms_shots_")
        self.process = subprocess.Popen(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--window-size={width},{height}",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                pages = requests.get(
                    f"http://127.0.0.1:{self.port}/json", timeout=2
                ).json()
                page = next(p for p in pages if p["type"] == "page")
                break
            except (requests.RequestException, StopIteration):
                time.sleep(0.2)
        else:
            sys.exit("Chromium did not open its DevTools port.")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo-url", default="http://localhost:8069")
    parser.add_argument("--db", default="oms_demo")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument(
        "--out", default="oms_integration/static/description/screenshots"
    )
    parser.add_argument("--lang", help="Odoo language code for the user, e.g. vi_VN")
    args = parser.parse_args()

    session = login(args.odoo_url, args.db, args.user, args.password)
    sources = call(
        session,
        args.odoo_url,
        "oms.integration.source",
        "search_read",
        [],
        fields=["id", "health_score"],
        order="health_score asc, id",
    )
    source_id = sources[0]["id"] if sources else 0
    os.makedirs(args.out, exist_ok=True)
    browser = Browser(1400, 860)
    try:
        browser.send("Network.enable")
        host = args.odoo_url.split("//", 1)[1].split("/", 1)[0].split(":")[0]
        browser.send(
            "Network.setCookie",
            name="session_id",
            value=session.cookies["session_id"],
            domain=host,
            path="/",
        )
        # Every company of the user, as when they are all ticked in the
        # company switcher: the live demo's source is in a company of its own.
        companies = call(
            session, args.odoo_url, "res.company", "search_read", [], fields=["id"]
        )
        browser.send(
            "Network.setCookie",
            name="cids",
            value="-".join(str(company["id"]) for company in companies),
            domain=host,
            path="/",
        )
        for name, path, selector in SHOTS:
            url = args.odoo_url + path.format(source_id=source_id)
            browser.send("Page.navigate", url=url)
            for _ in range(150):
                time.sleep(0.2)
                if browser.evaluate(
                    f"!!document.querySelector({json.dumps(selector)}) && "
                    "!document.querySelector('.o_loading_indicator')"
                ):
                    break
            else:
                print(f"{name}: {selector} never showed at {url}", file=sys.stderr)
                continue
            time.sleep(1.0)  # animations, images
            shot = browser.send("Page.captureScreenshot", format="png")
            target = os.path.join(args.out, name)
            with open(target, "wb") as handle:
                handle.write(base64.b64decode(shot["data"]))
            print(f"{target}: {url}")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
