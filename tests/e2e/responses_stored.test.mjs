// Stored responses through the official OpenAI SDK: a turn is stored by
// default, continued with previous_response_id (the gateway rebuilds the
// history for a chat upstream), retrieved, listed, deleted, and never seen by
// another team's key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway } from './gateway_process.mjs';
import { startFakeUpstream } from './fake_upstream.mjs';

const MASTER = 'sk-master-e2e-stored-0123456789';
let gateway;
let upstream;
let alice;
let bob;

async function admin(method, route, body) {
  const r = await fetch(`${gateway.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

async function keyInNewTeam(alias) {
  const team = await admin('POST', '/team/new', { team_alias: alias });
  const key = await admin('POST', '/key/generate', { team_id: team.team_id, key_alias: alias });
  return new OpenAI({ apiKey: key.key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
}

const weather = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

before(async () => {
  upstream = await startFakeUpstream();
  gateway = await startGateway((port) => `
server: {listen: "127.0.0.1:${port}", threads: 1}
logging: {level: warn}
master_key: "${MASTER}"
database: sqlite://tollgate.db
ledger: {spool_dir: spool, commit_interval_ms: 1}
providers:
  - {name: compat, type: openai_compatible, base_url: "http://127.0.0.1:${upstream.port}/v1", api_key: "sk-upstream-secret"}
models:
  - name: gpt-4o-mini
    deployments: [{provider: compat, model: upstream-chat}]
`);
  alice = await keyInNewTeam('alice-team');
  bob = await keyInNewTeam('bob-team');
});

after(async () => {
  await gateway?.stop();
  upstream?.server.close();
});

test('a function call continued with previous_response_id, then retrieved, listed and deleted', async () => {
  const first = await alice.responses.create({ model: 'gpt-4o-mini', input: 'What is the weather in Paris?', tools: [weather] });
  assert.equal(first.status, 'completed');
  const call = first.output.find((item) => item.type === 'function_call');
  assert.ok(call, JSON.stringify(first.output));
  assert.equal(call.name, 'get_weather');

  const second = await alice.responses.create({
    model: 'gpt-4o-mini',
    previous_response_id: first.id,
    input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 24 C' }],
    tools: [weather],
  });
  assert.equal(second.previous_response_id, first.id);
  // The chat upstream got the whole conversation: the question, the call and its output.
  const sent = upstream.requests.at(-1).body.messages;
  assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'tool'], JSON.stringify(sent));
  assert.match(JSON.stringify(sent[0].content), /weather in Paris/);
  assert.equal(sent[1].tool_calls[0].id, call.call_id);
  assert.equal(sent[2].tool_call_id, call.call_id);
  assert.equal(sent[2].content, 'sunny, 24 C');

  const again = await alice.responses.retrieve(first.id);
  assert.equal(again.id, first.id);
  assert.deepEqual(again.output, first.output);

  const items = await alice.responses.inputItems.list(first.id);
  assert.equal(items.data.length, 1);
  assert.equal(items.data[0].role, 'user');
  assert.match(JSON.stringify(items.data[0].content), /weather in Paris/);

  const deleted = await alice.responses.delete(first.id);
  assert.equal(deleted?.deleted ?? true, true);
  await assert.rejects(alice.responses.retrieve(first.id), (e) => e.status === 404);
  // Continuing a deleted turn is a clear 400, not a silent fresh start.
  await assert.rejects(
    alice.responses.create({ model: 'gpt-4o-mini', previous_response_id: first.id, input: 'and tomorrow?' }),
    (e) => e.status === 400 && /previous_response_id|not found/i.test(e.message),
  );
});

test("another team's key sees none of it", async () => {
  const mine = await alice.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
  await assert.rejects(bob.responses.retrieve(mine.id), (e) => e.status === 404);
  await assert.rejects(bob.responses.delete(mine.id), (e) => e.status === 404);
  await assert.rejects(bob.responses.inputItems.list(mine.id), (e) => e.status === 404);
  await assert.rejects(
    bob.responses.create({ model: 'gpt-4o-mini', previous_response_id: mine.id, input: 'Hi' }),
    (e) => e.status === 400,
  );
  // Still there for its owner.
  assert.equal((await alice.responses.retrieve(mine.id)).id, mine.id);
});

test('a streamed turn is stored once it completes; store:false is not stored', async () => {
  const stream = alice.responses.stream({ model: 'gpt-4o-mini', input: 'Stream a greeting' });
  const final = await stream.finalResponse();
  assert.equal(final.status, 'completed');
  const stored = await alice.responses.retrieve(final.id);
  assert.equal(stored.status, 'completed');
  // The SDK's stream helper adds `parsed` to each output_text part of finalResponse();
  // everything the gateway sent must be what it stored.
  const sent = JSON.parse(JSON.stringify(final.output, (k, v) => (k === 'parsed' ? undefined : v)));
  assert.deepEqual(stored.output, sent);
  assert.match(JSON.stringify(stored.output), /Hello streamed/);

  const unstored = await alice.responses.create({ model: 'gpt-4o-mini', input: 'Forget me', store: false });
  await assert.rejects(alice.responses.retrieve(unstored.id), (e) => e.status === 404);
});
