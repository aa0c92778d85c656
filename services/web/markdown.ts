/**
 * README Markdown to HTML that is safe to put in a page: markdown-it with raw HTML
 * disabled, then sanitize-html with an allow-list, so no script, style, event handler,
 * `javascript:` (or any non-http/mailto) link and no image from another origin survives
 * even if the parser had a bug. The page's Content-Security-Policy is the third wall.
 */
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { trustedHtml, type Html } from './html.js';

const parser = new MarkdownIt({ html: false, linkify: true, typographer: false });

/** An image source on this origin: a path, never a scheme or `//host`. */
function sameOrigin(src: string): boolean {
  return src.startsWith('/') ? !src.startsWith('//') && !src.startsWith('/\\') : !/^[a-z][a-z0-9+.-]*:/i.test(src) && !src.startsWith('\\');
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'pre', 'code', 'em', 'strong', 's', 'del',
    'ul', 'ol', 'li', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  ],
  allowedAttributes: { a: ['href', 'title', 'rel'], img: ['src', 'alt', 'title'], th: ['align'], td: ['align'], ol: ['start'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: [] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'nofollow noopener noreferrer' } }),
  },
  exclusiveFilter: (frame) => frame.tag === 'img' && (!frame.attribs.src || !sameOrigin(frame.attribs.src)),
};

/** README Markdown rendered and sanitized. */
export function renderMarkdown(markdown: string): Html {
  return trustedHtml(sanitizeHtml(parser.render(markdown), OPTIONS));
}
