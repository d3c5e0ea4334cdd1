/**
 * The terms `search_tools` indexes and matches: one analyzer for tool text and queries alike, so a
 * query word meets the document word it came from (`getWeather`, `get_weather` and "get the
 * weather" all give `get`, `weather`).
 */

/**
 * Words too common in tool descriptions and questions to tell tools apart. Kept tiny on purpose:
 * BM25's IDF already discounts frequent words, and verbs such as `get` or `list` carry meaning.
 */
const STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'by',
  'can',
  'do',
  'does',
  'for',
  'from',
  'how',
  'in',
  'into',
  'is',
  'it',
  'its',
  'me',
  'my',
  'of',
  'on',
  'or',
  'please',
  'that',
  'the',
  'this',
  'to',
  'what',
  'which',
  'with',
  'you',
  'your',
]);

/** Words are runs of letters (with their combining marks) and digits; anything else separates. */
const SEPARATORS = /[^\p{L}\p{M}\p{N}]+/u;
const ASCII_SEPARATORS = /[^A-Za-z0-9]+/;
/** A lowercase or digit to uppercase step (`getWeather`, `s3Bucket`) or an acronym's end (`HTTPServer`). */
const CAMEL_BOUNDARY = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;
const HAS_UPPER = /\p{Lu}/u;
// eslint-disable-next-line no-control-regex -- the whole ASCII range, control characters included
const ASCII = /^[\x00-\x7f]*$/;
const HAS_VOWEL = /[aeiouy]/;
/** Final double consonants undone after `-ing`/`-ed` (`getting` → `get`); not l, s, z (`billing`). */
const UNDOUBLE = /([bdgmnprt])\1$/;

/** The terms of single words, kept by a caller that analyzes many texts sharing their words. */
export type SearchTermMemo = Map<string, readonly string[]>;

/**
 * The terms of a text, in order, repeats kept: NFKC-normalized, split into words at anything that
 * is not a letter, mark or digit (so `_`, `-`, `.` split) and at camelCase boundaries (the whole
 * camelCase word is kept too), lowercased, one-character words and stop words dropped, each word
 * stemmed by `stemTerm`. With `memo`, each distinct word is analyzed once across calls.
 */
export function toSearchTerms(text: string, memo?: SearchTermMemo): string[] {
  const terms: string[] = [];
  // Most tool text is ASCII: its own NFKC form, and split faster without Unicode classes.
  const words = ASCII.test(text) ? text.split(ASCII_SEPARATORS) : text.normalize('NFKC').split(SEPARATORS);
  for (const word of words) {
    if (word === '') continue;
    let wordTerms = memo?.get(word);
    if (wordTerms === undefined) {
      wordTerms = termsOfWord(word);
      memo?.set(word, wordTerms);
    }
    for (const term of wordTerms) terms.push(term);
  }
  return terms;
}

function termsOfWord(word: string): string[] {
  const terms: string[] = [];
  const parts = HAS_UPPER.test(word) ? word.split(CAMEL_BOUNDARY) : [word];
  for (const part of parts) pushTerm(terms, part);
  // The whole word too, so that `GitHub` also meets `github` and `PostgreSQL` meets `postgresql`.
  if (parts.length > 1) pushTerm(terms, word);
  return terms;
}

function pushTerm(terms: string[], word: string): void {
  const lower = word.toLowerCase();
  if (lower.length >= 2 && !STOP_WORDS.has(lower)) terms.push(stemTerm(lower));
}

/**
 * A light English suffix stemmer (not Porter): plurals (`-s`, `-es`, `-ies`), then `-ing` and
 * `-ed` when a stem with a vowel of 3+ letters remains, then a final `-e`, so that `create`,
 * `creates`, `created` and `creating` all give `creat`. Words of 3 letters or fewer are kept.
 * Conflating a few unrelated words is harmless here: both sides of a match go through it.
 */
export function stemTerm(word: string): string {
  if (word.length <= 3) return word;
  let stem = stripPlural(word);
  const verb = stripVerbSuffix(stem);
  if (verb !== stem) stem = verb.replace(UNDOUBLE, '$1');
  if (stem.length >= 4 && stem.endsWith('e')) stem = stem.slice(0, -1);
  return stem;
}

function stripPlural(word: string): string {
  if (word.endsWith('ies') && word.length > 4) return word.slice(0, -3) + 'y';
  if (/(?:ss|ch|sh|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function stripVerbSuffix(word: string): string {
  const suffix = word.endsWith('ing') ? 3 : word.endsWith('ed') && !word.endsWith('eed') ? 2 : 0;
  const stem = word.slice(0, word.length - suffix);
  return suffix > 0 && stem.length >= 3 && HAS_VOWEL.test(stem) ? stem : word;
}
