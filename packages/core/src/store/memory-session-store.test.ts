import { describe } from 'vitest';
import { createMemorySessionStore } from './memory-session-store.ts';
import { runSessionStoreCase } from './session-store.case.ts';

describe('createMemorySessionStore', () => {
  runSessionStoreCase(({ now }) => createMemorySessionStore({ now }));
});
