// The official OpenAI SDK pointed at ONE tollgate process whose five models
// are backed by five native-protocol fakes: Anthropic Messages, the Gemini
// API, Vertex AI (service-account JWT -> OAuth token -> Bearer), Azure OpenAI
// (deployment URL, api-key, content-filter annotations) and Cohere Chat v2.
// For each: a plain chat, a stream, usage, tool calls (plain and streamed) and
// a tool-result round trip, with assertions on what the fake received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startGateway } from './gateway_process.mjs';
import {
  WEATHER_ARGS, makeServiceAccount, startFakeAnthropic, startFakeAzure, startFakeCohere, startFakeGoogle,
} from './fake_native.mjs';

const secrets = {
  client: 'sk-app-key-123456',
  anthropic: 'sk-ant-e2e-secret-0001',
  gemini: 'AIzaE2eGeminiSecret0002',
  azure: 'azure-e2e-secret-0004',
  cohere: 'co-e2e-secret-0005',
};
const vertexProject = 'e2e-project';
const vertexLocation = 'europe-west4';
const azureDeployment = 'gpt4o-prod';
const azureApiVersion = '2024-10-21';

const fakes = {};
let gateway, client, serviceAccount;



before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-native-'));
  fakes.anthropic = await startFakeAnthropic({ apiKey: secrets.anthropic });
  fakes.gemini = await startFakeGoogle({ mode: 'gemini', apiKey: secrets.gemini });
  fakes.vertex = await startFakeGoogle({ mode: 'vertex', project: vertexProject, location: vertexLocation });
  fakes.azure = await startFakeAzure({ apiKey: secrets.azure, deployment: azureDeployment, apiVersion: azureApiVersion });
  fakes.cohere = await startFakeCohere({ apiKey: secrets.cohere });
  serviceAccount = makeServiceAccount(dir, { projectId: vertexProject, tokenUri: fakes.vertex.tokenUrl });
  fakes.vertex.trust(serviceAccount);

  const url = (name) => `http://127.0.0.1:${fakes[name].port}`;
  gateway = await startGateway((port) => `
server: {listen: "127.0.0.1:${port}", threads: 1}
logging: {level: warn, json: true}
providers:
  - {name: anthropic-direct, type: anthropic, base_url: "${url('anthropic')}", api_key: "${secrets.anthropic}"}
  - {name: google-ai, type: gemini, base_url: "${url('gemini')}", api_key: "${secrets.gemini}"}
  - name: gcp
    type: vertex
    base_url: "${url('vertex')}"
    project: ${vertexProject}
    location: ${vertexLocation}
    credentials_file: "${serviceAccount.file}"
    token_url: "${fakes.vertex.tokenUrl}"
  - {name: azure-eu, type: azure, base_url: "${url('azure')}", api_key: "${secrets.azure}", api_version: "${azureApiVersion}"}
  - {name: cohere-direct, type: cohere, base_url: "${url('cohere')}", api_key: "${secrets.cohere}"}
keys:
  - {name: app, key: "${secrets.client}"}
models:
  - name: claude
    deployments: [{provider: anthropic-direct, model: claude-3-5-haiku-20241022}]
  - name: gemini-flash
    deployments: [{provider: google-ai, model: gemini-2.5-flash}]
  - name: vertex-pro
    deployments: [{provider: gcp, model: gemini-2.5-pro}]
  - name: azure-gpt
    deployments: [{provider: azure-eu, model: ${azureDeployment}}]
  - name: command
    deployments: [{provider: cohere-direct, model: command-a-03-2025}]
router: {retries: 0}
`);
  const port = gateway.port;
  client = new OpenAI({ apiKey: secrets.client, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0, timeout: 15000 });
});

after(async () => {
  await gateway?.stop();
  for (const f of Object.values(fakes)) f.server.close();
});

const ask = (content) => [{ role: 'system', content: 'Be terse.' }, { role: 'user', content }];
const weatherSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: weatherSchema } }];

// No request may carry the client's gateway key upstream.
function assertNoClientKey(up) {
  for (const [k, v] of Object.entries(up.headers)) assert.ok(!String(v).includes(secrets.client), `client key leaked in ${k}`);
}

