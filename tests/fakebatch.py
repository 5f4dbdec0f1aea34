"""A scripted OpenAI Batch API on 127.0.0.1 for tests and benchmarks (next to fakellm.FakeLLM).

Endpoints, as the installed openai package calls them (openai/resources/{files,batches}.py):

    POST /v1/files                     multipart/form-data: `purpose`=batch, `file`=the JSONL
    GET  /v1/files?purpose=&order=     the files, newest first by default (one page)
    GET  /v1/files/{id}/content        the file's bytes (input, output or error file)
    POST /v1/batches                   {input_file_id, endpoint, completion_window, metadata}
    GET  /v1/batches/{id}              the batch object; every retrieve moves the job one step on
    GET  /v1/batches?after=&limit=     newest first, cursor pagination (`has_more`, `last_id`)
    POST /v1/batches/{id}/cancel       → cancelling, then cancelled on the next retrieve

Each created job takes the next `Job` from `plan` (else `default_job`): how many retrieves it
stays `in_progress`, and how it ends. Answers come from the same responder functions FakeLLM
uses (`fakellm.grounded_reply` by default, any `Responder`), so a line's `response.body` is the
chat completion FakeLLM would have answered live.

    with FakeBatchAPI() as api:
        api.plan.append(Job(end="expired", done=0.5))   # the first job expires half done
        ... OpenAI(base_url=api.url, api_key="x").batches.create(...) ...
        assert len(api.submitted) == len(set(api.submitted))   # no custom_id sent twice
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakellm import Reply, Responder, grounded_reply
from tests.loopback import Handler, LoopbackServer

ENDS = ("completed", "expired", "cancelled", "failed")


@dataclass
class Job:
    """How one job behaves. `polls`: retrieves answered `in_progress` before it ends.
    `end`: completed | expired | cancelled | failed. `done`: the share of lines processed when it
    expires or is cancelled (the rest: `batch_expired` lines in the error file, or simply missing
    after a cancel). `errors(index, custom_id)`: lines that land in the error file with `error_status`."""

    end: str = "completed"
    polls: int = 1
    done: float = 1.0
    errors: Callable[[int, str], bool] | None = None
    error_status: int = 500


@dataclass
class _Batch:
    obj: dict[str, Any]
    job: Job
    lines: list[dict[str, Any]]
    polls_left: int
    cancel_requested: bool = False


@dataclass
class _File:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int = field(default_factory=lambda: int(time.time()))

    def obj(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": len(self.data), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed"}


class FakeBatchAPI(LoopbackServer):
    """Start with `with FakeBatchAPI() as api:`; `api.url` is the base URL (ends with /v1)."""

    def __init__(self, responder: Responder = grounded_reply, default_job: Job | None = None, *,
                 prefix: str = "/v1", endpoints: frozenset[str] | None = None) -> None:
        """`prefix`: the base URL's path (Azure OpenAI's v1 API: /openai/v1); `endpoints`: the
        only job endpoints accepted (Azure's batch wants /chat/completions), None: any."""
        self.prefix = prefix
        self.endpoints = endpoints
        self.responder = responder
        self.default_job = default_job or Job()
        self.plan: list[Job] = []
        self.files: dict[str, _File] = {}
        self.batches: dict[str, _Batch] = {}
        self.submitted: list[str] = []  # custom_ids of every created job, in order
        self.calls: list[tuple[str, str]] = []  # (method, path) of every request
        self.lose_create_answers = 0  # the next N creates make the job, then answer 500 (the answer is lost)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base}{self.prefix}"

    # ------------------------------------------------------------ test helpers

    def uploads(self) -> list[_File]:
        return [f for f in self.files.values() if f.purpose == "batch"]

    def requests(self) -> list[dict[str, Any]]:
        """Every request line of every created job, in order."""
        return [line for b in self.batches.values() for line in b.lines]

    def add_file(self, data: bytes, purpose: str = "batch_output", filename: str = "file.jsonl") -> str:
        fid = f"file-{next(self._ids)}"
        self.files[fid] = _File(fid, filename, purpose, data)
        return fid

    # ------------------------------------------------------------ HTTP

    def handle(self, handler: Handler) -> None:
        url = urlsplit(handler.path)
        if not url.path.startswith(self.prefix + "/"):
            handler.reply(404, b'{"error": {"message": "no such path"}}', "application/json")
            return
        path = url.path.removeprefix(self.prefix)
        parts = [p for p in path.split("/") if p]
        with self._lock:
            self.calls.append((handler.command, path))
            try:
                status, payload = self._route(handler, parts, parse_qs(url.query))
            except _Fail as fail:
                status, payload = fail.status, {"error": {"message": fail.message, "type": "invalid_request_error",
                                                          "code": None}}
        if isinstance(payload, bytes):
            handler.reply(status, payload, "application/octet-stream")
        else:
            handler.reply(status, json.dumps(payload).encode(), "application/json")

    def _route(self, handler: Handler, parts: list[str], query: dict[str, list[str]]) -> tuple[int, Any]:
        method = handler.command
        if parts == ["files"] and method == "POST":
            return 200, self._upload(handler)
        if parts == ["files"] and method == "GET":
            purpose = query.get("purpose", [None])[0]
            files = [f for f in self.files.values() if purpose is None or f.purpose == purpose]
            files.sort(key=lambda f: int(f.id.split("-")[1]), reverse=query.get("order", ["desc"])[0] == "desc")
            return 200, {"object": "list", "data": [f.obj() for f in files], "has_more": False}
        if len(parts) == 3 and parts[0] == "files" and parts[2] == "content" and method == "GET":
            f = self.files.get(parts[1])
            if f is None:
                raise _Fail(404, f"No such File object: {parts[1]}")
            return 200, f.data
        if parts == ["batches"] and method == "POST":
            created = self._create(json.loads(_body(handler) or b"{}"))
            if self.lose_create_answers > 0:
                self.lose_create_answers -= 1
                raise _Fail(500, "the job was created, but this answer is lost")
            return 200, created
        if parts == ["batches"] and method == "GET":
            return 200, self._list(query)
        if len(parts) == 2 and parts[0] == "batches" and method == "GET":
            return 200, self._retrieve(parts[1])
        if len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel" and method == "POST":
            return 200, self._cancel(parts[1])
        raise _Fail(404, f"unknown endpoint {method} /v1/{'/'.join(parts)}")

    def _upload(self, handler: Handler) -> dict[str, Any]:
        ctype = handler.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            raise _Fail(400, f"expected multipart/form-data, got {ctype!r}")
        raw = b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + _body(handler)
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
        purpose = fields.get("purpose", (None, b""))[1].decode()
        if purpose != "batch":
            raise _Fail(400, f"purpose must be 'batch', got {purpose!r}")
        if "file" not in fields:
            raise _Fail(400, "missing file")
        filename, data = fields["file"]
        fid = self.add_file(data, "batch", filename or "upload.jsonl")
        return self.files[fid].obj()

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        f = self.files.get(str(body.get("input_file_id")))
        if f is None or f.purpose != "batch":
            raise _Fail(400, f"input_file_id {body.get('input_file_id')!r} is not an uploaded batch file")
        if body.get("completion_window") != "24h":
            raise _Fail(400, "completion_window must be 24h")
        endpoint = body.get("endpoint")
        if self.endpoints is not None and endpoint not in self.endpoints:
            raise _Fail(400, f"endpoint {endpoint!r} is not supported; use one of {', '.join(sorted(self.endpoints))}")
        lines = [json.loads(line) for line in f.data.decode().splitlines() if line.strip()]
        ids = [line.get("custom_id") for line in lines]
        if len(set(ids)) != len(ids) or not all(isinstance(i, str) and i for i in ids):
            raise _Fail(400, "custom_id values must be unique non-empty strings within a file")
        for line in lines:
            if line.get("method") != "POST" or line.get("url") != endpoint or not isinstance(line.get("body"), dict):
                raise _Fail(400, f"line {line.get('custom_id')}: method must be POST and url {endpoint}")
        bid = f"batch_{next(self._ids)}"
        job = self.plan.pop(0) if self.plan else self.default_job
        obj = {"id": bid, "object": "batch", "endpoint": endpoint, "input_file_id": f.id, "completion_window": "24h",
               "status": "validating", "created_at": int(time.time()), "metadata": body.get("metadata") or None,
               "output_file_id": None, "error_file_id": None, "errors": None,
               "request_counts": {"total": len(lines), "completed": 0, "failed": 0}}
        self.batches[bid] = _Batch(obj, job, lines, job.polls)
        self.submitted.extend(ids)  # type: ignore[arg-type]
        return obj

    def _get(self, bid: str) -> _Batch:
        b = self.batches.get(bid)
        if b is None:
            raise _Fail(404, f"No such Batch object: {bid}")
        return b

    def _retrieve(self, bid: str) -> dict[str, Any]:
        b = self._get(bid)
        obj = b.obj
        if obj["status"] in ENDS:
            return obj
        if b.cancel_requested:
            self._finish(b, "cancelled")
        elif obj["status"] == "validating" and b.job.end == "failed":
            self._finish(b, "failed")
        elif b.polls_left > 0:
            b.polls_left -= 1
            obj["status"] = "in_progress"
            done = len(b.lines) * (b.job.polls - b.polls_left) // max(1, b.job.polls + 1)
            obj["request_counts"] = {**obj["request_counts"], "completed": done}
        else:
            self._finish(b, b.job.end)
        return obj

    def _cancel(self, bid: str) -> dict[str, Any]:
        b = self._get(bid)
        if b.obj["status"] not in ENDS:
            b.cancel_requested = True
            b.obj["status"] = "cancelling"
        return b.obj

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        limit = int(query.get("limit", ["20"])[0])
        newest = sorted(self.batches.values(), key=lambda b: int(b.obj["id"].split("_")[1]), reverse=True)
        ids = [b.obj["id"] for b in newest]
        after = query.get("after", [None])[0]
        start = ids.index(after) + 1 if after in ids else 0
        page = newest[start:start + limit]
        return {"object": "list", "data": [b.obj for b in page], "has_more": start + limit < len(newest),
                "first_id": page[0].obj["id"] if page else None, "last_id": page[-1].obj["id"] if page else None}

    # ------------------------------------------------------------ job results

    def _finish(self, b: _Batch, end: str) -> None:
        obj, job = b.obj, b.job
        now = int(time.time())
        obj["status"] = end
        obj[f"{end}_at"] = now
        if end == "failed":
            obj["errors"] = {"object": "list", "data": [
                {"code": "invalid_request", "message": "scripted validation failure", "line": None, "param": None}]}
            obj["request_counts"] = {"total": len(b.lines), "completed": 0, "failed": 0}
            return
        processed = len(b.lines) if end == "completed" else int(len(b.lines) * job.done)
        out: list[str] = []
        err: list[str] = []
        for i, line in enumerate(b.lines):
            cid = line["custom_id"]
            rid = f"batch_req_{next(self._ids)}"
            if i >= processed:
                if end == "expired":
                    err.append(json.dumps({"id": rid, "custom_id": cid, "response": None, "error": {
                        "code": "batch_expired",
                        "message": "This request could not be executed before the completion window expired."}}))
                continue  # cancelled: lines never started are simply absent
            if job.errors is not None and job.errors(i, cid):
                reply = Reply(status=job.error_status)
            else:
                reply = self.responder(line["body"])
            if reply.status != 200:
                err.append(json.dumps({"id": rid, "custom_id": cid, "error": None, "response": {
                    "status_code": reply.status, "request_id": rid,
                    "body": {"error": {"message": f"scripted error {reply.status}", "type": "server_error"}}}}))
                continue
            out.append(json.dumps({"id": rid, "custom_id": cid, "error": None, "response": {
                "status_code": 200, "request_id": rid, "body": _completion(line["body"], reply, rid)}}))
        if out:
            obj["output_file_id"] = self.add_file(("\n".join(out) + "\n").encode())
        if err:
            obj["error_file_id"] = self.add_file(("\n".join(err) + "\n").encode())
        obj["request_counts"] = {"total": len(b.lines), "completed": len(out), "failed": len(err)}


def _completion(request: dict[str, Any], reply: Reply, rid: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.refusal:
        message = {"role": "assistant", "content": None, "refusal": reply.refusal}
    return {"id": f"chatcmpl-{rid}", "object": "chat.completion", "created": int(time.time()),
            "model": request.get("model", "fake-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                      "total_tokens": reply.prompt_tokens + reply.completion_tokens}}


def _body(handler: Handler) -> bytes:
    """The request body, with Content-Length or chunked transfer encoding."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.body()


class _Fail(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
