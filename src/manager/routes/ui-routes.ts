import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { TorpedoError } from '../../errors.ts';
import type { ManagerContext } from '../context.ts';
import { ensureWebBuild, WEB_CACHE_DIR } from '../web-build.ts';

/**
 * The web UI (docs/web-ui.md): `/` is its index.html, `/assets/*` its hashed bundles, and
 * `/ui-settings.json` what the sign-in page needs to know before anyone signs in. The UI routes
 * its pages after the `#` (`/#/jobs/ID`), because the API owns the paths at the root.
 *
 * The UI is built from web/ when the manager starts, if this version of it has not been built yet
 * (src/manager/web-build.ts); the manager answers the API meanwhile, and the UI's requests wait
 * for the build. A failed build is reported on those requests and in the log; the API still works.
 */
export function uiRoutes(ctx: ManagerContext, o: { log?: (line: string) => void } = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    const log = o.log ?? (() => {});
    const built = ensureWebBuild({ log });
    built.catch((e: unknown) => log(`the web UI could not be built: ${(e as Error).message}`));
    const dir = async (): Promise<string> => {
      try {
        return await built;
      } catch (e) {
        throw new TorpedoError('TORPEDO_ERR_INTERNAL', `the web UI could not be built: ${(e as Error).message}`);
      }
    };

    // sendFile only: the files' directory is known once the build is done.
    await app.register(fastifyStatic, { root: WEB_CACHE_DIR, serve: false });

    const index = async (reply: FastifyReply): Promise<FastifyReply> =>
      reply
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header(
          'content-security-policy',
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        )
        .sendFile('index.html', await dir(), { cacheControl: false });

    const hide = { schema: { hide: true } };
    app.get('/', hide, async (_request, reply) => index(reply));
    app.get('/index.html', hide, async (_request, reply) => index(reply));
    app.get('/assets/*', hide, async (request, reply) => {
      const file = (request.params as { '*': string })['*'];
      // Names carry a content hash: cache them for good. @fastify/send refuses paths that leave the root.
      return reply.sendFile(file, join(await dir(), 'assets'), { immutable: true, maxAge: '365d' });
    });
    app.get('/ui-settings.json', hide, async () => ({ allowRegistration: ctx.config.allowRegistration, maxUploadBytes: ctx.config.maxUploadBytes }));
  };
}