// What each provider must receive and answer. `request` checks the native
// request of a plain chat; `tools` the native tool declaration; `replay` the
// native shape of an assistant tool call plus its result sent back.
const providers = {
  anthropic: {
    model: 'claude',
    text: 'Hello from Claude',
    usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16, cached: 3 },
    streamUsageTotal: 14,
    toolCallId: (id) => assert.equal(id, 'toolu_01A'),
    toolText: 'Let me check.',
    request(up, { stream }) {
      assert.equal(up.path, '/v1/messages');
      assert.equal(up.headers['x-api-key'], secrets.anthropic);
      assert.equal(up.headers['anthropic-version'], '2023-06-01');
      assert.equal(up.headers.authorization, undefined);
      assert.equal(up.body.model, 'claude-3-5-haiku-20241022');
      assert.ok(Number.isInteger(up.body.max_tokens) && up.body.max_tokens > 0, 'max_tokens is always supplied');
      assert.equal(up.body.stream ?? false, stream);
      const system = typeof up.body.system === 'string' ? up.body.system : up.body.system.map((b) => b.text).join('');
      assert.equal(system, 'Be terse.');
      assert.equal(up.body.messages.length, 1);
      assert.equal(up.body.messages[0].role, 'user');
      const content = up.body.messages[0].content;
      assert.equal(typeof content === 'string' ? content : content.map((b) => b.text).join(''), 'Hi');
    },
    tools(up) {
      assert.deepEqual(up.body.tools, [{ name: 'get_weather', description: 'Current weather', input_schema: weatherSchema }]);
    },
    replay(up, call) {
      const [, assistant, result] = up.body.messages;
      assert.deepEqual(assistant, { role: 'assistant', content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: call.id, name: 'get_weather', input: WEATHER_ARGS }] });
      assert.equal(result.role, 'user');
      assert.equal(result.content[0].type, 'tool_result');
      assert.equal(result.content[0].tool_use_id, call.id);
      const c = result.content[0].content;
      assert.equal(typeof c === 'string' ? c : c.map((b) => b.text).join(''), '18C');
    },
  },
  gemini: {
    model: 'gemini-flash',
    text: 'Hello from Gemini',
    usage: { prompt_tokens: 8, completion_tokens: 6, total_tokens: 14, reasoning: 2 },
    streamUsageTotal: 14,
    toolCallId: (id) => assert.match(id, /^call_[A-Za-z0-9]+$/),
    toolText: null,
    request(up, { stream }) {
      assert.equal(up.path, `/v1beta/models/gemini-2.5-flash:${stream ? 'streamGenerateContent' : 'generateContent'}`);
      if (stream) assert.equal(up.query.get('alt'), 'sse');
      assert.equal(up.query.get('key'), null, 'the key never goes in the URL');
      assert.equal(up.headers['x-goog-api-key'], secrets.gemini);
      assert.equal(up.headers.authorization, undefined);
      assert.deepEqual(up.body.systemInstruction, { parts: [{ text: 'Be terse.' }] });
      assert.deepEqual(up.body.contents, [{ role: 'user', parts: [{ text: 'Hi' }] }]);
    },
    tools(up) { assertGeminiTools(up); },
    replay(up, call) { assertGeminiReplay(up, call, 'Z2VtLXNpZ25hdHVyZQ=='); },
  },
  vertex: {
    model: 'vertex-pro',
    text: 'Hello from Vertex',
    usage: { prompt_tokens: 8, completion_tokens: 6, total_tokens: 14, reasoning: 2 },
    streamUsageTotal: 14,
    toolCallId: (id) => assert.match(id, /^call_[A-Za-z0-9]+$/),
    toolText: null,
    request(up, { stream }) {
      assert.equal(up.path, `/v1/projects/${vertexProject}/locations/${vertexLocation}/publishers/google/models/gemini-2.5-pro:${
        stream ? 'streamGenerateContent' : 'generateContent'}`);
      if (stream) assert.equal(up.query.get('alt'), 'sse');
      assert.match(up.headers.authorization, /^Bearer ya29\.fake-access-token-\d+$/);
      assert.equal(up.headers['x-goog-api-key'], undefined);
      assert.deepEqual(up.body.systemInstruction, { parts: [{ text: 'Be terse.' }] });
      assert.deepEqual(up.body.contents, [{ role: 'user', parts: [{ text: 'Hi' }] }]);
    },
    tools(up) { assertGeminiTools(up); },
    replay(up, call) { assertGeminiReplay(up, call, 'dnR4LXNpZ25hdHVyZQ=='); },
  },
  azure: {
    model: 'azure-gpt',
    text: 'Hello from Azure',
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    streamUsageTotal: 12,
    toolCallId: (id) => assert.equal(id, 'call_azure_1'),
    toolText: null,
    request(up, { stream }) {
      assert.equal(up.path, `/openai/deployments/${azureDeployment}/chat/completions`);
      assert.equal(up.query.get('api-version'), azureApiVersion);
      assert.equal(up.headers['api-key'], secrets.azure);
      assert.equal(up.headers.authorization, undefined);
      assert.equal(up.body.stream ?? false, stream);
      assert.deepEqual(up.body.messages, ask('Hi'));
    },
    tools(up) { assert.deepEqual(up.body.tools, tools); },
    replay(up, call) {
      assert.equal(up.body.messages[2].role, 'assistant');
      assert.deepEqual(up.body.messages[2].tool_calls, [call]);
      assert.deepEqual(up.body.messages[3], { role: 'tool', tool_call_id: call.id, content: '18C' });
    },
  },
  cohere: {
    model: 'command',
    text: 'Hello from Cohere',
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    streamUsageTotal: 10,
    toolCallId: (id) => assert.equal(id, 'get_weather_c0h3r3'),
    toolText: 'I will look up the weather in Paris.',
    request(up, { stream }) {
      assert.equal(up.path, '/v2/chat');
      assert.equal(up.headers.authorization, `Bearer ${secrets.cohere}`);
      assert.equal(up.body.model, 'command-a-03-2025');
      assert.equal(up.body.stream ?? false, stream);
      assert.deepEqual(up.body.messages, [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }]);
      assert.equal(up.body.stream_options, undefined, 'no OpenAI-only fields reach Cohere');
    },
    tools(up) {
      assert.deepEqual(up.body.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: weatherSchema } }]);
    },
    replay(up, call) {
      assert.deepEqual(up.body.messages[2], { role: 'assistant', tool_plan: 'I will look up the weather in Paris.', tool_calls: [call] });
      assert.deepEqual(up.body.messages[3], { role: 'tool', tool_call_id: call.id, content: '18C' });
    },
  },
};

