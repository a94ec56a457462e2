// The shapes of the manager's REST API come from src/manager/rest-types.ts (types only); this file
// adds the UI's own: the constant lists it renders and GET /ui-settings.json.
export type * from '../../src/manager/rest-types.ts';

/** The roles, the example names and the job settings the UI renders: the server's own lists (files with no imports). */
export { ROLES } from '../../src/manager/roles.ts';
export { EXAMPLE_NAMES as EXAMPLES, EXAMPLE_PARAMS, EXAMPLE_REDUCERS } from '../../examples/names.ts';
export { DEFAULT_SPLIT_SIZE, JOB_SETTINGS } from '../../src/protocol/job-settings.ts';

/** What the UI routes add for the UI: GET /ui-settings.json (no token needed). */
export interface UiSettings {
  readonly allowRegistration: boolean;
  readonly maxUploadBytes: number;
}

/** How a queued job's place reads (a file with type imports only). */
export { queueText } from '../../src/manager/queue-text.ts';
