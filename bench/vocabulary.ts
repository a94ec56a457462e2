import { Prng } from './prng.ts';

/**
 * The most frequent English words, in rough frequency order, so the head of the Zipf
 * distribution looks like English. Contractions exercise the apostrophe rule.
 */
const COMMON_WORDS = `the of and to a in is it you that he was for on are with as i his they be at one
have this from or had by not word but what some we can out other were all there when up use your how
said an each she which do their time if will way about many then them write would like so these her
long make thing see him two has look more day could go come did number sound no most people my over
know water than call first who may down side been now find don't it's i'm can't that's didn't isn't
won't he's she's i'll we're they're you're let's any new work part take get place made live where
after back little only round man year came show every good me give our under name very through just
form sentence great think say help low line differ turn cause much mean before move right boy old too
same tell does set three want air well also play small end put home read hand port large spell add
even land here must big high such follow act why ask men change went light kind off need house
picture try us again animal point mother world near build self earth father`.split(/\s+/);

/**
 * Real words with non-ASCII letters, so every engine's UTF-8 and Unicode-regex path is used.
 * All their non-ASCII letters are lower case: this keeps the byte-oriented baselines (C, tr)
 * comparable with the Unicode ones, since they only lower-case ASCII.
 */
const NON_ASCII_WORDS = [
  'café', 'naïve', 'façade', 'résumé', 'déjà', 'über', 'señor', 'jalapeño', 'crème', 'brûlée',
  'fiancée', 'coöperate', 'rôle', 'élan', 'doña', 'piñata', 'açaí', 'smörgåsbord', 'garçon',
  'straße', 'mañana', 'entrée', 'protégé', 'soufflé', 'привет', 'мир', 'λόγος', 'ζωή',
];

const ONSETS = ['', '', 'b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't',
  'v', 'w', 'y', 'z', 'bl', 'br', 'ch', 'cl', 'cr', 'dr', 'fl', 'fr', 'gl', 'gr', 'pl', 'pr', 'sc',
  'sh', 'sk', 'sl', 'sm', 'sn', 'sp', 'st', 'str', 'sw', 'th', 'tr', 'wh'];
const NUCLEI = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'i', 'o', 'ai', 'ea', 'ee', 'ie', 'oa', 'oo', 'ou', 'y'];
const CODAS = ['', '', '', '', 'n', 'r', 's', 't', 'l', 'm', 'nd', 'ng', 'nt', 'rd', 'rk', 'rn', 'rt',
  'sk', 'st', 'ck', 'ght', 'sh', 'th', 'x'];
const SUFFIXES = ['ing', 'ed', 'ly', 'tion', 'ness', 'er', 's', 'able', 'ment'];
const ACCENTED: Readonly<Record<string, readonly string[]>> = {
  a: ['à', 'á', 'â', 'ä'], e: ['é', 'è', 'ê', 'ë'], i: ['í', 'ï', 'î'], o: ['ó', 'ö', 'ô'],
  u: ['ú', 'ü', 'û'], n: ['ñ'], c: ['ç'],
};

function pick<T>(prng: Prng, items: readonly T[]): T {
  const item = items[prng.nextInt(items.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

function inventWord(prng: Prng): string {
  const roll = prng.nextFloat();
  const syllables = roll < 0.25 ? 1 : roll < 0.65 ? 2 : roll < 0.9 ? 3 : 4;
  let word = '';
  for (let i = 0; i < syllables; i++) word += pick(prng, ONSETS) + pick(prng, NUCLEI) + pick(prng, CODAS);
  if (prng.nextFloat() < 0.15) word += pick(prng, SUFFIXES);
  return word;
}

/** Swaps one letter for an accented variant, if the word has a letter that has one. */
function accent(prng: Prng, word: string): string {
  const positions = [...word].flatMap((ch, i) => (ACCENTED[ch] ? [i] : []));
  if (positions.length === 0) return word;
  const at = pick(prng, positions);
  const chars = [...word];
  chars[at] = pick(prng, ACCENTED[chars[at] ?? ''] ?? []);
  return chars.join('');
}

/**
 * A deterministic vocabulary of `size` distinct lower-case words, most frequent first: real
 * common words, then invented English-looking words (shorter ones tend to rank higher, as in
 * English), with about 1.5% accented, 2% possessives and 0.5% numbers mixed in.
 */
export function buildVocabulary(seed: number, size: number): string[] {
  const prng = new Prng(seed ^ 0x5eed_0f0c);
  const seen = new Set<string>(COMMON_WORDS);
  const invented: string[] = [];
  const target = size - COMMON_WORDS.length - NON_ASCII_WORDS.length;
  for (const w of NON_ASCII_WORDS) seen.add(w);
  while (invented.length < target) {
    const roll = prng.nextFloat();
    let word: string;
    if (roll < 0.005) word = String(prng.nextInt(100_000));
    else if (roll < 0.025) word = `${inventWord(prng)}'s`;
    else if (roll < 0.04) word = accent(prng, inventWord(prng));
    else word = inventWord(prng);
    if (seen.has(word)) continue;
    seen.add(word);
    invented.push(word);
  }
  const rankKey = new Map(invented.map((w) => [w, w.length + prng.nextInt(4)]));
  invented.sort((x, y) => (rankKey.get(x) ?? 0) - (rankKey.get(y) ?? 0));

  // The real non-ASCII words go at mid ranks (from 300 on, every 97th), frequent enough that
  // every split of a large input contains them.
  const words = [...COMMON_WORDS];
  let next = 0;
  for (const w of invented) {
    const slot = words.length - 300;
    if (slot >= 0 && slot % 97 === 0 && next < NON_ASCII_WORDS.length) words.push(NON_ASCII_WORDS[next++] ?? w);
    words.push(w);
  }
  while (next < NON_ASCII_WORDS.length) words.push(NON_ASCII_WORDS[next++] ?? '');
  return words.slice(0, size);
}
