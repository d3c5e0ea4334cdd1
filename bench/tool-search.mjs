#!/usr/bin/env node
// search_tools micro-benchmark (issue 14, item 1): core's BM25F tool index alone, no network.
// 1 000 generated tools (names from 16 domains in snake_case, camelCase and kebab-case,
// descriptions of 10–40 words, 2–6 parameters with descriptions), then 2 000 searches with
// queries of 3–8 words (domain words, verbs, stop words, now and then a parameter name). Prints
//   - the time to build the index (the first build, and the median of 20 rebuilds: what a
//     catalog change costs the first search after it);
//   - search latency p50/p99 over all tools, and with a visible filter that hides 1 tool in 10.
// Target of the issue: search_tools over 1 000 tools p50 ≤ 5 ms.
// Usage: node bench/tool-search.mjs [--json PATH]   (Node 24: imports core's TypeScript)
import { writeFileSync } from 'node:fs';
import { createToolIndex } from '../packages/core/src/discovery/tool-search.ts';

const TOOLS = 1000;
const SEARCHES = 2000;
const WARMUP = 300;
const LIMIT = 10;
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const now = () => process.hrtime.bigint();
const ms = (from, to) => Number(to - from) / 1e6;

// A seeded generator (mulberry32), so every run indexes and searches the same text.
let seed = 0x5eed;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (items) => items[Math.floor(random() * items.length)];
const between = (low, high) => low + Math.floor(random() * (high - low + 1));

/** Per domain: the nouns its tools act on and the parameters they take. */
const DOMAINS = {
  weather: {
    nouns: ['forecast', 'alert', 'temperature', 'humidity', 'wind', 'radar', 'station'],
    params: ['location', 'latitude', 'longitude', 'days', 'units', 'stationId'],
  },
  github: {
    nouns: ['issue', 'pull request', 'repository', 'branch', 'commit', 'release', 'workflow', 'review'],
    params: ['owner', 'repo', 'title', 'body', 'labels', 'head', 'base', 'sha'],
  },
  calendar: {
    nouns: ['event', 'meeting', 'attendee', 'reminder', 'calendar', 'availability'],
    params: ['calendarId', 'startTime', 'endTime', 'attendees', 'timeZone', 'summary'],
  },
  files: {
    nouns: ['file', 'directory', 'path', 'permission', 'archive', 'symlink'],
    params: ['path', 'content', 'encoding', 'recursive', 'pattern', 'mode'],
  },
  postgres: {
    nouns: ['table', 'query', 'schema', 'index', 'row', 'migration', 'transaction'],
    params: ['sql', 'schemaName', 'tableName', 'limit', 'params', 'readOnly'],
  },
  slack: {
    nouns: ['message', 'channel', 'thread', 'reaction', 'user', 'mention'],
    params: ['channelId', 'text', 'threadTs', 'userId', 'emoji', 'cursor'],
  },
  jira: {
    nouns: ['ticket', 'sprint', 'epic', 'board', 'comment', 'worklog'],
    params: ['projectKey', 'issueKey', 'summary', 'assignee', 'priority', 'sprintId'],
  },
  billing: {
    nouns: ['invoice', 'payment', 'refund', 'subscription', 'customer', 'coupon'],
    params: ['customerId', 'amount', 'currency', 'invoiceId', 'reason', 'dueDate'],
  },
  kubernetes: {
    nouns: ['pod', 'deployment', 'service', 'namespace', 'node', 'log', 'secret'],
    params: ['namespace', 'name', 'replicas', 'container', 'labelSelector', 'tailLines'],
  },
  crm: {
    nouns: ['contact', 'lead', 'deal', 'account', 'pipeline', 'note'],
    params: ['contactId', 'email', 'company', 'stage', 'ownerId', 'value'],
  },
  email: {
    nouns: ['email', 'draft', 'inbox', 'attachment', 'label', 'signature'],
    params: ['to', 'subject', 'body', 'cc', 'messageId', 'attachmentId'],
  },
  storage: {
    nouns: ['bucket', 'object', 'upload', 'snapshot', 'volume', 'backup'],
    params: ['bucket', 'key', 'region', 'contentType', 'expiresIn', 'versionId'],
  },
  maps: {
    nouns: ['route', 'place', 'address', 'distance', 'geocode', 'traffic'],
    params: ['origin', 'destination', 'mode', 'address', 'radius', 'language'],
  },
  analytics: {
    nouns: ['report', 'metric', 'dashboard', 'funnel', 'cohort', 'event'],
    params: ['startDate', 'endDate', 'dimensions', 'metrics', 'filters', 'granularity'],
  },
  search: {
    nouns: ['document', 'result', 'page', 'snippet', 'index', 'query'],
    params: ['query', 'maxResults', 'site', 'freshness', 'safeSearch', 'offset'],
  },
  translate: {
    nouns: ['text', 'language', 'glossary', 'document', 'phrase'],
    params: ['text', 'sourceLanguage', 'targetLanguage', 'glossaryId', 'formality'],
  },
};
const DOMAIN_NAMES = Object.keys(DOMAINS);
const VERBS = [
  'get',
  'list',
  'create',
  'update',
  'delete',
  'search',
  'find',
  'send',
  'move',
  'export',
  'import',
  'archive',
  'approve',
  'cancel',
  'sync',
  'validate',
];
const FILLER = [
  'the',
  'a',
  'for',
  'with',
  'in',
  'from',
  'by',
  'and',
  'optionally',
  'returns',
  'matching',
  'given',
  'current',
  'all',
  'new',
  'existing',
  'selected',
  'recent',
  'user',
  'account',
  'data',
  'details',
  'status',
  'results',
  'filters',
  'pagination',
  'supports',
  'using',
  'specified',
  'owned',
  'shared',
  'team',
  'workspace',
  'default',
  'each',
  'up',
  'to',
  'one',
  'many',
  'only',
];
const STOPS = ['the', 'a', 'for', 'my', 'on', 'in', 'please', 'what', 'is', 'to', 'of', 'me'];

