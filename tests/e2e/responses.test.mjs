// POST /v1/responses end to end, with the clients that speak only the
// Responses API: the OpenAI SDK (responses.create / responses.stream), the AI
// SDK's default provider `openai(model)`, and Codex CLI (`codex exec`, with its
// own shell tool). Each runs against an OpenAI-compatible and an Anthropic
// upstream (fake_scripted.mjs), so the gateway bridges both ways.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { z } from 'zod';
import { startScriptedUpstream } from './fake_scripted.mjs';
import { startGateway } from './gateway_process.mjs';

const KEY = 'sk-responses-e2e-123456';
const codexBin = path.resolve('node_modules/.bin/codex');

// The default script: a weather question gets a get_weather call; a tool
// result gets an answer quoting it; anything else a greeting.
function script(req) {
  if (req.lastToolResult !== null) return { text: `The tool said: ${req.lastToolResult}` };
  if (req.tools.includes('get_weather') && /weather/i.test(req.userText)) {
    return { toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city: 'Paris' } }] };
  }
  return { text: 'Hello from upstream' };
}

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

function providerYaml(shape, port) {
  return shape === 'openai'
    ? `{name: up, type: openai_compatible, base_url: "http://127.0.0.1:${port}/v1", api_key: "sk-upstream-secret"}`
    : `{name: up, type: anthropic, base_url: "http://127.0.0.1:${port}", api_key: "sk-ant-upstream-secret"}`;
}

// Runs `codex exec` with a private CODEX_HOME (a custom provider whose
// base_url is the gateway, wire_api responses), no network beyond loopback.
function runCodex(gatewayUrl, workdir, prompt) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-codex-home-'));
  fs.writeFileSync(path.join(home, 'config.toml'), `
model = "gpt-test"
model_provider = "tollgate"
check_for_update_on_startup = false
web_search = "disabled"

[agents]
enabled = false

[model_providers.tollgate]
name = "Tollgate"
base_url = "${gatewayUrl}/v1"
wire_api = "responses"
env_key = "TOLLGATE_API_KEY"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"
`);
  const last = path.join(home, 'last-message.txt');
  const env = { ...process.env, HOME: home, CODEX_HOME: home, TOLLGATE_API_KEY: KEY, NO_COLOR: '1' };
  for (const name of Object.keys(env)) if (name.startsWith('OPENAI_') || name.startsWith('CODEX_') && name !== 'CODEX_HOME') delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(codexBin, ['exec', '--skip-git-repo-check', '--ephemeral', '--sandbox', 'danger-full-access',
      '--color', 'never', '-C', workdir, '-o', last, prompt], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const lastMessage = fs.existsSync(last) ? fs.readFileSync(last, 'utf8') : '';
      resolve({ code, stdout, stderr, lastMessage });
    });
  });
}

