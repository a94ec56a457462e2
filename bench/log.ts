/** Progress reporting: every step of the bench says what it is doing on stderr, keeping stdout for the table. */
export type Log = (message: string) => void;

export const logToStderr: Log = (message) => {
  process.stderr.write(`[bench] ${message}\n`);
};
