#include "server/demo_page.h"

namespace wspush::server {

// Element ids (uid, token, login, to, message, send, log) are used by tests/e2e's browser test.
// Under --auth jwt the service serves it with <body data-auth="jwt">: the page then asks for a
// token (sent as ?token=, the one way a browser can send it with the handshake) instead of a uid.
std::string_view demo_page_html() {
    return R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wspush demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  p.hint { color: #666; margin-top: 0; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: .8rem; }
  input { font: inherit; padding: .3rem .4rem; }
  input#message { width: 55%; }
  button { font: inherit; padding: .3rem .8rem; }
  #state { font-weight: 600; }
  #log { border: 1px solid #ccc; border-radius: 6px; min-height: 12rem; padding: .5rem; font-family: ui-monospace, monospace;
         white-space: pre-wrap; overflow-y: auto; max-height: 24rem; }
  #log div.out { color: #666; }
  #log div.sys { color: #a60; }
  .jwt-only, body[data-auth="jwt"] .uid-only { display: none; }
  body[data-auth="jwt"] .jwt-only { display: inline; }
</style>
</head>
<body>
<h1>wspush demo</h1>
<p class="hint">Log in with any uid. Send to another uid (open this page in a second tab), or to <code>all</code>.</p>
<fieldset>
  <label class="uid-only">uid <input id="uid" autocomplete="off" placeholder="alice"></label>
  <label class="jwt-only">token <input id="token" autocomplete="off" placeholder="eyJhbGciOi... (from your backend, or wspush token)"></label>
  <button id="login">Log in</button>
  <span id="state">disconnected</span>
</fieldset>
<fieldset>
  <label>to <input id="to" size="10" placeholder="bob or all"></label>
  <input id="message" placeholder="message (may contain ':')">
  <button id="send" disabled>Send</button>
</fieldset>
<div id="log" aria-live="polite"></div>
<script>
(function () {
  const $ = (id) => document.getElementById(id);
  let ws = null;
  function line(text, cls) {
    const d = document.createElement('div');
    if (cls) d.className = cls;
    d.textContent = text;
    $('log').appendChild(d);
    $('log').scrollTop = $('log').scrollHeight;
  }
  function state(s) { $('state').textContent = s; }
  const jwt = document.body.dataset.auth === 'jwt';
  $('login').onclick = function () {
    const uid = $('uid').value;
    if (ws) ws.close(1000);
    const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const query = jwt ? '?token=' + encodeURIComponent($('token').value.trim()) : '';
    ws = new WebSocket(proto + location.host + '/' + query);
    ws.binaryType = 'arraybuffer';
    state('connecting');
    ws.onopen = function () { if (!jwt) ws.send(uid); state('logging in'); };
    ws.onmessage = function (ev) {
      const text = typeof ev.data === 'string' ? ev.data : '[binary ' + ev.data.byteLength + ' bytes]';
      if (text.startsWith('login success')) {
        state('logged in as ' + text.slice('login success, your uid is '.length));
        $('send').disabled = false;
        line(text, 'sys');
        return;
      }
      line(text);
    };
    ws.onclose = function (ev) {
      if (jwt && ev.code === 1006 && $('send').disabled) line('refused: check the token (expired or not signed with the server key)', 'sys');
      state('disconnected');
      $('send').disabled = true;
      line('closed: ' + ev.code + (ev.reason ? ' ' + ev.reason : ''), 'sys');
    };
  };
  $('send').onclick = function () {
    if (!ws || ws.readyState !== 1) return;
    ws.send($('to').value + ':' + $('message').value);
    line('> ' + $('to').value + ': ' + $('message').value, 'out');
    $('message').value = '';
  };
  $('message').addEventListener('keydown', function (e) { if (e.key === 'Enter') $('send').click(); });
})();
</script>
</body>
</html>
)HTML";
}

}  // namespace wspush::server
