import type { FastifyInstance } from 'fastify';
import { TorpedoError } from '../../errors.ts';
import { authenticate, caller, type AuthUser } from '../auth/authenticate.ts';
import type { ManagerContext } from '../context.ts';
import { checkPasswordRule, checkUsername } from '../names.ts';
import { DEFAULT_ROLES, isRole, PRIVILEGED_ROLES } from '../roles.ts';
import { createUser, deleteUser, findUserByName, listUsers, updateUser, userView } from '../users.ts';
import { nameParam, tag, userSchema } from './schemas.ts';

const rolesSchema = { type: 'array', items: { type: 'string' }, maxItems: 16 } as const;
/** What PATCH /users/:name changes; any other field, or none, is a 400 rather than a silent no-op. */
const PATCHABLE: readonly string[] = ['roles', 'disabled', 'password'];

/** User administration, for `manage_users` (and `admin`). */
export function usersRoutes(ctx: ManagerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const db = ctx.database.db;
    const guard = authenticate(db, ctx.tokens, ['manage_users']);

    app.get('/users', { schema: { ...tag('users', 'List users'), response: { 200: { type: 'object', properties: { users: { type: 'array', items: userSchema } } } } }, preHandler: guard }, async () => ({
      users: (await listUsers(db)).map(userView),
    }));

    app.post(
      '/users',
      {
        schema: {
          ...tag('users', 'Create a user'),
          body: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' }, roles: rolesSchema } },
          response: { 201: userSchema },
        },
        preHandler: guard,
      },
      async (request, reply) => {
        const body = request.body as { username: unknown; password: unknown; roles?: string[] };
        const roles = checkRoles(caller(request), body.roles ?? DEFAULT_ROLES, []);
        const user = await createUser(db, { username: checkUsername(body.username), password: checkPasswordRule(body.password), roles });
        return reply.code(201).send(userView(user));
      },
    );

    app.patch(
      '/users/:name',
      {
        schema: {
          ...tag('users', "Change a user's roles, disabled flag or password"),
          params: nameParam,
          body: { type: 'object', properties: { roles: rolesSchema, disabled: { type: 'boolean' }, password: { type: 'string' } } },
          response: { 200: userSchema },
        },
        preHandler: guard,
      },
      async (request) => {
        const me = caller(request);
        const target = await findOr404((request.params as { name: string }).name);
        const body = (request.body ?? {}) as { roles?: string[]; disabled?: boolean; password?: unknown };
        const fields = Object.keys(body);
        const unknown = fields.filter((k) => !PATCHABLE.includes(k));
        if (unknown.length > 0) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', `a user has no field ${unknown.map((k) => JSON.stringify(k)).join(', ')} to change; send ${PATCHABLE.join(', ')}`);
        if (fields.length === 0) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', `nothing to change: send one or more of ${PATCHABLE.join(', ')}`);
        if (target.id === me.id && (body.disabled === true || (body.roles !== undefined && !body.roles.includes('admin') && me.roles.includes('admin')))) {
          throw new TorpedoError('TORPEDO_ERR_CONFLICT', 'you cannot disable yourself or take away your own admin role');
        }
        if (target.roles.includes('admin') && !me.roles.includes('admin')) {
          throw new TorpedoError('TORPEDO_ERR_FORBIDDEN', 'only an admin may change an admin');
        }
        const roles = body.roles !== undefined ? checkRoles(me, body.roles, target.roles) : undefined;
        const password = body.password !== undefined ? checkPasswordRule(body.password) : undefined;
        const updated = await updateUser(db, target.id, {
          ...(roles !== undefined ? { roles } : {}),
          ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
          ...(password !== undefined ? { password } : {}),
        });
        if (body.disabled === true) await ctx.scheduler.cancelAllOf(target.id, `user ${target.username} was disabled`);
        return userView(updated);
      },
    );

    app.delete('/users/:name', { schema: { ...tag('users', "Delete a user with their datasets and jobs"), params: nameParam }, preHandler: guard }, async (request, reply) => {
      const me = caller(request);
      const target = await findOr404((request.params as { name: string }).name);
      if (target.id === me.id) throw new TorpedoError('TORPEDO_ERR_CONFLICT', 'you cannot delete yourself');
      if (target.roles.includes('admin') && !me.roles.includes('admin')) throw new TorpedoError('TORPEDO_ERR_FORBIDDEN', 'only an admin may delete an admin');
      await ctx.scheduler.cancelAllOf(target.id, `user ${target.username} was deleted`);
      await ctx.scheduler.removeFilesOf(target.id);
      await ctx.datasets.removeOwner(target.id);
      // Rows of their datasets and jobs go with the user (ON DELETE CASCADE).
      await deleteUser(db, target.id);
      return reply.code(204).send();
    });

    async function findOr404(name: string) {
      const user = await findUserByName(db, name);
      if (user === undefined) throw new TorpedoError('TORPEDO_ERR_NOT_FOUND', `no user ${JSON.stringify(name)}`);
      return user;
    }
  };
}

/** Validates a role list; only an admin may add or remove the privileged roles. */
function checkRoles(me: AuthUser, roles: readonly string[], before: readonly string[]): string[] {
  const unique = [...new Set(roles)];
  for (const r of unique) if (!isRole(r)) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', `unknown role ${JSON.stringify(r)}`);
  if (!me.roles.includes('admin')) {
    for (const r of PRIVILEGED_ROLES) {
      if (unique.includes(r) !== before.includes(r)) throw new TorpedoError('TORPEDO_ERR_FORBIDDEN', `only an admin may grant or remove the role ${r}`);
    }
  }
  return unique;
}
