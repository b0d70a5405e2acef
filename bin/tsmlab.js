#!/usr/bin/env node
// The tsmlab command: a small JS shim so it runs from a fresh checkout without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
