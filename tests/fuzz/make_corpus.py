#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (run from anywhere).

A seed is a realistic body followed by the target's parameter trailer.
FuzzedDataProvider reads integers from the END of the input, little-endian,
the first parameter read being the last bytes of the file; strings
(ConsumeRandomLengthString) are read from the front and end at a backslash
followed by any other byte ("\\\\" is a literal backslash). See
tests/fuzz/fuzz_support.h for the split trailer: a count of cuts (0..15) and
that many uint16 cut offsets, read after the target's own parameters.
"""
import json, os, re, struct, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def le(v, n):
    return v.to_bytes(n, "little")


def split(cuts=()):
    """The split trailer, as read by split_input(): count, then the cuts."""
    out = b"".join(le(c, 2) for c in reversed(cuts))
    return out + le(len(cuts), 1)


def rstr(s):
    """A ConsumeRandomLengthString field: the bytes, then a terminator."""
    return s.replace(b"\\", b"\\\\") + b"\\;"


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def sse(events):
    out = b""
    for name, data in events:
        if name:
            out += b"event: " + name.encode() + b"\n"
        out += b"data: " + (data if isinstance(data, bytes) else json.dumps(data).encode()) + b"\n\n"
    return out


def es_frame(headers, payload):
    h = b""
    for k, v in headers:
        h += bytes([len(k)]) + k + b"\x07" + struct.pack(">H", len(v)) + v
    total = 16 + len(h) + len(payload)
    prelude = struct.pack(">II", total, len(h))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    msg = prelude + h + payload
    return msg + struct.pack(">I", zlib.crc32(msg))


def bedrock_event(kind, payload):
    return es_frame([(b":event-type", kind.encode()), (b":content-type", b"application/json"),
                     (b":message-type", b"event")], json.dumps(payload).encode())


# --- streams -----------------------------------------------------------------
openai_stream = sse([(None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1735689600,
                             "model": "gpt-4o", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                             "finish_reason": None}]}),
                     (None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1735689600,
                             "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]}),
                     (None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1735689600,
                             "model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
                     (None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1735689600,
                             "model": "gpt-4o", "choices": [],
                             "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11,
                                       "prompt_tokens_details": {"cached_tokens": 4}}}),
                     (None, b"[DONE]")])
openai_tools = sse([(None, {"id": "c2", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {
    "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get", "arguments": ""}}]}}]}),
                    (None, {"id": "c2", "choices": [{"index": 0, "delta": {"tool_calls": [
                        {"index": 0, "function": {"arguments": "{\"city\":\"Paris\"}"}}]}}]}),
                    (None, {"id": "c2", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
                    (None, b"[DONE]")])
openai_completion = sse([(None, {"id": "cmpl-1", "object": "text_completion", "created": 5, "model": "m",
                                 "choices": [{"index": 0, "text": "hi", "finish_reason": None}]}),
                         (None, {"id": "cmpl-1", "choices": [{"index": 0, "text": "", "finish_reason": "length"}]}),
                         (None, b"[DONE]")])
openai_error = sse([(None, {"error": {"message": "overloaded", "type": "server_error", "code": None}})])
azure_stream = sse([(None, {"id": "", "object": "", "created": 0, "model": "", "choices": [],
                            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}),
                    (None, {"id": "chatcmpl-az", "created": 7, "model": "gpt-4o", "choices": [
                        {"index": 0, "delta": {"content": "ok"}, "finish_reason": None,
                         "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}]}),
                    (None, {"id": "chatcmpl-az", "choices": [{"index": 0, "delta": {}, "finish_reason": "content_filter"}]}),
                    (None, b"[DONE]")])

anthropic_stream = sse([
    ("message_start", {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                                            "model": "claude-3-5-sonnet", "content": [],
                                                            "usage": {"input_tokens": 25, "output_tokens": 1,
                                                                      "cache_read_input_tokens": 3}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
        "type": "input_json_delta", "partial_json": "{\"city\": \"Par"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
        "type": "input_json_delta", "partial_json": "is\"}"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                       "usage": {"output_tokens": 15}}),
    ("message_stop", {"type": "message_stop"})])
anthropic_thinking = sse([
    ("message_start", {"type": "message_start", "message": {"id": "msg_2", "model": "claude", "usage": {"input_tokens": 5}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 3}}),
    ("message_stop", {"type": "message_stop"})])
anthropic_error = sse([("message_start", {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 1}}}),
                       ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})])

gemini_stream = sse([
    (None, {"candidates": [{"content": {"role": "model", "parts": [{"text": "It is "}]}, "index": 0}],
            "usageMetadata": {"promptTokenCount": 10}, "modelVersion": "gemini-2.0-flash", "responseId": "r1"}),
    (None, {"candidates": [{"content": {"role": "model", "parts": [{"text": "18C.", "thoughtSignature": "c2ln"}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 4, "totalTokenCount": 14,
                              "cachedContentTokenCount": 2, "thoughtsTokenCount": 1}})])
gemini_tools = sse([
    (None, {"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2}}),
])
gemini_blocked = sse([(None, {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}})])

cohere_stream = sse([
    ("message-start", {"id": "abc-123", "type": "message-start", "delta": {"message": {
        "role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
    ("content-start", {"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
    ("content-delta", {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hel"}}}}),
    ("content-end", {"type": "content-end", "index": 0}),
    ("message-end", {"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": {
        "billed_units": {"input_tokens": 5, "output_tokens": 2}, "tokens": {"input_tokens": 70, "output_tokens": 2},
        "cached_tokens": 0}}})])
cohere_tools = sse([
    ("message-start", {"id": "t1", "type": "message-start", "delta": {"message": {"role": "assistant"}}}),
    ("tool-plan-delta", {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will look it up"}}}),
    ("tool-call-start", {"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {
        "id": "get_1", "type": "function", "function": {"name": "get", "arguments": ""}}}}}),
    ("tool-call-delta", {"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {
        "function": {"arguments": "{\"q\":1}"}}}}}),
    ("tool-call-end", {"type": "tool-call-end", "index": 0}),
    ("message-end", {"type": "message-end", "delta": {"finish_reason": "TOOL_CALL"}})])

bedrock_stream = (bedrock_event("messageStart", {"role": "assistant"}) +
                  bedrock_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}}) +
                  bedrock_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "lo"}}) +
                  bedrock_event("contentBlockStop", {"contentBlockIndex": 0}) +
                  bedrock_event("contentBlockStart", {"contentBlockIndex": 1, "start": {"toolUse": {
                      "toolUseId": "tooluse_1", "name": "get"}}}) +
                  bedrock_event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"a\":1}"}}}) +
                  bedrock_event("contentBlockStop", {"contentBlockIndex": 1}) +
                  bedrock_event("messageStop", {"stopReason": "tool_use"}) +
                  bedrock_event("metadata", {"usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19,
                                                       "cacheReadInputTokens": 2}, "metrics": {"latencyMs": 300}}))
bedrock_exception = bedrock_event("messageStart", {"role": "assistant"}) + es_frame(
    [(b":exception-type", b"throttlingException"), (b":content-type", b"application/json"),
     (b":message-type", b"exception")], b'{"message":"Too many requests"}')

# mode byte last: 0 = chat, 1 = completions, 2 = chat with usage asked for.
streams = {
    "stream_openai": [("chat", openai_stream, 0), ("tools_usage", openai_tools, 2), ("completion", openai_completion, 1),
                      ("error", openai_error, 0), ("split", openai_stream, 2, (5, 77, 78, 300))],
    "stream_azure": [("filters", azure_stream, 2), ("plain", openai_stream, 0, (100, 101))],
    "stream_anthropic": [("tools", anthropic_stream, 2), ("thinking", anthropic_thinking, 0),
                         ("error", anthropic_error, 0), ("completion", anthropic_stream, 1, (30, 400))],
    "stream_gemini": [("text", gemini_stream, 2), ("tools", gemini_tools, 0), ("blocked", gemini_blocked, 0),
                      ("crlf", gemini_stream.replace(b"\n", b"\r\n"), 1, (12, 13))],
    "stream_cohere": [("text", cohere_stream, 2), ("tools", cohere_tools, 0), ("split", cohere_stream, 0, (3, 50, 51))],
    "stream_bedrock": [("raw", bedrock_stream, 2), ("exception", bedrock_exception, 0),
                       ("raw_split", bedrock_stream, 0, (11, 12, 200))],
}
for target, seeds in streams.items():
    for s in seeds:
        name, body, mode = s[:3]
        cuts = s[3] if len(s) > 3 else ()
        write(target, name, body + split(cuts) + le(mode, 1))
# Bedrock "frames" mode (mode bit 4): (event type, JSON payload) strings from
# the front; per frame an exception selector byte from the end (0 = exception).
frames = [("messageStart", {"role": "assistant"}), ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x"}}),
          ("messageStop", {"stopReason": "end_turn"}), ("metadata", {"usage": {"inputTokens": 1, "outputTokens": 1}})]
front = b"".join(rstr(t.encode()) + rstr(json.dumps(p).encode()) for t, p in frames)
write("stream_bedrock", "frames", front + le(5, 1) * len(frames) + le(63, 1) + le(4 | 2, 1))

# --- SSE parser ---------------------------------------------------------------
sse_seeds = {
    "openai": (openai_stream, ()),
    "anthropic_crlf": (anthropic_stream.replace(b"\n", b"\r\n"), (40, 41)),
    "fields": (b"\xef\xbb\xbf: keep-alive\nretry: 1000\nid: 7\nevent: update\ndata\ndata:  two\ndata:three\n\n"
               b"id\nunknown: x\ndata: {\"a\":1}\r\rdata: tail", (1, 2, 3, 30)),
    "cr_only": (b"event: a\rdata: 1\r\rdata: 2\r\r", (8, 9)),
}
for name, (body, cuts) in sse_seeds.items():
    write("sse_parser", name, body + split(cuts) + le(0, 2))
write("sse_parser", "small_limit", sse_seeds["openai"][0] + split(()) + le(64, 2))

# --- event-stream framing -----------------------------------------------------
write("eventstream", "two_frames", bedrock_stream[:400] + split((3, 12, 17)) + le(0, 1))
write("eventstream", "exception", bedrock_exception + split(()) + le(0, 1))
hdr = b"\x0b:event-type\x07\x00\x0cmessageStart" + b"\x04flag\x00" + b"\x03int\x04\x00\x00\x00\x07" + b"\x04uuid\x09" + bytes(16)
write("eventstream", "built", rstr(hdr) + rstr(b'{"role":"assistant"}') + le(0, 1) + le(16, 1) + le(0, 1) + le(0, 2) + le(1, 1))

# --- HTTP request reader ------------------------------------------------------
body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}], "stream": True}).encode()
post = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nAuthorization: Bearer sk-test\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
get = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
chunked = (b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
           b"7\r\n{\"a\":1}\r\n0\r\n\r\n")
close = b"GET /health HTTP/1.0\r\n\r\n"
write("http_request", "post", post + split((20, 21, 150)) + le(0, 1))
write("http_request", "pipelined", get + post + get + split((5,)) + le(0, 1))
write("http_request", "chunked", chunked + split((90, 95)) + le(0, 1))
write("http_request", "http10", close + get + split(()) + le(0, 1))
write("http_request", "limits", post + split(()) + le(100, 2) + le(200 - 16, 2) + le(1, 1))

# --- traceparent --------------------------------------------------------------
write("traceparent", "sampled", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
write("traceparent", "unsampled", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
write("traceparent", "future", b"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra")
write("traceparent", "zero", b"00-00000000000000000000000000000000-00f067aa0ba902b7-01")

# --- responses_path -------------------------------------------------------------
write("responses_path", "object", b"/v1/responses/resp_67cb71b351908190a308f3859487620d")
write("responses_path", "input_items", b"/v1/responses/resp_abc/input_items?limit=2&order=asc&after=msg_1&include%5B%5D=x")
write("responses_path", "input_tokens", b"/v1/responses/input_tokens")
write("responses_path", "hostile", b"/v1/responses/..%2F%00%27/input_items?limit=0x10&order=%ff&after=a+b")

# --- config loader ------------------------------------------------------------
example = os.path.join(os.path.dirname(ROOT), "..", "..", "config", "example.yaml")
with open(example, "rb") as f:
    write("config_loader", "example", f.read())
write("config_loader", "providers", b"""server:
  port: 4100
  max_body_bytes: 1048576
