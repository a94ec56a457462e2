import { TorpedoError } from '../errors.ts';

/**
 * Usernames and dataset names become directory and file names, so they are drawn from a small
 * alphabet: no `/`, no `..` (a name may contain dots but not start with one), no control
 * characters, no spaces.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkName(kind: 'username' | 'dataset name', value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || !NAME.test(value) || value.includes('..')) {
    throw new TorpedoError(
      'TORPEDO_ERR_BAD_REQUEST',
      `invalid ${kind} ${JSON.stringify(value)}: use 1–${maxLength} characters from A–Z a–z 0–9 . _ -, starting with a letter or digit, without '..'`,
    );
  }
  return value;
}

/**
 * A username as it is stored and shown: the input in Unicode NFKC (a fullwidth `ａｄｍｉｎ` is
 * `admin`, a ligature `ﬁ` is `fi`), then checked as a name. The spelling is kept; two names are
 * one account when their `usernameKey`s are equal (the database enforces it on `lower(username)`).
 */
export const checkUsername = (v: unknown): string => checkName('username', typeof v === 'string' ? v.normalize('NFKC') : v, 64);

/**
 * What usernames are compared by: NFKC, then lower case (all ASCII by then, so it is what the
 * database's `lower()` makes of the stored name). Undefined when `v` cannot be anyone's name, so
 * a lookup needs no query.
 */
export function usernameKey(v: string): string | undefined {
  try {
    return checkUsername(v).toLowerCase();
  } catch {
    return undefined;
  }
}
export const checkDatasetName = (v: unknown): string => checkName('dataset name', v, 128);

export function checkPasswordRule(v: unknown): string {
  if (typeof v !== 'string' || v.length < 8 || v.length > 1024) {
    throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'a password must be a string of 8 to 1024 characters');
  }
  return v;
}
