#!/usr/bin/env node
// The `fieldcam` executable. The CLI is TypeScript run through tsx's loader (transpile only; `npm test`
// type-checks separately), so there is no build step between a clone and a working command.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./fieldcam.ts');
process.exitCode = await main(process.argv.slice(2));
