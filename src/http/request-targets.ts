/**
 * Request targets (the path and query of a request line) parsed once per distinct string: an
 * image a viewer revalidates, a query a client repeats, arrive with the same target again and
 * again. The parsed URL is shared by every request with that target and never modified (routes
 * only read it); a route may keep what it derives from the target alone (the image route's
 * parsed arguments) beside it. Bounded: past MAX_TARGETS the least recently used goes (lru-cache:
 * a hit does not touch its Map, see src/storage/file-facts-cache.ts).
 */
import { LRUCache } from 'lru-cache';
import type { ParsedPngRequest } from './png-route.js';

export interface RequestTarget {
  readonly url: URL;
  /** Low-cardinality route name of the path (app.ts's routeOf). */
  readonly route: string;
  /** The image route's reading of this target, once it has parsed it without error. */
  png: ParsedPngRequest | undefined;
}

export const MAX_TARGETS = 4096;
/** Longer targets (a GraphQL GET with a long query, say) are parsed every time: memory ≤ MAX_TARGETS × this, about twice over. */
export const MAX_KEPT_TARGET_LENGTH = 2048;

export class RequestTargets {
  private readonly targets: LRUCache<string, RequestTarget>;

  constructor(
    private readonly routeOf: (pathname: string) => string,
    maxTargets = MAX_TARGETS,
  ) {
    this.targets = new LRUCache({ max: maxTargets });
  }

  /** The parsed target; undefined when it is not a valid URL path (the routes answer that). */
  get(target: string): RequestTarget | undefined {
    const known = this.targets.get(target);
    if (known !== undefined) return known;
    let url: URL;
    try {
      url = new URL(target, 'http://localhost');
    } catch {
      return undefined;
    }
    const parsed: RequestTarget = { url, route: this.routeOf(url.pathname), png: undefined };
    if (target.length <= MAX_KEPT_TARGET_LENGTH) this.targets.set(target, parsed);
    return parsed;
  }

  get size(): number {
    return this.targets.size;
  }
}
