/** end-1: `GET /v2/` — the API version check that also starts `docker login`. */
import { json } from './respond.ts';

export function apiVersionCheck(): Response {
  return json({});
}
