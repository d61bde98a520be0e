// Test driver: runs the packaged handler on one event with a fixed clock and prints the result.
// usage: node run_handler.mjs <unpacked>/index.mjs <event.json> <nowMs>
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [indexPath, eventPath, nowMs] = process.argv.slice(2);
Date.now = () => Number(nowMs);
const { handler } = await import(pathToFileURL(resolve(indexPath)).href);
const event = JSON.parse(readFileSync(eventPath, 'utf8'));
process.stdout.write(JSON.stringify(await handler(event)));
