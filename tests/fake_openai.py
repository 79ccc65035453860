"""A tiny OpenAI-compatible chat-completions server on loopback, for tests.

``with FakeOpenAI(reply="Paris") as server: OpenAIBackend(server.base_url, "fake-model")``.
``mode`` simulates faults: "ok", "401", "429", "500", "hang" (never answers), "drop" (closes the
connection mid-stream), "garbage" (malformed JSON chunks), "stall" (streams the first chunk, then
goes silent), "trickle" (streams the first chunk, then only SSE keep-alive comments, as proxies do
while a model is stuck), "reset" (closes the connection before answering). Requests are recorded in
``requests``; ``mode`` may be changed while the server runs. Hung handlers end when it stops.
``reply`` may be a function ``(request_json) -> str`` for content that depends on the prompt.
``piece_delay`` (seconds) spaces streamed pieces out, so a test can tell streaming from one reply.
"""
from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


def fake_logprobs(piece: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A streamed token's logprobs as OpenAI sends them: the token first (p = 0.6), then
    ``top_logprobs - 1`` alternatives ``alt1``, ``alt2``… with p = 0.2, 0.1, 0.05…"""
    k = int(payload.get("top_logprobs") or 1)
    probs = [0.6] + [0.4 / 2 ** (i + 1) for i in range(k - 1)]
    tokens = [piece] + [f"alt{i + 1}" for i in range(k - 1)]
    top = [{"token": t, "logprob": math.log(p), "bytes": None} for t, p in zip(tokens, probs)]
    return {"token": piece, "logprob": math.log(0.6), "bytes": None, "top_logprobs": top}


class FakeOpenAI:
    def __init__(self, reply: str | Callable[[dict[str, Any]], str] = "Hello from the fake model.",
                 mode: str = "ok", chunk_words: bool = True, models: tuple[str, ...] = ("fake-model",),
                 piece_delay: float = 0.0) -> None:
        self.reply = reply
        self.models = tuple(models)  # what GET /v1/models lists
        self.mode = mode
        self.chunk_words = chunk_words
        self.piece_delay = piece_delay
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._released = threading.Event()  # set on exit: "hang"/"stall" handlers stop waiting
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # /v1/models
                body = json.dumps({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "fake"}
                                                              for m in outer.models]}).encode()
                self._send(200, body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append(payload)
                outer.headers.append(dict(self.headers))
                if outer.mode in ("401", "429", "500"):
                    body = json.dumps({"error": {"message": f"fake {outer.mode}", "type": "fake"}}).encode()
                    self._send(int(outer.mode), body)
                    return
                if outer.mode == "hang":
                    outer._released.wait(30)
                    return
                if outer.mode == "reset":
                    self.connection.shutdown(2)
                    self.close_connection = True
                    return
                text = outer.reply(payload) if callable(outer.reply) else outer.reply
                if payload.get("stream"):
                    self._stream(text, payload)
                else:
                    body = json.dumps({
                        "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": payload.get("model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": text}}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
                    if outer.mode == "garbage":
                        body = b"{not json"
                    self._send(200, body)

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, text: str, payload: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [w + " " for w in text.split(" ")] if outer.chunk_words else [text]
                pieces[-1] = pieces[-1].rstrip(" ")
                for i, piece in enumerate(pieces):
                    if outer.mode == "drop" and i == max(1, len(pieces) // 2):
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        return
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "fake-model",
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    if payload.get("logprobs"):  # one "token" per piece, with k made-up alternatives
                        chunk["choices"][0]["logprobs"] = {"content": [fake_logprobs(piece, payload)]}
                    data = b"data: {garbage\n\n" if outer.mode == "garbage" else \
                        b"data: " + json.dumps(chunk).encode() + b"\n\n"
                    self.wfile.write(data)
                    self.wfile.flush()
                    if outer.piece_delay:
                        time.sleep(outer.piece_delay)
                    if outer.mode == "stall":
                        outer._released.wait(30)
                        self.close_connection = True
                        return
                    if outer.mode == "trickle":
                        self.close_connection = True
                        while not outer._released.wait(0.2):
                            try:
                                self.wfile.write(b": keep-alive\n\n")
                                self.wfile.flush()
                            except OSError:  # the client gave up
                                return
                        return
                if outer.mode != "garbage":  # a complete stream ends with a finish_reason, as real servers do
                    last = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "fake-model",
                            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    self.wfile.write(b"data: " + json.dumps(last).encode() + b"\n\n")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
