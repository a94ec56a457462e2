import type { z } from 'zod';

/** What a schema found wrong first, for an error message: `at task.kind: Invalid option: …`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return error.message;
  return `at ${issue.path.length === 0 ? 'the top level' : issue.path.join('.')}: ${issue.message}`;
}
