import type { RequestAccess } from '../decision/access-control.ts';
import {
  callMetaTool,
  shapeToolList,
  type DiscoveryView,
  type MetaToolResult,
  type SelectionAccess,
  type VisibleTool,
} from '../discovery/tool-discovery.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { JsonRpcRequest } from '../protocol/json-rpc.ts';
import type { JsonObject } from '../upstream/types.ts';
import { sessionTopic } from '../store/notification-bus.ts';
import { DEFAULT_SELECTION_TTL_SECONDS } from '../store/tool-selection.ts';
import type { EndpointContext } from './endpoint-context.ts';
import { isPersonalList, listBodyFor } from './list-body.ts';

/**
 * Who a selection belongs to: the caller's verified identity when it has one (so every session
 * and replica of that caller shares it, and a new session keeps it), else the session; a
 * sessionless anonymous caller has none. `jti` is the session to tell its list changed.
 */
export interface SelectionOwner {
  readonly key: string | undefined;
  readonly jti?: string | undefined;
}

/** The owner of a legacy session's selection. */
export function sessionOwner(jti: string, caller: string | undefined): SelectionOwner {
  return { key: caller === undefined ? `session:${jti}` : `caller:${caller}`, jti };
}

/** The owner of a 2026-07-28 request's selection: its verified identity, if any. */
export function callerOwner(caller: string | undefined): SelectionOwner {
  return { key: caller === undefined ? undefined : `caller:${caller}` };
}

/** The real tools this request may see, with their servers, in catalog order. */
export function discoveryView(ctx: EndpointContext, access: RequestAccess): DiscoveryView {
  const catalog = ctx.upstreams.catalog();
  const control = ctx.access();
  const personal = isPersonalList(ctx, access);
  const route = ctx.routeContext();
  const visible: VisibleTool[] = [];
  for (const entry of catalog.toolEntries) {
    if (personal && !control.visible(access, entry.subject)) continue;
    const server = route.serverOf(entry.subject.server);
    if (server !== undefined) visible.push({ item: entry.item, server });
  }
  return { visible, catalogTools: catalog.tools };
}

async function readSelection(ctx: EndpointContext, owner: SelectionOwner): Promise<readonly string[] | undefined> {
  if (owner.key === undefined) return undefined;
  try {
    return await ctx.store.readSelection(owner.key);
  } catch (error) {
    // A selection only narrows what is listed: without the store, the caller sees every tool it may use.
    ctx.logger.warn('could not read a tool selection; listing every tool', { error: String(error) });
    return undefined;
  }
}

/**
 * The tools/list body (`{"tools":[…]}`) for a request while discovery offers meta-tools: the
 * shared list with the meta-tools appended when nothing narrows it, else shaped for this caller.
 * `personal` says whether the answer depends on who asks.
 */
export async function toolListWithDiscovery(
  ctx: EndpointContext,
  access: RequestAccess,
  owner: SelectionOwner,
): Promise<{ readonly body: string; readonly personal: boolean }> {
  const metaTools = ctx.metaTools();
  const selection = await readSelection(ctx, owner);
  const threshold = ctx.toolDiscovery.threshold;
  if ((selection === undefined || selection.length === 0) && threshold === 0) {
    const body = listBodyFor(ctx, 'tools', access);
    const meta = listItemsJson(metaTools);
    const empty = body.endsWith('[]}');
    return { body: `${body.slice(0, -2)}${empty ? '' : ','}${meta}]}`, personal: isPersonalList(ctx, access) };
  }
  const view = discoveryView(ctx, access);
  const tools = shapeToolList(view.visible, metaTools, selection, ctx.toolDiscovery);
  return { body: JSON.stringify({ tools }), personal: true };
}

/** The meta-tools as the items of a JSON list (no brackets), made once per offered list. */
const ITEMS_JSON = new WeakMap<readonly JsonObject[], string>();

function listItemsJson(tools: readonly JsonObject[]): string {
  let json = ITEMS_JSON.get(tools);
  if (json === undefined) {
    json = JSON.stringify(tools).slice(1, -1);
    ITEMS_JSON.set(tools, json);
  }
  return json;
}

/** Answers a call of one of the gateway's meta-tools. */
export async function answerMetaToolCall(
  ctx: EndpointContext,
  message: JsonRpcRequest,
  access: RequestAccess,
  owner: SelectionOwner,
  logger: Logger,
): Promise<MetaToolResult> {
  const params = (message.params ?? {}) as Record<string, unknown>;
  const args = params['arguments'];
  const selection: SelectionAccess = {
    available: owner.key !== undefined,
    read: () => readSelection(ctx, owner),
    async write(names) {
      try {
        await ctx.store.writeSelection(owner.key as string, names, DEFAULT_SELECTION_TTL_SECONDS);
      } catch (error) {
        logger.warn('could not store a tool selection', { error: String(error) });
        throw new GatewayError('STORE_UNAVAILABLE', 'the tool selection could not be stored; try again', {
          cause: error,
        });
      }
    },
    async announce() {
      if (owner.jti === undefined) return;
      await ctx.bus
        .publish(sessionTopic(owner.jti), { jsonrpc: '2.0', method: 'notifications/tools/list_changed' })
        .catch((error: unknown) => logger.warn('could not announce a tool selection', { error: String(error) }));
    },
  };
  return callMetaTool(
    params['name'] as string,
    typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {},
    discoveryView(ctx, access),
    selection,
  );
}
