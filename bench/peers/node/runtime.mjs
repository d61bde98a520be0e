// A minimal Lambda Runtime API client for Node.js, used instead of `aws-lambda-ric` (which
// builds native code at install). Same protocol: GET invocation/next, POST response or error.
// usage: node runtime.mjs <handler module> [export name, default "handler"]
import http from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime';

function call(method, path, body) {
  return new Promise((ok, fail) => {
    const req = http.request({ host, port, method, path, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

const errorBody = (e) => JSON.stringify({ errorType: e?.name ?? 'Error', errorMessage: String(e?.message ?? e) });

let handler;
try {
  const mod = await import(pathToFileURL(resolve(process.argv[2])).href);
  handler = mod[process.argv[3] ?? 'handler'];
} catch (e) {
  await call('POST', `${base}/init/error`, errorBody(e));
  process.exit(1);
}

for (;;) {
  const next = await call('GET', `${base}/invocation/next`);
  const id = next.headers['lambda-runtime-aws-request-id'];
  const context = { awsRequestId: id, invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'] };
  try {
    const result = await handler(JSON.parse(next.body), context);
    await call('POST', `${base}/invocation/${id}/response`, JSON.stringify(result));
  } catch (e) {
    await call('POST', `${base}/invocation/${id}/error`, errorBody(e));
  }
}
