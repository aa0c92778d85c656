/**
 * Image lineage and tag history (issue 14, first part). An image B is built on an image A
 * when A's layers are a proper prefix of B's layers, or when B's manifest names A in the
 * OCI annotations `org.opencontainers.image.base.name` / `.base.digest`. A push records,
 * in the same transaction as the manifest, the hash of every prefix of the image's layer
 * list (recordLineage); bases and dependents are then index lookups on those hashes
 * (queries.ts), never a scan of all manifests. Multi-arch indexes are answered per child
 * image manifest. Every tag write also appends to a tag history (written by the metadata
 * store in the tag's own transaction), which is what makes "stale images of a base"
 * answerable: the images built on what a tag pointed at before its last move. Served over
 * HTTP by routes.ts (`/api/v1/images/...`) and by the admin CLI (cli.ts).
 */
export { recordLineage } from './record.js';
export { lineageRoutes } from './routes.js';
