#!/usr/bin/python3
"""Opens a page in headless Chromium and reports what a user's browser saw.

    browser.py STEPS.json OUT.json

STEPS.json: {"url": "file:///...", "width": 1280, "height": 900,
             "steps": [{"eval": "JS expression", "name": "dom"},
                       {"screenshot": "/path/shot.png", "selector": "#overview"},
                       ...]}
OUT.json:   {"console": [messages], "requests": [urls],
             "results": {name: value}, "shots": {path: {"x", "y", "width", "height"}}}

"console" holds every console error or warning, uncaught exception and
failed load; "requests" every URL the page asked for. Steps run in order
after the load event: "eval" evaluates an expression (awaiting a promise)
and keeps its JSON value under "name"; "screenshot" captures the element
`selector` (its box in CSS pixels, at a device scale of 1) into a PNG.

Chromium (Debian's chromium) is driven through the DevTools protocol on a
pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), so
nothing beyond Python's standard library is needed, and no port is opened.
It runs with a fresh profile and every background service off.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60


class Browser:
    def __init__(self, width, height):
        self.profile = tempfile.mkdtemp(prefix="slidefrag-chromium-")
        # The child's ends above 9, so that moving them onto 3 and 4 below
        # never closes one with the other.
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        to_browser_r = self._above_9(to_browser_r)
        from_browser_w = self._above_9(from_browser_w)
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                "--remote-debugging-pipe", "about:blank"]
        # The protocol is on the child's fds 3 (it reads) and 4 (it writes).
        def protocol_fds():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.process = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=protocol_fds,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    @staticmethod
    def _above_9(fd):
        moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
        os.close(fd)
        return moved

    def close(self):
        try:
            self.call("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                err = self.process.stderr.read().decode(errors="replace")
                raise RuntimeError(f"Chromium exited: {err[-2000:]}")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method):
        deadline = time.monotonic() + TIMEOUT
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._read_message(deadline))


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    width, height = spec.get("width", 1280), spec.get("height", 900)
    browser = Browser(width, height)
    out = {"console": [], "requests": [], "results": {}, "shots": {}}
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        browser.session = browser.call("Target.attachToTarget",
                                       {"targetId": target, "flatten": True},
                                       session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable")
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1,
                      "mobile": False})
        browser.events.clear()
        browser.call("Page.navigate", {"url": spec["url"]})
        browser.wait_for("Page.loadEventFired")

        for step in spec.get("steps", []):
            if "eval" in step:
                result = browser.call("Runtime.evaluate",
                                      {"expression": step["eval"], "returnByValue": True,
                                       "awaitPromise": True})
                if "exceptionDetails" in result:
                    out["console"].append("evaluating a step threw: "
                                          + json.dumps(result["exceptionDetails"]))
                elif step.get("name"):
                    out["results"][step["name"]] = result["result"].get("value")
            if "screenshot" in step:
                box = browser.call("Runtime.evaluate", {
                    "expression": "(() => { const r = document.querySelector("
                                  + json.dumps(step["selector"])
                                  + ").getBoundingClientRect(); return {x: r.left + scrollX, "
                                  "y: r.top + scrollY, width: r.width, height: r.height}; })()",
                    "returnByValue": True})["result"]["value"]
                shot = browser.call("Page.captureScreenshot",
                                    {"format": "png", "captureBeyondViewport": True,
                                     "clip": dict(box, scale=1)})
                with open(step["screenshot"], "wb") as f:
                    f.write(base64.b64decode(shot["data"]))
                out["shots"][step["screenshot"]] = box

        # Whatever the page logged, threw or failed to load, and asked for.
        for event in browser.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning",
                                                                             "assert"):
                out["console"].append(" ".join(str(a.get("value", a.get("description", "")))
                                               for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                out["console"].append(details.get("exception", {}).get("description",
                                                                       details.get("text")))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error",
                                                                               "warning"):
                entry = params["entry"]
                out["console"].append(f"{entry.get('source')}: {entry['text']} "
                                      f"{entry.get('url', '')}".strip())
            elif method == "Network.loadingFailed":
                out["console"].append(f"load failed: {params.get('errorText')} "
                                      f"{params.get('blockedReason', '')}".strip())
            elif method == "Network.requestWillBeSent":
                out["requests"].append(params["request"]["url"])
    finally:
        browser.close()
    with open(sys.argv[2], "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
