// The official OpenAI SDK pointed at a real tollgate process whose models are
// backed by a fake Amazon Bedrock Runtime (Converse, binary ConverseStream
// frames, SigV4 verified on the fake's side).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway } from './gateway_process.mjs';
import { startFakeBedrock } from './fake_bedrock.mjs';

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'us-east-1' };
let upstream, gateway, client;



before(async () => {
  upstream = await startFakeBedrock(creds);
  gateway = await startGateway((port) => `
server: {listen: "127.0.0.1:${port}", threads: 1}
logging: {level: warn, json: true}
providers:
  - name: aws
    type: bedrock
    base_url: "http://127.0.0.1:${upstream.port}"
    region: ${creds.region}
    aws_access_key_id: ${creds.accessKeyId}
    aws_secret_access_key: "${creds.secretAccessKey}"
keys:
  - {name: app, key: "sk-app-key-123456"}
models:
  - name: claude
    deployments: [{provider: aws, model: "anthropic.claude-3-5-haiku-20241022-v1:0"}]
  - name: titan
    deployments: [{provider: aws, model: "amazon.titan-embed-text-v2:0"}]
router: {retries: 0}
`);
  const port = gateway.port;
  client = new OpenAI({ apiKey: 'sk-app-key-123456', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
});

after(async () => {
  await gateway?.stop();
  upstream?.server.close();
});

const ask = (content) => [{ role: 'system', content: 'Be terse.' }, { role: 'user', content }];
const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

test('bedrock: chat completion', async () => {
  const r = await client.chat.completions.create({ model: 'claude', messages: ask('Hi') });
  assert.equal(r.choices[0].message.content, 'Hello from Bedrock');
  assert.equal(r.choices[0].finish_reason, 'stop');
  // inputTokens 6 + cacheReadInputTokens 5: cached reads are part of the prompt.
  assert.equal(r.usage.prompt_tokens, 11);
  assert.equal(r.usage.total_tokens, 14);
  assert.equal(r.usage.prompt_tokens_details.cached_tokens, 5);
  const up = upstream.requests.at(-1);
  assert.equal(up.url, '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse');
  assert.ok(up.signatureOk, 'SigV4 signature verified by the fake');
  assert.deepEqual(up.body.system, [{ text: 'Be terse.' }]);
  assert.deepEqual(up.body.messages, [{ role: 'user', content: [{ text: 'Hi' }] }]);
});

test('bedrock: streaming chat completion from binary frames', async () => {
  const stream = await client.chat.completions.create({ model: 'claude', stream: true, messages: ask('Hi') });
  let text = '';
  let finish;
  for await (const chunk of stream) {
    assert.ok(chunk.choices.length > 0, 'no empty-choices chunk reaches a client that did not ask for usage');
    text += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.equal(text, 'Hello streamed');
  assert.equal(finish, 'stop');
  const up = upstream.requests.at(-1);
  assert.equal(up.url, '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream');
  assert.ok(up.signatureOk);
});

test('bedrock: streaming with include_usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'claude', stream: true, stream_options: { include_usage: true }, messages: ask('Hi') });
  let usage;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.equal(usage.prompt_tokens, 11);
  assert.equal(usage.total_tokens, 13);
});

test('bedrock: tool calls, streamed and not', async () => {
  const r = await client.chat.completions.create({ model: 'claude', tools, messages: ask('Weather?') });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(r.choices[0].message.tool_calls[0].id, 'tooluse_1');
  assert.equal(r.choices[0].message.tool_calls[0].function.arguments, '{"city":"Paris"}');
  assert.equal(upstream.requests.at(-1).body.toolConfig.tools[0].toolSpec.name, 'get_weather');

  const runner = client.chat.completions.stream({ model: 'claude', tools, messages: ask('Weather?') });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.tool_calls[0].function.name, 'get_weather');
  assert.equal(final.choices[0].message.tool_calls[0].function.arguments, '{"city":"Paris"}');
  assert.equal(final.choices[0].finish_reason, 'tool_calls');

  // The tool round trip: the call and its result go back as toolUse/toolResult.
  const call = r.choices[0].message;
  await client.chat.completions.create({
    model: 'claude', tools,
    messages: [...ask('Weather?'), call, { role: 'tool', tool_call_id: call.tool_calls[0].id, content: '18C' }] });
  const replay = upstream.requests.at(-1).body.messages;
  assert.deepEqual(replay[1], { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } }] });
  assert.deepEqual(replay[2], { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: '18C' }], status: 'success' } }] });
});

test('bedrock: titan embeddings', async () => {
  const r = await client.embeddings.create({ model: 'titan', input: 'hello' });
  assert.deepEqual(r.data[0].embedding, [0.25, -0.5, 1]);
  assert.equal(r.usage.prompt_tokens, 2);
  const up = upstream.requests.at(-1);
  assert.equal(up.url, '/model/amazon.titan-embed-text-v2%3A0/invoke');
  assert.deepEqual(up.body, { inputText: 'hello' });
  await assert.rejects(client.embeddings.create({ model: 'titan', input: ['a', 'b'] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'input');
});

test('bedrock: SDK error classes', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'claude', messages: ask('throttle me') }),
    (e) => e instanceof OpenAI.RateLimitError);
  await assert.rejects(client.chat.completions.create({ model: 'claude', messages: ask('deny me') }),
    (e) => e instanceof OpenAI.InternalServerError && e.status === 502 && !e.message.includes('arn:aws'));
});

test('bedrock: logs never contain credentials', () => {
  assert.ok(!gateway.logs().includes(creds.secretAccessKey), 'AWS secret in logs');
  assert.ok(!gateway.logs().includes('sk-app-key-123456'), 'client key in logs');
});