for (const shape of ['openai', 'anthropic']) {
  describe(`/v1/responses over an ${shape} upstream`, () => {
    let upstream, gateway, client;

    before(async () => {
      upstream = await startScriptedUpstream(shape, script);
      gateway = await startGateway((port) => `
server: {listen: "127.0.0.1:${port}", threads: 1}
logging: {level: warn, json: true}
providers:
  - ${providerYaml(shape, upstream.port)}
keys:
  - {name: app, key: "${KEY}"}
models:
  - name: gpt-test
    deployments: [{provider: up, model: upstream-model}]
`);
      client = new OpenAI({ apiKey: KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    });

    after(async () => {
      await gateway?.stop();
      upstream?.server.close();
    });

    const lastUpstream = () => upstream.requests.at(-1).body;

    test('responses.create: a Response object with usage', async () => {
      const r = await client.responses.create({ model: 'gpt-test', instructions: 'Be brief.', input: 'Hi', max_output_tokens: 64 });
      assert.equal(r.object, 'response');
      assert.match(r.id, /^resp_[0-9a-f]{48}$/);
      assert.equal(r.status, 'completed');
      assert.equal(r.output_text, 'Hello from upstream');
      assert.equal(r.output.length, 1);
      assert.equal(r.output[0].type, 'message');
      assert.equal(r.output[0].role, 'assistant');
      assert.deepEqual(r.usage, { input_tokens: 21, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 28 });
      assert.equal(r.instructions, 'Be brief.');
      assert.equal(r.max_output_tokens, 64);
      assert.equal(r.error, null);
      const up = lastUpstream();
      assert.equal(up.model, 'upstream-model');
      if (shape === 'openai') {
        assert.deepEqual(up.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
        assert.equal(up.max_completion_tokens, 64);
      } else {
        assert.equal(JSON.stringify(up.system).includes('Be brief.'), true);
        assert.equal(up.max_tokens, 64);
      }
    });

    test('responses.stream: the event grammar in order, and finalResponse', async () => {
      const stream = client.responses.stream({ model: 'gpt-test', input: 'Hi' });
      const events = [];
      for await (const ev of stream) events.push(ev);
      const final = await stream.finalResponse();
      assert.deepEqual(events.map((e) => e.type), [
        'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
        'response.output_text.delta', 'response.output_text.delta', 'response.output_text.done',
        'response.content_part.done', 'response.output_item.done', 'response.completed']);
      assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
      assert.equal(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join(''), 'Hello from upstream');
      assert.equal(final.status, 'completed');
      assert.equal(final.output_text, 'Hello from upstream');
      assert.equal(final.usage.input_tokens, 21);
      assert.equal(final.usage.output_tokens, 7);
      assert.equal(final.id, events[0].response.id);
    });

    test('a function call, then its output sent back in input', async () => {
      const input = [{ role: 'user', content: 'What is the weather in Paris?' }];
      const first = await client.responses.create({ model: 'gpt-test', input, tools: [weatherTool] });
      assert.equal(first.output.length, 1);
      const call = first.output[0];
      assert.equal(call.type, 'function_call');
      assert.equal(call.name, 'get_weather');
      assert.equal(call.call_id, 'call_w1');
      assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
      assert.equal(first.tools[0].name, 'get_weather');

      const second = await client.responses.create({ model: 'gpt-test', tools: [weatherTool],
        input: [...input, call, { type: 'function_call_output', call_id: call.call_id, output: '18C and sunny' }] });
      assert.equal(second.output_text, 'The tool said: 18C and sunny');
      const up = lastUpstream();
      if (shape === 'openai') {
        assert.deepEqual(up.messages.slice(1), [
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: call.arguments } }] },
          { role: 'tool', tool_call_id: 'call_w1', content: '18C and sunny' }]);
        assert.equal(up.tools[0].function.name, 'get_weather');
      } else {
        assert.equal(up.messages[1].content[0].type, 'tool_use');
        assert.equal(up.messages[2].content[0].type, 'tool_result');
      }
    });

    test('a streamed function call', async () => {
      const stream = client.responses.stream({ model: 'gpt-test', input: 'Weather in Paris?', tools: [weatherTool] });
      const types = [];
      for await (const ev of stream) types.push(ev.type);
      const final = await stream.finalResponse();
      assert.ok(types.includes('response.function_call_arguments.delta'));
      assert.ok(types.indexOf('response.function_call_arguments.done') < types.indexOf('response.output_item.done'));
      assert.equal(types.at(-1), 'response.completed');
      assert.equal(final.output[0].type, 'function_call');
      assert.deepEqual(JSON.parse(final.output[0].arguments), { city: 'Paris' });
    });

    test('a token limit makes the response incomplete', async () => {
      upstream.setReply(() => ({ text: 'Once upon', finish: 'length' }));
      try {
        const r = await client.responses.create({ model: 'gpt-test', input: 'Tell a story', max_output_tokens: 16 });
        assert.equal(r.status, 'incomplete');
        assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
        const stream = client.responses.stream({ model: 'gpt-test', input: 'Tell a story', max_output_tokens: 16 });
        const types = [];
        for await (const ev of stream) types.push(ev.type);
        assert.equal(types.at(-1), 'response.incomplete');
        assert.equal(types.filter((t) => t === 'response.completed').length, 0);
      } finally {
        upstream.setReply(script);
      }
    });

    test('hosted tools and an unknown previous_response_id are clear 400s naming the field', async () => {
      await assert.rejects(
        client.responses.create({ model: 'gpt-test', input: 'Search', tools: [{ type: 'web_search' }] }),
        (e) => e.status === 400 && e.type === 'invalid_request_error' && e.param === 'tools[0].type' && /web_search/.test(e.message));
      await assert.rejects(
        client.responses.create({ model: 'gpt-test', input: 'Go on', previous_response_id: 'resp_123' }),
        (e) => e.status === 400 && e.param === 'previous_response_id');
    });

    test('AI SDK openai(model): generateText with a tool loop', async () => {
      const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY });
      const seen = [];
      const result = await generateText({
        model: openai('gpt-test'),
        prompt: 'What is the weather in Paris?',
        tools: {
          get_weather: tool({
            description: 'Current weather for a city',
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => { seen.push(city); return `18C in ${city}`; },
          }),
        },
        stopWhen: stepCountIs(3),
        // With store (the API's default) the SDK sends the first step's call
        // back as an item_reference: the gateway finds it in its stored responses.
      });
      assert.deepEqual(seen, ['Paris']);
      assert.equal(result.steps.length, 2);
      assert.match(result.text, /^The tool said: .*18C in Paris/);
      assert.equal(result.totalUsage.inputTokens, 42);
    });

    test('AI SDK openai(model): streamText', async () => {
      const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY });
      const result = streamText({ model: openai('gpt-test'), prompt: 'Hi' });
      let text = '';
      for await (const t of result.textStream) text += t;
      assert.equal(text, 'Hello from upstream');
      assert.equal((await result.usage).outputTokens, 7);
      assert.equal(await result.finishReason, 'stop');
    });

    test('Codex CLI: a plain turn', async () => {
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-codex-work-'));
      const before = upstream.requests.length;
      const r = await runCodex(gateway.url, work, 'Say hello');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(r.lastMessage.trim(), 'Hello from upstream');
      assert.ok(r.stdout.includes('Hello from upstream'), r.stdout);
      assert.ok(upstream.requests.length > before);
    });

    test('Codex CLI: a turn that runs its shell tool', async () => {
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-codex-work-'));
      const toolNames = [];
      upstream.setReply((req) => {
        toolNames.push(req.tools);
        if (req.lastToolResult !== null) return { text: `Done. Tool output: ${req.lastToolResult.includes('made-by-codex') ? 'seen' : 'missing'}` };
        if (/proof file/.test(req.userText) && req.tools.includes('exec_command')) {
          return { toolCalls: [{ id: 'call_sh1', name: 'exec_command', arguments: { cmd: 'echo made-by-codex > proof.txt && cat proof.txt' } }] };
        }
        return { text: 'Hello from upstream' };
      });
      try {
        const r = await runCodex(gateway.url, work, 'Create the proof file');
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.equal(fs.readFileSync(path.join(work, 'proof.txt'), 'utf8').trim(), 'made-by-codex');
        assert.equal(r.lastMessage.trim(), 'Done. Tool output: seen');
        assert.ok(r.stdout.includes('Done. Tool output: seen'), r.stdout);
      } finally {
        upstream.setReply(script);
      }
    });
  });
}
