// Lambda@Edge origin-request handler: signs the request for an API Gateway origin with SigV4.
// The signing core is Rust compiled to WebAssembly (origin_signer.wasm, next to this file);
// this file only moves JSON in and out of it. No npm packages: the zip is this file + the .wasm.
//
// Any failure returns a generated 502 and logs one line; a request is never forwarded unsigned.
import { readFileSync } from 'node:fs';

const WASM_FILE = new URL('./origin_signer.wasm', import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let wasm = null; // one instance per container

function signer() {
  if (wasm === null) {
    const module = new WebAssembly.Module(readFileSync(WASM_FILE));
    wasm = new WebAssembly.Instance(module, {}).exports;
  }
  return wasm;
}

function badGateway() {
  return {
    status: '502',
    statusDescription: 'Bad Gateway',
    headers: {
      'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
      'content-type': [{ key: 'Content-Type', value: 'text/plain; charset=utf-8' }],
    },
    body: 'Bad Gateway: the request could not be signed for the origin.\n',
  };
}

// The function role's credentials, as Lambda provides them.
function roleCredentials() {
  const env = process.env;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
    sessionToken: env.AWS_SESSION_TOKEN ?? null,
  };
}

/** Runs the signer: returns `{result, log}` (see functions/origin-signer/src/wasm.rs). */
export function sign(event, credentials, nowMs) {
  const w = signer();
  const input = encoder.encode(JSON.stringify({ event, credentials, nowMs }));
  const ptr = w.portcullis_alloc(input.length) >>> 0;
  new Uint8Array(w.memory.buffer, ptr, input.length).set(input);
  const packed = w.portcullis_handle(ptr, input.length); // frees the input
  const outPtr = Number(packed >> 32n);
  const outLen = Number(packed & 0xffffffffn);
  const text = decoder.decode(new Uint8Array(w.memory.buffer, outPtr, outLen));
  w.portcullis_free(outPtr, outLen);
  return JSON.parse(text);
}

export const handler = async (event) => {
  try {
    const { result, log } = sign(event, roleCredentials(), Date.now());
    if (log) console.error(log);
    return result;
  } catch (err) {
    wasm = null; // never reuse an instance that trapped
    console.error(`origin-signer: request not forwarded (502): signer failed: ${err?.message ?? err}`);
    return badGateway();
  }
};

// Instantiate during the init phase, not on the first request.
try {
  signer();
} catch (err) {
  console.error(`origin-signer: cannot load ${WASM_FILE.pathname}: ${err?.message ?? err}`);
}
