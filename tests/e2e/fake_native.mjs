// Fake native-protocol upstreams on 127.0.0.1:0, one per provider family:
// Anthropic Messages, Google Gemini API and Vertex AI (generateContent /
// streamGenerateContent?alt=sse, plus a fake OAuth token endpoint that checks
// the service-account JWT), Azure OpenAI (deployment URLs, api-key, content
// filter annotations) and Cohere Chat v2. Each answers only in its provider's
// own wire format (docs/provider-wire-formats.md §2, §3, §4.5; Cohere v2 as in
// src/providers/cohere) and records every request it receives. Responses are
// written in small odd-sized pieces so that events straddle TCP reads.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// What every fake says, so tests can compare against it.
export const WEATHER_ARGS = { city: 'Paris' };

async function writeInPieces(res, text, size) {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) {
    res.write(bytes.subarray(at, at + size));
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

// A recording HTTP server; handler(record, res) answers.
async function listen(handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      let body = raw;
      if ((req.headers['content-type'] ?? '').includes('json') && raw) {
        try { body = JSON.parse(raw); } catch { body = raw; }
      }
      const url = new URL(req.url, 'http://127.0.0.1');
      const record = { method: req.method, url: req.url, path: url.pathname, query: url.searchParams, headers: req.headers, body, raw };
      requests.push(record);
      Promise.resolve(handler(record, res)).catch((e) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(e) });
        else res.destroy();
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port, requests };
}

// ---------------------------------------------------------------- Anthropic

function anthropicError(res, status, type, message) {
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: 'req_011fake' }, { 'request-id': 'req_011fake' });
}

// The last user turn carries tool_result blocks: the conversation is a tool round trip.
function anthropicAfterToolResult(body) {
  const last = (body.messages ?? []).at(-1);
  return Array.isArray(last?.content) && last.content.some((b) => b.type === 'tool_result');
}

export async function startFakeAnthropic({ apiKey }) {
  return listen(async (rec, res) => {
    if (rec.method !== 'POST' || rec.path !== '/v1/messages') return anthropicError(res, 404, 'not_found_error', 'Not found');
    if (rec.headers['x-api-key'] !== apiKey) return anthropicError(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!rec.headers['anthropic-version']) return anthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    const body = rec.body;
    if (typeof body !== 'object') return anthropicError(res, 400, 'invalid_request_error', 'invalid JSON body');
    if (!Number.isInteger(body.max_tokens)) return anthropicError(res, 400, 'invalid_request_error', 'max_tokens: Field required');
    if ((body.messages ?? []).some((m) => m.role !== 'user' && m.role !== 'assistant')) {
      return anthropicError(res, 400, 'invalid_request_error', 'messages: roles must be user or assistant');
    }
    const wantsTool = Array.isArray(body.tools) && body.tools.length > 0 && !anthropicAfterToolResult(body);
    const message = { id: wantsTool ? 'msg_01Tool' : 'msg_01Text', type: 'message', role: 'assistant', model: body.model };

    if (!body.stream) {
      const content = wantsTool
        ? [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: WEATHER_ARGS }]
        : [{ type: 'text', text: anthropicAfterToolResult(body) ? 'It is 18C in Paris.' : 'Hello from Claude' }];
      return sendJson(res, 200, {
        ...message, content, stop_reason: wantsTool ? 'tool_use' : 'end_turn', stop_sequence: null,
        // input_tokens excludes the cached read: prompt = 9 + 0 + 3 = 12, total 16.
        usage: { input_tokens: 9, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 3,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 }, service_tier: 'standard' },
      }, { 'request-id': 'req_011fake' });
    }

    const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const events = [ev('message_start', { message: { ...message, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: 9, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 3 } } })];
    if (wantsTool) {
      events.push(
        ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        ev('ping', {}),
        ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Let me check.' } }),
        ev('content_block_stop', { index: 0 }),
        ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: {} } }),
        ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
        ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } }),
        ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: 'ris"}' } }),
        ev('content_block_stop', { index: 1 }),
        ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 2 } }));
    } else {
      events.push(
        ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        ev('ping', {}),
        ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello ' } }),
        ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'streamed' } }),
        ev('content_block_stop', { index: 0 }),
        ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }));
    }
    events.push(ev('message_stop', {}));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_011fake' });
    await writeInPieces(res, events.join(''), 29);
  });
}

