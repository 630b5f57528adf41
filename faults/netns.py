"""The browsers' own network: a network namespace with nothing but loopback.

Both browsers run inside it (``ip netns exec`` in front of Chromium), so the
media between them crosses only the namespace's loopback, and a firewall
rule inside the namespace cuts it without touching anyone else's traffic on
this machine. The way out to the product is a relay inside the namespace
(``faults.netproxy``) that forwards to a unix socket, served by the test's
balancer outside. No address other than the namespace's own 127.0.0.1 is
ever used.
"""

import os
import shutil
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.e2e.harness import CHROMIUM, ROOT


def _iptables() -> str | None:
    # The kernel here has the legacy xtables and nf_tables; either tool works.
    for name in ("iptables", "iptables-legacy", "iptables-nft"):
        path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
        if path:
            return path
    return None


def unavailable_reason() -> str | None:
    """Why namespaces cannot be used here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not shutil.which("ip") and not os.path.exists("/usr/sbin/ip"):
        return "iproute2 (ip) is not installed"
    if _iptables() is None:
        return "iptables is not installed (make faults-tools installs it)"
    probe = f"vfprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    try:
        rule = subprocess.run(
            ["ip", "netns", "exec", probe, _iptables(), "-A", "INPUT", "-p", "udp", "-j", "DROP"],
            capture_output=True,
            text=True,
        )
        if rule.returncode != 0:
            return f"iptables does not work in a namespace: {rule.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Namespace:
    def __init__(self, workdir: Path):
        self.name = f"vfaults{uuid.uuid4().hex[:8]}"
        self.workdir = workdir
        self.relays: list[subprocess.Popen] = []
        self.iptables = _iptables()

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run("ip", "link", "set", "lo", "up")
        return self

    def __exit__(self, *exc):
        self.close()

    def run(self, *command: str, check: bool = True):
        return subprocess.run(["ip", "netns", "exec", self.name, *command], check=check, capture_output=True, text=True)

    def chromium(self) -> str:
        """An executable that starts Chromium inside the namespace (Playwright
        talks to it over pipes, which namespaces do not affect)."""
        wrapper = self.workdir / f"chromium-in-{self.name}"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {CHROMIUM} "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        return str(wrapper)

    def relay(self, port: int, unix_path: str) -> str:
        """Serve http://127.0.0.1:port inside the namespace from a unix socket."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.name, sys.executable, "-m", "faults.netproxy",
             "--listen", f"127.0.0.1:{port}", "--unix", unix_path],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = proc.stdout.readline()
        if "listening" not in line:
            proc.kill()
            raise RuntimeError(f"relay in {self.name} did not start: {line}")
        self.relays.append(proc)
        return f"http://127.0.0.1:{port}"

    # --- faults ---------------------------------------------------------------------

    def block_media(self):
        """Drop every UDP packet: WebRTC media and ICE checks between the
        browsers; the signaling sockets (TCP) carry on."""
        self.run(self.iptables, "-I", "INPUT", "-p", "udp", "-j", "DROP")

    def block_everything(self):
        """Drop every packet: the browsers hear neither each other nor the server."""
        self.run(self.iptables, "-I", "INPUT", "-j", "DROP")

    def unblock(self):
        self.run(self.iptables, "-F", "INPUT")

    def close(self):
        for proc in self.relays:
            proc.kill()
            proc.wait(timeout=5)
        self.run(self.iptables, "-F", "INPUT", check=False)
        deadline = time.monotonic() + 5
        while subprocess.run(["ip", "netns", "del", self.name], capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
