// Builds the web UI now if this version of web/ has not been built (`npm run build:web`). The
// manager does the same when it starts; `npm test` runs this first so that no test pays for it.
import { ensureWebBuild } from '../src/manager/web-build.ts';

const dir = await ensureWebBuild({ log: (line) => console.log(line) });
console.log(`web UI: ${dir}`);