// ------------------------------------------------------- Gemini and Vertex AI

function googleError(res, status, statusName, message, details) {
  sendJson(res, status, { error: { code: status, message, status: statusName, ...(details ? { details } : {}) } });
}

const b64urlDecode = (s) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');

// A service-account key file like the ones Google issues, for a fresh RSA key.
export function makeServiceAccount(dir, { projectId, tokenUri }) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const account = {
    type: 'service_account', project_id: projectId, private_key_id: 'kid-e2e-0001', private_key: privateKey,
    client_email: `tollgate-e2e@${projectId}.iam.gserviceaccount.com`, client_id: '1000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth', token_uri: tokenUri,
  };
  const file = path.join(dir, 'service-account.json');
  fs.writeFileSync(file, JSON.stringify(account, null, 2));
  return { file, account, publicKey };
}

// Checks an RS256 JWT-bearer assertion the way Google's token endpoint does.
export function checkAssertion(assertion, { publicKey, clientEmail, keyId, audience }) {
  const parts = String(assertion ?? '').split('.');
  if (parts.length !== 3) return { ok: false, why: 'not a JWT' };
  let header, claims;
  try {
    header = JSON.parse(b64urlDecode(parts[0]).toString());
    claims = JSON.parse(b64urlDecode(parts[1]).toString());
  } catch {
    return { ok: false, why: 'undecodable JWT' };
  }
  const signatureOk = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, b64urlDecode(parts[2]));
  const now = Math.floor(Date.now() / 1000);
  const checks = {
    signature: signatureOk,
    alg: header.alg === 'RS256',
    kid: header.kid === keyId,
    iss: claims.iss === clientEmail,
    aud: claims.aud === audience,
    scope: String(claims.scope ?? '').split(' ').includes('https://www.googleapis.com/auth/cloud-platform'),
    iat: Math.abs(claims.iat - now) < 300,
    exp: claims.exp > claims.iat && claims.exp - claims.iat <= 3600,
  };
  const failed = Object.entries(checks).filter(([, v]) => !v).map(([k]) => k);
  return { ok: failed.length === 0, why: failed.join(','), header, claims };
}

// Where the conversation stands: after a functionResponse the model answers in text.
function geminiAfterFunctionResponse(body) {
  const last = (body.contents ?? []).at(-1);
  return (last?.parts ?? []).some((p) => p.functionResponse);
}

