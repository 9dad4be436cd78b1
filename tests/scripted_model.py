"""A scripted OpenAI-compatible chat server on loopback, for the real openai client.

Each POST /v1/chat/completions takes the next step of the script: a tool call, a text reply or a
pause (for timeouts). Every request body is kept, so a test can read what the model was sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def tool_calls(*arguments: str) -> dict:
    """One assistant message calling run_sql once per raw JSON arguments string."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": f"call_{n}", "type": "function",
             "function": {"name": "run_sql", "arguments": raw}}
            for n, raw in enumerate(arguments)
        ],
    }


def sql_call(*statements: str) -> dict:
    return tool_calls(*(json.dumps({"sql": sql}) for sql in statements))


def reply(text: str) -> dict:
    return {"role": "assistant", "content": text}


def raw(body: bytes, content_type: str = "application/json") -> dict:
    """A step answered with these bytes as they are (not a chat completion)."""
    return {"raw": body, "content_type": content_type}


def completion(message: dict) -> dict:
    return {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": 0,
        "model": "scripted",
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class ScriptedModel:
    def __init__(self):
        self.script: list[dict | float] = []
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def play(self, *steps: dict | float) -> None:
        """Steps are assistant messages, or a number of seconds to sleep before answering."""
        self.script = list(steps)
        self.requests.clear()
        self.headers.clear()

    def tool_results(self, request: int) -> list[str]:
        """The tool messages the model was sent in request number `request`."""
        return [m["content"] for m in self.requests[request]["messages"] if m["role"] == "tool"]

    def handler(self):
        model = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                model.requests.append(body)
                model.headers.append({k.lower(): v for k, v in self.headers.items()})
                step = model.script.pop(0) if model.script else reply("- (script ended)")
                if isinstance(step, int | float):
                    time.sleep(step)
                    step = reply("- too late")
                time.sleep(step.get("delay", 0))
                step = {key: value for key, value in step.items() if key != "delay"}
                content_type = step.get("content_type", "application/json")
                payload = step["raw"] if "raw" in step else json.dumps(completion(step)).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self) -> ScriptedModel:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
