import type { FastifyInstance } from 'fastify';
import { lt } from 'drizzle-orm';
import { TorpedoError } from '../../errors.ts';
import { authenticate, caller } from '../auth/authenticate.ts';
import { DeviceTokens } from '../auth/device-tokens.ts';
import { LoginLimiter, type LoginClient } from '../auth/login-limiter.ts';
import { burnPasswordCheck, checkPassword } from '../auth/passwords.ts';
import type { ManagerContext } from '../context.ts';
import { revokedTokens } from '../database/schema.ts';
import { checkPasswordRule, checkUsername, usernameKey } from '../names.ts';
import type { LoginAnswer } from '../rest-types.ts';
import { DEFAULT_ROLES } from '../roles.ts';
import { createUser, findUserById, findUserByName, updateUser } from '../users.ts';
import { credentialsBody, errorResponses, loginBody, tag } from './schemas.ts';

/** POST /auth/register, /auth/login, /auth/logout; GET /auth/me. */
export function authRoutes(ctx: ManagerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const db = ctx.database.db;
    // Brute force: OWASP's device cookies (login-limiter.ts). Successful logins are never limited.
    const limiter = new LoginLimiter(ctx.config.loginAttempts, ctx.config.loginWindowMs);
    const devices = new DeviceTokens(ctx.config.jwtSecret);

    app.post('/auth/register', { schema: { ...tag('auth', 'Create an account with the default roles', false), body: credentialsBody, response: errorResponses } }, async (request, reply) => {
      if (!ctx.config.allowRegistration) throw new TorpedoError('TORPEDO_ERR_FORBIDDEN', 'self-registration is disabled here; ask an administrator for an account');
      const body = request.body as Record<string, unknown>;
      if (body['roles'] !== undefined) {
        throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'roles cannot be chosen at registration; an administrator grants them');
      }
      const user = await createUser(db, { username: checkUsername(body['username']), password: checkPasswordRule(body['password']), roles: DEFAULT_ROLES });
      return reply.code(201).send({ username: user.username, roles: user.roles });
    });

    app.post('/auth/login', { schema: { ...tag('auth', 'Exchange a username and password for a token (and a device token)', false), body: loginBody, response: errorResponses } }, async (request) => {
      const body = request.body as { username: string; password: string; deviceToken?: string };
      const name = usernameKey(body.username) ?? body.username.normalize('NFKC').toLowerCase();
      const nonce = body.deviceToken !== undefined ? await devices.nonceFor(body.deviceToken, name) : undefined;
      const client: LoginClient = nonce !== undefined ? { device: nonce } : { untrusted: name };
      await limiter.refuseIfLimited(client);
      const user = await findUserByName(db, body.username);
      const ok = user !== undefined ? await checkPassword(user.passwordHash, body.password) : (await burnPasswordCheck(body.password), false);
      if (!ok || user === undefined) {
        await limiter.failed(client);
        throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', 'wrong username or password');
      }
      if (user.disabled) throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', `the user ${JSON.stringify(user.username)} is disabled`);
      await limiter.succeeded(client);
      const { token, claims } = await ctx.tokens.issue(user);
      return { token, expiresAt: claims.expiresAt.toISOString(), deviceToken: await devices.issue(name) } satisfies LoginAnswer;
    });

    app.post('/auth/logout', { schema: tag('auth', 'Revoke the token of this request'), preHandler: authenticate(db, ctx.tokens) }, async (request, reply) => {
      const me = caller(request);
      await db.insert(revokedTokens).values({ jti: me.jti, expiresAt: me.expiresAt }).onConflictDoNothing();
      // Revocations of tokens that have expired anyway are no longer needed.
      await db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, new Date()));
      return reply.code(204).send();
    });

    app.post(
      '/auth/password',
      {
        schema: {
          ...tag('auth', 'Change your own password: all your tokens are revoked and a new one is returned'),
          body: { type: 'object', required: ['currentPassword', 'newPassword'], properties: { currentPassword: { type: 'string', maxLength: 1024 }, newPassword: { type: 'string' } } },
        },
        preHandler: authenticate(db, ctx.tokens),
      },
      async (request) => {
        const me = caller(request);
        const body = request.body as { currentPassword: string; newPassword: unknown };
        const user = await findUserById(db, me.id);
        if (user === undefined || !(await checkPassword(user.passwordHash, body.currentPassword))) {
          throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', 'the current password is wrong');
        }
        const updated = await updateUser(db, me.id, { password: checkPasswordRule(body.newPassword) });
        const { token, claims } = await ctx.tokens.issue(updated);
        return { token, expiresAt: claims.expiresAt.toISOString() };
      },
    );

    app.get('/auth/me', { schema: tag('auth', 'Who the token belongs to'), preHandler: authenticate(db, ctx.tokens) }, async (request) => {
      const me = caller(request);
      return { username: me.username, roles: me.roles };
    });
  };
}