// mode 'gemini': /v1beta/models/{model}:method with x-goog-api-key.
// mode 'vertex': /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:method
// with a Bearer token from POST /token (a JWT-bearer grant checked against the
// service account passed to trust(), whose key file names this fake's token URL).
export async function startFakeGoogle({ mode, apiKey, project, location }) {
  let account;
  const tokens = new Set();
  const tokenRequests = [];
  let issued = 0;
  const fake = await listen(async (rec, res) => {
    if (mode === 'vertex' && rec.path === '/token') {
      const form = new URLSearchParams(rec.raw);
      if (!account) return sendJson(res, 400, { error: 'invalid_client', error_description: 'no trusted service account' });
      const check = checkAssertion(form.get('assertion'), {
        publicKey: account.publicKey, clientEmail: account.account.client_email, keyId: account.account.private_key_id,
        audience: `http://127.0.0.1:${fake.port}/token`,
      });
      tokenRequests.push({ headers: rec.headers, grantType: form.get('grant_type'), check });
      if (rec.method !== 'POST' || form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
      }
      if (!check.ok) return sendJson(res, 400, { error: 'invalid_grant', error_description: `Invalid JWT: ${check.why}` });
      const token = `ya29.fake-access-token-${++issued}`;
      tokens.add(token);
      return sendJson(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }

    const route = mode === 'vertex'
      ? new RegExp(`^/v1/projects/${project}/locations/${location}/publishers/google/models/([^/:]+):(generateContent|streamGenerateContent)$`).exec(rec.path)
      : /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(rec.path);
    if (rec.method !== 'POST' || !route) return googleError(res, 404, 'NOT_FOUND', `Requested entity was not found: ${rec.path}`);
    if (mode === 'vertex') {
      const bearer = /^Bearer (.+)$/.exec(rec.headers.authorization ?? '')?.[1];
      if (!bearer || !tokens.has(bearer)) {
        return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
      }
    } else if (rec.headers['x-goog-api-key'] !== apiKey) {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.',
        [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }]);
    }
    const [, model, method] = route;
    const body = rec.body;
    if (typeof body !== 'object' || !Array.isArray(body.contents) || body.contents.length === 0) {
      return googleError(res, 400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified');
    }
    const wantsTool = (body.tools ?? []).some((t) => t.functionDeclarations?.length) && !geminiAfterFunctionResponse(body);
    const meta = { modelVersion: model, responseId: mode === 'vertex' ? 'vtx-resp-1' : 'gem-resp-1' };
    // promptTokenCount 8, candidates 4, thoughts 2: prompt 8, completion 6, total 14.
    const usage = { promptTokenCount: 8, candidatesTokenCount: 4, thoughtsTokenCount: 2, totalTokenCount: 14 };
    const signature = mode === 'vertex' ? 'dnR4LXNpZ25hdHVyZQ==' : 'Z2VtLXNpZ25hdHVyZQ==';
    const callPart = { functionCall: { name: 'get_weather', args: WEATHER_ARGS }, thoughtSignature: signature };

    if (method === 'generateContent') {
      const parts = wantsTool ? [callPart]
        : [{ text: geminiAfterFunctionResponse(body) ? 'It is 18C in Paris.' : `Hello from ${mode === 'vertex' ? 'Vertex' : 'Gemini'}` }];
      return sendJson(res, 200, { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0,
        safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' }] }], usageMetadata: usage, ...meta });
    }
    if (rec.query.get('alt') !== 'sse') {
      // Without alt=sse Google streams one JSON array, which no SSE parser reads.
      return sendJson(res, 200, [{ candidates: [{ content: { role: 'model', parts: [{ text: 'not SSE' }] }, finishReason: 'STOP' }], ...meta }]);
    }
    const events = wantsTool
      ? [{ candidates: [{ content: { role: 'model', parts: [callPart] }, finishReason: 'STOP', index: 0 }], usageMetadata: usage, ...meta }]
      : [{ candidates: [{ content: { role: 'model', parts: [{ text: 'Hello ' }] }, index: 0 }],
           usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 }, ...meta },
         { candidates: [{ content: { role: 'model', parts: [{ text: 'streamed' }] }, finishReason: 'STOP', index: 0 }],
           usageMetadata: usage, ...meta }];
    // CRLF framing, no [DONE]: the stream ends at EOF.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-content-type-options': 'nosniff' });
    await writeInPieces(res, events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join(''), 23);
  });
  return { ...fake, tokenRequests, tokenUrl: `http://127.0.0.1:${fake.port}/token`, trust: (sa) => { account = sa; } };
}

// ------------------------------------------------------------- Azure OpenAI

const FILTER_OK = { hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' } };

function azureError(res, status, code, message) {
  sendJson(res, status, { error: { code, message } });
}

export async function startFakeAzure({ apiKey, deployment, apiVersion }) {
  return listen(async (rec, res) => {
    // Azure answers a wrong path or a missing api-version with 404 "Resource not found".
    if (rec.method !== 'POST' || rec.path !== `/openai/deployments/${deployment}/chat/completions` ||
        rec.query.get('api-version') !== apiVersion) {
      return azureError(res, 404, '404', 'Resource not found');
    }
    if (rec.headers['api-key'] !== apiKey) {
      return azureError(res, 401, '401', 'Access denied due to invalid subscription key or wrong API endpoint.');
    }
    const body = rec.body;
    const afterTool = body.messages?.at(-1)?.role === 'tool';
    const wantsTool = Array.isArray(body.tools) && body.tools.length > 0 && !afterTool;
    // The response model is the underlying model, not the deployment name.
    const base = { id: 'chatcmpl-azure-1', created: 1735689600, model: 'gpt-4o-2024-11-20', system_fingerprint: 'fp_azure' };
    const promptFilter = [{ prompt_index: 0, content_filter_results: { ...FILTER_OK, jailbreak: { filtered: false, detected: false } } }];
    const call = { id: 'call_azure_1', type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(WEATHER_ARGS) } };

    if (!body.stream) {
      const message = wantsTool
        ? { role: 'assistant', content: null, refusal: null, tool_calls: [call] }
        : { role: 'assistant', content: afterTool ? 'It is 18C in Paris.' : 'Hello from Azure', refusal: null };
      return sendJson(res, 200, { ...base, object: 'chat.completion', prompt_filter_results: promptFilter,
        choices: [{ index: 0, message, logprobs: null, finish_reason: wantsTool ? 'tool_calls' : 'stop',
          content_filter_results: wantsTool ? {} : FILTER_OK }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }, { 'apim-request-id': 'azure-req-1' });
    }
    const chunk = (choices, extra = {}) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`;
    const events = [
      // The first chunk is annotations only: empty choices and an empty model.
      `data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilter })}\n\n`,
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null, content_filter_results: {} }]),
    ];
    if (wantsTool) {
      events.push(
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null, logprobs: null }]),
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null, logprobs: null }]),
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, finish_reason: null, logprobs: null }]),
        chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls', logprobs: null }]));
    } else {
      events.push(
        chunk([{ index: 0, delta: { content: 'Hello ' }, finish_reason: null, logprobs: null, content_filter_results: FILTER_OK }]),
        chunk([{ index: 0, delta: { content: 'streamed' }, finish_reason: null, logprobs: null, content_filter_results: FILTER_OK }]),
        chunk([{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null, content_filter_results: {} }]),
        // A trailing annotation-only chunk: empty delta, no finish_reason.
        chunk([{ index: 0, delta: {}, finish_reason: null, content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 14 },
          content_filter_results: FILTER_OK }]));
    }
    if (body.stream_options?.include_usage) events.push(chunk([], { usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } }));
    events.push('data: [DONE]\n\n');
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'apim-request-id': 'azure-req-1' });
    await writeInPieces(res, events.join(''), 41);
  });
}

// ---------------------------------------------------------------- Cohere v2

export async function startFakeCohere({ apiKey }) {
  return listen(async (rec, res) => {
    if (rec.method !== 'POST' || rec.path !== '/v2/chat') return sendJson(res, 404, { message: `no route for ${rec.path}` });
    if (rec.headers.authorization !== `Bearer ${apiKey}`) return sendJson(res, 401, { id: 'err-1', message: 'invalid api token' });
    const body = rec.body;
    if (typeof body !== 'object' || !body.model || !Array.isArray(body.messages)) {
      return sendJson(res, 400, { id: 'err-2', message: 'invalid request: model and messages are required' });
    }
    const afterTool = body.messages.at(-1)?.role === 'tool';
    const wantsTool = Array.isArray(body.tools) && body.tools.length > 0 && !afterTool;
    const id = wantsTool ? 'co-tool-1' : 'co-text-1';
    // billed_units win over tokens (which include Cohere's prompt template): total 7 + 3 = 10.
    const usage = { billed_units: { input_tokens: 7, output_tokens: 3 }, tokens: { input_tokens: 70, output_tokens: 3 }, cached_tokens: 0 };
    const call = { id: 'get_weather_c0h3r3', type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(WEATHER_ARGS) } };

    if (!body.stream) {
      const message = wantsTool
        ? { role: 'assistant', tool_plan: 'I will look up the weather in Paris.', tool_calls: [call] }
        : { role: 'assistant', content: [{ type: 'text', text: afterTool ? 'It is 18C in Paris.' : 'Hello from Cohere' }] };
      return sendJson(res, 200, { id, message, finish_reason: wantsTool ? 'TOOL_CALL' : 'COMPLETE', usage });
    }
    const ev = (data) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
    const events = [ev({ id, type: 'message-start', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } })];
    if (wantsTool) {
      events.push(
        ev({ type: 'tool-plan-delta', delta: { message: { tool_plan: 'I will look up the weather in Paris.' } } }),
        ev({ type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { id: call.id, type: 'function', function: { name: 'get_weather', arguments: '' } } } } }),
        ev({ type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: '{"city":' } } } } }),
        ev({ type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: '"Paris"}' } } } } }),
        ev({ type: 'tool-call-end', index: 0 }),
        ev({ type: 'message-end', delta: { finish_reason: 'TOOL_CALL', usage } }));
    } else {
      events.push(
        ev({ type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } }),
        ev({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'Hello ' } } } }),
        ev({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'streamed' } } } }),
        ev({ type: 'content-end', index: 0 }),
        ev({ type: 'message-end', delta: { finish_reason: 'COMPLETE', usage } }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    await writeInPieces(res, events.join(''), 31);
  });
}
