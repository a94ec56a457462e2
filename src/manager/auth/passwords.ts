import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (19 MiB, 2 passes: OWASP's minimum), ≈ 10 ms here. */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function checkPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * Compared against when the username does not exist, so that a wrong username takes as long as a
 * wrong password and response times do not tell which accounts exist.
 */
let dummy: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hash('torpedo-no-such-user');
  await checkPassword(await dummy, password);
}
