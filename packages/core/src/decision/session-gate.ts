import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { toAdmittedCall, type AdmittedCall, type QuotaCheck } from './call-quota.ts';
import type { Authentication } from '../identity/authentication.ts';
import type { CallerIdentities } from '../session/caller-identity.ts';
import type { SessionClaims, SessionTokens } from '../session/session-token.ts';
import type { SessionStore } from '../store/session-store.ts';

/** What a request presents of a legacy session: its session id and its credential. */
export interface PresentedSession {
  /** The `Mcp-Session-Id` header; null or empty when absent. */
  readonly sessionId: string | null | undefined;
  /** Who presents it: the verified caller, or the unverified credential (see callerIdentity). */
  readonly auth: Authentication;
}

/** The session id and credential check: the session's claims, or the error to answer. */
export type SessionCheck =
  { readonly ok: true; readonly claims: SessionClaims } | { readonly ok: false; readonly error: GatewayError };

/**
 * The whole session decision for one request: admitted (with the session's claims and, when a
 * server was named, the backend session it holds there) or refused with the error to answer (400
 * without a session id, 404 for an unknown, forged, expired, ended or another caller's session).
 */
export type SessionAdmission =
  | { readonly ok: true; readonly claims: SessionClaims; readonly backendSessionId?: string }
  | { readonly ok: false; readonly error: GatewayError };

/**
 * Decides whether a request may use the legacy session it presents; one per gateway, shared by
 * the broker, the Envoy router and the worker. Two steps, so that a host can route between them
 * (the store read names the server the call goes to): `check` needs no I/O, `admit` reads the store,
 * and `admitCall` reads it with a call's quota admission.
 */
export interface SessionGate {
  /**
   * The session id must be a token this gateway's key signed, not expired, and presented with
   * the very caller that opened it (see callerIdentity).
   */
  check(presented: PresentedSession): Promise<SessionCheck>;
  /**
   * The checked session must not have ended (DELETE): one store read, which also returns the
   * backend session it holds on `server`, when a server is named.
   */
  admit(claims: SessionClaims, server?: string): Promise<SessionAdmission>;
  /**
   * `admit` and the admission of a call to `server` under its quota (`check`, see quotaCheckOf)
   * in one store round trip (SessionStore.admitSessionCall): the warm path of a legacy call under
   * a quota. An ended session is refused as `admit` refuses it, whatever the quota said, and the
   * slot the call took is given back; the window's count of that one call stays used (the store
   * counted it in the same round trip, not knowing the session had ended).
   */
  admitCall(claims: SessionClaims, server: string, check: QuotaCheck): Promise<GatedCall>;
}

/**
 * SessionGate.admitCall's answer: the session admitted (with the backend session it holds on the
 * server) and what the quota made of the call (the slot it holds, or the refusal to answer), or
 * the session refused with the error to answer.
 */
export type GatedCall =
  | {
      readonly ok: true;
      readonly claims: SessionClaims;
      readonly backendSessionId?: string;
      readonly quota: AdmittedCall | GatewayError;
    }
  | { readonly ok: false; readonly error: GatewayError };

/** What the gate reads. */
export interface SessionGateDeps {
  readonly tokens: SessionTokens;
  readonly store: SessionStore;
  readonly callers: CallerIdentities;
  readonly logger: Logger;
}

/**
 * Creates the session gate.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
export function createSessionGate(deps: SessionGateDeps): SessionGate {
  const { tokens, store, callers, logger } = deps;
  return {
    async check(presented) {
      const token = presented.sessionId;
      if (token === null || token === undefined || token === '') {
        return refuse('SESSION_REQUIRED', 'Mcp-Session-Id header is required (send initialize first)');
      }
      const verified = await tokens.verify(token);
      if (!verified.ok) {
        return verified.reason === 'expired'
          ? refuse('SESSION_EXPIRED', 'Session expired: initialize a new session')
          : notFound();
      }
      const { claims } = verified;
      const caller = await callers.identify(presented.auth);
      if (caller !== claims.caller) {
        logger.warn('session presented by another caller than the one that opened it', { jti: claims.jti });
        return notFound();
      }
      return { ok: true, claims };
    },
    async admit(claims, server) {
      const state = await store.lookup(claims.jti, server);
      if (state.terminated) {
        logger.debug('request on an ended session', { jti: claims.jti });
        return notFound();
      }
      return state.backendSessionId === undefined
        ? { ok: true, claims }
        : { ok: true, claims, backendSessionId: state.backendSessionId };
    },
    async admitCall(claims, server, check) {
      const lease = crypto.randomUUID();
      const { session, admission } = await store.admitSessionCall(claims.jti, server, check.key, check.limits, lease);
      const quota = toAdmittedCall(store, check, lease, admission, logger);
      if (session.terminated) {
        if (!(quota instanceof GatewayError)) quota.release();
        logger.debug('request on an ended session', { jti: claims.jti });
        return notFound();
      }
      return session.backendSessionId === undefined
        ? { ok: true, claims, quota }
        : { ok: true, claims, backendSessionId: session.backendSessionId, quota };
    },
  };
}

function notFound(): { ok: false; error: GatewayError } {
  return refuse('SESSION_NOT_FOUND', 'Session not found: initialize a new session');
}

function refuse(
  code: 'SESSION_REQUIRED' | 'SESSION_EXPIRED' | 'SESSION_NOT_FOUND',
  message: string,
): { ok: false; error: GatewayError } {
  return { ok: false, error: new GatewayError(code, message) };
}
