// For working on the UI with hot reload: `npx vite web` (start a manager on :7777 first). The manager
// builds web/ itself (src/manager/web-build.ts) with the same settings: JSX comes from tsconfig.json.
import { defineConfig } from 'vite';

const manager = process.env['TORPEDO_URL'] ?? 'http://127.0.0.1:7777';
const api = ['/auth', '/users', '/datasets', '/jobs', '/ui-settings.json', '/healthz'];

export default defineConfig({
  server: { proxy: Object.fromEntries(api.map((p) => [p, { target: manager, changeOrigin: false }])) },
});
