#!/usr/bin/env node
// The `searchlight` command. Sources are TypeScript; tsx compiles them on load (cached), so the
// CLI works straight after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/app/main.ts');
process.exitCode = await main(process.argv.slice(2));
