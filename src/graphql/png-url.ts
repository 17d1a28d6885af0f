/**
 * The companion image route's URL scheme, shared by the `pngUrl` field (which builds URLs) and
 * src/http/png-route.ts (which parses them): /files/{id}/frames/{frame}.png?center=&width=
 */
export interface PngRequest {
  readonly fileId: string;
  /** 1-based. */
  readonly frame: number;
  readonly window?: { readonly center: number; readonly width: number };
}

export const PNG_PATH_PATTERN = /^\/files\/([A-Za-z0-9-]{1,64})\/frames\/(\d{1,9})\.png$/;

export function pngPath(req: PngRequest): string {
  const path = `/files/${encodeURIComponent(req.fileId)}/frames/${req.frame}.png`;
  if (!req.window) return path;
  const q = new URLSearchParams({ center: String(req.window.center), width: String(req.window.width) });
  return `${path}?${q}`;
}
