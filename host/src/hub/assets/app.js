// The hub's dashboard and camera page: plain DOM and one <canvas>, no
// dependencies, so it works without any CDN.
'use strict';

// ?token=... is passed on to every URL the page opens (for --token).
const TOKEN = new URLSearchParams(location.search).get('token');
function withToken(path) {
  return TOKEN ? path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(TOKEN) : path;
}
function api(path) {
  return fetch(withToken('/' + path), {cache: 'no-store'}).then(r => {
    if (!r.ok) throw new Error(r.status + ' ' + path);
    return r.json();
  });
}
function fmtAge(ms) {
  if (ms === null || ms === undefined) return 'never';
  return ms < 1000 ? 'now' : Math.round(ms / 1000) + ' s ago';
}
function line(c) {
  return `${c.width}×${c.height} · ${c.fps} fps · ${c.kbps} kB/s · drops ${c.drops} · ` +
    `CRC errors ${c.crc_errors} · ${fmtAge(c.last_seen_ms)} · +${c.latency_ms} ms`;
}

// Browsers open about 6 connections per host: beyond a few cameras, tiles
// refresh snapshots instead of holding a stream each.
const MAX_STREAM_TILES = 4;

function dashboard() {
  const grid = document.getElementById('grid');
  const tiles = new Map();
  let snapshotMode = false;
  function refresh() {
    api('api/cameras').then(cams => {
      document.getElementById('empty').style.display = cams.length ? 'none' : '';
      document.getElementById('summary').textContent =
        `${cams.filter(c => c.online).length} of ${cams.length} cameras online`;
      snapshotMode = cams.length > MAX_STREAM_TILES;
      const seen = new Set();
      for (const c of cams) {
        seen.add(c.id);
        let t = tiles.get(c.id);
        if (!t) {
          t = document.createElement('a');
          t.className = 'tile';
          t.dataset.camera = c.id;
          t.href = withToken(c.urls.page);
          t.innerHTML = '<img alt=""><div class="info"><div class="name"></div><div class="line"></div></div>';
          t.querySelector('.name').textContent = c.id;
          grid.appendChild(t);
          tiles.set(c.id, t);
        }
        const img = t.querySelector('img');
        const want = snapshotMode ? 'snapshot' : 'stream';
        if (img.dataset.mode !== want) {
          img.dataset.mode = want;
          if (want === 'stream') img.src = withToken(c.urls.stream);
        }
        if (want === 'snapshot' && c.online) {
          img.src = withToken(c.urls.snapshot + '?t=' + c.frames);
        }
        t.classList.toggle('offline', !c.online);
        t.querySelector('.line').textContent = (c.online ? '' : 'offline · ') + line(c);
      }
      for (const [id, t] of tiles) {
        if (!seen.has(id)) { t.remove(); tiles.delete(id); }
      }
    }).catch(e => { document.getElementById('summary').textContent = String(e); });
  }
  refresh();
  setInterval(refresh, 1000);
}

function drawChart(canvas, samples) {
  const g = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height, pad = 24;
  g.clearRect(0, 0, w, h);
  g.strokeStyle = '#333';
  g.strokeRect(pad, 4, w - pad - 4, h - pad - 4);
  if (samples.length < 2) return;
  const series = [['fps', '#6d6'], ['latency_ms', '#fb4']];
  for (const [key, color] of series) {
    const max = Math.max(1, ...samples.map(s => s[key])) * 1.1;
    g.strokeStyle = color;
    g.beginPath();
    samples.forEach((s, i) => {
      const x = pad + (w - pad - 4) * i / (samples.length - 1);
      const y = h - pad - (h - pad - 8) * s[key] / max;
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
    g.fillStyle = color;
    g.fillText(key + ' max ' + max.toFixed(1), key === 'fps' ? pad + 4 : w / 2, h - 8);
  }
}

function cameraPage() {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  document.getElementById('name').textContent = id;
  document.title = id + ' · img-stream hub';
  const root = '/cam/' + encodeURIComponent(id) + '/';
  document.getElementById('live').src = withToken(root + 'stream');
  const urls = document.getElementById('urls');
  for (const [what, path] of [['MJPEG', 'stream'], ['snapshot', 'snapshot.jpg']]) {
    const li = document.createElement('li');
    const url = new URL(withToken(root + path), location.href).href;
    li.innerHTML = `${what}: <code></code>`;
    li.querySelector('code').textContent = url;
    urls.appendChild(li);
  }
  function refresh() {
    api('api/cameras/' + encodeURIComponent(id) + '/history').then(h => {
      const c = h.camera;
      document.getElementById('state').textContent = c.online ? 'online' : 'offline';
      const facts = document.getElementById('facts');
      facts.innerHTML = '';
      for (const [k, v] of [['input', c.input], ['resolution', `${c.width}×${c.height}`],
                            ['fps', c.fps], ['kB/s', c.kbps], ['frames', c.frames],
                            ['drops', c.drops], ['CRC errors', c.crc_errors],
                            ['viewers', c.viewers], ['last seen', fmtAge(c.last_seen_ms)],
                            ['added latency', c.latency_ms + ' ms']]) {
        const tr = facts.insertRow();
        tr.insertCell().textContent = k;
        tr.insertCell().textContent = v;
      }
      const canvas = document.getElementById('chart');
      drawChart(canvas, h.samples);
      canvas.dataset.samples = h.samples.length;
    }).catch(e => { document.getElementById('state').textContent = String(e); });
  }
  refresh();
  setInterval(refresh, 1000);
}
