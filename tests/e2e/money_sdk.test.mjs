// A new user's money-and-access flow with the official OpenAI SDK: the master
// key creates a team and keys through the admin API, the keys are used from
// the SDK, rate limits and budgets answer as documented, and the spend shows
// up in /spend/report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway } from './gateway_process.mjs';

const MASTER = 'sk-master-e2e-0123456789abcdef';
let gateway;

async function admin(method, route, body) {
  const r = await fetch(`${gateway.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text) };
}

function client(key) {
  return new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
}

const hello = { model: 'mock-gpt', messages: [{ role: 'user', content: 'Hi' }] };

before(async () => {
  gateway = await startGateway((port) => `
server: {listen: "127.0.0.1:${port}", threads: 1}
logging: {level: warn}
master_key: "${MASTER}"
database: sqlite://tollgate.db
ledger: {spool_dir: spool, commit_interval_ms: 1}
providers:
  - {name: mock, type: mock, mock: {chunks: 3}}
models:
  - name: mock-gpt
    deployments: [{provider: mock, model: mock-gpt}]
    price: {input_per_million: 0.15, output_per_million: 0.60}
`);
});

after(async () => {
  await gateway?.stop();
});

test('team, key, rate limit, budget and spend report', async () => {
  const team = await admin('POST', '/team/new', { team_alias: 'research', max_budget: 10 });
  assert.equal(team.status, 200, team.text);
  const teamId = team.json().team_id;

  const gen = await admin('POST', '/key/generate', { team_id: teamId, key_alias: 'alice', max_budget: 1, rpm_limit: 3 });
  assert.equal(gen.status, 200, gen.text);
  const key = gen.json().key;
  assert.match(key, /^sk-/);

  const alice = client(key);
  for (let i = 0; i < 3; i++) {
    const r = await alice.chat.completions.create(hello);
    assert.ok(r.choices[0].message.content.length > 0);
  }
  // The fourth request in the same minute: 429 with retry-after, as the SDK sees it.
  await assert.rejects(alice.chat.completions.create(hello), (err) => {
    assert.equal(err.status, 429);
    assert.ok(Number(err.headers?.get?.('retry-after') ?? err.headers?.['retry-after']) >= 1);
    assert.equal(err.headers?.get?.('x-ratelimit-limit-requests') ?? err.headers?.['x-ratelimit-limit-requests'], '3');
    return true;
  });

  // A key whose budget cannot cover even one request's worst case.
  const poor = await admin('POST', '/key/generate', { team_id: teamId, key_alias: 'bob', max_budget: 0.0001 });
  assert.equal(poor.status, 200, poor.text);
  await assert.rejects(client(poor.json().key).chat.completions.create(hello), (err) => {
    assert.equal(err.status, 400);
    assert.match(err.message, /Budget exceeded for key/);
    return true;
  });

  // Streaming works the same with a virtual key.
  const bobRich = await admin('POST', '/key/generate', { team_id: teamId, key_alias: 'carol' });
  let text = '';
  for await (const chunk of await client(bobRich.json().key).chat.completions.create({ ...hello, stream: true })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(text.length > 0);

  // Four successful requests reached the ledger; the report shows them for the team.
  let row;
  for (let i = 0; i < 100; i++) {
    const report = await admin('GET', '/spend/report?group_by=team');
    assert.equal(report.status, 200, report.text);
    row = report.json().data.find((d) => d.team === teamId);
    if (row?.requests === 4) break;
    await new Promise((r) => setTimeout(r, 50));  // the ledger ships within ledger.ship_interval_ms (100 ms)
  }
  assert.equal(row.requests, 4);
  assert.ok(row.spend > 0);

  const csv = await admin('GET', '/spend/report?group_by=key&format=csv');
  assert.equal(csv.status, 200);
  assert.match(csv.text, /^key,requests,failed_requests,prompt_tokens,completion_tokens,spend_usd/);

  const info = await admin('GET', `/key/info?key=${encodeURIComponent(key)}`);
  assert.equal(info.json().info.key_alias, 'alice');
  assert.ok(!info.text.includes(key), 'key/info never returns the key itself');
  assert.ok(!gateway.logs().includes(key), 'the gateway never logs a key');
});

test('a wrong key is refused and the admin API needs the master key', async () => {
  await assert.rejects(client('sk-not-a-real-key-000000').chat.completions.create(hello), (err) => err.status === 401);
  const r = await fetch(`${gateway.url}/key/generate`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer sk-not-a-real-key-000000' } });
  assert.equal(r.status, 401);
});