master_key: ${TOLLGATE_FUZZ_SECRET}
providers:
  - name: oa
    type: openai
    api_key: os.environ/TOLLGATE_FUZZ_UNSET
  - name: claude
    type: anthropic
    api_key: sk-ant-x
  - name: aws
    type: bedrock
    region: us-east-1
models:
  - name: gpt
    deployments:
      - provider: oa
        model: gpt-4o
        rpm: 10
      - provider: claude
        model: claude-3-5-sonnet
router:
  strategy: least_busy
  retries: 2
keys:
  - name: app
    key: sk-app-0123456789abcdef
    models: [gpt]
""")
write("config_loader", "errors", b"providers:\n  - name: x\n    type: antropic\nmodels:\n  - name: m\n    deployments: [{provider: y}]\nserver: {port: 99999}\n")

# --- spool recovery -----------------------------------------------------------
def record(payload):
    return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload

row = b"\x83\xa1v\x01\xaarequest_id\xa5req-1\xa5model\xa6gpt-4o"
seg = record(row) + record(b"second") + record(b"")
# mode 0: raw segment; seq byte; then the bytes.
write("spool_recovery", "valid", seg + le(0, 1) + le(0, 1))
write("spool_recovery", "torn", seg + b"\x10\x00\x00\x00\x00\x00" + le(1, 1) + le(0, 1))
write("spool_recovery", "bad_crc", seg[:-3] + b"\xff\xff\xff" + le(0, 1) + le(0, 1))
# mode 2|8: a cursor string from the front, an older segment; seq 3.
write("spool_recovery", "cursor", rstr(b"3 8") + seg + le(2, 1) + le(2 | 8, 1))
# mode 1|4: framed records from fuzz strings, then damaged at `flip`.
write("spool_recovery", "framed", rstr(row) + rstr(b"two") + b"tail" + le(5, 2) + le(2, 1) + le(0, 1) + le(1 | 4, 1))

# --- non-streaming responses and errors ---------------------------------------
responses = {
    "response_openai": [
        {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hi", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
             "finish_reason": "tool_calls"}],
         "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7,
                   "completion_tokens_details": {"reasoning_tokens": 1}}}],
    "response_azure": [
        {"id": "chatcmpl-az", "object": "chat.completion", "created": 1, "model": "gpt-4o",
         "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
         "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop",
                      "content_filter_results": {"hate": {"filtered": False}}}],
         "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}],
    "response_anthropic": [
        {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": [
            {"type": "thinking", "thinking": "hm", "signature": "s"}, {"type": "text", "text": "Hi"},
            {"type": "tool_use", "id": "toolu_1", "name": "get", "input": {"city": "Paris"}}],
         "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 2,
                                               "cache_creation_input_tokens": 1}}],
    "response_gemini": [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "It is "}, {"text": "18C."},
                                                                {"functionCall": {"name": "f", "args": {"a": 1}}}]},
                         "finishReason": "STOP", "index": 0}],
         "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 4, "totalTokenCount": 14,
                           "thoughtsTokenCount": 2}, "modelVersion": "gemini-2.0-flash"}],
    "response_bedrock": [
        {"output": {"message": {"role": "assistant", "content": [
            {"text": "Hi"}, {"toolUse": {"toolUseId": "t1", "name": "get", "input": {"a": 1}}},
            {"reasoningContent": {"reasoningText": {"text": "hm", "signature": "s"}}}]}},
         "stopReason": "tool_use", "usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19,
                                              "cacheReadInputTokens": 3}, "metrics": {"latencyMs": 5}}],
    "response_cohere": [
        {"id": "c1", "finish_reason": "TOOL_CALL", "message": {"role": "assistant", "tool_plan": "look",
                                                               "content": [{"type": "text", "text": "Hi"}],
                                                               "tool_calls": [{"id": "t", "type": "function", "function": {
                                                                   "name": "f", "arguments": "{}"}}]},
         "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 2}, "tokens": {"input_tokens": 70,
                                                                                       "output_tokens": 2}}}],
}
errors = {
    "response_openai": {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
    "response_azure": {"error": {"message": "filtered", "type": None, "code": "content_filter", "innererror": {
        "code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered": True}}}}},
    "response_anthropic": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    "response_gemini": {"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED",
                                  "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}]}},
    "response_bedrock": {"message": "The security token included in the request is invalid."},
    "response_cohere": {"id": "e", "message": "invalid request: model not found"},
}
for target, bodies in responses.items():
    for i, b in enumerate(bodies):
        write(target, "ok_%d" % i, json.dumps(b).encode() + le(0, 1))
        write(target, "completion_%d" % i, json.dumps(b).encode() + le(2, 1))
    err = json.dumps(errors[target]).encode()
    # map_error: pick (index into the status table: 9 = 429, 0 = 400, 10 = 500).
    write(target, "error_429", err + le(9, 1) + le(1, 1))
    write(target, "error_400_retry", err + le(30, 3) + le(0, 1) + le(1 | 4, 1))
    write(target, "error_header", rstr(b"ValidationException") + err + le(10, 1) + le(1 | 8, 1))
# --- client request bodies -----------------------------------------------------
# request_body: the body, then pick (1), ops (1), depth - 2 (2): ops bit 1 sets
# model, 2 sets stream_options, 4 erases it, 8 sets max_tokens, 16 erases the
# pick-th member, 32 copies it (64: under "model"), 128 erases model.
chat_body = {"model": "gpt-4o", "messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": [{"type": "text", "text": "What is in this image? Caf\u00e9 \u4e2d"},
                                 {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}}]},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18C"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                               "required": ["city"]}}}],
    "tool_choice": "auto", "temperature": 0.7, "top_p": 1, "max_tokens": 256, "stop": ["\n\n"], "seed": 7,
    "stream": True, "stream_options": {"include_usage": True}, "user": "end-user-1"}
simple_chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}
completion_body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["Say this", [1, 2, 3]], "max_tokens": 16, "n": 1}
embedding_body = {"model": "text-embedding-3-small", "input": ["one", "two"], "encoding_format": "float", "dimensions": 256}
spaced = b'{ "mod\\u0065l" :\t"gpt-4o" ,\n "messages" : [ {"role":"user","content":"a\\"b\\\\"} ] , "n" : 1.0 , "x":-0 }'


def rb(body, depth=64, ops=0, pick=0):
    return body + le(pick, 1) + le(ops, 1) + le(depth - 2, 2)


write("request_body", "chat", rb(json.dumps(chat_body).encode(), ops=1 | 4))
write("request_body", "simple", rb(json.dumps(simple_chat).encode(), ops=2 | 8, depth=2))
write("request_body", "completion", rb(json.dumps(completion_body).encode(), ops=16 | 32 | 64, pick=1))
write("request_body", "embedding", rb(json.dumps(embedding_body).encode(), ops=128 | 2))
write("request_body", "spaced", rb(spaced, ops=1 | 16, pick=2))
write("request_body", "deep", rb(b'{"model":"m","messages":[{"role":"user","content":"x"}],"x":' + b"[" * 6 + b"]" * 6 + b"}", depth=8))
write("request_body", "too_deep", rb(b'{"a":' + b"[" * 8 + b"]" * 8 + b"}", depth=8))
write("request_body", "duplicate", rb(b'{"model":"a","messages":[],"model":"b"}'))
write("request_body", "bad", rb(b'{"model":"gpt-4o","messages":[{"role":"robot","content":1}], "max_tokens": 1e400}'))
write("request_body", "array_root", rb(b'[{"model":"x"}]', ops=255))

# request_<provider>: [fuzzed model string,] the body, then model pick (1) and
# mode (1): bits 0-1 endpoint (chat, completions, embeddings, chat), 4 stream,
# 8 params: reject, 16 validate first, 32 depth 1024, 64 model from the
# front, 128 usage asked for (unvalidated streams).
json_mode = dict(simple_chat, response_format={"type": "json_schema", "json_schema": {
    "name": "out", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}}, reasoning_effort="low",
                 logprobs=True, top_logprobs=2, presence_penalty=0.5, n=1, max_completion_tokens=100)
request_seeds = [("chat_stream", json.dumps(chat_body).encode(), 0, 4 | 16),
                 ("chat_reject", json.dumps(json_mode).encode(), 1, 8 | 16),
                 ("chat_drop", json.dumps(json_mode).encode(), 2, 16),
                 ("completion", json.dumps(dict(completion_body, prompt="Say this")).encode(), 0, 1 | 16),
                 ("embedding", json.dumps(embedding_body).encode(), 3, 2 | 16),
                 ("raw", json.dumps(dict(simple_chat, messages=[{"role": "user", "content": [{"type": "file"}]}])).encode(), 0, 4 | 128)]
odd_types = json.dumps({"model": "m", "stream": None, "messages": [
    {"role": "user", "content": [{"type": "text", "text": {"not": "a string"}},
                                 {"type": "image_url", "image_url": {"url": 5}}]},
    {"role": "assistant", "content": None, "tool_calls": [{"id": 7, "type": "function",
                                                             "function": {"name": ["x"], "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "7", "content": "ok"}],
    "tools": [{"type": "function", "function": {"name": "wx", "strict": "yes"}}],
    "response_format": {"type": 1}}).encode()
for provider in ("openai", "azure", "anthropic", "gemini", "bedrock", "cohere", "vertex"):
    for name, body, pick, mode in request_seeds:
        write("request_" + provider, name, body + le(pick, 1) + le(mode, 1))
    # Regressions: a json_schema response_format without its json_schema
    # object (Bedrock read a missing member); members of unexpected types
    # (nlohmann's value() threw in the Cohere and Gemini translations).
    write("request_" + provider, "schema_missing", json.dumps(dict(simple_chat, response_format={"type": "json_schema"})).encode() +
          le(0, 1) + le(16, 1))
    write("request_" + provider, "odd_types", odd_types + le(0, 1) + le(16, 1))
    write("request_" + provider, "odd_model", rstr(b"m/../x y?z#\xc3\xa9") + json.dumps(simple_chat).encode() +
          le(0, 1) + le(64 | 16, 1))

# --- Anthropic inbound (/v1/messages) ---------------------------------------------
# mode (last byte): 0 create, 1 count_tokens (4: depth 1024), 2 reply, 3 stream.
messages_body = {
    "model": "claude-sonnet-4-5", "max_tokens": 1024, "system": [{"type": "text", "text": "Be brief."}],
    "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "Look"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "notes"}}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"},
                                          {"type": "text", "text": "Checking."},
                                          {"type": "tool_use", "id": "toolu_1", "name": "get", "input": {"q": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [
            {"type": "text", "text": "42"},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/x.png"}}]}]}],
    "tools": [{"name": "get", "description": "Get", "input_schema": {"type": "object", "properties": {"q": {"type": "integer"}}}}],
    "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    "temperature": 0.5, "top_k": 5, "stop_sequences": ["END"], "metadata": {"user_id": "u-1"},
    "thinking": {"type": "enabled", "budget_tokens": 4096}, "stream": True}
structured = {"model": "claude-opus-4-1", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}],
              "output_config": {"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}}}
write("anthropic_inbound", "create", json.dumps(messages_body).encode() + le(0, 1))
write("anthropic_inbound", "count_tokens", json.dumps(messages_body).encode() + le(1, 1))
write("anthropic_inbound", "structured", json.dumps(structured).encode() + le(4, 1))
# What Claude Code sends (tests/data/claude_code_messages_request.json, in small):
# a system turn between turns, adaptive thinking, effort, context management,
# cache_control, a thinking block with its signature, a tool round.
claude_code = {
    "model": "gw-model", "max_tokens": 32000, "stream": True,
    "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Write hi"}]},
        {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "run it", "signature": "sig"},
                                          {"type": "redacted_thinking", "data": "x"},
                                          {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "echo hi"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": [
            {"type": "text", "text": "ok"}, {"type": "tool_reference", "tool_name": "Read"}],
            "cache_control": {"type": "ephemeral"}}]}],
    "tools": [{"name": "Bash", "input_schema": {"type": "object"}, "defer_loading": True}],
    "thinking": {"type": "adaptive", "display": "omitted"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "output_config": {"effort": "xhigh"},
    "metadata": {"user_id": "{\"session_id\":\"0\"}"}}
write("anthropic_inbound", "claude_code", json.dumps(claude_code).encode() + le(0, 1))
write("anthropic_inbound", "invalid", b'{"model":"c","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/tiff","data":"x"}}]}]}' + le(0, 1))
completion = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "Hi", "reasoning_content": "hm", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
     "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 5, "completion_tokens": 2,
                                                "prompt_tokens_details": {"cached_tokens": 1}}}
# reply: body, then the usage flag (1), the status pick (1; 0 = 200, 9 = 429).
write("anthropic_inbound", "reply", json.dumps(completion).encode() + le(0, 1) + le(0, 1) + le(2, 1))
write("anthropic_inbound", "reply_error", json.dumps(errors["response_openai"]).encode() + le(0, 1) + le(9, 1) + le(2, 1))
# stream: payload strings from the front, then [DONE]? (1), estimate (3).
chunk = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}
stream_payloads = [dict(chunk, choices=[{"index": 0, "delta": {"role": "assistant", "reasoning_content": "hm"}}]),
                   dict(chunk, choices=[{"index": 0, "delta": {"content": "Hi"}}]),
                   dict(chunk, choices=[{"index": 0, "delta": {"tool_calls": [
                       {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{\"a\""}}]}}]),
                   dict(chunk, choices=[{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]},
                                         "finish_reason": "tool_calls"}]),
                   dict(chunk, choices=[], usage={"prompt_tokens": 9, "completion_tokens": 3})]
front = b"".join(rstr(json.dumps(p).encode()) for p in stream_payloads)
write("anthropic_inbound", "stream", front + le(1, 1) + le(40, 3) + le(3, 1))
write("anthropic_inbound", "stream_error", rstr(json.dumps(stream_payloads[1]).encode()) +
      rstr(b'{"error":{"message":"overloaded","type":"server_error","code":"overloaded"}}') + le(1, 1) + le(0, 3) + le(3, 1))
# --- responses_inbound: POST /v1/responses both ways ----------------------------
# request: body, then the mode byte (0: no resolver, 4: a resolver).
responses_body = {"model": "gpt-x", "instructions": "Be brief.", "stream": True, "store": False,
                  "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ls"},
                                                                             {"type": "input_image", "image_url": "data:image/png;base64,AA"}]},
                            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAsecret"},
                            {"type": "function_call", "call_id": "call_1", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"},
                            {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"},
                            {"type": "item_reference", "id": "msg_1"}],
                  "tools": [{"type": "function", "name": "exec_command", "parameters": {"type": "object"}, "strict": False}],
                  "tool_choice": "auto", "parallel_tool_calls": True, "reasoning": {"effort": "low", "summary": "auto"},
                  "text": {"format": {"type": "json_schema", "name": "o", "schema": {"type": "object"}}},
                  "max_output_tokens": 100, "include": ["reasoning.encrypted_content"], "prompt_cache_key": "k"}
write("responses_inbound", "request", json.dumps(responses_body).encode() + le(4, 1))
write("responses_inbound", "request_hosted_tool", b'{"model":"m","input":"hi","tools":[{"type":"web_search"}]}' + le(0, 1))
# reply: body, then the usage flag (1), the status pick (1; 0 = 200, 6 = 429), mode 1.
write("responses_inbound", "reply", json.dumps(completion).encode() + le(0, 1) + le(0, 1) + le(1, 1))
write("responses_inbound", "reply_error", json.dumps(errors["response_openai"]).encode() + le(0, 1) + le(6, 1) + le(1, 1))
# stream: payload strings from the front, then mode 2 ([DONE] appended) or 3 (broken off).
write("responses_inbound", "stream", front + le(2, 1))
write("responses_inbound", "stream_broken", rstr(json.dumps(stream_payloads[1]).encode()) + le(3, 1))
write("responses_inbound", "stream_error", rstr(json.dumps(stream_payloads[1]).encode()) +
      rstr(b'{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}') + le(2, 1))
# --- dictionaries (tests/fuzz/dict/<target>.dict) -------------------------------
# The member names and values of the OpenAI and Anthropic request shapes, so
# that mutations reach nested structure (tool calls, content parts, schemas).
DICT = os.path.join(os.path.dirname(ROOT), "dict")
openai_words = ["model", "messages", "role", "content", "system", "developer", "user", "assistant", "tool", "function",
                "name", "tool_calls", "tool_call_id", "id", "type", "arguments", "text", "refusal", "image_url", "url",
                "detail", "low", "input_audio", "format", "data", "file", "file_data", "tools", "parameters",
                "description", "strict", "tool_choice", "auto", "none", "required", "allowed_tools", "mode",
                "response_format", "json_object", "json_schema", "schema", "reasoning_effort", "minimal", "high",
                "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stop", "seed", "stream",
                "stream_options", "include_usage", "logprobs", "top_logprobs", "logit_bias", "presence_penalty",
                "frequency_penalty", "parallel_tool_calls", "prompt", "input", "encoding_format", "base64",
                "dimensions", "input_type", "echo", "suffix", "best_of", "functions", "function_call", "$ref", "$defs",
                "anyOf", "properties", "items", "enum", "nullable", "object", "array", "string", "integer",
                "data:image/png;base64,", "data:application/pdf;base64,"]
anthropic_words = ["max_tokens", "stop_sequences", "top_k", "metadata", "user_id", "thinking", "enabled", "disabled",
                   "adaptive", "budget_tokens", "output_config", "effort", "tool_use", "tool_result", "tool_use_id",
                   "input", "input_schema", "any", "disable_parallel_tool_use", "image", "document", "source",
                   "media_type", "image/png", "application/pdf", "redacted_thinking", "signature", "custom",
                   "count_tokens", "[DONE]", "choices", "delta", "finish_reason", "usage", "prompt_tokens",
                   "completion_tokens", "reasoning_content", "error", "chat.completion.chunk"]


def write_dict(target, words):
    os.makedirs(DICT, exist_ok=True)
    with open(os.path.join(DICT, target + ".dict"), "w") as f:
        f.write("# written by make_corpus.py\n")
        for w in words:
            f.write(json.dumps(json.dumps(w)) + "\n")


for t in ["request_body"] + ["request_" + p for p in ("openai", "azure", "anthropic", "gemini", "bedrock", "cohere", "vertex")]:
    write_dict(t, openai_words)
write_dict("anthropic_inbound", sorted(set(openai_words + anthropic_words)))
responses_words = ["instructions", "input_text", "output_text", "input_image", "input_file", "file_id", "file_url",
                   "filename", "message", "function_call", "function_call_output", "call_id", "output", "reasoning",
                   "summary", "encrypted_content", "item_reference", "previous_response_id", "max_output_tokens",
                   "store", "include", "truncation", "safety_identifier", "background", "web_search", "namespace"]
write_dict("responses_inbound", sorted(set(openai_words + anthropic_words + responses_words)))
print("corpus written to", ROOT)

# --- spend row codec ----------------------------------------------------------
# The whole input is one spool record payload (no trailer). Format 2 as
# src/accounting/spend_row_codec.h describes it; format 1 is the MessagePack
# record of tests/accounting/spool_format1.h.
def uvarint(u):
    out = b""
    while u >= 0x80:
        out += bytes([(u & 0x7f) | 0x80])
        u >>= 7
    return out + bytes([u])


def zigzag(v):
    return ((v << 1) ^ (v >> 63)) & 0xffffffffffffffff


def spend_row_v2(texts, ints, rejection=False, stream=False, cache_hit=False, ttft=None,
                 start=1_700_000_000_123_456_789, end=1_700_000_000_987_654_321):
    flags = (1 if rejection else 0) | (2 if stream else 0) | (4 if cache_hit else 0) | (8 if ttft is not None else 0)
    out = bytes([2, flags]) + struct.pack("<qq", start, end)
    status, prompt, completion, cached, reasoning, latency, overhead = ints
    for v in (status, prompt, completion, cached, reasoning, latency) + ((ttft,) if ttft is not None else ()) + (overhead,):
        out += uvarint(zigzag(v))
    for t in texts:  # request_id ... reason, cost_usd, tags, metadata
        out += uvarint(len(t)) + t
    return out


fields = [b"req-1", b"k1", b"alias \"q\"", b"sk-...Wx9a", "team-é".encode(), "user-日本語".encode(), b"end\nuser\t\x01",
          b"/v1/chat/completions", b"gpt-4o", b"gpt-4o-group", b"gpt-4o-2024-08-06", b"openai",
          b"https://api.openai.com/v1", b"", b"", b"0.0000123400"]
write("spend_row_codec", "v2_spend", spend_row_v2(
    fields + [b'["prod","tag \\"q\\"","","\\u00e9"]', '{"emoji":"😀","n":-5,"nested":{"a":[1,2,null,true]},"pi":3.14,"u":18446744073709551615}'.encode()],
    (200, 1_000_000_000_001, 42, 7, -1, 1234, 3), stream=True, ttft=56))
write("spend_row_codec", "v2_rejection", spend_row_v2(
    fields[:13] + [b"rate_limit_error", "rpm limit 10 reached 🚦".encode(), b"0", b"[]", b"{}"],
    (429, 0, 0, 0, 0, 2, 0), rejection=True, cache_hit=True))
write("spend_row_codec", "v2_empty", spend_row_v2([b""] * 15 + [b"0", b"[]", b"{}"], (0,) * 7, start=0, end=0))
v1 = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "accounting", "spool_format1.h")).read()
v1_hex = re.findall(r'"([0-9a-f]+)"', v1.split("format1_spend_record")[1].split("}")[0])
write("spend_row_codec", "v1_spend", bytes.fromhex("".join(v1_hex)))
# JSON text alone: the input is also checked as tags and metadata text.
write("spend_row_codec", "json_metadata", b' {"a":[1,-0.5e-3,1E+2,"\\ud83d\\ude00\\n"],"b":{"c":null,"d":false}} ')
write("spend_row_codec", "json_tags", b'["a","\\u0000","\xc3\xa9",""]')
