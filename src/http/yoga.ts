/** The graphql-yoga instance: schema, per-request context, error masking, query limits, operation metrics. */
import type { IncomingMessage } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, getOperationAST, type DocumentNode } from 'graphql';
import { createYoga, maskError as defaultMaskError, type Plugin } from 'graphql-yoga';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../errors.js';
import type { Context } from '../graphql/context.js';
import { schema } from '../graphql/schema.js';
import type { Metrics } from '../observability/metrics.js';
import { requestContextOf } from '../observability/request-context.js';
import { answerCacheHintsOf } from './graphql-answer-cache.js';

export type Services = Omit<Context, 'baseUrl' | 'principal' | 'audit'>;
/** The services of one request, scoped to its principal's user (files, catalog, uploads, deletions). */
export type ServicesFor = (principal: Principal) => Services;

export interface GraphqlLimits {
  /** 0 disables a limit. */
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxCost: number;
  readonly maxTokens: number;
  readonly maxDirectives: number;
  readonly fieldSuggestions: boolean;
}

export interface GraphqlHandlerOptions {
  readonly publicUrl: string | undefined;
  readonly logError: (err: unknown) => void;
  readonly limits: GraphqlLimits;
  readonly metrics?: Metrics;
}

/** An Armor rejection as a GraphQL error with a stable code (Armor's own errors have none). */
function reject(code: string) {
  return [
    (_ctx: unknown, error: GraphQLError) => {
      throw new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code } });
    },
  ];
}

function limit(n: number, code: string) {
  return n === 0 ? { enabled: false } : { enabled: true, n, exposeLimits: true, propagateOnRejection: false, onReject: reject(code) };
}

/** Records the operation's name and type on the HTTP request (log line) and counts its result. */
function operationTracking(metrics: Metrics | undefined): Plugin<{ req?: IncomingMessage }> {
  const describe = (document: DocumentNode, operationName: string | null | undefined) => {
    const operation = getOperationAST(document, operationName ?? undefined);
    return { name: operation?.name?.value ?? operationName ?? undefined, type: operation?.operation };
  };
  return {
    onExecute({ args }) {
      const { name, type } = describe(args.document, args.operationName);
      const request = requestContextOf(args.contextValue.req);
      if (request) {
        request.operationName = name;
        request.operationType = type;
      }
      const hints = (args.contextValue as Partial<Context>).answerCache;
      if (hints) {
        hints.operationName = name;
        hints.operationType = type;
      }
      return {
        onExecuteDone({ result }) {
          // Streams (@defer) count as successful; their errors are per increment.
          const ok = !('errors' in result) || !result.errors || result.errors.length === 0;
          // Only a complete answer without errors is reused (src/http/graphql-answer-cache.ts).
          if (!ok || Symbol.asyncIterator in result) hints?.uncacheable();
          metrics?.operation(name, type, ok);
        },
      };
    },
    onSubscribe({ args }) {
      const { name, type } = describe(args.document, args.operationName);
      const request = requestContextOf(args.contextValue.req);
      if (request) {
        request.operationName = name;
        request.operationType = type;
      }
      (args.contextValue as Partial<Context>).answerCache?.uncacheable();
      metrics?.operation(name, type, true);
    },
  };
}

export function createGraphqlHandler(servicesFor: ServicesFor, options: GraphqlHandlerOptions) {
  const { limits, logError } = options;
  return createYoga<{ req?: IncomingMessage }, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Multipart bodies are parsed (streaming to disk) by graphql-upload-ts before yoga sees them.
    multipart: false,
    landingPage: false,
    logging: false,
    // CORS is answered in front of yoga (cors.ts), the same for every route.
    cors: false,
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { ...limit(limits.maxDepth, 'MAX_DEPTH_EXCEEDED'), ignoreIntrospection: true },
        maxAliases: limit(limits.maxAliases, 'MAX_ALIASES_EXCEEDED'),
        costLimit:
          limits.maxCost === 0
            ? { enabled: false }
            : { enabled: true, maxCost: limits.maxCost, exposeLimits: true, propagateOnRejection: false, onReject: reject('MAX_COST_EXCEEDED') },
        maxTokens: limit(limits.maxTokens, 'MAX_TOKENS_EXCEEDED'),
        maxDirectives: limit(limits.maxDirectives, 'MAX_DIRECTIVES_EXCEEDED'),
        blockFieldSuggestion: { enabled: !limits.fieldSuggestions },
      }),
      operationTracking(options.metrics),
    ],
    context: ({ request, req }) => {
      const requestContext = requestContextOf(req);
      const principal = requestContext?.principal;
      // src/http authenticates every request before yoga sees it; no principal is a wiring bug.
      if (!principal) throw new Error('request reached GraphQL without a principal');
      const services = servicesFor(principal);
      const audit = services.auditLog.forRequest(principal, requestContext?.id);
      // Set when the answer cache runs this request: the answer's cacheability is collected here.
      const answerCache = answerCacheHintsOf(req);
      return {
        ...services,
        principal,
        audit: answerCache ? answerCache.recording(audit) : audit,
        baseUrl: options.publicUrl ?? new URL(request.url).origin,
        ...(answerCache ? { answerCache } : {}),
      };
    },
    maskedErrors: {
      maskError(error, message, isDev) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original instanceof AppError) {
          const gqlError = error instanceof GraphQLError ? error : undefined;
          return new GraphQLError(original.message, {
            ...(gqlError?.nodes ? { nodes: gqlError.nodes } : {}),
            ...(gqlError?.path ? { path: gqlError.path } : {}),
            extensions: { code: original.code },
          });
        }
        if (original && !(original instanceof GraphQLError)) logError(original);
        return defaultMaskError(error, message, isDev);
      },
    },
  });
}
