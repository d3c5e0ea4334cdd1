// A test-only worker (policy-workerd.test.ts) that compiles a policy and decides inside workerd,
// where code generation from strings (eval, new Function) is refused: the proof that the CEL
// library runs at the edge. POST / with { policy, input, list? }; answers { ok: true, verdict }
// or { ok: false, issues }.
import type { PolicyConfig } from '../config/access-schema.ts';
import { compilePolicy } from './compile-policy.ts';
import type { McpCallVariables, PolicyInput } from './policy-input.ts';

interface PolicyCall {
  policy: PolicyConfig;
  input: PolicyInput<McpCallVariables>;
  list?: boolean;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const call = (await request.json()) as PolicyCall;
    const compiled = compilePolicy(call.policy);
    if (!compiled.ok) return Response.json({ ok: false, issues: compiled.issues });
    const { policy } = compiled;
    const verdict = call.list ? policy.decideVisible(call.input) : policy.decideCall(call.input);
    return Response.json({ ok: true, verdict });
  },
};
