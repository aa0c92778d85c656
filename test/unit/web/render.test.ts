// The web UI's two rendering walls: the html`` tag escapes every value, and README
// Markdown comes out without script, event handlers, dangerous links or foreign images.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { html, trustedHtml } from '../../../services/web/html.js';
import { renderMarkdown } from '../../../services/web/markdown.js';
import { safeNext } from '../../../services/web/pages/forms.js';

describe('html template tag', () => {
  it('escapes values in text and attributes, but not nested templates', () => {
    const name = `<img src=x onerror="alert('1')">&\``;
    assert.equal(html`<p title="${name}">${name}</p>`.text, '<p title="&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;&#96;">&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;&#96;</p>');
    assert.equal(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.text, '<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>');
    assert.equal(html`${null}${undefined}${false}${0}`.text, '0');
    assert.equal(html`${trustedHtml('<em>ok</em>')}`.text, '<em>ok</em>');
  });
});

describe('README Markdown', () => {
  const cases: Array<[string, RegExp]> = [
    ['<script>alert(1)</script>', /<script/i],
    ['<img src=x onerror=alert(1)>', /<img/i],
    ['[x](javascript:alert(1))', /href="javascript/i],
    ['[x](JaVaScRiPt:alert(1))', /href="javascript/i],
    ['[x](data:text/html;base64,PHNjcmlwdD4=)', /href="data/i],
    ['[x](vbscript:msgbox)', /href="vbscript/i],
    ['![a](https://tracker.example.com/p.png)', /<img/],
    ['![a](//tracker.example.com/p.png)', /<img/],
    ['![a](data:image/png;base64,AAAA)', /<img/],
    ['<a href="/x" onclick="alert(1)">y</a>', /<[^>]*\sonclick=/],
    ['<style>body{display:none}</style>', /<style/],
    ['<iframe src="https://evil.example"></iframe>', /<iframe/],
  ];
  for (const [markdown, forbidden] of cases) {
    it(`renders ${JSON.stringify(markdown)} inert`, () => assert.doesNotMatch(renderMarkdown(markdown).text, forbidden));
  }

  it('keeps ordinary Markdown: headings, links, same-origin images, tables, code', () => {
    const out = renderMarkdown('# Title\n\n[docs](https://example.com/docs) ![logo](/static/logo.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ndocker pull x\n```').text;
    assert.match(out, /<h1>Title<\/h1>/);
    assert.match(out, /<a href="https:\/\/example.com\/docs" rel="nofollow noopener noreferrer">docs<\/a>/);
    assert.match(out, /<img src="\/static\/logo.png" alt="logo" \/>/);
    assert.match(out, /<td>1<\/td>/);
    assert.match(out, /<pre><code>docker pull x\n<\/code><\/pre>/);
  });
});

describe('sign-in redirect target', () => {
  it('accepts only local paths', () => {
    assert.equal(safeNext('/r/team/app'), '/r/team/app');
    for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '', undefined, ['/a']]) assert.equal(safeNext(bad), '/', String(bad));
  });
});
