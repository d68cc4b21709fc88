"""`k8s-playground serve` driven from a real headless browser (Debian's chromium, through
its DevTools protocol): the page connects, the lab is drawn, a packet typed on the `:` line
is traced, and the app's autosave holds it. The bytes the page's terminal received are
read from the browser's own websocket frames."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
DEADLINE = 90   # seconds a step may take on a loaded 2-CPU machine


@pytest.fixture
def chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the browser test must run in CI, but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def until(check, what: str):
    """Poll an outside process's progress (a real server and browser: no lab clock)."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


class Page:
    """One browser tab over CDP: commands, and the text its websockets received."""

    def __init__(self, ws) -> None:
        self.ws, self.next_id, self.received = ws, 0, ""
        self.replies: dict[int, dict] = {}

    async def pump(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data:
                self.replies[data["id"]] = data
            elif data.get("method") == "Network.webSocketFrameReceived":
                frame = data["params"]["response"]
                text = frame["payloadData"]
                if frame.get("opcode") == 2:
                    text = base64.b64decode(text).decode("utf-8", "replace")
                self.received += ESCAPES.sub("", text)

    async def send(self, method: str, **params) -> dict:
        self.next_id += 1
        number = self.next_id
        await self.ws.send_json({"id": number, "method": method, "params": params})

        async def answered():
            return self.replies.pop(number, None)
        return await until(answered, method)

    def saw(self, *words: str):
        async def check():
            return all(word in self.received for word in words)
        return until(check, f"{words} on the page")


async def test_the_app_in_a_browser_draws_the_lab_and_sends_a_packet(chromium, tmp_path):
    port, state = free_port(), tmp_path / "state"
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    server = subprocess.Popen([sys.executable, "-m", "playground.cli", "serve", "--port",
                               str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    profile = tmp_path / "chromium"
    browser = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                                "--no-first-run", f"--user-data-dir={profile}",
                                "--remote-debugging-port=0", "--window-size=1600,1000",
                                "about:blank"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as http:
            async def serving():
                assert server.poll() is None, server.stdout.read().decode()
                try:
                    async with http.get(f"http://127.0.0.1:{port}/") as answer:
                        return answer.status == 200
                except aiohttp.ClientError:
                    return False
            await until(serving, "the server")

            async def devtools():
                active = profile / "DevToolsActivePort"
                return active.exists() and active.read_text().split("\n")[0].strip()
            cdp = int(await until(devtools, "the browser's DevTools port"))

            async def tab():
                async with http.get(f"http://127.0.0.1:{cdp}/json/list") as answer:
                    pages = [t for t in await answer.json() if t["type"] == "page"]
                return pages and pages[0]["webSocketDebuggerUrl"]
            async with http.ws_connect(await until(tab, "a tab"), max_msg_size=0) as ws:
                page = Page(ws)
                pump = asyncio.create_task(page.pump())
                await page.send("Network.enable")
                await page.send("Page.enable")
                await page.send("Page.navigate", url=f"http://127.0.0.1:{port}/")
                # the header's subtitle comes once the lab is built and the keys work
                await page.saw("CNI bridge · 3 nodes", "kind-worker", "kind-control-plane")
                await page.send("Runtime.evaluate",
                                expression="document.querySelector('.xterm-helper-textarea')"
                                           ".focus()")
                await page.send("Input.insertText", text=":")
                await page.saw("(Tab completes")   # the command line is open
                await page.send("Input.insertText", text="trace pod/client svc/web")
                for kind in ("keyDown", "keyUp"):
                    await page.send("Input.dispatchKeyEvent", type=kind, key="Enter",
                                    code="Enter", windowsVirtualKeyCode=13,
                                    **({"text": "\r"} if kind == "keyDown" else {}))
                await page.saw("delivered", "web-")
                recovery = state / "k8s-playground" / "recovery.k8slab"

                async def saved():
                    return recovery.exists() and b"trace pod/client svc/web" in \
                        recovery.read_bytes()
                await until(saved, "the autosave with the packet")
                pump.cancel()
    finally:
        for process in (browser, server):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