const casing = [
  (parts) => parts.join('_'),
  (parts) => parts.map((p, i) => (i === 0 ? p : p[0].toUpperCase() + p.slice(1))).join(''),
  (parts) => parts.join('-'),
];

function makeTool(i) {
  const domain = pick(DOMAIN_NAMES);
  const { nouns, params } = DOMAINS[domain];
  const verb = pick(VERBS);
  const noun = pick(nouns);
  const name = `${pick(casing)([domain, verb, ...noun.split(' ')])}_${i}`;
  const words = [verb, 'a', noun];
  for (let n = between(10, 40) - 3; n > 0; n--) {
    const roll = random();
    words.push(
      roll < 0.3
        ? pick(nouns)
        : roll < 0.4
          ? pick(VERBS)
          : roll < 0.45
            ? pick(DOMAINS[pick(DOMAIN_NAMES)].nouns)
            : pick(FILLER),
    );
  }
  const properties = {};
  for (let n = between(2, 6); n > 0; n--) {
    const param = pick(params);
    properties[param] = { type: 'string', description: `The ${pick(nouns)} ${pick(FILLER)} ${pick(FILLER)} ${param}` };
  }
  return { name, description: words.join(' ') + '.', inputSchema: { type: 'object', properties } };
}

function makeQuery() {
  const domain = DOMAINS[pick(DOMAIN_NAMES)];
  const words = [];
  for (let n = between(3, 8); n > 0; n--) {
    const roll = random();
    words.push(
      roll < 0.35
        ? pick(domain.nouns)
        : roll < 0.55
          ? pick(VERBS)
          : roll < 0.7
            ? pick(domain.params)
            : roll < 0.8
              ? pick(DOMAIN_NAMES)
              : pick(STOPS),
    );
  }
  return words.join(' ');
}

const tools = Array.from({ length: TOOLS }, (_, i) => makeTool(i));
const queries = Array.from({ length: SEARCHES }, makeQuery);
const hidden = new Set(tools.filter((_, i) => i % 10 === 0).map((t) => t.name));
const visible = (name) => !hidden.has(name);

const firstStart = now();
let index = createToolIndex(tools);
const firstBuildMs = ms(firstStart, now());
const builds = [];
for (let i = 0; i < 20; i++) {
  const start = now();
  index = createToolIndex(tools);
  builds.push(ms(start, now()));
}
builds.sort((a, b) => a - b);

function measure(options) {
  for (let i = 0; i < WARMUP; i++) index.search(queries[i % queries.length], options);
  const times = [];
  let matched = 0;
  for (const query of queries) {
    const start = now();
    const matches = index.search(query, options);
    times.push(ms(start, now()));
    if (matches.length > 0) matched++;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), matched };
}

const all = measure({ limit: LIMIT });
const filtered = measure({ limit: LIMIT, visible });
const fmt = (value) => value.toFixed(3);
console.log(
  `index build, ${TOOLS} tools: first ${fmt(firstBuildMs)} ms, median of 20 rebuilds ${fmt(percentile(builds, 50))} ms`,
);
console.log(`search_tools over ${TOOLS} tools: p50 ${fmt(all.p50)} ms, p99 ${fmt(all.p99)} ms (target p50 ≤ 5 ms)`);
console.log(
  `search_tools over ${TOOLS} tools, 1 in 10 hidden: p50 ${fmt(filtered.p50)} ms, p99 ${fmt(filtered.p99)} ms`,
);
console.log(`(${SEARCHES} searches of 3–8 words, limit ${LIMIT}; ${all.matched} matched at least one tool)`);
if (jsonOut !== undefined) {
  const result = {
    tools: TOOLS,
    searches: SEARCHES,
    firstBuildMs,
    buildMedianMs: percentile(builds, 50),
    all,
    filtered,
  };
  writeFileSync(jsonOut, JSON.stringify(result, null, 2));
}
