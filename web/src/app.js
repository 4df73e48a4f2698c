// Glidepath dashboard (SPEC section 7, GET /ui/). Plain browser JavaScript, no build step:
// the admin API is the only data source, uPlot (embedded beside this file) draws the series.
//
// Live data: the event stream (GET /v1/events, server-sent events read through fetch so the
// admin token can travel in a header) tells the page when a deployment changed, and the
// page then re-reads it; the per-second metrics are polled once a second. Both reconnect on
// their own. The admin token, when the API asks for one, is asked for once and kept in
// sessionStorage (this tab only).
'use strict';

(() => {
  const COLORS = ['#0b63ce', '#e36209', '#8250df', '#1a7f37', '#bf3989', '#6e7781'];
  const TOKEN_KEY = 'glidepath.token';
  const ACTIVE_STATES = new Set(['pending', 'checking_contract', 'pre_traffic', 'shifting',
    'paused', 'post_traffic', 'keeping_warm', 'rolling_back']);

  const app = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    services: [],
    view: null,       // the view on screen: ServiceView or ConsumersView
    live: 'connecting',
  };

  // ---------------------------------------------------------------- small helpers

  const $ = (selector, root = document) => root.querySelector(selector);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'text') node.textContent = value;
      else if (name === 'style') node.style.cssText = value;
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function toast(message, kind = 'info') {
    const box = $('#toast');
    box.textContent = message;
    box.dataset.kind = kind;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, kind === 'error' ? 6000 : 3000);
  }

  // "1m 05s", "45s", "2h 10m"
  function formatSeconds(total) {
    total = Math.max(0, Math.round(total));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
    if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
    return `${s}s`;
  }

  // Durations as the API writes them: "30s", "5m", "1h30m", "250ms".
  function parseDuration(text) {
    if (typeof text !== 'string') return null;
    const units = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
    let seconds = 0;
    let matched = '';
    for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
      seconds += Number(part[1]) * units[part[2]];
      matched += part[0];
    }
    return matched === text && text !== '' ? seconds : null;
  }

  function clockTime(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour12: false });
  }

  function sinceText(iso) {
    if (!iso) return 'never';
    const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
    if (seconds < 60) return 'just now';
    return `${formatSeconds(seconds)} ago`;
  }

  const percent = (ratio, digits = 1) => `${(ratio * 100).toFixed(digits)}%`;

  // ---------------------------------------------------------------- the admin API

  let tokenPrompt = null;
  // Asks for the admin token once, however many calls were refused at the same time.
  function askToken() {
    if (!tokenPrompt) {
      tokenPrompt = new Promise((resolve) => {
        const dialog = $('#token-dialog');
        const input = $('input', dialog);
        input.value = '';
        dialog.addEventListener('close', function onClose() {
          dialog.removeEventListener('close', onClose);
          app.token = input.value.trim();
          sessionStorage.setItem(TOKEN_KEY, app.token);
          tokenPrompt = null;
          resolve();
        });
        dialog.showModal();
      });
    }
    return tokenPrompt;
  }

  function authHeaders(extra = {}) {
    return app.token ? { ...extra, Authorization: `Bearer ${app.token}` } : extra;
  }

  async function api(path, options = {}) {
    for (let attempt = 0; ; ++attempt) {
      const response = await fetch(path, { ...options, headers: authHeaders(options.headers) });
      if (response.status === 401 && attempt < 3) {
        await askToken();
        continue;
      }
      const text = await response.text();
      let body = null;
      try { body = text ? JSON.parse(text) : null; } catch { body = null; }
      if (!response.ok) {
        throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
      }
      return body;
    }
  }

  const post = (path, body) => api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });

  // ---------------------------------------------------------------- live events

  function setLive(state, title) {
    app.live = state;
    const badge = $('#live');
    badge.dataset.state = state;
    badge.textContent = { live: 'live', reconnecting: 'reconnecting…', connecting: 'connecting…' }[state];
    badge.title = title || 'Live updates';
  }

  // One server-sent event block ("id: 7\nevent: state\ndata: {...}") → {id, type, data}.
  function parseEventBlock(block) {
    const event = { id: null, type: 'message', data: '' };
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') event.id = value;
      else if (field === 'event') event.type = value;
      else if (field === 'data') event.data += (event.data ? '\n' : '') + value;
    }
    return event;
  }

  // Reads /v1/events for as long as the page is open; reconnects with Last-Event-ID so no
  // event is missed, backing off from 1 s to 10 s while the server is away.
  async function followEvents() {
    let lastId = null;
    let delay = 1000;
    for (;;) {
      try {
        const headers = authHeaders({ Accept: 'text/event-stream' });
        if (lastId !== null) headers['Last-Event-ID'] = lastId;
        const response = await fetch('/v1/events', { headers, cache: 'no-store' });
        if (response.status === 401) { await askToken(); continue; }
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
        setLive('live');
        delay = 1000;
        onReconnected();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
            const event = parseEventBlock(block);
            if (event.id !== null) lastId = event.id;
            if (event.data) onEvent(event);
          }
        }
      } catch (error) {
        setLive('reconnecting', String(error.message || error));
      }
      setLive('reconnecting');
      await sleep(delay);
      delay = Math.min(delay * 2, 10000);
    }
  }

  function onEvent(event) {
    let record;
    try { record = JSON.parse(event.data); } catch { return; }
    if (app.view && app.view.onEvent) app.view.onEvent(record);
    if (record.type === 'state' || record.type === 'created') refreshServices();
  }

  function onReconnected() {
    refreshServices();
    if (app.view && app.view.refresh) app.view.refresh();
  }

  // ---------------------------------------------------------------- navigation

  async function refreshServices() {
    try {
      const body = await api('/v1/services');
      app.services = body.services || [];
      renderNav();
      if (!app.view) route();
    } catch (error) {
      toast(`Cannot read the services: ${error.message}`, 'error');
    }
  }

  function renderNav() {
    const nav = $('#nav');
    const current = location.hash;
    const links = app.services.map((service) => {
      const d = service.deployment;
      const dot = el('span', { class: 'dot', 'data-state': d ? (d.state === 'rolling_back' ? 'rolling_back' : 'active') : 'idle' });
      const href = `#/services/${encodeURIComponent(service.name)}`;
      return el('a', { href, 'aria-current': current === href ? 'page' : null, 'data-service': service.name }, dot, service.name);
    });
    const consumers = el('a', { href: '#/consumers', 'aria-current': current === '#/consumers' ? 'page' : null }, 'Consumers');
    nav.replaceChildren(...links, consumers);
  }

  function route() {
    const hash = location.hash;
    if (app.view) app.view.destroy();
    app.view = null;
    const main = $('#main');
    let match;
    if (hash === '#/consumers') {
      app.view = new ConsumersView(main);
    } else if ((match = /^#\/services\/(.+)$/.exec(hash))) {
      app.view = new ServiceView(main, decodeURIComponent(match[1]));
    } else if (app.services.length > 0) {
      location.replace(`#/services/${encodeURIComponent(app.services[0].name)}`);
      return;
    } else {
      main.replaceChildren(el('p', { class: 'empty', text: 'No services are configured.' }));
    }
    renderNav();
  }

  // ---------------------------------------------------------------- charts

  function chartSize(container) {
    const width = Math.max(260, container.clientWidth || 300);
    return { width, height: width < 500 ? 170 : 200 };
  }

  // Dashed horizontal lines at the alarm thresholds, labelled, drawn after the series.
  function thresholdPlugin(getLines) {
    return {
      hooks: {
        draw: [(u) => {
          const lines = getLines();
          if (!lines.length) return;
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          // uPlot leaves its axis labels' alignment on the context.
          ctx.textAlign = 'left';
          ctx.textBaseline = 'bottom';
          for (const line of lines) {
            const y = Math.round(u.valToPos(line.value, 'y', true));
            ctx.strokeStyle = '#cf222e';
            ctx.beginPath();
            ctx.moveTo(left, y);
            ctx.lineTo(left + width, y);
            ctx.stroke();
            ctx.fillStyle = '#cf222e';
            ctx.fillText(line.label, left + 4 * devicePixelRatio, y - 4 * devicePixelRatio);
          }
          ctx.restore();
        }],
      },
    };
  }

  // ---------------------------------------------------------------- one service

  class ServiceView {
    constructor(main, name) {
      this.name = name;
      this.root = $('#service-view').content.firstElementChild.cloneNode(true);
      main.replaceChildren(this.root);
      $('.service-name', this.root).textContent = name;
      this.window = 300;
      this.points = new Map();   // version → Map(second → point)
      this.versionNames = [];    // the versions drawn, stable colours
      this.service = null;
      this.deployment = null;
      this.charts = [];
      this.timers = [];
      this.destroyed = false;
      this.refreshing = null;
      this.refreshQueued = false;

      $('select.window', this.root).addEventListener('change', (e) => {
        this.window = Number(e.target.value);
        this.loadMetrics(true);
      });
      for (const button of this.root.querySelectorAll('[data-command]')) {
        button.addEventListener('click', () => this.command(button.dataset.command));
      }
      this.resizeObserver = new ResizeObserver(() => this.resizeCharts());
      this.resizeObserver.observe(this.root);

      this.refresh();
      this.loadMetrics(true);
      this.timers.push(setInterval(() => this.loadMetrics(false), 1000));
      this.timers.push(setInterval(() => this.updateCountdown(), 1000));
      // The event stream drives updates; this slow poll only covers a stream that is down.
      this.timers.push(setInterval(() => { if (app.live !== 'live') this.refresh(); }, 5000));
    }

    destroy() {
      this.destroyed = true;
      this.timers.forEach(clearInterval);
      this.resizeObserver.disconnect();
      this.charts.forEach((chart) => chart.destroy());
    }

    onEvent(record) {
      if (record.service === this.name) this.refresh();
    }

    // Re-reads the service and its deployment; calls that arrive meanwhile fold into one.
    refresh() {
      if (this.refreshing) {
        this.refreshQueued = true;
        return this.refreshing;
      }
      this.refreshing = (async () => {
        try {
          const service = await api(`/v1/services/${encodeURIComponent(this.name)}`);
          let deployment = service.deployment;
          if (!deployment) {
            const list = await api(`/v1/deployments?service=${encodeURIComponent(this.name)}&limit=1`);
            deployment = (list.deployments || [])[0] || null;
          }
          if (this.destroyed) return;
          this.service = service;
          this.deployment = deployment;
          this.render();
        } catch (error) {
          if (!this.destroyed) toast(error.message, 'error');
        } finally {
          this.refreshing = null;
          if (this.refreshQueued && !this.destroyed) {
            this.refreshQueued = false;
            this.refresh();
          }
        }
      })();
      return this.refreshing;
    }

    colour(version) {
      let index = this.versionNames.indexOf(version);
      if (index < 0) {
        this.versionNames.push(version);
        index = this.versionNames.length - 1;
      }
      return COLORS[index % COLORS.length];
    }

    render() {
      const service = this.service;
      const d = this.deployment;
      const active = d && ACTIVE_STATES.has(d.state);

      const state = $('.state', this.root);
      state.textContent = d ? d.state.replace(/_/g, ' ') : 'no deployment';
      state.dataset.state = d ? d.state : 'none';
      $('.summary', this.root).textContent = d
        ? `${d.from_version} → ${d.to_version} · ${d.strategy}${active ? '' : ` · finished ${sinceText(d.finished_at || d.updated_at)}`}`
        : `live version ${service.live}`;

      const versions = service.versions.map((v) => el('div',
        { class: 'version', 'data-version': v.name, style: `--c: ${this.colour(v.name)}` },
        el('div', {}, el('strong', { text: v.name }), v.name === service.live ? el('span', { class: 'live-tag', text: 'live' }) : null),
        el('div', { class: 'weight', text: `${Number(v.weight).toFixed(v.weight % 1 ? 2 : 0)}%` }),
        el('div', { class: 'muted', text: (v.upstreams || []).join(', ') })));
      $('.versions', this.root).replaceChildren(...versions);

      const card = $('.deployment', this.root);
      card.hidden = !d;
      if (d) {
        $('.dep-id', card).textContent = d.id;
        const reason = $('.reason', card);
        reason.hidden = !d.reason;
        reason.textContent = d.reason ? `Rolled back: ${d.reason}` : '';
        const busy = d.state === 'rolling_back';
        const can = {
          promote: active && !busy,
          pause: active && !busy && d.state !== 'paused',
          resume: active && d.state === 'paused',
          abort: active && !busy,
        };
        for (const button of card.querySelectorAll('[data-command]')) {
          button.disabled = !can[button.dataset.command];
        }
      }
      this.renderTimeline();
      this.renderAlarms();
      this.renderEvents();
      this.ensureCharts();
    }

    // The plan's steps, done / current / to come, with when each pause ends.
    renderTimeline() {
      const d = this.deployment;
      const list = $('.timeline', this.root);
      const next = $('.next', this.root);
      if (!d) { list.replaceChildren(); next.textContent = ''; return; }
      const steps = (d.spec && d.spec.plan && d.spec.plan.steps) || [];
      const active = ACTIVE_STATES.has(d.state);
      const finishedAll = d.state === 'succeeded' || d.state === 'post_traffic' || d.state === 'keeping_warm';
      const now = Date.now() / 1000;
      const stepStart = new Date(d.step_started_at).getTime() / 1000;
      const pausedFor = d.state === 'paused' && d.paused_at ? now - new Date(d.paused_at).getTime() / 1000 : 0;
      let eta = null;   // seconds from now until the step after the current one starts
      const items = steps.map((step, index) => {
        let label;
        let duration = null;
        if ('weight' in step) {
          label = `${step.weight}%`;
        } else {
          duration = typeof step.pause === 'string' ? parseDuration(step.pause) : null;
          label = duration === null ? 'wait for promote' : `pause ${step.pause}`;
        }
        let status = 'todo';
        if (finishedAll || index < d.step) status = 'done';
        else if (index === d.step && active) status = 'current';
        const item = el('li', { 'data-status': status, 'data-step': index }, label);
        if (status === 'current' && duration !== null) {
          eta = stepStart + pausedFor + duration - now;
          item.append(el('span', { class: 'eta', 'data-eta': stepStart + duration }));
        }
        return item;
      });
      list.replaceChildren(...items);
      this.eta = eta;
      this.updateCountdown();
    }

    updateCountdown() {
      const d = this.deployment;
      const next = $('.next', this.root);
      if (!d) return;
      const steps = (d.spec && d.spec.plan && d.spec.plan.steps) || [];
      const active = ACTIVE_STATES.has(d.state);
      let text;
      if (!active) {
        text = d.state === 'succeeded' ? `Finished: ${d.to_version} takes all traffic.`
          : `Finished: ${d.state.replace(/_/g, ' ')}; ${d.from_version} takes all traffic.`;
      } else if (d.state === 'paused') {
        text = 'Paused: resume to go on.';
      } else if (d.state === 'rolling_back') {
        text = `Rolling back to ${d.from_version}…`;
      } else if (d.state !== 'shifting') {
        text = d.state === 'checking_contract' ? 'Checking the contract…' : `${d.state.replace(/_/g, ' ')}…`;
      } else if (d.step < steps.length) {
        const span = $('.timeline li[data-status="current"] .eta', this.root);
        if (span) {
          const left = Number(span.dataset.eta) - Date.now() / 1000;
          span.textContent = left > 0 ? formatSeconds(left) : 'now';
          text = `Step ${d.step + 1} of ${steps.length} · next step in ${left > 0 ? formatSeconds(left) : 'a moment'}`;
        } else {
          text = `Step ${d.step + 1} of ${steps.length} · waiting for promote`;
        }
      } else {
        text = `All ${steps.length} steps taken.`;
      }
      next.textContent = text;
    }

    renderAlarms() {
      const d = this.deployment;
      const body = $('.alarms tbody', this.root);
      const rules = new Map(((d && d.spec && d.spec.alarms) || []).map((r) => [r.name, r]));
      const rows = ((d && d.alarms) || []).map((alarm) => {
        const rule = rules.get(alarm.name);
        return el('tr', { 'data-alarm': alarm.name },
          el('td', { text: alarm.name }),
          el('td', { class: 'muted', text: rule ? describeRule(rule) : '' }),
          el('td', { class: 'state', 'data-state': alarm.state, text: alarm.state.replace(/_/g, ' ') }),
          el('td', { text: alarm.value === null ? '–' : formatValue(rule, alarm.value) }));
      });
      if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'No alarms.' })));
      body.replaceChildren(...rows);
    }

    renderEvents() {
      const d = this.deployment;
      const events = ((d && d.events) || []).slice().reverse();
      const items = events.map((e) => el('li', { 'data-type': e.type, 'data-bad': /→ alarm|rolled back|fail/i.test(e.message) },
        el('time', { datetime: e.time, text: clockTime(e.time) }),
        el('span', { class: 'type', text: e.type }),
        el('span', { text: e.message })));
      if (!items.length) items.push(el('li', { class: 'muted' }, 'No events yet.'));
      $('.events', this.root).replaceChildren(...items);
    }

    async command(command) {
      const d = this.deployment;
      if (!d) return;
      if (command === 'abort') {
        const dialog = $('#confirm-abort');
        $('.to-version', dialog).textContent = d.from_version;
        dialog.returnValue = '';
        dialog.showModal();
        const answer = await new Promise((resolve) => {
          dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
        });
        if (answer !== 'abort') return;
      }
      try {
        await post(`/v1/deployments/${encodeURIComponent(d.id)}/${command}`, {});
        toast(`${command[0].toUpperCase()}${command.slice(1)}: sent`);
      } catch (error) {
        toast(`${command} failed: ${error.message}`, 'error');
      }
      this.refresh();
    }

    // ---- metrics

    async loadMetrics(full) {
      if (this.loadingMetrics) return;
      this.loadingMetrics = true;
      try {
        const seconds = full ? this.window : 5;
        const body = await api(`/v1/services/${encodeURIComponent(this.name)}/metrics?seconds=${seconds}`);
        if (this.destroyed) return;
        if (full) this.points.clear();
        let latest = 0;
        for (const [version, points] of Object.entries(body.versions || {})) {
          this.colour(version);
          if (!this.points.has(version)) this.points.set(version, new Map());
          const series = this.points.get(version);
          for (const p of points) {
            series.set(p.t, p);
            latest = Math.max(latest, p.t);
          }
        }
        if (latest) this.latest = latest;
        for (const series of this.points.values()) {
          for (const t of series.keys()) if (t <= this.latest - this.window) series.delete(t);
        }
        this.ensureCharts();
        this.updateCharts();
      } catch (error) {
        // The next second tries again; the live badge already tells when the server is away.
      } finally {
        this.loadingMetrics = false;
      }
    }

    // Versions drawn: the service's, then any that still have points (a removed canary).
    chartVersions() {
      const names = [];
      const live = this.service ? this.service.live : null;
      if (live) names.push(live);
      for (const v of (this.service ? this.service.versions : [])) if (!names.includes(v.name)) names.push(v.name);
      for (const [v, series] of this.points) {
        if (!names.includes(v) && [...series.values()].some((p) => p.requests > 0)) names.push(v);
      }
      return names;
    }

    ensureCharts() {
      const versions = this.chartVersions();
      const key = versions.join('\u0000');
      if (!versions.length || key === this.chartKey) return;
      this.chartKey = key;
      this.charts.forEach((chart) => chart.destroy());
      this.charts = [];
      this.drawnVersions = versions;
      // uPlot's own time ticks: they thin out and shorten to fit the width.
      const xAxis = { stroke: '#677386', grid: { stroke: '#eef1f5' } };
      const yAxis = (format) => ({ stroke: '#677386', grid: { stroke: '#eef1f5' }, size: 50, values: (u, ticks) => ticks.map(format) });
      const base = (container) => ({
        ...chartSize(container),
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
      });

      // Traffic split: each version's share of the second's requests, stacked to 100%.
      const split = $('.split', this.root);
      const splitSeries = [{}];
      const bands = [];
      versions.forEach((v, i) => {
        splitSeries.push({
          label: v,
          stroke: this.colour(v),
          fill: `${this.colour(v)}55`,
          width: 1.5,
          value: (u, value, s, idx) => (idx === null || this.splitRaw === undefined ? '–'
            : this.splitRaw[i][idx] === null ? '–' : `${this.splitRaw[i][idx].toFixed(1)}%`),
        });
        if (i > 0) bands.push({ series: [i + 1, i], fill: `${this.colour(v)}55` });
      });
      // With bands, only the bottom series fills down to the axis.
      splitSeries.forEach((s, i) => { if (i > 1) delete s.fill; });
      this.charts.push(new uPlot({
        ...base(split),
        series: splitSeries,
        bands,
        scales: { x: { time: true }, y: { range: [0, 100] } },
        axes: [xAxis, yAxis((v) => `${v}%`)],
      }, [[]], split));

      const lineSeries = (format) => [{}, ...versions.map((v) => ({
        label: v, stroke: this.colour(v), width: 1.5, spanGaps: false,
        value: (u, value) => (value === null || value === undefined ? '–' : format(value)),
      }))];
      const errors = $('.errors', this.root);
      this.charts.push(new uPlot({
        ...base(errors),
        series: lineSeries((v) => `${v.toFixed(2)}%`),
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.15, this.maxThreshold('error_rate') * 115)] } },
        axes: [xAxis, yAxis((v) => `${v}%`)],
        plugins: [thresholdPlugin(() => this.thresholds('error_rate'))],
      }, [[]], errors));

      const latency = $('.latency', this.root);
      this.charts.push(new uPlot({
        ...base(latency),
        series: lineSeries((v) => `${v.toFixed(1)} ms`),
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(5, max * 1.15, this.maxThreshold('latency_p99') * 1150)] } },
        axes: [xAxis, yAxis((v) => `${v} ms`)],
        plugins: [thresholdPlugin(() => this.thresholds('latency_p99'))],
      }, [[]], latency));
      this.updateCharts();
    }

    // The deployment's absolute alarm thresholds on `metric`, in the chart's unit.
    thresholds(metric) {
      const d = this.deployment;
      const rules = (d && d.spec && d.spec.alarms) || [];
      return rules.filter((r) => r.metric === metric && !r.relative_to_stable).map((r) => ({
        value: metric === 'error_rate' ? r.threshold * 100 : r.threshold * 1000,
        label: `${r.name} (${r.version})`,
      }));
    }

    maxThreshold(metric) {
      const d = this.deployment;
      const rules = ((d && d.spec && d.spec.alarms) || []).filter((r) => r.metric === metric && !r.relative_to_stable);
      return rules.reduce((m, r) => Math.max(m, r.threshold), 0);
    }

    updateCharts() {
      if (!this.charts.length || !this.latest) return;
      const versions = this.drawnVersions;
      const xs = [];
      for (let t = this.latest - this.window + 1; t <= this.latest; ++t) xs.push(t);
      const at = (v, t) => (this.points.get(v) || new Map()).get(t);
      const totals = xs.map((t) => versions.reduce((sum, v) => sum + ((at(v, t) || {}).requests || 0), 0));
      // Shares per version, then stacked: series i is the sum of versions 0..i.
      this.splitRaw = versions.map((v) => xs.map((t, i) => (totals[i] ? (((at(v, t) || {}).requests || 0) / totals[i]) * 100 : null)));
      const stacked = this.splitRaw.map((_, i) => xs.map((t, j) => {
        if (totals[j] === 0) return null;
        let sum = 0;
        for (let k = 0; k <= i; ++k) sum += this.splitRaw[k][j];
        return Math.min(100, sum);
      }));
      this.charts[0].setData([xs, ...stacked]);
      const metric = (field, scale) => versions.map((v) => xs.map((t) => {
        const p = at(v, t);
        return p && p.requests > 0 ? p[field] * scale : null;
      }));
      this.charts[1].setData([xs, ...metric('error_rate', 100)]);
      this.charts[2].setData([xs, ...metric('p99_ms', 1)]);

      // The last complete seconds' split, in words (the current second is still filling).
      const recent = xs.slice(-6, -1);
      const sums = versions.map((v) => recent.reduce((s, t) => s + ((at(v, t) || {}).requests || 0), 0));
      const all = sums.reduce((a, b) => a + b, 0);
      $('.split-now', this.root).textContent = all
        ? `Last 5 s: ${versions.map((v, i) => `${v} ${percent(sums[i] / all, 0)}`).join(' · ')} of ${all} requests`
        : 'No requests in the last 5 s.';
    }

    resizeCharts() {
      for (const chart of this.charts) chart.setSize(chartSize(chart.root.parentElement));
    }
  }

  function describeRule(rule) {
    const ops = { greater: '>', greater_or_equal: '≥', less: '<', less_or_equal: '≤' };
    const metric = rule.metric.replace('latency_', '').replace('_', ' ');
    const relative = rule.relative_to_stable ? ' − stable' : '';
    return `${rule.version} ${metric}${relative} ${ops[rule.comparison] || rule.comparison} ${formatValue(rule, rule.threshold)}, ${rule.datapoints_to_alarm} of ${rule.evaluation_periods} × ${rule.period}`;
  }

  function formatValue(rule, value) {
    if (!rule) return String(value);
    switch (rule.metric) {
      case 'error_rate': return percent(value, 2);
      case 'latency_p50': case 'latency_p90': case 'latency_p99': return `${(value * 1000).toFixed(1)} ms`;
      case 'request_rate': return `${value.toFixed(1)}/s`;
      default: return String(value);
    }
  }

  // ---------------------------------------------------------------- consumers

  class ConsumersView {
    constructor(main) {
      this.root = $('#consumers-view').content.firstElementChild.cloneNode(true);
      main.replaceChildren(this.root);
      this.since = '7d';
      this.open = null;
      $('select.since', this.root).addEventListener('change', (e) => {
        this.since = e.target.value;
        this.refresh();
      });
      this.refresh();
      this.timer = setInterval(() => this.refresh(), 15000);
    }

    destroy() { clearInterval(this.timer); this.destroyed = true; }

    async refresh() {
      try {
        const body = await api(`/v1/consumers?since=${encodeURIComponent(this.since)}`);
        if (this.destroyed) return;
        const rows = [];
        for (const c of body.consumers || []) {
          const row = el('tr', { class: 'consumer', 'data-consumer': c.name, tabindex: 0 },
            el('td', {}, el('strong', { text: c.name })),
            el('td', { class: 'muted', text: c.contact || '' }),
            el('td', { text: String(c.requests) }),
            el('td', { text: String(c.errors) }),
            el('td', { text: (c.versions || []).join(', ') }),
            el('td', { text: sinceText(c.last_seen) }));
          const toggle = () => { this.open = this.open === c.name ? null : c.name; this.refresh(); };
          row.addEventListener('click', toggle);
          row.addEventListener('keydown', (e) => { if (e.key === 'Enter') toggle(); });
          rows.push(row);
          if (this.open === c.name) rows.push(await this.detail(c.name));
        }
        if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No consumer has called in this window.' })));
        $('.consumer-table tbody', this.root).replaceChildren(...rows);
      } catch (error) {
        if (!this.destroyed) toast(`Cannot read the consumers: ${error.message}`, 'error');
      }
    }

    // Which operations the consumer called on which version.
    async detail(name) {
      const body = await api(`/v1/consumers/${encodeURIComponent(name)}/usage?since=${encodeURIComponent(this.since)}`);
      const table = el('table', { 'data-testid': 'consumer-operations' },
        el('thead', {}, el('tr', {}, ...['service', 'operation', 'version', 'requests', 'errors', 'last seen'].map((h) => el('th', { text: h })))),
        el('tbody', {}, ...(body.operations || []).map((op) => el('tr', {},
          el('td', { text: op.service }),
          el('td', {}, el('code', { text: op.operation })),
          el('td', { text: op.version }),
          el('td', { text: String(op.requests) }),
          el('td', { text: String(op.errors) }),
          el('td', { text: sinceText(op.last_seen) })))));
      return el('tr', { class: 'detail' }, el('td', { colspan: 6 }, table));
    }
  }

  // ---------------------------------------------------------------- start

  window.addEventListener('hashchange', route);
  refreshServices().then(() => { if (!app.view) route(); });
  followEvents();
})();
