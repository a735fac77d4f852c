// Claude Code (@anthropic-ai/claude-code, the pinned native CLI) pointed at a
// real tollgate process, as a user would set it up: ANTHROPIC_BASE_URL = the
// gateway, ANTHROPIC_API_KEY = a gateway key, `claude -p "…"`. Once with an
// OpenAI-compatible upstream (the gateway translates the Messages API) and
// once with an Anthropic upstream (the gateway passes it through natively).
// Each run: a plain turn, and a turn where the model calls Claude Code's own
// Bash tool, the CLI really runs it in a temp directory and the result goes
// back upstream, which then answers with text quoting it.
//
// Claude Code never reaches the internet here: HOME is a fresh temp dir, the
// environment is built from nothing (no proxy, no inherited keys), telemetry,
// error reporting, auto-update and nonessential traffic are off, and its only
// base URL is the gateway on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PLAIN_ANSWER, THINKING_SIGNATURE, THINKING_TEXT, TOOL_ANSWER_PREFIX, TOOL_COMMAND, TOOL_TURN,
  startFakeAnthropicAgent, startFakeOpenAIAgent,
} from './fake_agent_upstreams.mjs';
import { startGateway } from './gateway_process.mjs';

const CLAUDE = path.resolve('node_modules/.bin/claude');
const GATEWAY_KEY = 'sk-claude-code-e2e-4242';
const MODEL = 'gw-sonnet';

let openai, anthropic, gateway;

before(async () => {
  openai = await startFakeOpenAIAgent({ apiKey: 'sk-openai-upstream-1' });
  anthropic = await startFakeAnthropicAgent({ apiKey: 'sk-ant-upstream-2' });
  gateway = await startGateway((port) => `
server: {listen: "127.0.0.1:${port}", threads: 1}
logging: {level: warn, json: true}
providers:
  - {name: compat, type: openai_compatible, base_url: "http://127.0.0.1:${openai.port}/v1", api_key: "sk-openai-upstream-1"}
  - {name: ant, type: anthropic, base_url: "http://127.0.0.1:${anthropic.port}", api_key: "sk-ant-upstream-2"}
keys:
  - {name: claude-code, key: "${GATEWAY_KEY}", models: [${MODEL}-openai, ${MODEL}-anthropic]}
models:
  - name: ${MODEL}-openai
    deployments: [{provider: compat, model: upstream-gpt}]
  - name: ${MODEL}-anthropic
    deployments: [{provider: ant, model: claude-sonnet-4-5-20250929}]
`);
});

after(async () => {
  await gateway?.stop();
  openai?.server.close();
  anthropic?.server.close();
});

