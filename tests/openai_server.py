"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire format, replying from a
script the test writes. It records every request so tests can check what was sent."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedOpenAIServer:
    """`replies` items: {"content": str, "tool_calls": [{"name": ..., "arguments": {...} or "raw"}]},
    {"status": 500} (optionally with "headers", e.g. {"Retry-After": "1"}), {"sleep": seconds}, or
    {"raw": "body that is not JSON"}. After the script ends the
    last reply repeats (so a planner that never stops keeps getting the same tool call)."""

    def __init__(self, replies: list[dict] | None = None, model: str = "test-model") -> None:
        self.replies = list(replies or [])
        self.requests: list[dict] = []
        self.model = model
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization"),
                                            "at": time.monotonic()})
                    reply = server.replies.pop(0) if len(server.replies) > 1 else (server.replies[0] if server.replies else {"content": "ok"})
                if "sleep" in reply:
                    time.sleep(reply["sleep"])
                    reply = {"content": "late"}
                if "raw" in reply:
                    self._send(200, reply["raw"].encode(), "application/json")
                    return
                if "status" in reply:
                    self._json(reply["status"], {"error": {"message": reply.get("message", "scripted failure"), "type": "server_error"}},
                               reply.get("headers", {}))
                    return
                if body.get("model") != server.model and not reply.get("any_model"):
                    self._json(404, {"error": {"message": f"model {body.get('model')} not found", "type": "invalid_request_error"}})
                    return
                self._json(200, server._completion(reply, body))

            def _json(self, status, payload, headers=None):
                self._send(status, json.dumps(payload).encode(), "application/json", headers)

            def _send(self, status, data, kind, headers=None):
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _completion(self, reply: dict, body: dict) -> dict:
        calls = [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"])}}
            for i, c in enumerate(reply.get("tool_calls", []))
        ]
        message = {"role": "assistant", "content": reply.get("content")}
        if calls:
            message["tool_calls"] = calls
        prompt_tokens = len(json.dumps(body.get("messages", []))) // 4
        return {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 7, "total_tokens": prompt_tokens + 7},
        }

    def __enter__(self) -> "ScriptedOpenAIServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
