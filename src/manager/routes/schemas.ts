import type {} from '@fastify/swagger';

/** JSON Schemas shared by the routes: they validate requests and make up /openapi.json. */

export const errorBody = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
} as const;

/** Documented error answers; not used to serialise (errors are sent by the error handler). */
export const errorResponses = {
  '4xx': { description: '`{error: {code, message}}`', ...errorBody },
} as const;

export const credentialsBody = {
  type: 'object',
  required: ['username', 'password'],
  properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 } },
} as const;

export const loginBody = {
  type: 'object',
  required: ['username', 'password'],
  properties: {
    ...credentialsBody.properties,
    deviceToken: { type: 'string', maxLength: 4096, description: 'the deviceToken of an earlier login as this user on this client: its failed logins are then counted apart' },
  },
} as const;

export const userSchema = {
  type: 'object',
  properties: {
    username: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    disabled: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const datasetSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    owner: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const nameParam = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;
export const idParam = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;

/** The OpenAPI tag, summary and bearer-token requirement of a route (`secured`: it needs a token). */
export function tag(name: string, summary: string, secured = true) {
  return { tags: [name], summary, ...(secured ? { security: [{ bearer: [] }] } : {}) };
}
