/**
 * URL schemes of the download routes, shared by the fields that build them (downloadUrl, zipUrl,
 * dicomJson's BulkDataURI) and src/http (which parses them):
 *
 *   /files/{id}/download                         the stored bytes, as uploaded
 *   /files/{id}/bulkdata/{tag}[/{item}/{tag}…]   one element's value bytes (dicomJson BulkDataURI)
 *   /series/{id}.zip   /studies/{id}.zip         a ZIP of the current version of every instance
 *
 * {id} is the file's id, or the catalog id of the series or study (the local part of its global id).
 */
import type { BulkDataPath } from '../dicom/dicom-json.js';

export const DOWNLOAD_PATH_PATTERN = /^\/files\/([A-Za-z0-9-]{1,64})\/download$/;
export const BULKDATA_PATH_PATTERN = /^\/files\/([A-Za-z0-9-]{1,64})\/bulkdata\/([0-9A-Fa-f]{8}(?:\/\d{1,9}\/[0-9A-Fa-f]{8}){0,32})$/;
export const ZIP_PATH_PATTERN = /^\/(series|studies)\/([1-9]\d{0,14})\.zip$/;

export function downloadPath(fileId: string): string {
  return `/files/${encodeURIComponent(fileId)}/download`;
}

export function bulkDataPath(fileId: string, path: BulkDataPath): string {
  return `/files/${encodeURIComponent(fileId)}/bulkdata/${path.join('/')}`;
}

export function zipPath(kind: 'series' | 'studies', id: number): string {
  return `/${kind}/${id}.zip`;
}
