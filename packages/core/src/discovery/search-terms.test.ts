import { describe, expect, it } from 'vitest';
import { stemTerm, toSearchTerms } from './search-terms.ts';

describe('toSearchTerms', () => {
  it.each([
    ['get_weather', ['get', 'weather']],
    ['get-weather.v2', ['get', 'weather', 'v2']],
    ['getWeather', ['get', 'weather', 'getweather']],
    ['HTTPServer', ['http', 'server', 'httpserver']],
    ['s3Bucket', ['s3', 'bucket', 's3bucket']],
    ['listGitHubRepos', ['list', 'git', 'hub', 'repo', 'listgithubrepo']],
    ['GitHub github', ['git', 'hub', 'github', 'github']],
  ])('splits %s at separators and camelCase boundaries, keeping a camelCase word whole too', (text, terms) => {
    expect(toSearchTerms(text)).toEqual(terms);
  });

  it('drops one-character words and stop words', () => {
    expect(toSearchTerms("What's the forecast for a day in X?")).toEqual(['forecast', 'day']);
  });

  it('keeps letters of any script with their combining marks', () => {
    expect(toSearchTerms('Погода, météo и हिन्दी')).toEqual(['погода', 'météo', 'हिन्दी']);
  });

  it('matches composed and decomposed accents alike', () => {
    expect(toSearchTerms('me\u0301te\u0301o')).toEqual(toSearchTerms('m\u00e9t\u00e9o'));
  });
});

describe('stemTerm', () => {
  it.each([
    [['create', 'creates', 'created', 'creating'], 'creat'],
    [['issue', 'issues'], 'issu'],
    [['query', 'queries'], 'query'],
    [['branch', 'branches'], 'branch'],
    [['address', 'addresses'], 'address'],
    [['get', 'getting'], 'get'],
    [['bill', 'billing'], 'bill'],
  ])('conflates %j into %s', (words, stem) => {
    expect(words.map(stemTerm)).toEqual(words.map(() => stem));
  });

  it.each(['status', 'analysis', 'string', 'need', 'ssh'])('keeps %s whole', (word) => {
    expect(stemTerm(word)).toBe(word);
  });
});
