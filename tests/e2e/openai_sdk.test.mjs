// The official OpenAI SDK pointed at a real tollgate process, backed by a fake
// OpenAI-compatible upstream: what a developer sees after changing base_url.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
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
  - {name: app, key: "sk-app-key-123456", models: [gpt-4o-mini, text-embedding-3-small]}
models:
  - name: gpt-4o-mini
    deployments: [{provider: compat, model: upstream-chat}]
  - name: text-embedding-3-small
    deployments: [{provider: compat, model: upstream-embed}]
`);
  port = gateway.port;
  client = new OpenAI({ apiKey: 'sk-app-key-123456', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
});

after(async () => {
  await gateway?.stop();
  upstream?.server.close();
});

test('chat completion', async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(r.choices[0].message.content, 'Hello from upstream');
  assert.equal(r.usage.total_tokens, 14);
  const up = upstream.requests.at(-1);
  assert.equal(up.body.model, 'upstream-chat');
  assert.equal(up.headers.authorization, 'Bearer sk-upstream-secret');
});

test('streaming chat completion', async () => {
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi' }] });
  let text = '';
  let finish;
  for await (const chunk of stream) {
    assert.ok(chunk.choices.length > 0, 'no empty-choices chunk reaches a client that did not ask for usage');
    text += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.equal(text, 'Hello streamed');
  assert.equal(finish, 'stop');
  assert.equal(upstream.requests.at(-1).body.stream_options.include_usage, true);
});

test('streaming with include_usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] });
  let usage;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.equal(usage.total_tokens, 13);
});

test('tool calls, streamed and not', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', tools, messages: [{ role: 'user', content: 'Weather?' }] });
  assert.equal(r.choices[0].message.tool_calls[0].function.arguments, '{"city":"Paris"}');
  const runner = client.chat.completions.stream({ model: 'gpt-4o-mini', tools, messages: [{ role: 'user', content: 'Weather?' }] });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.tool_calls[0].function.name, 'get_weather');
  assert.equal(final.choices[0].message.tool_calls[0].function.arguments, '{"city":"Paris"}');
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
});

test('embeddings', async () => {
  const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
  assert.equal(r.data.length, 2);
  assert.deepEqual(r.data[1].embedding, [0.25, -0.5, 1]);
  assert.equal(upstream.requests.at(-1).body.model, 'upstream-embed');
});

test('model listing', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ['gpt-4o-mini', 'text-embedding-3-small']);
  const one = await client.models.retrieve('gpt-4o-mini');
  assert.equal(one.id, 'gpt-4o-mini');
});

test('SDK error classes', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  const bad = new OpenAI({ apiKey: 'sk-wrong-key-000000', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: 'not an array' }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages');
});

test('logs never contain keys', () => {
  assert.ok(!gateway.logs().includes('sk-app-key-123456'), 'client key in logs');
  assert.ok(!gateway.logs().includes('sk-upstream-secret'), 'provider key in logs');
});
