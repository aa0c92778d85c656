/**
 * The browse API's reference (rendered into docs/api.md by `npm run docs:api`): one entry
 * per endpoint, with the access a token needs, which access.ts decides for the route.
 */

export interface BrowseOperation {
  method: 'GET' | 'PUT';
  path: string;
  access: string;
  summary: string;
  query?: Array<{ name: string; description: string }>;
  request?: string;
  response: string;
  errors: string;
}

const PAGING = [
  { name: 'n', description: 'page size (at most `registry.limits.pagemaxentries`)' },
  { name: 'last', description: 'the last entry of the previous page; the `Link` header (`rel="next"`) carries it' },
];

export const BROWSE_OPERATIONS: readonly BrowseOperation[] = [
  {
    method: 'GET',
    path: '/v2/_dockyard/repositories',
    access: '`registry:catalog:*`: an admin sees every repository; everyone else gets `registry:catalog:list` with the patterns they may pull and sees exactly those repositories',
    summary: 'Repositories the caller may pull, in byte order, a page at a time, optionally only those whose name starts with `q`. Each page costs index walks bounded by the page and the caller\'s patterns, never by the repositories the caller cannot see',
    query: [{ name: 'q', description: 'name prefix, e.g. `team/` (at most 255 characters)' }, ...PAGING],
    response: '200 `{"repositories": ["team/app", …]}`, `Link: </v2/_dockyard/repositories?q=…&last=…&n=…>; rel="next"` when there is a next page',
    errors: '400 `PAGINATION_NUMBER_INVALID`, `REQUEST_INVALID`; 401 without catalog access',
  },
  {
    method: 'GET',
    path: '/v2/<name>/_dockyard/tags',
    access: '`repository:<name>:pull`',
    summary: 'The tags of a repository in name order with what each points at: digest, push date, media type, artifact type, content size (config and layers, each blob once, an index\'s children included) and, for an index, its platforms',
    query: [{ name: 'sort', description: '`name` (default) or `pushed`: newest push first (ties by name, descending); the `Link` keeps it' }, { name: 'n', description: 'page size (at most 100)' }, PAGING[1]!],
    response:
      '200 `{"repository", "tags": [{"name", "digest", "pushedAt", "mediaType", "artifactType", "sizeBytes", "platforms": ["linux/amd64", …], "immutable"}]}` with a `Link` to the next page; `immutable` is true when a tag rule keeps the tag where it is (docs/lifecycle.md "Tag rules")',
    errors: '401/403 without pull (the same for a repository that does not exist); 404 `NAME_UNKNOWN`',
  },
  {
    method: 'GET',
    path: '/v2/<name>/_dockyard/rules',
    access: '`repository:<name>:pull`',
    summary: 'The tag rules that apply to this repository (the web UI\'s release-rule badges): kind and patterns, oldest rule first; who wrote a rule is not shown. The full list with ids is the lifecycle admin API\'s (`GET /v2/_dockyard/rules`, admins only)',
    response: '200 `{"repository", "rules": [{"kind": "immutable"|"forbidden"|"format", "repositoryPattern", "tagPattern"}]}`',
    errors: '401/403 without pull (the same for a repository that does not exist); 404 `NAME_UNKNOWN`',
  },
  {
    method: 'GET',
    path: '/v2/<name>/_dockyard/readme',
    access: '`repository:<name>:pull`',
    summary: 'The repository\'s README (Markdown as written; the web UI renders and sanitizes it)',
    response: '200 `{"repository", "content", "updatedBy", "updatedAt"}`; `content` is null when there is none',
    errors: '401/403 without pull; 404 `NAME_UNKNOWN`',
  },
  {
    method: 'PUT',
    path: '/v2/<name>/_dockyard/readme',
    access: '`repository:<name>:pull,push`',
    summary: 'Sets the README; an empty body removes it',
    request: '`Content-Type: text/markdown`, UTF-8, at most 64 KiB',
    response: '204',
    errors: '401/403 without push; 404 `NAME_UNKNOWN` (nothing pushed yet); 413 `PAYLOAD_TOO_LARGE`; 415 `UNSUPPORTED` for another content type; 400 `REQUEST_INVALID` for bytes that are no UTF-8',
  },
];
