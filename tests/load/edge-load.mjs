// Load on the packaged origin signer's real Node handler: N requests back to back cycling
// through the sample events, counting errors (a throw, a 502 for an event that should be
// signed, or a request that comes back without a SigV4 Authorization header), with p50/p99
// and the process RSS after N/10 and after N requests (after a GC each time).
// usage: node --expose-gc edge-load.mjs <unpacked zip dir> <events dir> [N]
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, eventsDir] = process.argv.slice(2, 4).map((p) => resolve(p));
const N = Number(process.argv[4] ?? process.env.LOAD_INVOCATIONS ?? 10000);
// The one sample whose body CloudFront truncated: the signer must refuse it (502), not sign it.
const REFUSED = new Set(['post-truncated.json']);

process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
process.env.AWS_SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLETOKEN'.repeat(30);
const { handler } = await import(pathToFileURL(join(dir, 'index.mjs')).href);
console.error = () => {}; // the refused sample logs one line per request

const events = readdirSync(eventsDir)
  .filter((n) => n.endsWith('.json'))
  .sort()
  .map((name) => ({ name, event: JSON.parse(readFileSync(join(eventsDir, name), 'utf8')) }));

const rss = () => {
  global.gc?.();
  return Math.round(process.memoryUsage().rss / 1024);
};
const samples = [];
let errors = 0;
const firstErrors = [];
let rssTenth = 0;
for (let i = 0; i < N; i++) {
  const { name, event } = events[i % events.length];
  const input = structuredClone(event);
  const t0 = process.hrtime.bigint();
  let ok;
  try {
    const out = await handler(input);
    const signed = !out.status && /^AWS4-HMAC-SHA256 /.test(out.headers?.authorization?.[0]?.value ?? '');
    const refused = out.status === '502';
    ok = REFUSED.has(name) ? refused : signed;
  } catch (err) {
    ok = false;
  }
  samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (!ok) {
    errors += 1;
    if (firstErrors.length < 5) firstErrors.push(`#${i} ${name}`);
  }
  if (i + 1 === Math.max(1, Math.floor(N / 10))) rssTenth = rss();
}
const rssEnd = rss();
samples.sort((a, b) => a - b);
const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
const growth = rssEnd - rssTenth;
const bound = Math.max(2048, Math.floor(rssTenth / 10));
console.log(
  `| origin-signer (Node ${process.version}, packaged wasm) | ${N} | ${errors} | ${q(0.5).toFixed(3)} ms | ${q(0.99).toFixed(3)} ms | ${samples[samples.length - 1].toFixed(1)} ms | ${rssTenth} KiB | ${rssEnd} KiB | ${growth >= 0 ? '+' : ''}${growth} KiB |`,
);
if (errors > 0) {
  process.stderr.write(`edge-load: ${errors} errors, first: ${firstErrors.join(', ')}\n`);
  process.exit(1);
}
if (growth > bound) {
  process.stderr.write(`edge-load: RSS grew ${growth} KiB (bound ${bound} KiB)\n`);
  process.exit(1);
}
