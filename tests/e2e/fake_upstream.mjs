// A fake OpenAI-compatible upstream on 127.0.0.1:0 that records requests.
import http from 'node:http';

export async function startFakeUpstream() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = body ? JSON.parse(body) : {};
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: json });
      if (req.url === '/v1/embeddings') {
        const inputs = Array.isArray(json.input) ? json.input : [json.input];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          object: 'list', model: json.model,
          data: inputs.map((_, i) => ({ object: 'embedding', index: i, embedding: [0.25, -0.5, i] })),
          usage: { prompt_tokens: 4, total_tokens: 4 },
        }));
        return;
      }
      const base = { id: 'chatcmpl-fake', created: 1735689600, model: json.model };
      const wantsTool = Array.isArray(json.tools) && json.tools.length > 0;
      if (!json.stream) {
        const message = wantsTool
          ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }
          : { role: 'assistant', content: 'Hello from upstream' };
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'up-123' });
        res.end(JSON.stringify({ ...base, object: 'chat.completion',
          choices: [{ index: 0, message, finish_reason: wantsTool ? 'tool_calls' : 'stop' }],
          usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (choices, extra = {}) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`;
      const events = wantsTool
        ? [chunk([{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }]),
           chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null }]),
           chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, finish_reason: null }]),
           chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }])]
        : [chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
           chunk([{ index: 0, delta: { content: 'Hello ' }, finish_reason: null }]),
           chunk([{ index: 0, delta: { content: 'streamed' }, finish_reason: null }]),
           chunk([{ index: 0, delta: {}, finish_reason: 'stop' }])];
      if (json.stream_options?.include_usage) {
        events.push(chunk([], { usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 } }));
      }
      events.push('data: [DONE]\n\n');
      for (const e of events) res.write(e);
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port, requests };
}
