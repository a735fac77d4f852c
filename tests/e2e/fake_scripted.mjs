// A scripted fake upstream on 127.0.0.1:0 for agent loops: a test's
// `reply(request)` decides each answer (text, tool calls, reasoning, a finish
// reason), and the fake writes it in the chosen wire shape, streamed or not:
//  - 'openai': POST /v1/chat/completions (chat.completion / chunks, the usage
//    chunk when stream_options.include_usage asks for it)
//  - 'anthropic': POST /v1/messages (message / named SSE events)
// `request` is {shape, body, tools (names), lastToolResult (the text of the
// newest tool result, or null), userText (the newest user text)}. Every
// request is recorded.
import http from 'node:http';

function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p.text === 'string' ? p.text : typeof p.content === 'string' ? p.content : textOf(p.content))).join('');
}

function view(shape, body) {
  const messages = body.messages ?? [];
  let lastToolResult = null;
  let userText = '';
  if (shape === 'openai') {
    const last = messages.at(-1);
    if (last?.role === 'tool') lastToolResult = textOf(last.content);
    for (const m of messages) if (m.role === 'user') userText = textOf(m.content);
    return { shape, body, tools: (body.tools ?? []).map((t) => t.function?.name), lastToolResult, userText };
  }
  const last = messages.at(-1);
  if (last?.role === 'user' && Array.isArray(last.content)) {
    const results = last.content.filter((b) => b.type === 'tool_result');
    if (results.length) lastToolResult = textOf(results.at(-1).content);
  }
  for (const m of messages) {
    if (m.role !== 'user') continue;
    const t = typeof m.content === 'string' ? m.content : m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
    if (t) userText = t;
  }
  return { shape, body, tools: (body.tools ?? []).map((t) => t.name), lastToolResult, userText };
}

const usage = { input: 21, output: 7 };

function openaiAnswer(res, body, answer) {
  const base = { id: 'chatcmpl-scripted', created: 1735689600, model: body.model };
  const calls = answer.toolCalls ?? [];
  const finish = answer.finish ?? (calls.length ? 'tool_calls' : 'stop');
  if (!body.stream) {
    const message = { role: 'assistant', content: answer.text ?? null };
    if (answer.reasoning) message.reasoning_content = answer.reasoning;
    if (calls.length) message.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finish }],
      usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } }));
    return;
  }
  const chunk = (choices, extra = {}) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`;
  const delta = (d) => chunk([{ index: 0, delta: d, finish_reason: null }]);
  const events = [delta({ role: 'assistant', content: '' })];
  if (answer.reasoning) events.push(delta({ reasoning_content: answer.reasoning }));
  if (answer.text) {
    const half = Math.ceil(answer.text.length / 2);
    events.push(delta({ content: answer.text.slice(0, half) }), delta({ content: answer.text.slice(half) }));
  }
  calls.forEach((c, index) => {
    const args = JSON.stringify(c.arguments);
    events.push(delta({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }));
    events.push(delta({ tool_calls: [{ index, function: { arguments: args.slice(0, 5) } }] }));
    events.push(delta({ tool_calls: [{ index, function: { arguments: args.slice(5) } }] }));
  });
  events.push(chunk([{ index: 0, delta: {}, finish_reason: finish }]));
  if (body.stream_options?.include_usage) {
    events.push(chunk([], { usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } }));
  }
  events.push('data: [DONE]\n\n');
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(e);
  res.end();
}

function anthropicAnswer(res, body, answer) {
  const calls = answer.toolCalls ?? [];
  const stop = answer.finish === 'length' ? 'max_tokens' : calls.length ? 'tool_use' : 'end_turn';
  const content = [];
  if (answer.reasoning) content.push({ type: 'thinking', thinking: answer.reasoning, signature: 'sig' });
  if (answer.text) content.push({ type: 'text', text: answer.text });
  for (const c of calls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments });
  const message = { id: 'msg_scripted', type: 'message', role: 'assistant', model: body.model };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...message, content, stop_reason: stop, stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: usage.output } }));
    return;
  }
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const events = [ev('message_start', { message: { ...message, content: [], stop_reason: null, stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: 1 } } })];
  content.forEach((block, index) => {
    if (block.type === 'thinking') {
      events.push(ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '' } }),
        ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: block.thinking } }));
    } else if (block.type === 'text') {
      const half = Math.ceil(block.text.length / 2);
      events.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }),
        ev('content_block_delta', { index, delta: { type: 'text_delta', text: block.text.slice(0, half) } }),
        ev('content_block_delta', { index, delta: { type: 'text_delta', text: block.text.slice(half) } }));
    } else {
      const args = JSON.stringify(block.input);
      events.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }),
        ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: args.slice(0, 5) } }),
        ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: args.slice(5) } }));
    }
    events.push(ev('content_block_stop', { index }));
  });
  events.push(ev('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage.output } }));
  events.push(ev('message_stop', {}));
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(e);
  res.end();
}

export async function startScriptedUpstream(shape, reply) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : {};
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const path = req.url.split('?')[0];
      const want = shape === 'openai' ? '/v1/chat/completions' : '/v1/messages';
      if (req.method !== 'POST' || path !== want) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `not found: ${req.url}` } }));
        return;
      }
      const answer = server.reply(view(shape, body));
      (shape === 'openai' ? openaiAnswer : anthropicAnswer)(res, body, answer);
    });
  });
  server.reply = reply;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port, requests, setReply: (f) => { server.reply = f; } };
}
