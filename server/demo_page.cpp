#include "server/demo_page.h"

namespace wspush::server {

// Element ids (uid, login, state, to, message, send, note, log) are what tests/e2e's browser
// test drives. Two forms: Enter in any field submits its form, so a field added to the login
// form (a token, say) needs only its <label> and one line in the login handler. Log lines are
// <div>s whose text is exactly what was received or sent; their class says which:
// in (a message), out (sent by this page, with its fate in a .fate span), error (an "error: ..."
// reply, a close code other than 1000/1001), sys (login, close).
// Under --auth jwt the service serves it with <body data-auth="jwt">: the page then asks for a
// token (id token, sent as ?token=, the one way a browser can send it with the handshake)
// instead of a uid, and shows the uid the server answers with.
std::string_view demo_page_html() {
    return R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wspush demo</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%232a6bd1'/%3E%3C/svg%3E">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  p.hint { color: #555; margin-top: 0; }
  form { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: .8rem; display: flex; flex-wrap: wrap;
         gap: .5rem; align-items: center; }
  input { font: inherit; padding: .3rem .4rem; }
  input#message { flex: 1; min-width: 12rem; }
  button { font: inherit; padding: .3rem .8rem; }
  #state { font-weight: 600; }
  #note { min-height: 1.4em; margin: -.5rem 0 .5rem; color: #b00020; font-weight: 600; }
  #log { border: 1px solid #ccc; border-radius: 6px; min-height: 12rem; padding: .5rem; font-family: ui-monospace, monospace;
         white-space: pre-wrap; overflow-y: auto; max-height: 24rem; }
  #log div { padding: .1rem .3rem; border-left: 3px solid transparent; }
  #log div.in::before { content: "\2190  "; color: #2a6bd1; }
  #log div.out { color: #555; }
  #log div.out::before { content: "\2192  "; }
  #log div.out .fate { color: #888; font-style: italic; }
  #log div.sys { color: #8a5a00; }
  #log div.error { color: #b00020; background: #fdecea; border-left-color: #b00020; font-weight: 600; }
  #log div.error::before { content: "\26A0  "; }
  .jwt-only, body[data-auth="jwt"] .uid-only { display: none; }
  body[data-auth="jwt"] .jwt-only { display: inline; }
</style>
</head>
<body>
<h1>wspush demo</h1>
<p class="hint">Log in with any uid. Send to another uid (open this page in a second tab), or to <code>all</code>.
Messages you receive start with &larr;, what you sent with &rarr; and what became of it.</p>
<form id="login-form">
  <label class="uid-only">uid <input id="uid" autocomplete="off" placeholder="alice"></label>
  <label class="jwt-only">token <input id="token" autocomplete="off" placeholder="eyJhbGciOi... (from your backend, or wspush token)"></label>
  <button id="login" type="submit">Log in</button>
  <span id="state">disconnected</span>
</form>
<form id="send-form">
  <label>to <input id="to" size="10" autocomplete="off" placeholder="bob or all"></label>
  <input id="message" autocomplete="off" placeholder="message (may contain ':')">
  <button id="send" type="submit" disabled>Send</button>
</form>
<div id="note" role="alert"></div>
<div id="log" aria-live="polite"></div>
<script>
(function () {
  const $ = (id) => document.getElementById(id);
  let ws = null;
  let me = '';
  const jwt = document.body.dataset.auth === 'jwt';
  function line(text, cls, fate) {
    const d = document.createElement('div');
    d.className = cls;
    d.textContent = text;
    if (fate) {
      const f = document.createElement('span');
      f.className = 'fate';
      f.textContent = '  ' + fate;
      d.appendChild(f);
    }
    $('log').appendChild(d);
    $('log').scrollTop = $('log').scrollHeight;
    return d;
  }
  function note(text) { $('note').textContent = text; }
  function state(s) { $('state').textContent = s; }
  // What the server does with "to:message" (it confirms nothing, and reports only errors).
  function fate(to) {
    if (to === 'all') return 'sent to everyone logged in, you too';
    if (to === me) return 'sent to your own tabs';
    return 'sent; delivered only if ' + to + ' is logged in now';
  }
  $('login-form').onsubmit = function (e) {
    e.preventDefault();
    const uid = $('uid').value;
    const token = $('token').value.trim();
    if (!jwt && uid === '') { note('Enter a uid to log in as (any name; no ":").'); $('uid').focus(); return; }
    if (jwt && token === '') { note('Paste a token: this server logs in with signed tokens.'); $('token').focus(); return; }
    note('');
    if (ws) { ws.onclose = null; ws.close(1000); }
    const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const sock = new WebSocket(proto + location.host + '/' + (jwt ? '?token=' + encodeURIComponent(token) : ''));
    ws = sock;
    let loggedIn = false;
    sock.binaryType = 'arraybuffer';
    state('connecting');
    sock.onopen = function () { if (!jwt) sock.send(uid); state('logging in'); };
    sock.onmessage = function (ev) {
      const text = typeof ev.data === 'string' ? ev.data : '[binary ' + ev.data.byteLength + ' bytes]';
      if (text.startsWith('login success')) {
        loggedIn = true;
        me = text.slice('login success, your uid is '.length);  // under jwt: the token's sub
        state('logged in as ' + me);
        $('send').disabled = false;
        line(text, 'sys');
        $('to').focus();
        return;
      }
      line(text, text.startsWith('error: ') ? 'error' : 'in');
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      if (jwt && !loggedIn && ev.code === 1006) line('refused: check the token (expired or not signed with the server key)', 'error');
      state('disconnected');
      $('send').disabled = true;
      const normal = ev.code === 1000 || ev.code === 1001;
      line('closed: ' + ev.code + (ev.reason ? ' ' + ev.reason : ''), normal ? 'sys' : 'error');
    };
  };
  $('send-form').onsubmit = function (e) {
    e.preventDefault();
    const to = $('to').value;
    const message = $('message').value;
    if (!ws || ws.readyState !== 1 || !me) { note('Log in first.'); return; }
    if (to.trim() === '') { note('Enter who to send to: a uid, or all. Nothing was sent.'); $('to').focus(); return; }
    if (to.includes(':')) { note('A uid cannot contain ":". Nothing was sent.'); $('to').focus(); return; }
    note('');
    ws.send(to + ':' + message);
    line(to + ': ' + message, 'out', fate(to));
    $('message').value = '';
    $('message').focus();
  };
})();
</script>
</body>
</html>
)HTML";
}

}  // namespace wspush::server
