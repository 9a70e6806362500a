/**
 * The live dashboard served by the fastify plugin at `GET /vector-store/dashboard`: one
 * self-contained page (inline CSS and JS, no network but its own stats route) that polls
 * `pool/stats` (relative to itself, so it works under any prefix) and shows, per lane, what is
 * queued and running, the limit in force (static cap, dedicated workers or adaptive, with the
 * adaptive limit's RTT inputs and its tail guard: the protected p99 against its target, and the
 * guard's ceiling), shed/rejected/failed counts, a table of each adaptive limit's state, with
 * several nodes one row per node (health, in flight, limit, callers waiting for its slot), latency over time (the mean of each
 * poll interval, exact from the HDR counts and means, and the p99 since start), connections per
 * worker and errors by code. Numbers carry `data-lane` / `data-field` attributes so that tests
 * (and scrapers) can read them. Options in the query string: `?interval=ms` (default 1000).
 *
 * Behind a bearer token (`VECTOR_STORE_HTTP_TOKEN`) the page itself is served without one (it
 * holds no data: src/server/http.ts lets it through) and its stats fetch sends
 * `Authorization: Bearer <token>`. The token comes from the URL fragment
 * (`/vector-store/dashboard#token=...`: a fragment never reaches a server, a proxy or an access
 * log), is kept in the tab's sessionStorage and removed from the address bar; without one, or
 * after a 401, the page asks for it in a password field.
 */

export function dashboardHtml(): string {
  return PAGE;
}

const PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>weaviate-executor</title>
<style>
  :root { --bg: #f7f7f5; --fg: #1d1d1f; --muted: #6b6b70; --line: #deded9; --card: #fff; --bad: #b3261e; --ok: #1b7f3b; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
  header { padding: 14px 20px; border-bottom: 1px solid var(--line); background: var(--card); display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 17px; margin: 0; }
  header .meta { color: var(--muted); }
  #status.bad { color: var(--bad); font-weight: 600; }
  main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  td.src { color: var(--muted); font-size: 12px; text-align: left; }
  .nonzero { color: var(--bad); font-weight: 600; }
  .chart { width: 100%; height: 180px; display: block; }
  .legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin-top: 4px; }
  .legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
  .legend i.dash { background: none !important; border-top: 2px dashed; height: 0; }
  .empty { color: var(--muted); }
  .kpis { display: flex; gap: 22px; flex-wrap: wrap; }
  .kpi b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
  .kpi span { color: var(--muted); font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>weaviate-executor</h1>
  <span class="meta" id="engine">connecting...</span>
  <span class="meta">updated <span id="updated">-</span> &middot; polls <span id="polls" data-field="polls">0</span></span>
  <span id="status"></span>
  <form id="auth" hidden><label>bearer token <input id="token" type="password" autocomplete="off"></label> <button type="submit">use</button></form>
</header>
<main>
  <section class="wide">
    <h2>Overview</h2>
    <div class="kpis" id="kpis"></div>
  </section>
  <section class="wide">
    <h2>Lanes</h2>
    <table id="lanes"><thead><tr>
      <th>lane</th><th>queued</th><th>in flight</th><th>limit</th><th></th><th title="the tail guard: p99 of the protected lanes at its last decision / its target (ms)">guard p99 / target ms</th><th title="the tail guard's ceiling over the adaptive limit (slots)">guard ceiling</th><th>adaptive RTT short / long ms</th>
      <th>p50 ms</th><th>p99 ms</th><th>completed</th><th>coalesced</th><th>failed</th><th>shed</th><th>rejected</th><th>aborted</th>
    </tr></thead><tbody></tbody></table>
    <h2 style="margin-top:14px">Adaptive limits</h2>
    <table id="adaptive"><thead><tr>
      <th>lane</th><th>limit</th><th>estimate</th><th>bounds</th><th>state</th><th>RTT short / long / no-load ms</th><th>gradient</th><th>changes</th><th>last change</th><th>probes</th>
      <th>guard base / target ms</th><th>guard decisions / cuts</th>
    </tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Latency per lane (ms, log scale): mean per poll interval; p99 since start dashed</h2>
    <svg class="chart" id="latency-chart" viewBox="0 0 600 180" preserveAspectRatio="none"></svg>
    <div class="legend" id="latency-legend"></div>
  </section>
  <section>
    <h2>In flight and limit per lane (limit and tail guard ceiling dashed)</h2>
    <svg class="chart" id="limit-chart" viewBox="0 0 600 180" preserveAspectRatio="none"></svg>
    <div class="legend" id="limit-legend"></div>
  </section>
  <section>
    <h2>Connections per worker</h2>
    <table id="workers"><thead><tr>
      <th>thread</th><th>state</th><th>connections</th><th>active</th><th>idle</th><th>in flight</th><th>completed</th><th>failed</th><th>loop p99 ms</th>
    </tr></thead><tbody></tbody></table>
  </section>
  <section id="nodes-section" hidden>
    <h2>Nodes (several nodes; limit: per-node adaptive, summed over workers)</h2>
    <table id="nodes"><thead><tr>
      <th>node</th><th>health</th><th>in flight</th><th>limit</th><th title="callers waiting for a slot under this node's limit (least-loaded chose it), all workers">slot waiting</th><th>RTT short / long ms</th><th>limit changes</th><th>served</th>
    </tr></thead><tbody></tbody></table>
    <p class="meta" id="nodes-waiting"></p>
  </section>
  <section>
    <h2>Errors by code</h2>
    <table id="errors"><thead><tr><th>code</th><th>count</th><th>last interval</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script>
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var interval = Math.max(200, Number(params.get('interval')) || 1000);
  // The stats routes' bearer token, if any: from #token=... (then kept for this tab only), never shown.
  var token = null;
  try {
    var fromHash = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (fromHash) {
      token = decodeURIComponent(fromHash[1]);
      sessionStorage.setItem('wex-dashboard-token', token);
      history.replaceState(null, '', location.pathname + location.search);
    } else {
      token = sessionStorage.getItem('wex-dashboard-token');
    }
  } catch (e) { /* storage off: the fragment's token lives in this page only */ }
  document.getElementById('auth').addEventListener('submit', function (ev) {
    ev.preventDefault();
    token = document.getElementById('token').value || null;
    try { if (token) sessionStorage.setItem('wex-dashboard-token', token); } catch (e) { /* ignore */ }
    document.getElementById('token').value = '';
    document.getElementById('auth').hidden = true;
  });
  var KEEP = 120;
  var COLORS = ['#2563eb', '#d97706', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#4b5563'];
  var history = [];
  var previous = null;
  var polls = 0;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function ms(us) { return us === undefined || us === null || !isFinite(us) ? '-' : (us / 1000).toFixed(1); }
  function fmt(n, d) { return n === null || n === undefined || !isFinite(n) ? '-' : Number(n).toFixed(d || 0); }
  function cell(lane, field, value, cls) { return el('td', { 'data-lane': lane, 'data-field': field, 'class': cls }, value); }
  function color(i) { return COLORS[i % COLORS.length]; }

  function limitOf(l) {
    var best = null;
    if (l.max_concurrency !== null) best = [l.max_concurrency, 'cap'];
    if (l.slot_cap !== null && (!best || l.slot_cap < best[0])) best = [l.slot_cap, 'workers'];
    if (l.adaptive && (!best || l.adaptive.limit < best[0])) best = [l.adaptive.limit, 'adaptive'];
    return best;
  }

  function renderKpis(s) {
    var k = document.getElementById('kpis');
    k.textContent = '';
    var c = s.counters;
    var items = [
      ['requests', s.total_requests], ['completed', c.completed], ['failed', c.failed], ['shed', c.shed],
      ['rejected', c.rejected_full], ['connections', s.total_connections + ' / ' + s.max_connections], ['slots', s.slots],
      ['main loop p99 ms', ms(s.main_event_loop_delay_p99_us)]
    ];
    items.forEach(function (it) {
      var d = el('div', { 'class': 'kpi' });
      d.appendChild(el('b', { 'data-field': it[0].replace(/ /g, '_') }, it[1]));
      d.appendChild(el('span', {}, it[0]));
      k.appendChild(d);
    });
  }

  function renderLanes(s) {
    var body = document.querySelector('#lanes tbody');
    body.textContent = '';
    Object.keys(s.lanes).forEach(function (name) {
      var l = s.lanes[name];
      var tr = el('tr', { 'data-lane': name });
      tr.appendChild(el('td', {}, name));
      tr.appendChild(cell(name, 'queued', l.queued));
      tr.appendChild(cell(name, 'in_flight', l.in_flight));
      var lim = limitOf(l);
      tr.appendChild(cell(name, 'limit', lim ? lim[0] : '-'));
      tr.appendChild(el('td', { 'class': 'src', 'data-lane': name, 'data-field': 'limit_source' }, lim ? lim[1] : 'none'));
      var g = guardOf(l);
      tr.appendChild(cell(name, 'guard_tail_target', g ? fmt(g.guard_tail_ms, 1) + ' / ' + fmt(g.guard_target_ms, 1) : '-', g && g.guard_tail_ms !== null && g.guard_target_ms !== null && g.guard_tail_ms > g.guard_target_ms ? 'nonzero' : undefined));
      tr.appendChild(cell(name, 'guard_ceiling', g ? fmt(g.guard_ceiling, 2) : '-'));
      tr.appendChild(cell(name, 'adaptive_rtt', l.adaptive ? fmt(l.adaptive.short_rtt_ms, 1) + ' / ' + fmt(l.adaptive.long_rtt_ms, 1) : '-'));
      tr.appendChild(cell(name, 'p50_ms', ms(l.end_to_end.p50_us)));
      tr.appendChild(cell(name, 'p99_ms', ms(l.end_to_end.p99_us)));
      tr.appendChild(cell(name, 'completed', l.completed));
      tr.appendChild(cell(name, 'coalesced', l.coalesced === undefined ? '-' : l.coalesced));
      tr.appendChild(cell(name, 'failed', l.failed, l.failed ? 'nonzero' : undefined));
      tr.appendChild(cell(name, 'shed', l.shed, l.shed ? 'nonzero' : undefined));
      tr.appendChild(cell(name, 'rejected_full', l.rejected_full, l.rejected_full ? 'nonzero' : undefined));
      tr.appendChild(cell(name, 'aborted', l.aborted));
      body.appendChild(tr);
    });
  }

  // The adaptive limit's tail guard, when the lane has one (its snapshot then carries guard_ceiling).
  function guardOf(l) { return l.adaptive && l.adaptive.guard_ceiling !== undefined ? l.adaptive : null; }

  function renderAdaptive(s) {
    var body = document.querySelector('#adaptive tbody');
    body.textContent = '';
    var names = Object.keys(s.lanes).filter(function (name) { return s.lanes[name].adaptive; });
    if (!names.length) {
      var tr0 = el('tr');
      tr0.appendChild(el('td', { colspan: 12, 'class': 'empty' }, 'no lane has an adaptive limit'));
      body.appendChild(tr0);
    }
    names.forEach(function (name) {
      var a = s.lanes[name].adaptive;
      var g = guardOf(s.lanes[name]);
      var last = a.recent_changes.length ? a.recent_changes[a.recent_changes.length - 1] : null;
      var tr = el('tr', { 'data-lane': name });
      tr.appendChild(el('td', {}, name));
      tr.appendChild(cell(name, 'adaptive_limit', a.limit));
      tr.appendChild(cell(name, 'estimate', fmt(a.estimate, 2)));
      tr.appendChild(cell(name, 'bounds', a.min_limit + '..' + a.max_limit));
      tr.appendChild(cell(name, 'state', a.probing ? 'probing' : 'adjusting'));
      tr.appendChild(cell(name, 'rtt', fmt(a.short_rtt_ms, 1) + ' / ' + fmt(a.long_rtt_ms, 1) + ' / ' + fmt(a.no_load_rtt_ms, 1)));
      tr.appendChild(cell(name, 'gradient', fmt(a.gradient, 2)));
      tr.appendChild(cell(name, 'changes', a.changes));
      tr.appendChild(cell(name, 'last_change', last ? last.from + ' \u2192 ' + last.to + ' (' + last.reason + ')' : '-'));
      tr.appendChild(cell(name, 'probes', a.probes));
      tr.appendChild(cell(name, 'guard_base_target', g ? fmt(g.guard_base_ms, 1) + ' / ' + fmt(g.guard_target_ms, 1) : 'off'));
      tr.appendChild(cell(name, 'guard_decisions', g ? g.guard_decisions + ' / ' + g.guard_cuts : '-'));
      body.appendChild(tr);
    });
  }

  function renderWorkers(s) {
    var body = document.querySelector('#workers tbody');
    body.textContent = '';
    if (!s.workers.length) {
      var tr0 = el('tr');
      tr0.appendChild(el('td', { colspan: 9, 'class': 'empty' }, s.mode + ' mode: no worker threads'));
      body.appendChild(tr0);
    }
    s.workers.forEach(function (w) {
      var tr = el('tr', { 'data-worker': w.thread_id });
      var p = w.pool || {};
      tr.appendChild(el('td', {}, w.thread_id));
      tr.appendChild(el('td', {}, !w.ready ? 'starting' : w.responsive ? 'ready' : 'silent'));
      tr.appendChild(el('td', { 'data-worker': w.thread_id, 'data-field': 'connections' }, p.total_connections === undefined ? '-' : p.total_connections));
      tr.appendChild(el('td', {}, p.current_active === undefined ? '-' : p.current_active));
      tr.appendChild(el('td', {}, p.current_idle === undefined ? '-' : p.current_idle));
      tr.appendChild(el('td', {}, w.in_flight));
      tr.appendChild(el('td', { 'data-worker': w.thread_id, 'data-field': 'completed' }, w.completed));
      tr.appendChild(el('td', {}, w.failed));
      tr.appendChild(el('td', {}, ms(w.event_loop_delay_p99_us)));
      body.appendChild(tr);
    });
  }

  // Several nodes: the stats carry them merged over workers (nodes, node_limit: src/stats/nodes.ts,
  // the same merge the CLI and Prometheus show), so the page only lays them out.
  // slot_waiting: callers queued for a slot under the node's limit.
  function renderNodes(s) {
    var nodes = s.nodes || [];
    document.getElementById('nodes-section').hidden = nodes.length === 0;
    var body = document.querySelector('#nodes tbody');
    body.textContent = '';
    nodes.forEach(function (n) {
      var a = n.adaptive;
      var tr = el('tr', { 'data-node': n.node });
      var nodeCell = function (field, value, cls) { return el('td', { 'data-node': n.node, 'data-field': field, 'class': cls }, value); };
      tr.appendChild(el('td', {}, n.node));
      tr.appendChild(nodeCell('health', n.state, n.state === 'healthy' ? undefined : 'nonzero'));
      tr.appendChild(nodeCell('in_flight', n.outstanding));
      tr.appendChild(nodeCell('limit', a ? a.limit + (a.probing ? ' probing' : '') : '-'));
      tr.appendChild(nodeCell('slot_waiting', a ? n.slot_waiting : '-'));
      tr.appendChild(nodeCell('adaptive_rtt', a ? fmt(a.short_rtt_ms, 1) + ' / ' + fmt(a.long_rtt_ms, 1) : '-'));
      tr.appendChild(nodeCell('limit_changes', a ? a.changes : '-'));
      tr.appendChild(nodeCell('served', n.requests));
      body.appendChild(tr);
    });
    document.getElementById('nodes-waiting').textContent = s.node_limit ? 'waiting for a node below its limit: ' + s.node_limit.waiting : '';
  }

  function renderErrors(s) {
    var body = document.querySelector('#errors tbody');
    body.textContent = '';
    var codes = Object.keys(s.counters.errors_by_code).sort(function (a, b) { return s.counters.errors_by_code[b] - s.counters.errors_by_code[a]; });
    if (!codes.length) {
      var tr0 = el('tr');
      tr0.appendChild(el('td', { colspan: 3, 'class': 'empty' }, 'none'));
      body.appendChild(tr0);
    }
    codes.forEach(function (code) {
      var n = s.counters.errors_by_code[code];
      var before = previous ? previous.counters.errors_by_code[code] || 0 : 0;
      var tr = el('tr');
      tr.appendChild(el('td', {}, code));
      tr.appendChild(el('td', { 'data-code': code, 'data-field': 'errors' }, n));
      tr.appendChild(el('td', {}, previous ? n - before : '-'));
      body.appendChild(tr);
    });
  }

  // One history point per poll: per lane the interval mean latency (exact: from the HDR count
  // and mean before and after), the p99 since start, in flight and the limit.
  function record(s) {
    var point = { t: Date.now(), lanes: {} };
    Object.keys(s.lanes).forEach(function (name) {
      var l = s.lanes[name];
      var e = l.end_to_end;
      var mean = null;
      var p = previous && previous.lanes[name];
      if (p && e.count > p.end_to_end.count) {
        mean = (e.count * e.mean_us - p.end_to_end.count * p.end_to_end.mean_us) / (e.count - p.end_to_end.count) / 1000;
      }
      var lim = limitOf(l);
      var g = guardOf(l);
      point.lanes[name] = { mean: mean, p99: e.count ? e.p99_us / 1000 : null, inFlight: l.in_flight, limit: lim ? lim[0] : null, ceiling: g ? g.guard_ceiling : null };
    });
    history.push(point);
    if (history.length > KEEP) history.shift();
  }

  // Lines over the polls kept so far (the x axis fills from the left up to KEEP polls). With
  // log, the y axis is logarithmic (latency: means and p99s an order of magnitude apart).
  function chart(id, legendId, series, log) {
    var svg = document.getElementById(id);
    var W = 600, H = 180, PAD = 30;
    var max = 0, min = Infinity;
    series.forEach(function (sr) { sr.values.forEach(function (v) { if (v !== null && v > max) max = v; if (v !== null && v > 0 && v < min) min = v; }); });
    if (max <= 0) max = 1;
    var lo = log ? Math.pow(10, Math.floor(Math.log10(Math.min(min, max)))) : 0;
    var hi = log ? Math.pow(10, Math.ceil(Math.log10(max * 1.0001))) : max;
    function scale(v) {
      var f = log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1) : v / hi;
      return H - PAD / 2 - (H - PAD) * f;
    }
    var parts = [];
    var ticks = [];
    if (log) for (var d = lo; d <= hi * 1.0001; d *= 10) ticks.push(d);
    else for (var g = 0; g <= 4; g++) ticks.push(hi * g / 4);
    ticks.forEach(function (t) {
      var y = scale(t);
      parts.push('<line x1="' + PAD + '" x2="' + W + '" y1="' + y + '" y2="' + y + '" stroke="#eee"/>');
      parts.push('<text x="2" y="' + (y + 4) + '" font-size="10" fill="#888">' + (t >= 1 || t === 0 ? fmt(t, hi < 10 && !log ? 1 : 0) : String(t)) + '</text>');
    });
    var slots = Math.max(30, history.length);
    series.forEach(function (sr) {
      var pts = [];
      sr.values.forEach(function (v, i) {
        if (v === null) return;
        var x = PAD + (W - PAD) * i / (slots - 1);
        var yy = scale(v);
        pts.push(x.toFixed(1) + ',' + yy.toFixed(1));
      });
      if (pts.length) {
        parts.push('<polyline fill="none" stroke="' + sr.color + '" stroke-width="2"' + (sr.dash ? ' stroke-dasharray="5 4"' : '') + ' points="' + pts.join(' ') + '" data-series="' + sr.name + '" data-points="' + pts.length + '"/>');
      }
    });
    svg.innerHTML = parts.join('');
    var legend = document.getElementById(legendId);
    legend.textContent = '';
    series.forEach(function (sr) {
      var s = el('span');
      var i = el('i', sr.dash ? { 'class': 'dash' } : {});
      if (sr.dash) i.style.borderColor = sr.color;
      else i.style.background = sr.color;
      s.appendChild(i);
      s.appendChild(document.createTextNode(sr.label));
      legend.appendChild(s);
    });
  }

  function renderCharts(s) {
    var names = Object.keys(s.lanes);
    function values(name, key) {
      var out = [];
      history.forEach(function (p) { out.push(p.lanes[name] ? p.lanes[name][key] : null); });
      return out;
    }
    var lat = [], lim = [];
    names.forEach(function (name, i) {
      lat.push({ name: name + ':mean', label: name, color: color(i), values: values(name, 'mean') });
      lat.push({ name: name + ':p99', label: name + ' p99', color: color(i), dash: true, values: values(name, 'p99') });
      lim.push({ name: name + ':in_flight', label: name, color: color(i), values: values(name, 'inFlight') });
      if (values(name, 'limit').some(function (v) { return v !== null; })) {
        lim.push({ name: name + ':limit', label: name + ' limit', color: color(i), dash: true, values: values(name, 'limit') });
      }
      if (values(name, 'ceiling').some(function (v) { return v !== null; })) {
        lim.push({ name: name + ':guard_ceiling', label: name + ' guard ceiling', color: color(i + 3), dash: true, values: values(name, 'ceiling') });
      }
    });
    chart('latency-chart', 'latency-legend', lat, true);
    chart('limit-chart', 'limit-legend', lim, false);
  }

  function poll() {
    var headers = { accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    fetch('pool/stats', { headers: headers, cache: 'no-store' })
      .then(function (r) {
        if (r.status === 401) {
          document.getElementById('auth').hidden = false;
          throw new Error(token ? 'HTTP 401: the bearer token was refused' : 'HTTP 401: the stats need the bearer token (open the page as dashboard#token=...)');
        }
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (body) {
        var s = body.stats;
        polls++;
        record(s);
        document.getElementById('engine').textContent = s.mode + ', ' + s.worker_count + ' worker(s), ' + s.total_connections +
          ' connection(s) (' + s.current_active + ' active), min ' + s.min_connections + ' max ' + s.max_connections + ', ' + s.slots + ' slots';
        document.getElementById('updated').textContent = new Date().toLocaleTimeString();
        document.getElementById('polls').textContent = String(polls);
        var st = document.getElementById('status');
        st.textContent = '';
        st.className = '';
        renderKpis(s);
        renderLanes(s);
        renderAdaptive(s);
        renderWorkers(s);
        renderNodes(s);
        renderErrors(s);
        renderCharts(s);
        previous = s;
      })
      .catch(function (e) {
        var st = document.getElementById('status');
        st.textContent = 'stats unavailable: ' + e.message;
        st.className = 'bad';
      })
      .then(function () { setTimeout(poll, interval); });
  }
  poll();
})();
</script>
</body>
</html>
`;
