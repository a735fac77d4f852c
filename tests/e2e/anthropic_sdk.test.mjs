// The official Anthropic SDK pointed at a real tollgate process whose model is
// served by a fake OpenAI-compatible upstream: what a Claude SDK user or a
// coding agent sees after changing its base URL to the gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream } from './fake_upstream.mjs';
import { startGateway } from './gateway_process.mjs';

let upstream, gateway, client, port;

before(async () => {
  upstream = await startFakeUpstream();
  gateway = await startGateway((port) => `
server: {listen: "127.0.0.1:${port}", threads: 1}
logging: {level: warn, json: true}
providers:
  - {name: compat, type: openai_compatible, base_url: "http://127.0.0.1:${upstream.port}/v1", api_key: "sk-upstream-secret"}
keys:
  - {name: agent, key: "sk-agent-key-123456", models: [claude-sonnet-4]}
models:
  - name: claude-sonnet-4
    deployments: [{provider: compat, model: upstream-chat}]
`);
  port = gateway.port;
  // The SDK sends x-api-key and anthropic-version, and appends /v1/messages.
  client = new Anthropic({ apiKey: 'sk-agent-key-123456', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
});

after(async () => {
  await gateway?.stop();
  upstream?.server.close();
});

const tools = [{
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}];

test('messages.create', async () => {
  const m = await client.messages.create({
    model: 'claude-sonnet-4', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(m.type, 'message');
  assert.equal(m.role, 'assistant');
  assert.ok(m.id.startsWith('msg_'));
  assert.deepEqual(m.content, [{ type: 'text', text: 'Hello from upstream' }]);
  assert.equal(m.stop_reason, 'end_turn');
  assert.equal(m.usage.input_tokens, 11);
  assert.equal(m.usage.output_tokens, 3);
  const up = upstream.requests.at(-1);
  assert.equal(up.url, '/v1/chat/completions');
  assert.equal(up.headers.authorization, 'Bearer sk-upstream-secret');
  assert.equal(up.headers['x-api-key'], undefined);
  assert.equal(up.body.model, 'upstream-chat');
  assert.equal(up.body.max_tokens, 256);
  assert.deepEqual(up.body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
});

test('messages.create with tools', async () => {
  const m = await client.messages.create({
    model: 'claude-sonnet-4', max_tokens: 256, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
  assert.equal(m.stop_reason, 'tool_use');
  assert.deepEqual(m.content, [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }]);
});

test('messages.stream text', async () => {
  const stream = client.messages.stream({ model: 'claude-sonnet-4', max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }] });
  const deltas = [];
  stream.on('text', (t) => deltas.push(t));
  const final = await stream.finalMessage();
  assert.deepEqual(deltas, ['Hello ', 'streamed']);
  assert.equal(final.content.length, 1);
  assert.equal(final.content[0].type, 'text');
  assert.equal(final.content[0].text, 'Hello streamed');
  assert.equal(final.stop_reason, 'end_turn');
  // Real counts from the upstream's usage chunk, which the gateway asked for.
  assert.equal(final.usage.input_tokens, 11);
  assert.equal(final.usage.output_tokens, 2);
  assert.equal(upstream.requests.at(-1).body.stream_options.include_usage, true);
});

test('messages.stream with tool use keeps the tool input', async () => {
  const stream = client.messages.stream({
    model: 'claude-sonnet-4', max_tokens: 256, tools, tool_choice: { type: 'auto' },
    messages: [{ role: 'user', content: 'Weather in Paris?' }] });
  const jsonFragments = [];
  stream.on('inputJson', (partial) => jsonFragments.push(partial));
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  assert.equal(final.content.length, 1);
  const block = final.content[0];
  assert.equal(block.type, 'tool_use');
  assert.equal(block.id, 'call_1');
  assert.equal(block.name, 'get_weather');
  assert.deepEqual(block.input, { city: 'Paris' });
  assert.deepEqual(jsonFragments, ['{"city":', '"Paris"}']);
  assert.equal(upstream.requests.at(-1).body.tools[0].function.name, 'get_weather');
});

test('tool result turn goes upstream as an OpenAI tool message', async () => {
  const m = await client.messages.create({
    model: 'claude-sonnet-4', max_tokens: 256, messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '18C' }] },
    ] });
  assert.equal(m.content[0].text, 'Hello from upstream');
  const sent = upstream.requests.at(-1).body.messages;
  assert.deepEqual(sent[1].tool_calls, [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
  assert.deepEqual(sent[2], { role: 'tool', tool_call_id: 'call_1', content: '18C' });
});

test('countTokens answers without calling the upstream', async () => {
  const before = upstream.requests.length;
  const r = await client.messages.countTokens({
    model: 'claude-sonnet-4', tools, messages: [{ role: 'user', content: 'What is the weather in Paris today?' }] });
  assert.ok(Number.isInteger(r.input_tokens) && r.input_tokens > 10, JSON.stringify(r));
  assert.equal(upstream.requests.length, before);
});

test('SDK error classes', async () => {
  await assert.rejects(
    client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.NotFoundError && e.error?.error?.type === 'not_found_error');
  const bad = new Anthropic({ apiKey: 'sk-wrong-key-000000', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
  await assert.rejects(
    bad.messages.create({ model: 'claude-sonnet-4', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.AuthenticationError && e.error?.error?.type === 'authentication_error');
  await assert.rejects(
    client.messages.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.BadRequestError && /max_tokens/.test(e.message));
});

test('logs never contain keys', () => {
  assert.ok(!gateway.logs().includes('sk-agent-key-123456'), 'client key in logs');
  assert.ok(!gateway.logs().includes('sk-upstream-secret'), 'provider key in logs');
});
