/**
 * The UI's only two assets, served by the web service itself (no CDN: the network may have
 * no internet) from these strings, so the build needs no copy step: the stylesheet and one
 * small script that adds copy buttons. Pages work without the script. Their URLs carry a
 * content hash, so they can be cached for a year and a new release is fetched at once.
 */
import { createHash } from 'node:crypto';

const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #57606a; --line: #d0d7de; --accent: #0550ae; --danger: #a40e26; --code: #f3f5f7; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d; --accent: #6cb6ff; --danger: #ff7b72; --code: #161b22; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--fg); font-size: 1.15rem; }
header.top form { display: inline; margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
.muted { color: var(--muted); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.scroll { overflow-x: auto; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; background: var(--code); border-radius: 4px; }
code { padding: .1em .3em; overflow-wrap: anywhere; }
pre { padding: .75rem; overflow-x: auto; }
.readme { border: 1px solid var(--line); border-radius: 6px; padding: 0 1rem; overflow-wrap: anywhere; }
.readme img { max-width: 100%; }
ul.repos { list-style: none; padding: 0; } ul.repos li { padding: .5rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=text], input[type=password], input[type=search], input[type=url], select, textarea { width: 100%; max-width: 32rem; padding: .5rem; font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--muted); border-radius: 4px; }
textarea { max-width: none; min-height: 20rem; font-family: ui-monospace, monospace; }
button, .button { display: inline-block; padding: .45rem .9rem; font: inherit; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: var(--bg); cursor: pointer; text-decoration: none; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
.search { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; } .search label { margin: 0; }
.pull { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .25rem 0; } .pull code { flex: 1 1 20rem; padding: .4rem; }
.notice { border-left: 4px solid var(--accent); padding: .5rem 1rem; background: var(--code); }
.error { border-left-color: var(--danger); }
nav.pager { margin: 1rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; border: 1px solid var(--line); border-radius: 999px; padding: 0 .5rem; font-size: .85rem; white-space: nowrap; }
.badge.rule-immutable { border-color: var(--accent); } .badge.rule-forbidden, .badge.warn { border-color: var(--danger); color: var(--danger); }
ul.badges { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; } ul.badges code { background: transparent; }
nav.admin-nav ul { list-style: none; padding: 0; margin: 0 0 1rem; display: flex; flex-wrap: wrap; gap: .25rem 1rem; border-bottom: 1px solid var(--line); padding-bottom: .5rem; }
nav.admin-nav a[aria-current=page] { font-weight: 700; color: var(--fg); }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; } .filters label { margin: 0; } .filters input { max-width: 12rem; }
ul.gc-items { max-height: 20rem; overflow-y: auto; padding-left: 1.25rem; }
@media (max-width: 40rem) { main { padding: .5rem; } th, td { padding: .3rem; } .hide-narrow { display: none; } dl.facts { grid-template-columns: 1fr; } }
`;

const JS = `
'use strict';
// Copy buttons: each <button data-copy="ID" hidden> copies the text of element ID. They stay
// hidden without JavaScript; the command is still there to select by hand.
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var target = document.getElementById(button.getAttribute('data-copy'));
  if (!target) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    var done = function (text) { button.textContent = text; setTimeout(function () { button.textContent = 'Copy'; }, 2000); };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(target.textContent).then(function () { done('Copied'); }, function () { done('Copy failed'); });
    } else {
      var range = document.createRange(); range.selectNodeContents(target);
      var selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
      done('Selected');
    }
  });
});
`;

interface Asset {
  path: string;
  type: string;
  body: string;
}

function asset(name: string, ext: string, type: string, body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/static/${name}.${hash}.${ext}`, type, body };
}

export const STYLESHEET = asset('app', 'css', 'text/css; charset=utf-8', CSS);
export const SCRIPT = asset('app', 'js', 'text/javascript; charset=utf-8', JS);
export const ASSETS: readonly Asset[] = [STYLESHEET, SCRIPT];
