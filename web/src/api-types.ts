// The shapes of the manager's REST API come from src/manager/rest-types.ts (types only); this file
// adds the UI's own: the constant lists it renders and GET /ui-settings.json.
import type { Role } from '../../src/manager/rest-types.ts';

export type * from '../../src/manager/rest-types.ts';

export const ROLES = ['admin', 'manage_users', 'submit_jobs', 'track_jobs', 'read_storage', 'write_storage'] as const satisfies readonly Role[];

/** What the UI routes add for the UI: GET /ui-settings.json (no token needed). */
export interface UiSettings {
  readonly allowRegistration: boolean;
  readonly maxUploadBytes: number;
}

export const EXAMPLES = ['wordcount', 'grep', 'inverted-index', 'sort'] as const;
