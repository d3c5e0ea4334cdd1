import { describe, expect, it } from 'vitest';
import {
  createJsonBodyRewriter,
  createSseBodyRewriter,
  type BodyEndings,
  type MessageRewrite,
} from './rewrite-response-body.ts';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Gives elicitation requests the id "g-1", drops responses to id 8, keeps everything else. */
const rewrite: MessageRewrite = async (messages) => {
  let changed = false;
  const out = messages.flatMap((message) => {
    if (message['id'] === 8 && !('method' in message)) {
      changed = true;
      return [];
    }
    if (message['method'] === 'elicitation/create') {
      changed = true;
      return [{ ...message, id: 'g-1' }];
    }
    return [message];
  });
  return changed ? out : undefined;
};

const endings: BodyEndings = { tooLarge: () => 'TOO-LARGE', atEnd: () => '' };

describe('createSseBodyRewriter', () => {
  it('rewrites a server request and passes other events byte for byte', async () => {
    const rewriter = createSseBodyRewriter(rewrite, endings);
    const progress = 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n';
    const ask = 'event: message\nid: 7\ndata: {"jsonrpc":"2.0","id":0,"method":"elicitation/create"}\r\n\r\n';
    const out = decode(await rewriter.push(encode(progress + ask), false));
    expect(out).toBe(
      `${progress}event: message\nid: 7\ndata: {"jsonrpc":"2.0","id":"g-1","method":"elicitation/create"}\n\n`,
    );
  });

  it('holds an event split across chunks until it is whole', async () => {
    const rewriter = createSseBodyRewriter(rewrite, endings);
    const event = 'data: {"jsonrpc":"2.0","id":5,"method":"elicitation/create","params":{"message":"é"}}\n\n';
    const bytes = encode(event);
    expect(decode(await rewriter.push(bytes.slice(0, 70), false))).toBe('');
    const out = decode(await rewriter.push(bytes.slice(70), false));
    expect(JSON.parse(out.slice('data: '.length))).toMatchObject({ id: 'g-1', params: { message: 'é' } });
  });

  it('drops an event the rewrite drops, and events whose data is not a JSON-RPC message', async () => {
    const rewriter = createSseBodyRewriter(rewrite, endings);
    const dropped = 'data: {"jsonrpc":"2.0","id":8,"result":{}}\n\ndata: not json\n\ndata: 42\n\n';
    const kept = 'data: {"jsonrpc":"2.0","id":7,"result":{}}\n\n';
    expect(decode(await rewriter.push(encode(dropped + kept), false))).toBe(kept);
  });

  it('keeps only what the rewrite keeps of a batch', async () => {
    const rewriter = createSseBodyRewriter(rewrite, endings);
    const batch = 'data: [{"jsonrpc":"2.0","id":8,"result":{}},{"jsonrpc":"2.0","id":7,"result":{}}]\n\n';
    expect(decode(await rewriter.push(encode(batch), false))).toBe('data: [{"jsonrpc":"2.0","id":7,"result":{}}]\n\n');
  });

  it('passes events without data, such as comments and retry hints', async () => {
    const rewriter = createSseBodyRewriter(rewrite, endings);
    const text = ': keep-alive\n\nretry: 1000\n\n';
    expect(decode(await rewriter.push(encode(text), false))).toBe(text);
  });

  it('discards an unterminated event at the end of the stream and adds the ending', async () => {
    const rewriter = createSseBodyRewriter(rewrite, { ...endings, atEnd: () => 'END' });
    expect(decode(await rewriter.push(encode('data: {"id":1,"method":"elicitation/create"}'), true))).toBe('END');
  });

  it('replaces the rest of the stream once an event passes its limit, so nothing unchecked reaches the client', async () => {
    const rewriter = createSseBodyRewriter(rewrite, endings, 16);
    const big = `data: {"pad":"${'x'.repeat(32)}"`;
    expect(decode(await rewriter.push(encode(big), false))).toBe('TOO-LARGE');
    const later = 'data: {"jsonrpc":"2.0","id":8,"result":{}}\n\n';
    expect(decode(await rewriter.push(encode(later), true))).toBe('');
  });
});

describe('createJsonBodyRewriter', () => {
  it('holds the body until its end, then sends it unchanged when the rewrite keeps it', async () => {
    const rewriter = createJsonBodyRewriter(rewrite, endings);
    const body = '{"jsonrpc":"2.0","id":7,"result":{"x":1}}';
    expect(decode(await rewriter.push(encode(body.slice(0, 10)), false))).toBe('');
    expect(decode(await rewriter.push(encode(body.slice(10)), true))).toBe(body);
  });

  it('sends the one message left of a rewritten body or batch', async () => {
    const rewriter = createJsonBodyRewriter(rewrite, endings);
    const batch = '[{"jsonrpc":"2.0","id":8,"result":{}},{"jsonrpc":"2.0","id":7,"result":{"ok":true}}]';
    expect(decode(await rewriter.push(encode(batch), true))).toBe('{"jsonrpc":"2.0","id":7,"result":{"ok":true}}');
  });

  it('replaces a body the rewrite empties, or that is not JSON, with the ending', async () => {
    for (const body of ['{"jsonrpc":"2.0","id":8,"result":{}}', 'not json']) {
      const rewriter = createJsonBodyRewriter(rewrite, { ...endings, atEnd: () => 'NO-ANSWER' });
      expect(decode(await rewriter.push(encode(body), true))).toBe('NO-ANSWER');
    }
  });

  it('replaces a body larger than its limit', async () => {
    const rewriter = createJsonBodyRewriter(rewrite, endings, 16);
    expect(decode(await rewriter.push(encode('{"pad":"' + 'x'.repeat(32)), false))).toBe('TOO-LARGE');
    expect(decode(await rewriter.push(encode('"}'), true))).toBe('');
  });
});
