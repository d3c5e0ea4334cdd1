#!/usr/bin/env node
// Demo MCP server: in-memory notes shared by all sessions. Tools add_note, list_notes,
// search_notes; resource notes://all and template notes://note/{id}.
// Listens on 127.0.0.1:$PORT (default 9102) at /mcp.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { serveMcp } from './serve-mcp.mjs';

/** @type {Array<{ id: string, title: string, body: string, createdAt: string }>} */
const notes = [
  {
    id: '1',
    title: 'Welcome',
    body: 'This note lives in memory; restart the server and it is back to this one.',
    createdAt: new Date().toISOString(),
  },
];

const text = (value) => ({ content: [{ type: 'text', text: value }] });
const summary = (note) => `#${note.id} ${note.title}: ${note.body}`;

function createNotesServer() {
  const server = new McpServer({ name: 'notes-demo', version: '1.0.0' });
  server.registerTool(
    'add_note',
    {
      title: 'Add note',
      description: 'Store a note with a title and a body.',
      inputSchema: { title: z.string().min(1), body: z.string() },
    },
    ({ title, body }) => {
      const note = { id: String(notes.length + 1), title, body, createdAt: new Date().toISOString() };
      notes.push(note);
      // Every session's client learns that notes://note/{id} has a new member.
      for (const session of live.servers()) session.sendResourceListChanged();
      return text(`Added note #${note.id} (notes://note/${note.id}).`);
    },
  );
  server.registerTool(
    'list_notes',
    { title: 'List notes', description: 'List all notes.', annotations: { readOnlyHint: true } },
    () => text(notes.length === 0 ? 'No notes yet.' : notes.map(summary).join('\n')),
  );
  server.registerTool(
    'search_notes',
    {
      title: 'Search notes',
      description: 'Find notes whose title or body contains the query (case-insensitive).',
      inputSchema: { query: z.string().min(1) },
      annotations: { readOnlyHint: true },
    },
    ({ query }) => {
      const needle = query.toLowerCase();
      const found = notes.filter((note) => `${note.title}\n${note.body}`.toLowerCase().includes(needle));
      return text(found.length === 0 ? `No notes match "${query}".` : found.map(summary).join('\n'));
    },
  );
  server.registerResource(
    'all-notes',
    'notes://all',
    { title: 'All notes', description: 'Every note as JSON.', mimeType: 'application/json' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(notes, null, 2) }] }),
  );
  server.registerResource(
    'note',
    new ResourceTemplate('notes://note/{id}', {
      list: () => ({
        resources: notes.map((note) => ({ uri: `notes://note/${note.id}`, name: note.title, mimeType: 'text/plain' })),
      }),
    }),
    { title: 'Note', description: 'One note by id.', mimeType: 'text/plain' },
    (uri, { id }) => {
      const note = notes.find((candidate) => candidate.id === String(id));
      // -32002: the spec's "resource not found" code.
      if (!note) throw new McpError(-32002, `No note with id ${id}`, { uri: uri.href });
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: `${note.title}\n\n${note.body}` }] };
    },
  );
  return server;
}

const live = await serveMcp({ name: 'notes', createServer: createNotesServer, defaultPort: 9102 });
