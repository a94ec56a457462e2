import type { TaskKind } from '../protocol/messages.ts';

/** How logs and errors name a task: `map-00003`. */
export function taskName(task: { readonly kind: TaskKind; readonly index: number }): string {
  return `${task.kind}-${String(task.index).padStart(5, '0')}`;
}