function assertGeminiTools(up) {
  assert.equal(up.body.tools.length, 1, 'all functions in one tools entry');
  const [decl] = up.body.tools[0].functionDeclarations;
  assert.equal(decl.name, 'get_weather');
  assert.equal(decl.description, 'Current weather');
  const schema = decl.parameters ?? decl.parametersJsonSchema;
  assert.equal(String(schema.type).toLowerCase(), 'object');
  assert.equal(String(schema.properties.city.type).toLowerCase(), 'string');
  assert.deepEqual(schema.required, ['city']);
}

function assertGeminiReplay(up, call, signature) {
  const [, model, user] = up.body.contents;
  assert.deepEqual(model, { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: WEATHER_ARGS }, thoughtSignature: signature }] });
  assert.deepEqual(user, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: '18C' } } }] });
}

for (const [name, p] of Object.entries(providers)) {
  const fake = () => fakes[name];

  test(`${name}: chat completion`, async () => {
    const before = fake().requests.length;
    const r = await client.chat.completions.create({ model: p.model, messages: ask('Hi') });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(r.choices[0].message.content, p.text);
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.usage.prompt_tokens, p.usage.prompt_tokens);
    assert.equal(r.usage.completion_tokens, p.usage.completion_tokens);
    assert.equal(r.usage.total_tokens, p.usage.total_tokens);
    if (p.usage.cached) assert.equal(r.usage.prompt_tokens_details.cached_tokens, p.usage.cached);
    if (p.usage.reasoning) assert.equal(r.usage.completion_tokens_details.reasoning_tokens, p.usage.reasoning);
    const chats = fake().requests.slice(before).filter((q) => q.path !== '/token');
    assert.equal(chats.length, 1, 'exactly one upstream call');
    p.request(chats[0], { stream: false });
    assertNoClientKey(chats[0]);
  });

  test(`${name}: streaming chat completion`, async () => {
    const stream = await client.chat.completions.create({ model: p.model, stream: true, messages: ask('Hi') });
    let text = '';
    let finish;
    let chunks = 0;
    const ids = new Set();
    for await (const chunk of stream) {
      assert.ok(++chunks < 100, 'bounded stream');
      assert.ok(chunk.choices.length > 0, 'no empty-choices chunk reaches a client that did not ask for usage');
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.usage ?? null, null, 'no usage the client did not ask for');
      ids.add(chunk.id);
      assert.equal(finish, undefined, 'nothing after the finish chunk');
      text += chunk.choices[0].delta?.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    assert.equal(text, 'Hello streamed');
    assert.equal(finish, 'stop');
    assert.equal(ids.size, 1, 'one id for the whole stream');
    const up = fake().requests.at(-1);
    p.request(up, { stream: true });
    assert.match(up.headers.accept ?? '', /text\/event-stream/);
  });

  test(`${name}: streaming with include_usage`, async () => {
    const stream = await client.chat.completions.create({
      model: p.model, stream: true, stream_options: { include_usage: true }, messages: ask('Hi') });
    let usage;
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      assert.ok(++chunks < 100, 'bounded stream');
      if (chunk.usage) usage = chunk.usage;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, 'Hello streamed');
    assert.ok(usage, 'a usage chunk');
    assert.equal(usage.total_tokens, p.streamUsageTotal);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  });

  test(`${name}: tool calls, streamed and not`, async () => {
    const r = await client.chat.completions.create({ model: p.model, tools, messages: ask('Weather in Paris?') });
    const choice = r.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, p.toolText);
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, '{"city":"Paris"}');
    p.toolCallId(call.id);
    const up = fake().requests.at(-1);
    p.tools(up);

    const runner = client.chat.completions.stream({ model: p.model, tools, messages: ask('Weather in Paris?') });
    const final = await runner.finalChatCompletion();
    const streamed = final.choices[0];
    assert.equal(streamed.finish_reason, 'tool_calls');
    assert.equal(streamed.message.tool_calls.length, 1);
    assert.equal(streamed.message.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(streamed.message.tool_calls[0].function.arguments), WEATHER_ARGS);
    p.toolCallId(streamed.message.tool_calls[0].id);
    // The role chunk opens with content "" (wire formats §1.8), so a stream
    // with no text accumulates "" where the non-streamed message has null.
    assert.equal(streamed.message.content || null, p.toolText);
    const upStream = fake().requests.at(-1);
    p.tools(upStream);
    if (name === 'gemini' || name === 'vertex') assert.equal(upStream.query.get('alt'), 'sse');
    else assert.equal(upStream.body.stream, true);
  });

  test(`${name}: tool result round trip in the native shape`, async () => {
    // The call to replay comes once from a plain answer and once from a stream
    // (Gemini's thought signature must be kept from both paths).
    const plain = (await client.chat.completions.create({ model: p.model, tools, messages: ask('Weather in Paris?') })).choices[0].message;
    const streamed = (await client.chat.completions.stream({ model: p.model, tools, messages: ask('Weather in Paris?') })
      .finalChatCompletion()).choices[0].message;
    for (const message of [plain, streamed]) {
      const call = message.tool_calls[0];
      const assistant = {
        role: 'assistant', content: message.content || null,
        tool_calls: [{ id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }],
      };
      const r = await client.chat.completions.create({
        model: p.model, tools,
        messages: [...ask('Weather in Paris?'), assistant, { role: 'tool', tool_call_id: call.id, content: '18C' }],
      });
      assert.equal(r.choices[0].message.content, 'It is 18C in Paris.');
      assert.equal(r.choices[0].finish_reason, 'stop');
      p.replay(fake().requests.at(-1), assistant.tool_calls[0]);
    }
  });
}

test('vertex: one OAuth token, fetched with a valid service-account JWT', () => {
  const { tokenRequests, requests } = fakes.vertex;
  assert.equal(tokenRequests.length, 1, 'the token is cached across requests');
  const [t] = tokenRequests;
  assert.equal(t.grantType, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
  assert.match(t.headers['content-type'], /application\/x-www-form-urlencoded/);
  assert.ok(t.check.ok, `assertion rejected: ${t.check.why}`);
  assert.equal(t.check.claims.iss, serviceAccount.account.client_email);
  for (const q of requests.filter((x) => x.path !== '/token')) {
    assert.equal(q.headers.authorization, 'Bearer ya29.fake-access-token-1');
  }
});

test('model listing shows the five native-backed models', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ['azure-gpt', 'claude', 'command', 'gemini-flash', 'vertex-pro']);
});

test('logs never contain keys or tokens', () => {
  for (const [what, s] of Object.entries(secrets)) assert.ok(!gateway.logs().includes(s), `${what} key in logs`);
  assert.ok(!gateway.logs().includes('ya29.fake-access-token'), 'access token in logs');
  assert.ok(!gateway.logs().includes('PRIVATE KEY'), 'private key in logs');
});
