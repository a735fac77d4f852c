// Fake upstreams on 127.0.0.1:0 for driving a coding agent (Claude Code)
// through the gateway: one OpenAI-compatible (chat completions) and one
// Anthropic (Messages API). Both play the same script and record every
// request:
//  - a conversation whose user text contains TOOL_TURN and that has no tool
//    result yet: the model calls the agent's own Bash tool with TOOL_COMMAND;
//  - once the tool's result comes back: text quoting it (TOOL_ANSWER_PREFIX
//    followed by the result);
//  - anything else: PLAIN_ANSWER.
// The Anthropic fake also thinks before it answers (a thinking block with
// THINKING_SIGNATURE), so a test can check that the agent's next request
// carries that block back unchanged. Both answer streamed or not, as asked.
import http from 'node:http';

export const TOOL_TURN = 'TOOL-TURN';
export const TOOL_COMMAND = 'echo hi-from-bash > file.txt && cat file.txt';
export const TOOL_ANSWER_PREFIX = 'The tool said: ';
export const PLAIN_ANSWER = 'Hello from the fake model.';
export const THINKING_TEXT = 'The user wants a file; Bash can write it.';
export const THINKING_SIGNATURE = 'EqQBCkgIARABGAIiQL-fake-signature-e2e==';

async function listen(handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      let body = {};
      try { body = raw ? JSON.parse(raw) : {}; } catch { body = raw; }
      const url = new URL(req.url, 'http://127.0.0.1');
      const record = { method: req.method, url: req.url, path: url.pathname, headers: req.headers, body };
      requests.push(record);
      Promise.resolve(handler(record, res)).catch((e) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(e) } }));
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port, requests };
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// The text of every user turn, whatever its shape.
function userText(messages) {
  return JSON.stringify((messages ?? []).filter((m) => m.role === 'user').map((m) => m.content));
}

// ------------------------------------------------------- OpenAI-compatible

function openaiToolResult(messages) {
  const last = (messages ?? []).filter((m) => m.role !== 'system').at(-1);
  return last?.role === 'tool' ? String(last.content) : null;
}

export async function startFakeOpenAIAgent({ apiKey }) {
  return listen(async (rec, res) => {
    if (rec.method !== 'POST' || rec.path !== '/v1/chat/completions') return sendJson(res, 404, { error: { message: 'not found' } });
    if (rec.headers.authorization !== `Bearer ${apiKey}`) return sendJson(res, 401, { error: { message: 'bad key', type: 'invalid_request_error' } });
    const body = rec.body;
    const result = openaiToolResult(body.messages);
    const callTool = result === null && userText(body.messages).includes(TOOL_TURN);
    const text = result !== null ? TOOL_ANSWER_PREFIX + result.trim() : PLAIN_ANSWER;
    const call = { id: 'call_bash_1', type: 'function', function: { name: 'Bash', arguments: JSON.stringify({ command: TOOL_COMMAND, description: 'Write and show file.txt' }) } };
    const usage = { prompt_tokens: 120, completion_tokens: 7, total_tokens: 127 };
    const base = { id: 'chatcmpl-agent', created: 1735689600, model: body.model };
    if (!body.stream) {
      const message = callTool ? { role: 'assistant', content: null, tool_calls: [call] } : { role: 'assistant', content: text };
      return sendJson(res, 200, { ...base, object: 'chat.completion', usage,
        choices: [{ index: 0, message, finish_reason: callTool ? 'tool_calls' : 'stop' }] });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (choices, extra = {}) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`;
    const events = [chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }])];
    if (callTool) {
      const args = call.function.arguments;
      events.push(
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: 'Bash', arguments: '' } }] }, finish_reason: null }]),
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: args.slice(0, 20) } }] }, finish_reason: null }]),
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: args.slice(20) } }] }, finish_reason: null }]),
        chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]));
    } else {
      events.push(
        chunk([{ index: 0, delta: { content: text.slice(0, 9) }, finish_reason: null }]),
        chunk([{ index: 0, delta: { content: text.slice(9) }, finish_reason: null }]),
        chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
    }
    if (body.stream_options?.include_usage) events.push(chunk([], { usage }));
    events.push('data: [DONE]\n\n');
    for (const e of events) res.write(e);
    res.end();
  });
}

// --------------------------------------------------------------- Anthropic

function anthropicToolResult(messages) {
  const last = (messages ?? []).filter((m) => m.role !== 'system').at(-1);
  if (last?.role !== 'user' || !Array.isArray(last.content)) return null;
  const block = last.content.find((b) => b.type === 'tool_result');
  if (!block) return null;
  if (typeof block.content === 'string') return block.content;
  return (block.content ?? []).filter((b) => b.type === 'text').map((b) => b.text).join('\n');
}

export async function startFakeAnthropicAgent({ apiKey }) {
  return listen(async (rec, res) => {
    const error = (status, type, message) => sendJson(res, status, { type: 'error', error: { type, message } });
    if (rec.method !== 'POST' || rec.path !== '/v1/messages') return error(404, 'not_found_error', 'Not found');
    if (rec.headers['x-api-key'] !== apiKey) return error(401, 'authentication_error', 'invalid x-api-key');
    if (!rec.headers['anthropic-version']) return error(400, 'invalid_request_error', 'anthropic-version: header is required');
    const body = rec.body;
    if (!Number.isInteger(body.max_tokens)) return error(400, 'invalid_request_error', 'max_tokens: Field required');
    const result = anthropicToolResult(body.messages);
    const callTool = result === null && userText(body.messages).includes(TOOL_TURN);
    const text = result !== null ? TOOL_ANSWER_PREFIX + result.trim() : PLAIN_ANSWER;
    const thinking = { type: 'thinking', thinking: THINKING_TEXT, signature: THINKING_SIGNATURE };
    const tool = { type: 'tool_use', id: 'toolu_bash_1', name: 'Bash', input: { command: TOOL_COMMAND, description: 'Write and show file.txt' } };
    const content = callTool ? [thinking, tool] : [thinking, { type: 'text', text }];
    const message = { id: 'msg_agent', type: 'message', role: 'assistant', model: body.model, stop_sequence: null };
    const usage = { input_tokens: 100, cache_read_input_tokens: 20, cache_creation_input_tokens: 0, output_tokens: 9 };
    if (!body.stream) return sendJson(res, 200, { ...message, content, stop_reason: callTool ? 'tool_use' : 'end_turn', usage });

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_agent' });
    const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const events = [
      ev('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }),
      ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
      ev('ping', {}),
      ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: THINKING_TEXT } }),
      ev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: THINKING_SIGNATURE } }),
      ev('content_block_stop', { index: 0 }),
    ];
    if (callTool) {
      const args = JSON.stringify(tool.input);
      events.push(
        ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: tool.id, name: 'Bash', input: {} } }),
        ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: args.slice(0, 15) } }),
        ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: args.slice(15) } }),
        ev('content_block_stop', { index: 1 }));
    } else {
      events.push(
        ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
        ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: text.slice(0, 9) } }),
        ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: text.slice(9) } }),
        ev('content_block_stop', { index: 1 }));
    }
    events.push(
      ev('message_delta', { delta: { stop_reason: callTool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 9 } }),
      ev('message_stop', {}));
    for (const e of events) res.write(e);
    res.end();
  });
}
