// Benchmark of the packaged edge signer in Node: per-request signing time through the real
// handler, and WebAssembly compile/instantiate time (in-process and as a cold import).
// usage: node bench.mjs <unpacked zip dir> <events dir>
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';

const [dir, eventsDir] = process.argv.slice(2).map((p) => resolve(p));
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5000);
const WARMUP = 500;

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const fmt = (ns) => `${(Number(ns) / 1000).toFixed(1)} µs`;
const ms = (ns) => `${(Number(ns) / 1e6).toFixed(2)} ms`;

// 1. cold start: a fresh Node process importing index.mjs (reads, compiles, instantiates)
const probe = `const t0 = process.hrtime.bigint();
await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)});
process.stdout.write(String(process.hrtime.bigint() - t0));`;
// baseline: the same import of an empty ES module (Node's loader cost, not the signer's)
const empty = `const t0 = process.hrtime.bigint();
await import('data:text/javascript,export const x = 1;');
process.stdout.write(String(process.hrtime.bigint() - t0));`;
const run = (code) =>
  BigInt(execFileSync(process.execPath, ['--input-type=module', '-e', code]).toString());
const cold = [];
const base = [];
for (let i = 0; i < 5; i++) {
  cold.push(run(probe));
  base.push(run(empty));
}
cold.sort((a, b) => (a < b ? -1 : 1));
base.sort((a, b) => (a < b ? -1 : 1));

// 2. in-process compile + instantiate of the module bytes (first = uncached)
const bytes = readFileSync(join(dir, 'origin_signer.wasm'));
const inst = [];
for (let i = 0; i < 20; i++) {
  const t0 = process.hrtime.bigint();
  new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  inst.push(process.hrtime.bigint() - t0);
}
const firstInst = inst[0];
const restInst = inst.slice(1).sort((a, b) => (a < b ? -1 : 1));

// 3. per-request signing through the handler
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
process.env.AWS_SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLETOKEN'.repeat(30); // role tokens are long
const { handler } = await import(pathToFileURL(join(dir, 'index.mjs')).href);

console.log(`origin-signer edge benchmark (Node ${process.version}, ${ITERATIONS} requests per event)`);
console.log(`  wasm size: ${statSync(join(dir, 'origin_signer.wasm')).size} bytes`);
console.log(`  cold import of index.mjs in a new process (read + compile + instantiate): median ${ms(quantile(cold, 0.5))}, min ${ms(cold[0])} (empty-module import baseline: median ${ms(quantile(base, 0.5))})`);
console.log(`  WebAssembly compile + instantiate in process: first ${ms(firstInst)}, then median ${ms(quantile(restInst, 0.5))}`);
console.log('  per-request handler time (JSON in/out + signing):');
const logError = console.error;
console.error = () => {}; // the 502 case logs one line per request
for (const name of readdirSync(eventsDir).filter((n) => n.endsWith('.json')).sort()) {
  const event = JSON.parse(readFileSync(join(eventsDir, name), 'utf8'));
  const fresh = () => structuredClone(event);
  for (let i = 0; i < WARMUP; i++) await handler(fresh());
  const samples = [];
  let status = 'signed';
  for (let i = 0; i < ITERATIONS; i++) {
    const e = fresh();
    const t0 = process.hrtime.bigint();
    const out = await handler(e);
    samples.push(process.hrtime.bigint() - t0);
    if (out.status) status = `generated ${out.status}`;
  }
  samples.sort((a, b) => (a < b ? -1 : 1));
  const mean = samples.reduce((a, b) => a + b, 0n) / BigInt(samples.length);
  console.log(`    ${name.padEnd(28)} mean ${fmt(mean)}  p50 ${fmt(quantile(samples, 0.5))}  p99 ${fmt(quantile(samples, 0.99))}  (${status})`);
}
console.error = logError;
