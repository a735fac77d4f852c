// An operator's day with the real binary and the official OpenAI SDK: one
// deployment fails and requests keep succeeding through the other while
// /metrics shows its cooldown; the YAML is edited and SIGHUP changes the
// routing without a single failed request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import OpenAI from 'openai';
import { startGateway } from './gateway_process.mjs';
import { startFakeUpstream } from './fake_upstream.mjs';

async function startFailingUpstream() {
  let calls = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls += 1;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: server.address().port, calls: () => calls };
}

function metric(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const config = (port, failing, healthy, second) => `
server: {listen: "127.0.0.1:${port}", threads: 2}
master_key: sk-master-e2e-operate
logging: {level: info}
reload: {watch_interval_ms: 0}
providers:
  - {name: flaky, type: openai_compatible, base_url: "http://127.0.0.1:${failing}/v1", api_key: sk-flaky-secret-000}
  - {name: steady, type: openai_compatible, base_url: "http://127.0.0.1:${healthy}/v1", api_key: sk-steady-secret-000}
  - {name: local, type: mock}
models:
  - name: chat
    deployments:
${second
    ? '      - {provider: local, model: mock-gpt, id: local-mock}'
    : `      - {provider: flaky, model: up-model, id: flaky-1}
      - {provider: steady, model: up-model, id: steady-1}`}
router:
  retries: 2
  backoff: {initial_ms: 0, max_ms: 0}
  circuit_breaker: {failures: 3, cooldown_ms: 600000}
`;

test('a failing deployment is routed around and a SIGHUP reload drops nothing', async () => {
  const failing = await startFailingUpstream();
  const healthy = await startFakeUpstream();
  const gw = await startGateway((port) => config(port, failing.port, healthy.port, false));
  try {
    const client = new OpenAI({ apiKey: 'sk-master-e2e-operate', baseURL: `${gw.url}/v1`, maxRetries: 0 });
    for (let i = 0; i < 12; i++) {
      const r = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(r.choices[0].message.content, 'Hello from upstream');
    }
    assert.equal(failing.calls(), 3, 'three failures opened the circuit; no traffic after that');

    // The caller's trace continues upstream and into the access log.
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'traced' }] },
      { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
    const upstreamTrace = healthy.requests.at(-1).headers.traceparent;
    assert.match(upstreamTrace, new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
    assert.notEqual(upstreamTrace.split('-')[2], '00f067aa0ba902b7', 'a span of its own');
    for (let i = 0; i < 100 && !gw.logs().includes(`trace_id=${trace}`); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(gw.logs(), new RegExp(`trace_id=${trace}`));

    const scrape = async () => (await fetch(`${gw.url}/metrics`)).text();
    let text = await scrape();
    assert.equal(metric(text, 'tollgate_deployment_circuit_state{deployment="flaky-1"}'), 1);
    assert.equal(metric(text, 'tollgate_deployment_cooldowns_total{deployment="flaky-1"}'), 1);
    assert.equal(metric(text, 'tollgate_deployment_circuit_state{deployment="steady-1"}'), 0);
    const health = await (await fetch(`${gw.url}/health`, { headers: { authorization: 'Bearer sk-master-e2e-operate' } })).json();
    assert.equal(health.status, 'degraded');
    assert.ok(!JSON.stringify(health).includes('secret'), 'no credentials in /health');

    // Edit the YAML and SIGHUP while requests keep flowing (streams too).
    let failures = 0;
    let served = 0;
    const models = new Set();
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          const s = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] });
          let model = '';
          for await (const chunk of s) model = chunk.model || model;
          models.add(model);
          served += 1;
        } catch (e) {
          failures += 1;
        }
      }
    })();
    while (served < 5) await new Promise((r) => setTimeout(r, 10));
    fs.writeFileSync(gw.configPath, config(gw.port, failing.port, healthy.port, true));
    gw.signal('SIGHUP');
    for (let i = 0; i < 500 && !models.has('mock-gpt'); i++) await new Promise((r) => setTimeout(r, 20));
    const after = served;
    while (served < after + 5) await new Promise((r) => setTimeout(r, 10));
    stop = true;
    await load;
    assert.equal(failures, 0, 'no request failed across the reload');
    assert.ok(models.has('up-model') && models.has('mock-gpt'), `routing changed: ${[...models]}`);
    text = await scrape();
    assert.equal(metric(text, 'tollgate_config_reloads_total{result="success"}'), 1);
    assert.equal(metric(text, 'tollgate_config_generation'), 2);

    // A broken edit: the old config keeps serving, the failure is counted.
    fs.writeFileSync(gw.configPath, 'models: [this is not valid');
    gw.signal('SIGHUP');
    for (let i = 0; i < 500; i++) {
      if (metric(await scrape(), 'tollgate_config_reloads_total{result="failure"}') === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(metric(await scrape(), 'tollgate_config_reloads_total{result="failure"}'), 1);
    const r = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, 'mock-gpt');
    assert.match(gw.logs(), /config reload failed, the running config stays/);
  } finally {
    await gw.stop();
    failing.server.close();
    healthy.server.close();
  }
});
