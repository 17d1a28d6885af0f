/** The graphql-yoga instance: schema, per-request context, error masking. */
import { GraphQLError } from 'graphql';
import { createYoga, maskError as defaultMaskError } from 'graphql-yoga';
import { AppError } from '../errors.js';
import type { Context } from '../graphql/context.js';
import { schema } from '../graphql/schema.js';

export type Services = Omit<Context, 'baseUrl'>;

export function createGraphqlHandler(services: Services, publicUrl: string | undefined, logError: (err: unknown) => void) {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Multipart bodies are parsed (streaming to disk) by graphql-upload-ts before yoga sees them.
    multipart: false,
    landingPage: false,
    logging: false,
    cors: { origin: '*', credentials: false },
    context: ({ request }) => ({ ...services, baseUrl: publicUrl ?? new URL(request.url).origin }),
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
