import { createInterface } from 'node:readline/promises';
import { TorpedoError } from '../../errors.ts';

/** True when the user can be asked: both the keyboard and the place prompts go are a terminal. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** Asks for one line on the terminal; the prompt goes to stderr so that stdout stays data. */
export async function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/**
 * Asks for a secret without echoing it. readline has no hidden mode, so this reads the terminal in
 * raw mode itself: Enter ends, Backspace deletes, Ctrl-C exits like an interrupt (130), Ctrl-D on
 * an empty line cancels.
 */
export function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let secret = '';
    const finish = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(secret);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') {
          finish();
          process.exit(130);
        }
        if (ch === '\u0004') {
          if (secret === '') return finish(new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'no input given (Ctrl-D)'));
          return finish();
        }
        if (ch === '\u007f' || ch === '\b') secret = [...secret].slice(0, -1).join('');
        else if (ch >= ' ') secret += ch;
      }
    };
    // Echo goes off before the prompt shows, so a fast typist's first keys are not echoed either.
    stdin.setRawMode(true);
    process.stderr.write(question);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * Reads exactly `count` lines from stdin (for `--password-stdin`): a script pipes secrets in
 * rather than putting them in the process list. Fewer lines than asked for is an error; a trailing
 * `\r` is dropped so that a file written on Windows works.
 */
export async function readStdinLines(count: number, what: string): Promise<string[]> {
  if (process.stdin.isTTY === true) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `--password-stdin reads ${what} from a pipe, not a terminal (without it, you are asked)`);
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length < count || lines.slice(0, count).some((l) => l === '')) {
    throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `--password-stdin expects ${what} on stdin, one a line`);
  }
  return lines.slice(0, count);
}
