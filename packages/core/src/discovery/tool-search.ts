import type { JsonObject } from '../upstream/types.ts';
import { toSearchTerms, type SearchTermMemo } from './search-terms.ts';

/** A tool that matches a query, with its relevance (4 significant digits, higher is better). */
export interface ToolMatch {
  readonly name: string;
  readonly score: number;
}

/** What one search asks for. */
export interface ToolSearchOptions {
  /** Most matches returned; clamped to 1..`MAX_SEARCH_LIMIT` (NaN counts as 1). */
  readonly limit: number;
  /**
   * Which served names the caller may see. Tools it rejects are neither returned nor counted in
   * the ranking's statistics, so results and scores are those of a catalog holding only the
   * visible tools (hidden tools leak nothing through scores). Called once per tool per search.
   */
  readonly visible?: (name: string) => boolean;
}

/** A catalog's tools indexed once for `search_tools`; searches never re-read the tool objects. */
export interface ToolIndex {
  /**
   * The visible tools that share a term with `query`, best first, ties by name (code-unit order).
   * A query without a usable term (blank, only stop words or punctuation) matches nothing.
   */
  search(query: string, options: ToolSearchOptions): readonly ToolMatch[];
}

/** The most matches one search returns. */
export const MAX_SEARCH_LIMIT = 50;
/** Characters of a query that are read; the rest is ignored. */
export const MAX_QUERY_LENGTH = 512;
/** Distinct terms of a query that count (the first ones); the rest are ignored. */
export const MAX_QUERY_TERMS = 32;

/**
 * The fields of a tool that are searched, with their weights in BM25F: a word of the tool's name
 * says more about what it does than a word of a parameter's description.
 */
const FIELD_WEIGHTS = [3, 2, 1, 1.5, 0.5] as const; // name, title, description, parameter names, parameter descriptions
const FIELDS = FIELD_WEIGHTS.length;
/** BM25 term-frequency saturation. */
const K1 = 1.2;
/** BM25 length normalization, the same for every field. */
const B = 0.75;

/** Where a term occurs: the documents, and per document its frequency in each field (stride FIELDS). */
interface Postings {
  readonly docs: number[];
  readonly tfs: number[];
}

/** Document count and average field lengths over the documents a search may see. */
interface Population {
  readonly mask: Uint8Array | undefined;
  readonly count: number;
  readonly avgLengths: Float64Array;
}

/**
 * Indexes tools for ranking by BM25F over their name, title (`title` or `annotations.title`),
 * description, and the names and descriptions of `inputSchema`'s top-level properties. Each tool
 * is tokenized once here; a search costs the postings of its terms plus one `visible` call per
 * tool. Items without a string `name` are skipped. Pure: no I/O, runs in any runtime.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#tool
 */
export function createToolIndex(tools: readonly JsonObject[]): ToolIndex {
  const { names, lengths, postings } = indexTools(tools);
  const everyone = population(names, lengths, undefined);
  return {
    search(query, options) {
      const terms = queryTerms(query);
      if (terms.length === 0) return [];
      const seen = options.visible === undefined ? everyone : population(names, lengths, options.visible);
      if (seen.count === 0) return [];
      const scores = new Float64Array(names.length);
      const touched: number[] = [];
      for (const term of terms) {
        const entry = postings.get(term);
        if (entry !== undefined) addTermScores(entry, lengths, seen, scores, touched);
      }
      return topMatches(touched, scores, names, clampLimit(options.limit));
    },
  };
}

const indexes = new WeakMap<readonly JsonObject[], ToolIndex>();

/**
 * The index of a tools array, built on first use and kept while the array lives. The catalog
 * replaces its tools array whenever it changes, so identity is the cache key; the array must not
 * be mutated afterwards.
 */
export function toolIndexFor(tools: readonly JsonObject[]): ToolIndex {
  let index = indexes.get(tools);
  if (index === undefined) indexes.set(tools, (index = createToolIndex(tools)));
  return index;
}

/** Names, field lengths (stride FIELDS) and postings of the tools with a string name, in order. */
function indexTools(tools: readonly JsonObject[]) {
  const names: string[] = [];
  const lengths: number[] = [];
  const postings = new Map<string, Postings>();
  const memo: SearchTermMemo = new Map();
  for (const tool of tools) {
    if (typeof tool.name !== 'string') continue;
    const doc = names.push(tool.name) - 1;
    toolFields(tool).forEach((text, field) => {
      const terms = toSearchTerms(text, memo);
      lengths.push(terms.length);
      for (const term of terms) {
        let entry = postings.get(term);
        if (entry === undefined) postings.set(term, (entry = { docs: [], tfs: [] }));
        // Documents are added in order, so this document's row, if any, is the last one.
        if (entry.docs[entry.docs.length - 1] !== doc) {
          entry.docs.push(doc);
          for (let f = 0; f < FIELDS; f++) entry.tfs.push(0);
        }
        entry.tfs[(entry.docs.length - 1) * FIELDS + field]! += 1;
      }
    });
  }
  return { names, lengths, postings };
}

