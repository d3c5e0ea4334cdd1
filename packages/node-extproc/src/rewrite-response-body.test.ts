import { describe, expect, it } from 'vitest';
import { createSseBodyRewriter, rewriteJsonBody, type MessageRewrite } from './rewrite-response-body.ts';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Gives elicitation requests the id "g-1"; keeps everything else. */
const mapElicitation: MessageRewrite = async (message) =>
  message['method'] === 'elicitation/create' ? { ...message, id: 'g-1' } : undefined;

describe('createSseBodyRewriter', () => {
  it('rewrites a server request and passes other events byte for byte', async () => {
    const rewriter = createSseBodyRewriter(mapElicitation);
    const progress = 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n';
    const ask = 'event: message\nid: 7\ndata: {"jsonrpc":"2.0","id":0,"method":"elicitation/create"}\r\n\r\n';
    const out = decode(await rewriter.push(encode(progress + ask), false));
    expect(out).toBe(
      `${progress}event: message\nid: 7\ndata: {"jsonrpc":"2.0","id":"g-1","method":"elicitation/create"}\n\n`,
    );
  });

  it('holds an event split across chunks until it is whole', async () => {
    const rewriter = createSseBodyRewriter(mapElicitation);
    const event = 'data: {"jsonrpc":"2.0","id":5,"method":"elicitation/create","params":{"message":"é"}}\n\n';
    const bytes = encode(event);
    expect(decode(await rewriter.push(bytes.slice(0, 70), false))).toBe('');
    const out = decode(await rewriter.push(bytes.slice(70), false));
    expect(JSON.parse(out.slice('data: '.length))).toMatchObject({ id: 'g-1', params: { message: 'é' } });
  });

  it('sends what it holds unchanged at the end of the stream', async () => {
    const rewriter = createSseBodyRewriter(mapElicitation);
    expect(decode(await rewriter.push(encode('data: {"id":1,"method":"elicitation/create"}'), true))).toBe(
      'data: {"id":1,"method":"elicitation/create"}',
    );
  });

  it('passes an event larger than its limit through unchanged and stops rewriting', async () => {
    const rewriter = createSseBodyRewriter(mapElicitation, 16);
    const big = `data: {"pad":"${'x'.repeat(32)}"`;
    expect(decode(await rewriter.push(encode(big), false))).toBe(big);
    const later = 'data: {"id":1,"method":"elicitation/create"}\n\n';
    expect(decode(await rewriter.push(encode(later), false))).toBe(later);
  });
});

describe('rewriteJsonBody', () => {
  it('rewrites a JSON answer and leaves alone what it does not change', async () => {
    const rewrite: MessageRewrite = async (m) => ({ ...m, result: { uri: 's1_x' } });
    expect(decode((await rewriteJsonBody(encode('{"id":1,"result":{"uri":"x"}}'), rewrite)) ?? encode(''))).toBe(
      '{"id":1,"result":{"uri":"s1_x"}}',
    );
    expect(await rewriteJsonBody(encode('not json'), rewrite)).toBeUndefined();
  });
});
