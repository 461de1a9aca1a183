#!/usr/bin/env node
// The `fieldcam` executable. The CLI is TypeScript run through tsx's loader (transpile only; `npm test`
// type-checks separately), so there is no build step between a clone and a working command.
import { register } from 'tsx/esm/api';

// fieldcam pins its AWS SDK versions and supports Node 20; the SDK's notice about future releases
// needing Node 22 is not actionable by our users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import('./fieldcam.ts');
process.exitCode = await main(process.argv.slice(2));