// Runs `claude -p prompt` in a fresh temp workdir; resolves with its output.
async function claude(prompt, model, extraArgs = []) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-claude-'));
  const home = path.join(root, 'home');
  const workdir = path.join(root, 'work');
  fs.mkdirSync(home);
  fs.mkdirSync(workdir);
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: root,
    ANTHROPIC_BASE_URL: gateway.url,
    ANTHROPIC_API_KEY: GATEWAY_KEY,
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_NON_ESSENTIAL_MODEL_CALLS: '1',
  };
  const child = spawn(CLAUDE, ['-p', prompt, '--model', model, ...extraArgs], { cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearTimeout(killer);
  return { code, stdout, stderr, workdir };
}

const messagesOf = (rec) => rec.body.messages ?? [];

test('OpenAI-compatible upstream: a plain turn', async () => {
  const before = openai.requests.length;
  const r = await claude('Say hello.', `${MODEL}-openai`);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(r.stdout.trim(), PLAIN_ANSWER);
  const sent = openai.requests.slice(before);
  assert.ok(sent.length >= 1);
  const first = sent[0];
  assert.equal(first.path, '/v1/chat/completions');
  assert.equal(first.body.model, 'upstream-gpt');
  assert.equal(first.headers.authorization, 'Bearer sk-openai-upstream-1');
  // Claude Code's mid-conversation system turn arrived as a system message
  // after the first user message; adaptive thinking as a reasoning effort.
  const roles = messagesOf(first).map((m) => m.role);
  assert.equal(roles[0], 'system');
  assert.ok(roles.indexOf('system', 1) > roles.indexOf('user'), roles.join(','));
  assert.ok(['low', 'medium', 'high'].includes(first.body.reasoning_effort), first.body.reasoning_effort);
  assert.ok(first.body.tools.some((t) => t.function.name === 'Bash'));
});

test('OpenAI-compatible upstream: Claude Code runs its Bash tool and the result goes back', async () => {
  const before = openai.requests.length;
  const r = await claude(`${TOOL_TURN}: write hi-from-bash to file.txt`, `${MODEL}-openai`, ['--allowedTools', 'Bash']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  // The tool really ran in the workdir...
  assert.equal(fs.readFileSync(path.join(r.workdir, 'file.txt'), 'utf8'), 'hi-from-bash\n');
  // ...its output reached the upstream as a tool message...
  const sent = openai.requests.slice(before);
  const withResult = sent.find((rec) => messagesOf(rec).some((m) => m.role === 'tool'));
  assert.ok(withResult, JSON.stringify(sent.map((s) => messagesOf(s).map((m) => m.role))));
  const toolMessage = messagesOf(withResult).find((m) => m.role === 'tool');
  assert.equal(toolMessage.tool_call_id, 'call_bash_1');
  assert.match(String(toolMessage.content), /hi-from-bash/);
  const call = messagesOf(withResult).find((m) => m.tool_calls)?.tool_calls[0];
  assert.equal(JSON.parse(call.function.arguments).command, TOOL_COMMAND);
  // ...and the answer quoting it was printed.
  assert.equal(r.stdout.trim(), `${TOOL_ANSWER_PREFIX}hi-from-bash`);
});

test('Anthropic upstream: a plain turn passes through natively', async () => {
  const before = anthropic.requests.length;
  const r = await claude('Say hello.', `${MODEL}-anthropic`);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(r.stdout.trim(), PLAIN_ANSWER);
  const sent = anthropic.requests.slice(before);
  assert.ok(sent.length >= 1);
  const first = sent[0];
  assert.equal(first.path, '/v1/messages');
  assert.equal(first.body.model, 'claude-sonnet-4-5-20250929');
  assert.equal(first.headers['x-api-key'], 'sk-ant-upstream-2');
  assert.notEqual(first.headers['x-api-key'], GATEWAY_KEY);
  // Claude Code's betas and request shape, untouched.
  assert.match(first.headers['anthropic-beta'], /claude-code-20250219/);
  assert.equal(first.headers['anthropic-version'], '2023-06-01');
  assert.ok(messagesOf(first).some((m) => m.role === 'system'));
  assert.ok(first.body.thinking && ['adaptive', 'enabled'].includes(first.body.thinking.type));
  assert.equal(first.body.stream, true);
});

test('Anthropic upstream: the Bash tool round keeps the thinking block and its signature', async () => {
  const before = anthropic.requests.length;
  const r = await claude(`${TOOL_TURN}: write hi-from-bash to file.txt`, `${MODEL}-anthropic`, ['--allowedTools', 'Bash']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(fs.readFileSync(path.join(r.workdir, 'file.txt'), 'utf8'), 'hi-from-bash\n');
  const sent = anthropic.requests.slice(before);
  const withResult = sent.find((rec) => messagesOf(rec).some((m) => Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result')));
  assert.ok(withResult, JSON.stringify(sent.map((s) => messagesOf(s).map((m) => m.role))));
  assert.match(withResult.headers['anthropic-beta'], /claude-code-20250219/);
  // The assistant turn came back with the thinking block exactly as the
  // upstream streamed it through the gateway, then the tool call.
  const assistant = messagesOf(withResult).find((m) => m.role === 'assistant');
  assert.deepEqual(assistant.content[0], { type: 'thinking', thinking: THINKING_TEXT, signature: THINKING_SIGNATURE });
  const use = assistant.content.find((b) => b.type === 'tool_use');
  assert.equal(use.name, 'Bash');
  assert.equal(use.input.command, TOOL_COMMAND);
  const result = messagesOf(withResult).at(-1).content.find((b) => b.type === 'tool_result');
  assert.equal(result.tool_use_id, 'toolu_bash_1');
  assert.match(JSON.stringify(result.content), /hi-from-bash/);
  assert.equal(r.stdout.trim(), `${TOOL_ANSWER_PREFIX}hi-from-bash`);
});
