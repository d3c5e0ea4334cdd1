import { describe, expect, it } from 'vitest';
import { decideRoute, type ForwardPlan, type RouteContext } from '../decision/route.ts';
import { buildStatusReport } from '../status/status-report.ts';
import type { UpstreamTool } from '../upstream/types.ts';
import { buildCatalog } from './catalog.ts';
import { fakeServer, fakeSnapshot } from './catalog.fixtures.ts';

const CREATE_ISSUE: UpstreamTool = {
  name: 'create_issue',
  description: 'Open a new issue',
  inputSchema: {
    type: 'object',
    properties: { owner: { type: 'string' }, repo: { type: 'string' }, title: { type: 'string' } },
    required: ['owner', 'repo', 'title'],
  },
  annotations: { readOnlyHint: false, title: 'Create issue' },
};
const DELETE_REPO: UpstreamTool = {
  name: 'delete_repo',
  description: 'Deletes a repository',
  inputSchema: { type: 'object' },
};
const LIST_REPOS: UpstreamTool = { name: 'list_repos', inputSchema: { type: 'object' } };

const SERVER = fakeServer('github', 'gh_', {
  toolOverrides: [
    {
      tool: 'create_issue',
      name: 'open_ticket',
      description: 'Open a ticket in the acme tracker',
      descriptionSuffix: 'Tickets are public.',
      fixedArguments: { owner: 'acme', repo: 'tracker' },
    },
    { tool: 'delete_repo', annotations: { destructiveHint: true }, descriptionSuffix: 'Cannot be undone.' },
    { tool: 'list_repos', hidden: true },
    { tool: 'archive_repo', description: 'gone upstream' },
  ],
});
const CATALOG = buildCatalog(
  [SERVER],
  new Map([['github', fakeSnapshot('github', { tools: [CREATE_ISSUE, DELETE_REPO, LIST_REPOS] })]]),
);

function route(params: Record<string, unknown>): ForwardPlan {
  const context: RouteContext = {
    catalog: CATALOG,
    serverOf: (name) => (name === 'github' ? SERVER : undefined),
    upstreamEra: () => 'legacy',
    metaToolNames: new Set(),
  };
  const decision = decideRoute({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }, 'legacy', context);
  if (decision.kind !== 'forward') throw new Error(`not forwarded: ${JSON.stringify(decision)}`);
  return decision.plan;
}

describe('tool overrides', () => {
  it('serves a renamed tool under its new name, described anew, without the parameters the gateway fills', () => {
    expect(CATALOG.tools.map((tool) => tool['name'])).toEqual(['gh_delete_repo', 'open_ticket']);
    expect(CATALOG.toolItem('open_ticket')).toEqual({
      name: 'open_ticket',
      description: 'Open a ticket in the acme tracker Tickets are public.',
      inputSchema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
      annotations: { readOnlyHint: false, title: 'Create issue' },
    });
    expect(CATALOG.findTool('gh_create_issue')).toBeUndefined();
  });

  it('merges annotations and extends the description, and hides a hidden tool from lists and calls', () => {
    expect(CATALOG.toolItem('gh_delete_repo')).toMatchObject({
      description: 'Deletes a repository Cannot be undone.',
      annotations: { destructiveHint: true },
    });
    expect(CATALOG.findTool('gh_list_repos')).toBeUndefined();
    expect(CATALOG.findTool('list_repos')).toBeUndefined();
  });

  it("routes the new name to the upstream's own, filling the fixed arguments over what the client sent", () => {
    const plan = route({ name: 'open_ticket', arguments: { title: 'Broken', owner: 'mallory' } });
    expect(plan.params).toEqual({
      name: 'create_issue',
      arguments: { title: 'Broken', owner: 'acme', repo: 'tracker' },
    });
    expect(plan.target).toEqual({ kind: 'tool', name: 'create_issue' });
    expect(route({ name: 'open_ticket' }).params['arguments']).toEqual({ owner: 'acme', repo: 'tracker' });
  });

  it('reports the overrides whose tool the upstream no longer lists, and counts only served tools', () => {
    expect(CATALOG.unmatchedOverrides.get('github')).toEqual(['archive_repo']);
    const [status] = buildStatusReport(
      [SERVER],
      [fakeSnapshot('github', { tools: [CREATE_ISSUE, DELETE_REPO, LIST_REPOS] })],
      CATALOG,
      '2025-06-18',
    ).servers;
    expect(status?.unmatchedOverrides).toEqual(['archive_repo']);
    expect(status?.totalTools).toBe(2);
    expect(status?.message).toMatch(/overrides of tools the server no longer lists: \[archive_repo\]/);
  });

  it('reports a renamed tool that collides with an earlier server as a conflict, never shadowing it', () => {
    const first = fakeServer('tracker', '', {});
    const catalog = buildCatalog(
      [first, SERVER],
      new Map([
        ['tracker', fakeSnapshot('tracker', { tools: [{ name: 'open_ticket', inputSchema: { type: 'object' } }] })],
        ['github', fakeSnapshot('github', { tools: [CREATE_ISSUE] })],
      ]),
    );
    expect(catalog.findTool('open_ticket')?.server).toBe('tracker');
    expect(catalog.conflicts.get('github')?.tools).toEqual(['open_ticket']);
  });
});
