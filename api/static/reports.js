// The reports page: reads /v1/reports/summary for the filters in the page's
// own query string and draws the figures with Chart.js.
'use strict';

const CLOCKS = {
  acknowledge: 'Acknowledge', firstResponse: 'First response', startInvestigation: 'Start investigating',
  resolution: 'Resolution proposed', compensationApproval: 'Compensation approved', confirmation: 'Fix confirmed',
  followUp: 'Low score followed up',
};
const COLORS = ['#2f6fde', '#f08c00', '#2b8a3e', '#c2255c', '#7048e8', '#0c8599', '#e8590c', '#5c940d', '#868e96',
  '#a61e4d'];
const FILTERS = ['from', 'to', 'category', 'department', 'interval'];

const label = (key) => key.replaceAll('_', ' ');
const count = (n) => n.toLocaleString('en');
const money = (amount) => Number(amount).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const percent = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`);

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 90 * 60) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

function element(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function setOptions(select, values, current) {
  for (const v of new Set([...values, ...(current ? [current] : [])])) {
    select.append(element('option', { value: v }, label(v)));
  }
  select.value = current || '';
}

// The filters of the page's address, without the empty ones.
function filters() {
  const page = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const name of FILTERS) {
    const v = page.get(name);
    if (v) query.set(name, v);
  }
  return query;
}

function fillForm(query) {
  const form = document.getElementById('filters');
  form.elements.from.value = query.get('from') || '';
  form.elements.to.value = query.get('to') || '';
  form.elements.interval.value = query.get('interval') || '';
  presets(form);
  // Submit only the filters that are set.
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const name of FILTERS) {
      if (form.elements[name].value) q.set(name, form.elements[name].value);
    }
    location.search = q.toString();
  });
  const csv = new URLSearchParams(query);
  csv.set('format', 'csv');
  document.getElementById('csv').href = `/v1/reports/summary?${csv}`;
}

function kpi(value, text, note, href) {
  const shown = href ? element('a', { href, class: 'drill' }, value) : value;
  return element('div', { class: 'kpi' }, element('div', { class: 'value' }, shown),
    element('div', { class: 'label' }, text), element('div', { class: 'note' }, note || ''));
}

// deskList is the staff desk's list of the cases behind a figure: the
// page's filters and the figure's own.
function deskList(extra) {
  const page = filters();
  const q = new URLSearchParams({ queue: 'search' });
  for (const name of ['from', 'to', 'category', 'department']) {
    if (page.get(name)) q.set(name, page.get(name));
  }
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  return `/desk/?${q}`;
}

// periodList is the desk's list of the cases received in a trend's
// period (its first day, YYYY-MM-DD, and the interval), within the page's
// own days; breached narrows it to the cases with a clock breached.
function periodList(first, interval, breached) {
  const end = new Date(`${first}T00:00:00Z`);
  if (interval === 'week') end.setUTCDate(end.getUTCDate() + 7);
  else if (interval === 'month') end.setUTCMonth(end.getUTCMonth() + 1);
  else end.setUTCDate(end.getUTCDate() + 1);
  end.setUTCDate(end.getUTCDate() - 1);
  const page = filters();
  let from = first;
  let to = end.toISOString().slice(0, 10);
  if (page.get('from') && page.get('from') > from) from = page.get('from');
  if (page.get('to') && page.get('to') < to) to = page.get('to');
  return deskList(breached ? { from, to, breached: 'true' } : { from, to });
}

function renderKPIs(s) {
  const sat = s.satisfaction;
  const given = s.compensation.map((c) => `${money(c.amount)} ${c.currency}`);
  document.getElementById('kpis').replaceChildren(
    kpi(count(s.cases), 'cases received', '', deskList()),
    kpi(sat.average === null ? '–' : `${sat.average.toFixed(2)} / 5`, 'satisfaction', `${count(sat.responses)} answers`),
    kpi(percent(s.resolution.rate), 'resolution rate',
      `${count(s.resolution.count)} of ${count(s.resolution.of)} closed`, deskList({ resolved: 'true' })),
    kpi(percent(s.repeat.rate), 'repeat complaints', `${count(s.repeat.count)} cases`, deskList({ repeat: 'true' })),
    kpi(duration(s.firstResponse.medianSeconds), 'first response, median',
      `90 % within ${duration(s.firstResponse.p90Seconds)}`),
    kpi(duration(s.acknowledgement.medianSeconds), 'acknowledgement, median',
      `90 % within ${duration(s.acknowledgement.p90Seconds)}`),
    kpi(duration(s.handling.medianSeconds), 'handling time, median', `90 % within ${duration(s.handling.p90Seconds)}`),
    kpi(percent(s.escalated.rate), 'escalated', `${count(s.escalated.count)} cases`, deskList({ escalated: 'true' })),
    kpi(percent(s.slaBreached.rate), 'SLA breached', `${count(s.slaBreached.count)} cases`, deskList({ breached: 'true' })),
    kpi(given[0] || '–', 'compensation given', given.slice(1).join(', ')),
    kpi(count(s.followUps.opened), 'low scores followed up',
      `${count(s.followUps.open)} open, ${count(s.followUps.overdue)} overdue`, deskList({ queue: 'followups' })),
  );
}

// table lays rows out; a row's link (links[i]) opens the desk's list of its cases.
function table(caption, head, rows, links) {
  return element('table', {}, element('caption', {}, caption),
    element('thead', {}, element('tr', {}, ...head.map((h) => element('th', {}, h)))),
    element('tbody', {}, ...rows.map((r, row) => element('tr', {},
      ...r.map((c, i) => {
        const text = typeof c === 'number' ? count(c) : String(c);
        const cell = i === 0 && links && links[row] ? element('a', { href: links[row], class: 'drill' }, text) : text;
        return element('td', i ? { class: 'num' } : {}, cell);
      })))));
}

function renderTables(s) {
  const shares = (list) => list.map((x) => [label(x.key), x.count, percent(x.share)]);
  document.getElementById('tables').replaceChildren(
    table('By category', ['category', 'cases', 'share'], shares(s.byCategory),
      s.byCategory.map((x) => deskList({ category: x.key }))),
    table('By channel', ['channel', 'cases', 'share'], shares(s.byChannel),
      s.byChannel.map((x) => deskList({ channel: x.key }))),
    table('By department', ['department', 'cases', 'share'], shares(s.byDepartment),
      s.byDepartment.map((x) => deskList({ department: x.key }))),
    table('By status', ['status', 'cases', 'share'], shares(s.byStatus),
      s.byStatus.map((x) => deskList({ status: x.key }))),
    table('SLA clocks', ['clock', 'met', 'breached', 'compliance'],
      s.sla.map((c) => [CLOCKS[c.clock] || c.clock, c.met, c.breached, percent(c.compliance)]),
      s.sla.map((c) => deskList({ clock: c.clock }))),
    table('Hot spots: root causes', ['category', 'root cause', 'cases'],
      s.rootCauses.map((r) => [label(r.category), r.rootCause, r.cases]),
      s.rootCauses.map((r) => deskList({ category: r.category, rootCause: r.rootCause }))),
  );
}

function renderCharts(s) {
  const common = { animation: false, responsive: true, maintainAspectRatio: false };
  const charts = {};
  charts.category = new Chart(document.getElementById('chart-category'), {
    type: 'doughnut',
    data: {
      labels: s.byCategory.map((x) => label(x.key)),
      datasets: [{ label: 'cases', data: s.byCategory.map((x) => x.count), backgroundColor: COLORS }],
    },
    options: { ...common, plugins: { legend: { position: 'right' } },
      // A slice opens the desk's list of its cases.
      onClick: (_, elements) => {
        if (elements.length) location.href = deskList({ category: s.byCategory[elements[0].index].key });
      } },
  });
  charts.trend = new Chart(document.getElementById('chart-trend'), {
    type: 'line',
    data: {
      labels: s.trend.points.map((p) => p.period),
      datasets: [
        { label: 'cases received', data: s.trend.points.map((p) => p.cases), borderColor: COLORS[0],
          backgroundColor: COLORS[0], tension: 0.2 },
        { label: 'SLA breached', data: s.trend.points.map((p) => p.slaBreached), borderColor: COLORS[3],
          backgroundColor: COLORS[3], tension: 0.2 },
      ],
    },
    options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { title: { display: true, text: `per ${s.trend.interval}` } },
      // A point opens the desk's list of that period's cases (its breached ones
      // for the breached line).
      onClick: (_, elements) => {
        if (!elements.length) return;
        const { index, datasetIndex } = elements[0];
        location.href = periodList(s.trend.points[index].period, s.trend.interval, datasetIndex === 1);
      } },
  });
  charts.sla = new Chart(document.getElementById('chart-sla'), {
    type: 'bar',
    data: {
      labels: s.sla.map((c) => CLOCKS[c.clock] || c.clock),
      datasets: [{ label: 'met in time (%)', backgroundColor: COLORS[2],
        data: s.sla.map((c) => (c.compliance === null ? 0 : Math.round(c.compliance * 1000) / 10)) }],
    },
    options: { ...common, scales: { y: { beginAtZero: true, max: 100 } },
      // A bar opens the desk's list of the cases whose clock was breached.
      onClick: (_, elements) => {
        if (elements.length) location.href = deskList({ clock: s.sla[elements[0].index].clock });
      } },
  });
  charts.satisfaction = new Chart(document.getElementById('chart-satisfaction'), {
    type: 'bar',
    data: {
      labels: s.satisfaction.distribution.map((d) => `${d.score} ★`),
      datasets: [{ label: 'answers', backgroundColor: COLORS[1],
        data: s.satisfaction.distribution.map((d) => d.count) }],
    },
    options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      // A bar opens the desk's list of the cases answered with that score.
      onClick: (_, elements) => {
        if (elements.length) location.href = deskList({ score: String(s.satisfaction.distribution[elements[0].index].score) });
      } },
  });
  return charts;
}

function describe(s) {
  const parts = [`${count(s.cases)} cases received`];
  if (s.from || s.to) parts.push(`from ${s.from || 'the start'} to ${s.to || 'today'}`);
  if (s.category) parts.push(`in ${label(s.category)}`);
  if (s.department) parts.push(`routed to ${label(s.department)}`);
  return `${parts.join(' ')} (days in ${s.timeZone}; percentiles ${s.percentiles})`;
}

// A staff token, when one is given once in the address's fragment
// (#token=...), which never reaches a server log, then kept for the browser
// tab's session. Without one the figures are read with the staff desk's
// sign-in (its session cookie), through /desk/api.
function staffToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('token')) {
    sessionStorage.setItem('staffToken', hash.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem('staffToken') || '';
}

// A plain link cannot carry the token: a download link's file is fetched
// with it and saved under name.
function downloadWithToken(link, token, name) {
  link.addEventListener('click', async (ev) => {
    ev.preventDefault();
    const resp = await apiFetch(token, link.getAttribute('href'));
    if (!resp.ok) return;
    const save = document.createElement('a');
    save.href = URL.createObjectURL(await resp.blob());
    save.download = name;
    save.click();
    URL.revokeObjectURL(save.href);
  });
}

function csvWithToken(token) {
  downloadWithToken(document.getElementById('csv'), token, 'complaint-report.csv');
}

async function main() {
  const query = filters();
  fillForm(query);
  const token = staffToken();
  csvWithToken(token);
  const status = document.getElementById('status');
  try {
    await fillDimensions(token, query);
    breakdown(token, query); // its own section; the charts do not wait for it
    const body = await getJSON(token, `/v1/reports/summary?${query}`);
    renderKPIs(body);
    renderTables(body);
    window.reportCharts = renderCharts(body);
    status.textContent = describe(body);
    document.body.dataset.state = 'ready';
  } catch (err) {
    status.textContent = `The reports could not be loaded. ${err.message}`;
    status.className = 'error';
    document.body.dataset.state = 'error';
  }
}

// The departments and categories are the server's, not a list of the page's.
async function fillDimensions(token, query) {
  const body = await getJSON(token, '/v1/reports/dimensions');
  const form = document.getElementById('filters');
  setOptions(form.elements.category, body.categories, query.get('category'));
  setOptions(form.elements.department, body.departments, query.get('department'));
}

// apiFetch reads path of the API with the token, or else through the
// desk's session; without a session the browser goes to sign in and back.
async function apiFetch(token, path) {
  if (token) return fetch(path, { headers: { Accept: 'application/json', Authorization: `Bearer ${token}` } });
  const resp = await fetch(`/desk/api${path}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (resp.status === 401) {
    location.href = `/desk/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new Error('signing in');
  }
  return resp;
}

async function getJSON(token, path) {
  const resp = await apiFetch(token, path);
  const body = await resp.json();
  if (!resp.ok) {
    const details = (body.errors || []).map((e) => `${e.location}: ${e.message}`).join('; ');
    throw new Error(`${body.title || resp.status}: ${body.detail || ''} ${details}`);
  }
  return body;
}

const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

// Date presets fill from and to and show the report.
function presets(form) {
  const today = new Date();
  const y = today.getFullYear();
  const m = today.getMonth();
  const back = (days) => new Date(y, m, today.getDate() - days);
  const choices = {
    'last 7 days': [back(6), today], 'last 30 days': [back(29), today], 'this month': [new Date(y, m, 1), today],
    'last month': [new Date(y, m - 1, 1), new Date(y, m, 0)],
    'this quarter': [new Date(y, m - (m % 3), 1), today], 'this year': [new Date(y, 0, 1), today],
  };
  const box = document.getElementById('presets');
  for (const [name, [from, to]] of Object.entries(choices)) {
    const b = element('button', { type: 'button' }, name);
    b.addEventListener('click', () => {
      form.elements.from.value = isoDay(from);
      form.elements.to.value = isoDay(to);
      form.requestSubmit();
    });
    box.append(b);
  }
}

// A download of the cases behind a figure, fetched with the token.
function exportLinks(token, query, figure) {
  const span = element('span', { class: 'exports' });
  for (const format of ['csv', 'xlsx']) {
    const q = new URLSearchParams(query);
    q.delete('interval');
    for (const [k, v] of Object.entries(figure)) q.set(k, v);
    q.set('format', format);
    const a = element('a', { href: `/v1/reports/cases?${q}` }, format.toUpperCase());
    downloadWithToken(a, token, `complaint-cases.${format}`);
    span.append(' ', a);
  }
  return span;
}

const change = (now, before) => {
  if (now === null || now === undefined || before === null || before === undefined) return '';
  const d = (now - before) * 100;
  return ` (${d >= 0 ? '+' : ''}${d.toFixed(1)} pts)`;
};

// The managers' breakdown: per owner and department, backlog, flow, and
// the comparison with the period before.
async function breakdown(token, query) {
  const section = document.getElementById('breakdown');
  try {
    const b = await getJSON(token, `/v1/reports/breakdown?${query}`);
    const p = b.previous;
    const kpis = element('p', {},
      `SLA compliance ${percent(b.sla.rate)}${p ? change(b.sla.rate, p.sla.rate) : ''} · `,
      `CSAT ${percent(b.csat.rate)}${p ? change(b.csat.rate, p.csat.rate) : ''} · `,
      `reopen rate ${percent(b.reopen.rate)}${p ? change(b.reopen.rate, p.reopen.rate) : ''} · `,
      `cases ${count(b.cases)}${p ? ` (before: ${count(p.cases)}, ${b.previousFrom} – ${b.previousTo})` : ''}`);
    section.append(kpis);
    const group = (title, rows, param) => {
      const table = element('table', {}, element('caption', {}, title),
        element('tr', {}, ...['', 'cases', 'SLA met', 'handling (avg)', 'reopened', 'CSAT', 'cases'].map((h) => element('th', {}, h))));
      for (const r of rows) {
        table.append(element('tr', {}, element('td', {}, label(r.key)), element('td', {}, count(r.cases)),
          element('td', {}, percent(r.sla.rate)), element('td', {}, duration(r.handling.averageSeconds)),
          element('td', {}, percent(r.reopen.rate)), element('td', {}, percent(r.csat.rate)),
          element('td', {}, exportLinks(token, query, { [param]: r.key }))));
      }
      return table;
    };
    section.append(group('Per owner', b.byOwner, 'owner'), group('Per department', b.byDepartment, 'department'));
    const backlog = element('table', {}, element('caption', {}, `Open backlog by age (${count(b.backlog.open)} open)`));
    for (const a of b.backlog.byAge) {
      backlog.append(element('tr', {}, element('td', {}, a.age), element('td', {}, count(a.count)),
        element('td', {}, exportLinks(token, query, { open: 'true', age: a.age, asOf: b.backlog.asOf }))));
    }
    const flow = element('table', {}, element('caption', {}, 'Created vs closed'),
      element('tr', {}, ...['period', 'created', 'closed'].map((h) => element('th', {}, h))));
    for (const f of b.createdVsClosed) {
      flow.append(element('tr', {}, element('td', {}, f.period), element('td', {}, count(f.created)),
        element('td', {}, count(f.closed))));
    }
    section.append(backlog, flow);
  } catch (err) {
    section.append(element('p', { class: 'error' }, `The breakdown could not be loaded. ${err.message}`));
  }
}

main();
