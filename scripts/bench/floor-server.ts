/**
 * Entry of a floor process (started by floors.ts): `tsx floor-server.ts <spec.json>`. Prints
 * "LISTENING <port>" once it listens on 127.0.0.1:0.
 *
 * - bare: node:http answering constants — POST /json/<name> the recorded JSON answer <name>;
 *   GET /png the recorded PNG (304 when If-None-Match matches its ETag); POST /upload reads and
 *   discards the body, then answers a small JSON.
 * - yoga: a stock graphql-yoga server whose resolvers answer the same attribute queries from
 *   constants recorded from the real server (same query text, same response shape).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLScalarType } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import type { FloorSpec } from './floors.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as FloorSpec;

function bareHandler(s: Extract<FloorSpec, { kind: 'bare' }>): (req: IncomingMessage, res: ServerResponse) => void {
  const json = new Map(Object.entries(s.json).map(([name, body]) => [`/json/${name}`, Buffer.from(body)]));
  const png = readFileSync(s.pngFile);
  const uploaded = Buffer.from('{"data":{"uploadDicom":{"__typename":"UploadDicomSuccess","duplicate":false}}}');
  return (req, res) => {
    const path = req.url ?? '/';
    if (req.method === 'GET' && path.startsWith('/png')) {
      if (req.headers['if-none-match'] === s.etag) {
        res.writeHead(304, { etag: s.etag, 'cache-control': 'public, max-age=31536000, immutable' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, etag: s.etag, 'cache-control': 'public, max-age=31536000, immutable' });
      res.end(png);
      return;
    }
    // POST: read (and discard) the whole body before answering, as a real handler must.
    req.resume();
    req.on('end', () => {
      const body = path === '/upload' ? uploaded : json.get(path);
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    });
  };
}

function yogaHandler(s: Extract<FloorSpec, { kind: 'yoga' }>) {
  const passThrough = new GraphQLScalarType({ name: 'JSON', serialize: (v) => v, parseValue: (v) => v });
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      scalar JSON
      type Query { dicomFile(id: ID!): DicomFile }
      type DicomFile {
        attribute(tag: String!): DicomAttribute
        attributes(tags: [String!]): [DicomAttribute!]!
      }
      type DicomAttribute { tag: String! keyword: String name: String vr: String! vm: Int! value: JSON text: String }
    `,
    resolvers: {
      JSON: passThrough,
      Query: { dicomFile: () => ({}) },
      DicomFile: {
        attribute: (_: unknown, args: { tag: string }) => s.byTag[args.tag] ?? null,
        attributes: (_: unknown, args: { tags?: string[] | null }) => (args.tags ? args.tags.map((t) => s.byTag[t]).filter((a) => a) : s.all),
      },
    },
  });
  return createYoga({ schema, logging: false, graphiql: false });
}

const server = createServer(spec.kind === 'bare' ? bareHandler(spec) : yogaHandler(spec));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
