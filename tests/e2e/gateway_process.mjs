// Starts a real tollgate process for an e2e test: a free loopback port, a
// generated config file, readiness awaited, logs captured, SIGTERM on stop.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const binary = process.env.TOLLGATE_BIN ?? path.resolve('../../build-test/tollgate');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// `configFor(port)` returns the YAML; its server.listen must use `port`.
export async function startGateway(configFor, { readyWithinMs = 10000 } = {}) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-'));
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, configFor(port));
  let logs = '';
  const child = spawn(binary, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  const exited = new Promise((r) => child.on('exit', r));
  const until = Date.now() + readyWithinMs;
  for (;;) {
    try { if ((await fetch(`http://127.0.0.1:${port}/health/readiness`)).ok) break; } catch { /* not yet listening */ }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`gateway not ready: ${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    logs: () => logs,
    configPath: config,
    signal: (sig) => child.kill(sig),
    stop: async () => { child.kill('SIGTERM'); await exited; },
  };
}
