// A fake Amazon Bedrock Runtime on 127.0.0.1:0 speaking the native protocol:
// Converse (JSON), ConverseStream (binary event-stream frames with CRC32s,
// written in odd-sized pieces) and InvokeModel for a Titan embedding model.
// Every request's SigV4 signature is recomputed here, independently of the
// gateway's C++ signer, and a mismatch is answered like AWS does (403).
import http from 'node:http';
import crypto from 'node:crypto';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// One event-stream message with string headers.
export function frame(headers, payload) {
  const parts = Object.entries(headers).map(([name, value]) => {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    const h = Buffer.alloc(4 + n.length + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(7, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    return h;
  });
  const hb = Buffer.concat(parts);
  const pb = Buffer.from(payload);
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(16 + hb.length + pb.length, 0);
  prelude.writeUInt32BE(hb.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const body = Buffer.concat([prelude, hb, pb]);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([body, tail]);
}

const event = (type, payload) =>
  frame({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, JSON.stringify(payload));

const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

// The Authorization header AWS would expect for this request (non-S3 rules:
// each path segment encoded again, so %3A is signed as %253A).
export function expectedAuthorization(req, rawBody, { accessKeyId, secretAccessKey, region }) {
  const signed = (/SignedHeaders=([^,]+)/.exec(req.headers.authorization ?? '') ?? [])[1]?.split(';') ?? [];
  const amzDate = req.headers['x-amz-date'] ?? '';
  const date = amzDate.slice(0, 8);
  const [path, query = ''] = req.url.split('?');
  const canonicalUri = path.split('/').map(rfc3986).join('/');
  const canonicalHeaders = signed.map((h) => `${h}:${String(req.headers[h] ?? '').trim()}\n`).join('');
  const canonical = [req.method, canonicalUri, query, canonicalHeaders, signed.join(';'), sha256(rawBody)].join('\n');
  const scope = `${date}/${region}/bedrock/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac('AWS4' + secretAccessKey, date);
  for (const part of [region, 'bedrock', 'aws4_request']) key = hmac(key, part);
  const signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
}

function lastUserText(body) {
  const user = (body.messages ?? []).filter((m) => m.role === 'user').at(-1);
  return (user?.content ?? []).map((b) => b.text ?? '').join('');
}

function awsError(res, status, type, message) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
  res.end(JSON.stringify({ message }));
}

async function writeInPieces(res, bytes, size) {
  for (let at = 0; at < bytes.length; at += size) {
    res.write(bytes.subarray(at, at + size));
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

export async function startFakeBedrock(creds) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.length ? JSON.parse(raw.toString()) : {};
      const auth = req.headers.authorization ?? '';
      const signatureOk = auth.includes('SignedHeaders=host;x-amz-date') && auth === expectedAuthorization(req, raw, creds);
      requests.push({ method: req.method, url: req.url, headers: req.headers, body, signatureOk });
      if (!signatureOk) {
        awsError(res, 403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
        return;
      }
      const route = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(req.url);
      if (!route) {
        awsError(res, 404, 'UnknownOperationException', 'Unknown operation');
        return;
      }
      const [, , action] = route;
      if (action === 'invoke') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ embedding: [0.25, -0.5, 1], inputTextTokenCount: 2 }));
        return;
      }
      const said = lastUserText(body);
      if (said === 'throttle me') return awsError(res, 429, 'ThrottlingException', 'Too many requests, please wait before trying again.');
      if (said === 'deny me') return awsError(res, 403, 'AccessDeniedException', `User: arn:aws:iam::123456789012:user/${creds.accessKeyId} is not authorized`);

      const wantsTool = Array.isArray(body.toolConfig?.tools) && body.toolConfig.tools.length > 0;
      if (action === 'converse') {
        const content = wantsTool
          ? [{ toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } }]
          : [{ text: 'Hello from Bedrock' }];
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-RequestId': 'aws-req-123' });
        res.end(JSON.stringify({
          output: { message: { role: 'assistant', content } },
          stopReason: wantsTool ? 'tool_use' : 'end_turn',
          usage: { inputTokens: 6, outputTokens: 3, totalTokens: 9, cacheReadInputTokens: 5, cacheWriteInputTokens: 0 },
          metrics: { latencyMs: 42 },
        }));
        return;
      }
      const frames = wantsTool
        ? [event('messageStart', { role: 'assistant' }),
           event('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather' } } }),
           event('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":' } } }),
           event('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '"Paris"}' } } }),
           event('contentBlockStop', { contentBlockIndex: 0 }),
           event('messageStop', { stopReason: 'tool_use' })]
        : [event('messageStart', { role: 'assistant' }),
           event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello ' } }),
           event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'streamed' } }),
           event('contentBlockStop', { contentBlockIndex: 0 }),
           event('messageStop', { stopReason: 'end_turn' })];
      frames.push(event('metadata', { usage: { inputTokens: 11, outputTokens: 2, totalTokens: 13 }, metrics: { latencyMs: 42 } }));
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      writeInPieces(res, Buffer.concat(frames), 37);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port, requests };
}
