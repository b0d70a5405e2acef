#!/usr/bin/env node
// The tsmlab command: a small JS shim so it runs from a fresh checkout without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
// A command has finished once main returns: a stray handle (a reader context, a socket a failed scenario left
// open) must not keep a lab engineer's terminal or a CI job waiting. Output gets a moment to drain first.
setTimeout(() => process.exit(), 2000).unref();
