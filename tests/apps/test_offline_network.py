"""An offline lab makes no network attempt: every non-loopback connect or name lookup fails the test.

The guard is installed in a fresh interpreter *before* anything is imported, so it also sees what
gradio, huggingface_hub, transformers or llama.cpp would try at import, at start and on first use.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import ipaddress, os, socket, sys
    attempts = []

    def _loopback(host):
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host in ("localhost", "")

    _connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            attempts.append(("connect", address[0]))
            raise OSError("network disabled by test")
        return _connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _loopback(host if isinstance(host, str) else host.decode()):
            attempts.append(("dns", host))
            raise socket.gaierror("network disabled by test")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo
    for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.pop(k, None)   # the lab itself must set them, early enough
    os.environ["LLM_LAB_MODE"] = "offline"
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["LLM_LAB_TOPICS_WARMUP"] = "0"

    from apps import manifests
    from apps.lab import build_lab
    from apps.launch import launch_kwargs, run_startup
    from apps.common import configure_queue
    import huggingface_hub.constants
    assert huggingface_hub.constants.HF_HUB_OFFLINE, "HF_HUB_OFFLINE was not set before huggingface_hub read it"
    lab, css = build_lab()
    configure_queue(lab).launch(server_name="127.0.0.1", prevent_thread_lock=True,
                                quiet=True, **launch_kwargs(css))
    from gradio_client import Client
    client = Client(lab.local_url, verbose=False, download_files=False)
    info = client.predict(api_name="/lab_info")
    assert info["mode"] == "offline", info
    from core.tokenizers import get_tokenizer
    assert get_tokenizer("gpt-4").encode("hello").ids
    from core.loader import load
    load("embed-minilm").encode(["offline check"])
    lab.close()
    print("ATTEMPTS", attempts)
    sys.exit(1 if attempts else 0)
''')


def test_offline_lab_makes_no_network_attempt(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    tail = (done.stdout + done.stderr)[-3000:]
    assert done.returncode == 0, tail
    assert "ATTEMPTS []" in done.stdout, tail
