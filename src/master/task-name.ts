// How logs and errors name a task (`map-00003`); defined with the other names in protocol/task-names.ts.
export { taskName } from '../protocol/task-names.ts';