/** The searched text of a tool, one string per field in `FIELD_WEIGHTS` order. */
function toolFields(tool: JsonObject): string[] {
  const annotations = asObject(tool.annotations);
  const title = [text(tool.title), text(annotations?.title)].join(' ');
  const properties = asObject(asObject(tool.inputSchema)?.properties) ?? {};
  const parameterNames = Object.keys(properties).join(' ');
  const parameterDescriptions = Object.values(properties)
    .map((schema) => text(asObject(schema)?.description))
    .join(' ');
  return [String(tool.name), title, text(tool.description), parameterNames, parameterDescriptions];
}

function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The first `MAX_QUERY_TERMS` distinct terms of the first `MAX_QUERY_LENGTH` characters. */
function queryTerms(query: string): string[] {
  const distinct = new Set<string>();
  for (const term of toSearchTerms(query.slice(0, MAX_QUERY_LENGTH))) {
    distinct.add(term);
    if (distinct.size === MAX_QUERY_TERMS) break;
  }
  return [...distinct];
}

function clampLimit(limit: number): number {
  return Number.isNaN(limit) ? 1 : Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.trunc(limit)));
}

/** The documents `visible` admits (all when undefined), how many, and their average field lengths. */
function population(names: string[], lengths: number[], visible: ((name: string) => boolean) | undefined): Population {
  const mask = visible === undefined ? undefined : new Uint8Array(names.length);
  const avgLengths = new Float64Array(FIELDS);
  let count = 0;
  names.forEach((name, doc) => {
    if (visible !== undefined && !visible(name)) return;
    if (mask !== undefined) mask[doc] = 1;
    count++;
    for (let field = 0; field < FIELDS; field++) avgLengths[field]! += lengths[doc * FIELDS + field]!;
  });
  for (let field = 0; field < FIELDS; field++) avgLengths[field]! /= Math.max(count, 1);
  return { mask, count, avgLengths };
}

/** Adds one term's BM25F contribution to every visible document that holds it. */
function addTermScores(entry: Postings, lengths: number[], seen: Population, scores: Float64Array, touched: number[]) {
  const { docs, tfs } = entry;
  const { mask, avgLengths } = seen;
  const df = mask === undefined ? docs.length : docs.reduce((n, doc) => n + mask[doc]!, 0);
  if (df === 0) return;
  const idf = Math.log(1 + (seen.count - df + 0.5) / (df + 0.5));
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i]!;
    if (mask !== undefined && mask[doc] === 0) continue;
    let tf = 0;
    for (let field = 0; field < FIELDS; field++) {
      const raw = tfs[i * FIELDS + field]!;
      // A field holding the term has length ≥ 1, so its average over visible documents is > 0.
      if (raw > 0)
        tf += (FIELD_WEIGHTS[field]! * raw) / (1 - B + (B * lengths[doc * FIELDS + field]!) / avgLengths[field]!);
    }
    if (scores[doc] === 0) touched.push(doc);
    scores[doc]! += (idf * tf) / (K1 + tf);
  }
}

/** The best `limit` documents by rounded score then name, kept sorted while scanning (k ≤ 50). */
function topMatches(touched: number[], scores: Float64Array, names: string[], limit: number): ToolMatch[] {
  const top: ToolMatch[] = [];
  for (const doc of touched) {
    const match = { name: names[doc]!, score: roundScore(scores[doc]!) };
    if (top.length === limit && !ranksBefore(match, top[limit - 1]!)) continue;
    let low = 0;
    let high = top.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (ranksBefore(top[mid]!, match)) low = mid + 1;
      else high = mid;
    }
    top.splice(low, 0, match);
    if (top.length > limit) top.pop();
  }
  return top;
}

function ranksBefore(a: ToolMatch, b: ToolMatch): boolean {
  return a.score > b.score || (a.score === b.score && a.name < b.name);
}

/** Four significant digits: enough to order tools, stable against floating-point noise. */
function roundScore(score: number): number {
  const scale = 10 ** (3 - Math.floor(Math.log10(score)));
  return Math.round(score * scale) / scale;
}
