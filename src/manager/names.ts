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

export const checkUsername = (v: unknown): string => checkName('username', v, 64);
export const checkDatasetName = (v: unknown): string => checkName('dataset name', v, 128);

export function checkPasswordRule(v: unknown): string {
  if (typeof v !== 'string' || v.length < 8 || v.length > 1024) {
    throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'a password must be a string of 8 to 1024 characters');
  }
  return v;
}
