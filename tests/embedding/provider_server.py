"""A real HTTP server on 127.0.0.1 that answers embedding requests in the formats of the
providers (OpenAI, Cohere, Hugging Face, Gemini, Ollama, ...), for the provider tests.
Vectors are hashed from the texts, so answers are deterministic and checkable."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from .functions import hashed_vector

DIMENSION = 8
API_KEY = "test-key-123"


def vector(text: str) -> list[float]:
    return hashed_vector(text, DIMENSION).tolist()


def openai_answer(body: dict[str, Any]) -> Any:
    # In reverse order: clients must put the items back by their index.
    items = [
        {"object": "embedding", "index": i, "embedding": vector(t)}
        for i, t in enumerate(body["input"])
    ]
    return {"object": "list", "data": items[::-1], "model": body["model"]}


def cohere_answer(body: dict[str, Any]) -> Any:
    return {"id": "x", "embeddings": [vector(t) for t in body["texts"]], "texts": body["texts"]}


def inputs_answer(body: dict[str, Any]) -> Any:
    return [vector(t) for t in body["inputs"]]


def gemini_answer(body: dict[str, Any]) -> Any:
    texts = [r["content"]["parts"][0]["text"] for r in body["requests"]]
    return {"embeddings": [{"values": vector(t)} for t in texts]}


def ollama_answer(body: dict[str, Any]) -> Any:
    return {"model": body["model"], "embeddings": [vector(t) for t in body["input"]]}


def cloudflare_answer(body: dict[str, Any]) -> Any:
    data = [vector(t) for t in body["text"]]
    return {"result": {"shape": [len(data), DIMENSION], "data": data}, "success": True}


def int8_vector(text: str) -> list[int]:
    """Perplexity's vectors are int8; these are the hashed vector scaled into that range."""
    return [round(value * 100) for value in vector(text)]


def perplexity_answer(body: dict[str, Any]) -> Any:
    items = [
        {
            "index": i,
            "embedding": base64.b64encode(np.array(int8_vector(t), np.int8).tobytes()).decode(),
        }
        for i, t in enumerate(body["input"])
    ]
    return {"object": "list", "data": items, "model": body["model"]}


def roboflow_text_answer(body: dict[str, Any]) -> Any:
    return {"embeddings": [vector(body["text"])]}


def qwen_answer(body: dict[str, Any]) -> Any:
    return {"embeddings": [vector(t) for t in body["texts"]]}


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any
    query: str = ""


@dataclass
class ProviderServer:
    """Routes: path → answer builder. `auth` is (header, expected value) or None. Set
    `fail_with` to (status, body) to make every request fail."""

    routes: dict[str, Callable[[dict[str, Any]], Any]]
    auth: tuple[str, str] | None
    requests: list[Request] = field(default_factory=list)
    fail_with: tuple[int, Any] | None = None

    def start(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                path, _, query = self.path.partition("?")
                server.requests.append(Request(path, dict(self.headers), body, query))
                status, answer = server.answer(path, self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval keeps stop() quick.
        threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True).start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def answer(self, path: str, headers: Any, body: Any) -> tuple[int, Any]:
        if self.fail_with is not None:
            return self.fail_with
        if self.auth is not None and headers.get(self.auth[0]) != self.auth[1]:
            return 401, {"error": {"message": "Incorrect API key provided"}}
        route = self.routes.get(path)
        if route is None:
            return 404, {"error": f"no route {path}"}
        return 200, route(body)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
