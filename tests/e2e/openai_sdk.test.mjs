// The official OpenAI SDK pointed at a real tollgate process, backed by a fake
// OpenAI-compatible upstream: what a developer sees after changing base_url.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import OpenAI from 'openai';
import { startFakeUpstream } from './fake_upstream.mjs';

const binary = process.env.TOLLGATE_BIN ?? path.resolve('../../build-test/tollgate');
let upstream, gateway, client, port, logs = '';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function waitForReady(url, deadlineMs) {
  const until = Date.now() + deadlineMs;
  for (let i = 0; Date.now() < until; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet listening */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gateway not ready: ${logs}`);
}

before(async () => {
  upstream = await startFakeUpstream();
  port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-'));
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, `
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
  gateway = spawn(binary, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  gateway.stdout.on('data', (d) => (logs += d));
  gateway.stderr.on('data', (d) => (logs += d));
  await waitForReady(`http://127.0.0.1:${port}/health/readiness`, 10000);
  client = new OpenAI({ apiKey: 'sk-app-key-123456', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
});

after(async () => {
  gateway?.kill('SIGTERM');
  await new Promise((r) => (gateway ? gateway.on('exit', r) : r()));
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
  assert.ok(!logs.includes('sk-app-key-123456'), 'client key in logs');
  assert.ok(!logs.includes('sk-upstream-secret'), 'provider key in logs');
});
