// The dashboard's logic: fetches the JSON API of `cltv serve` (docs/serve.md) and fills the views of
// index.html. Every string from the API reaches the DOM as text (textContent, text nodes), never as HTML.
'use strict';

const TOKEN_KEY = 'cltv-token';
const COLORS = {
  ink: '#1f2937', muted: '#6b7280', grid: '#e5e7eb',
  now: '#94a3b8', predicted: '#4f46e5', expected: '#a5b4fc',
  actual: '#0f766e', down: '#dc2626', up: '#16a34a', band: 'rgba(79, 70, 229, 0.18)',
};

// Heat-map colours (red, green, blue components) of falling, rising and keeping a level.
const HEAT = { fall: '220, 38, 38', rise: '22, 163, 74', keep: '79, 70, 229' };

const state = {
  run: null,
  charts: null,
  overview: null,
  atRisk: { q: '', sort: 'spend_at_risk', level: '', offset: 0, limit: 50 },
  atRiskRequest: 0,
  graphs: new Map(),
};

// ---- DOM and formatting helpers ----

const $ = (id) => document.getElementById(id);

// Appends nodes and strings (as text nodes), skipping null and undefined; arrays are flattened.
function append(node, children) {
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// An element with attributes ("on..." ones are event listeners) and children.
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  return append(node, children);
}

// Replaces NODE's children.
function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

const numberFormats = new Map();
function formatNumber(value, decimals) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (!numberFormats.has(decimals)) {
    numberFormats.set(decimals, new Intl.NumberFormat('en-US', {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals,
    }));
  }
  return numberFormats.get(decimals).format(value);
}
const formatCount = (value) => formatNumber(value, 0);
const formatPercent = (probability, decimals = 1) =>
  (probability === null || probability === undefined ? '–' : `${formatNumber(probability * 100, decimals)}%`);
const percentTicks = { callback: (value) => formatPercent(value, 0) };

// Money with 2 decimals, with the run's currency when it has one.
function formatMoney(value) {
  const amount = formatNumber(value, 2);
  const currency = state.run?.currency;
  return currency && amount !== '–' ? `${amount} ${currency}` : amount;
}

function levelCount() {
  return state.run.level_cuts.length + 1;
}

// A level's bound, short: 170, 1,100, 250K, 1.5M.
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const formatCut = (cut) => (cut >= 10000 ? compactFormat.format(cut) : formatCount(cut));

// "L2 · 170–260": the level and its range of monthly spend.
function levelName(level) {
  const cuts = state.run.level_cuts;
  let range;
  if (level === 0) range = `under ${formatCut(cuts[0])}`;
  else if (level >= cuts.length) range = `${formatCut(cuts[cuts.length - 1])}+`;
  else range = `${formatCut(cuts[level - 1])}–${formatCut(cuts[level])}`;
  return `L${level} · ${range}`;
}

// A table's column head for a level: "L2", its range as a tooltip.
const levelHeader = (level) => el('th', { title: levelName(level) }, `L${level}`);
// The level name on two lines, for a chart's axis.
const levelLabel = (level) => levelName(level).split(' · ');
const monthOf = (date) => String(date).slice(0, 7);

function trendPill(trend) {
  const symbols = { down: '▼', up: '▲', same: '●' };
  return el('span', { class: `pill trend-${trend}` }, `${symbols[trend] || ''} ${trend}`);
}

// A labelled number tile; ID, when given, is its value's element's.
function kpi(label, value, note, id) {
  return el('div', { class: 'kpi' }, el('div', { class: 'kpi-label' }, label),
    el('div', id ? { class: 'kpi-value', id } : { class: 'kpi-value' }, value),
    note ? el('div', { class: 'kpi-note' }, note) : null);
}

function fact(label, value) {
  return el('div', { class: 'fact' }, el('dt', {}, label), el('dd', {}, value));
}

function showBanner(message) {
  const banner = $('banner');
  banner.textContent = message;
  banner.hidden = !message;
}

// ---- API access, with the bearer token asked for on 401 ----

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let tokenPrompt = null;
function askForToken(wasRejected) {
  if (!tokenPrompt) {
    tokenPrompt = new Promise((resolve) => {
      const dialog = $('token-dialog');
      $('token-error').textContent = wasRejected ? 'That token was not accepted.' : '';
      $('token-input').value = '';
      $('token-form').onsubmit = (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, $('token-input').value.trim());
        dialog.close();
        tokenPrompt = null;
        resolve();
      };
      dialog.showModal();
    });
  }
  return tokenPrompt;
}

async function api(path) {
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const response = await fetch(path, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      cache: 'no-store',
    });
    if (response.status === 401) {
      await askForToken(Boolean(token));
      continue;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, body?.error?.message ?? response.statusText);
    }
    return body;
  }
}

// ---- Charts ----

function drawChart(canvasId, config) {
  const existing = state.graphs.get(canvasId);
  if (existing) existing.destroy();
  state.graphs.set(canvasId, new Chart($(canvasId), config));
}

function clearChart(canvasId) {
  const existing = state.graphs.get(canvasId);
  if (existing) existing.destroy();
  state.graphs.delete(canvasId);
}

// The tooltip plugin's options with LABEL, a function of the hovered item, as its text.
const tooltipLabel = (label) => ({ tooltip: { callbacks: { label } } });

function axis(title, extra = {}) {
  return { title: { display: Boolean(title), text: title }, grid: { color: COLORS.grid }, ...extra };
}

// The x axis of a chart by level, its two-line labels kept level and small.
const levelAxis = () => axis('', {
  grid: { display: false }, ticks: { maxRotation: 0, autoSkip: false, font: { size: 11 } },
});

function setChartDefaults() {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = COLORS.muted;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.legend.labels.boxHeight = 12;
  Chart.defaults.plugins.tooltip.backgroundColor = COLORS.ink;
  Chart.defaults.animation = false;
}

// ---- Overview: the run, its validation metrics, levels and transitions ----

function renderRunHeader() {
  const run = state.run;
  fill($('run-chip'), el('span', { class: 'chip-model' }, run.model_kind), ` ${run.run}`);
  $('run-name').textContent = run.run;
  const source = run.source || {};
  $('run-subtitle').textContent = `${run.model_kind} model · data ${source.first_month || '?'} to ` +
    `${source.last_month || '?'} · scored as of ${run.scored_as_of} · validated on ${monthOf(run.valid_as_of)}`;
  fill($('run-facts'),
    fact('Model', run.model_kind),
    fact('Data period', `${source.first_month || '–'} to ${source.last_month || '–'}`),
    fact('Scored as of', run.scored_as_of),
    fact('Forecast horizon', `${run.horizon_months} month${run.horizon_months === 1 ? '' : 's'}`),
    fact('Validation month', monthOf(run.valid_as_of)),
    fact('Run created', run.created_utc),
    fact('Loaded', run.loaded_utc),
    fact('Source', source.location || '–'));

  const metrics = run.metrics || {};
  $('metrics-caption').title = run.evaluation_set || '';
  $('metrics-caption').textContent = `The saved model scored ${formatCount(metrics.n)} customers of ` +
    `${monthOf(run.valid_as_of)} whose spend is known.`;
  const tile = (label, value, note) => el('div', { class: 'metric' },
    el('div', { class: 'metric-label' }, label), el('div', { class: 'metric-value' }, value),
    el('div', { class: 'metric-note' }, note));
  fill($('metrics'),
    tile('Error (MAE, log1p)', formatNumber(metrics.mae_log1p, 2),
      'mean absolute error of log(1 + spend); lower is better'),
    tile('Ranking (Gini)', formatNumber(metrics.gini_normalized, 2),
      'normalised Gini: 1 orders customers perfectly, 0 at random'),
    tile('80% interval coverage', formatPercent(metrics.coverage_80),
      'actual spends inside p10–p90; 80% when calibrated'),
    tile('P(buy) calibration error', formatPercent(metrics.p_buy_ece),
      'expected calibration error; 0 when calibrated'),
    tile('P(fall) AUC', formatNumber(metrics.p_down_auc, 2),
      'how well P(fall) separates fallers; 0.5 is chance'),
    tile('Expected total / actual', formatNumber(metrics.total_ratio_expected, 2),
      'sum of expected spend over the actual total; 1 is exact'));
}

function renderOverview(segments) {
  const atRisk = segments.at_risk;
  fill($('overview-kpis'),
    kpi('Customers scored', formatCount(segments.customers), `for ${monthOf(state.run.scored_as_of)}`, 'kpi-customers'),
    kpi('Likely to fall a level', formatCount(atRisk.customers),
      `${formatPercent(atRisk.customers / segments.customers)} of customers have P(fall) ≥ 50%`, 'kpi-at-risk'),
    kpi('Monthly spend at risk', formatMoney(atRisk.spend_at_risk), 'current spend above the expected, summed',
      'kpi-spend-at-risk'),
    kpi('Validation customers', formatCount(state.run.metrics?.n),
      `in ${monthOf(state.run.valid_as_of)}`));

  const levels = [...Array(levelCount()).keys()];
  drawChart('levels-chart', {
    type: 'bar',
    data: {
      labels: levels.map(levelLabel),
      datasets: [
        { label: 'Now', data: segments.current_level_counts, backgroundColor: COLORS.now },
        { label: 'Most probable next month', data: segments.predicted_level_counts, backgroundColor: COLORS.predicted },
        { label: 'Expected next month', data: segments.expected_level_counts, backgroundColor: COLORS.expected },
      ],
    },
    options: {
      scales: { x: levelAxis(), y: axis('customers', { beginAtZero: true }) },
      plugins: tooltipLabel((item) => `${item.dataset.label}: ${formatNumber(item.raw, 1)}`),
    },
  });

  const row = (label, values, decimals) => el('tr', {}, el('th', {}, label),
    values.map((value) => el('td', {}, formatNumber(value, decimals))));
  fill($('level-table'),
    el('thead', {}, el('tr', {}, el('th', {}, 'Level'), levels.map(levelHeader))),
    el('tbody', {},
      row('Now', segments.current_level_counts, 0),
      row('Most probable', segments.predicted_level_counts, 0),
      row('Expected', segments.expected_level_counts, 1)));

  renderTransitions(segments.transitions, levels);
}

function renderTransitions(transitions, levels) {
  const head = el('tr', {}, el('th', { class: 'corner' }, 'now ╲ next'), levels.map(levelHeader),
    el('th', {}, 'Total'));
  const body = transitions.map((counts, from) => {
    const total = counts.reduce((sum, count) => sum + count, 0);
    const cells = counts.map((count, to) => {
      const share = total ? count / total : 0;
      const title = `${levelName(from)} → ${levelName(to)}: ${formatCount(count)} `
        + `(${formatPercent(share)} of the row)`;
      const cell = el('td', { title }, formatCount(count));
      const hue = to < from ? HEAT.fall : (to > from ? HEAT.rise : HEAT.keep);
      cell.style.backgroundColor = `rgba(${hue}, ${(0.05 + 0.85 * share).toFixed(3)})`;
      if (share > 0.5) cell.classList.add('dark');
      if (from === to) cell.classList.add('diagonal');
      return cell;
    });
    return el('tr', {}, el('th', {}, levelName(from)), cells, el('td', { class: 'total' }, formatCount(total)));
  });
  fill($('transitions'), el('thead', {}, head), el('tbody', {}, body));
}

async function showOverview() {
  if (!state.overview) state.overview = await api('/v1/segments?limit=1');
  renderOverview(state.overview);
}

// ---- At-risk customers: search, sort, level filter, paging ----

function atRiskQuery() {
  const { q, sort, level, offset, limit } = state.atRisk;
  const params = new URLSearchParams({ sort, offset, limit });
  if (level !== '') params.set('level', level);
  if (q) params.set('q', q);
  return params.toString();
}

function fillLevelOptions() {
  const select = $('at-risk-level');
  if (select.options.length > 1) return;
  for (let level = 0; level < levelCount(); level += 1) select.append(el('option', { value: level }, levelName(level)));
}

function readAtRiskRoute(query) {
  const params = new URLSearchParams(query);
  const limit = Number(params.get('limit'));
  state.atRisk = {
    q: params.get('q') || '',
    sort: params.get('sort') === 'p_down' ? 'p_down' : 'spend_at_risk',
    level: params.get('level') || '',
    offset: Math.max(0, Number(params.get('offset')) || 0),
    limit: [25, 50, 100].includes(limit) ? limit : 50,
  };
  $('at-risk-q').value = state.atRisk.q;
  $('at-risk-sort').value = state.atRisk.sort;
  $('at-risk-level').value = state.atRisk.level;
  $('at-risk-limit').value = String(state.atRisk.limit);
}

// Changes the list's settings, keeps them in the URL (for the back button) and reloads the list.
function updateAtRisk(changes) {
  Object.assign(state.atRisk, changes);
  history.replaceState(null, '', `#/at-risk?${atRiskQuery()}`);
  $('search-note').textContent = '';
  loadAtRisk().catch(reportError);
}

const customerHash = (id) => `#/customer/${encodeURIComponent(id)}`;

async function loadAtRisk() {
  const request = ++state.atRiskRequest;
  const segments = await api(`/v1/segments?${atRiskQuery()}`);
  if (request !== state.atRiskRequest) return;
  const atRisk = segments.at_risk;
  $('at-risk-summary').textContent = `${formatCount(atRisk.customers)} of ${formatCount(segments.customers)} `
    + 'customers are more likely than not to fall a spend level, with '
    + `${formatMoney(atRisk.spend_at_risk)} of monthly spend at risk.`;

  const hasNextPurchase = atRisk.rows.some((row) => row.next_purchase_date);
  const columns = ['Customer', 'Level now', 'Predicted level', 'P(fall)', 'Trend', 'Spend at risk', 'Expected spend'];
  if (hasNextPurchase) columns.push('Next purchase');
  fill($('at-risk-head'), columns.map((name) => el('th', { class: /spend/i.test(name) ? 'num' : '' }, name)));

  const rows = atRisk.rows.map((row) => {
    const cells = [
      el('td', {}, el('a', { href: customerHash(row.customer_id) }, row.customer_id)),
      el('td', {}, levelName(row.current_level)),
      el('td', {}, levelName(row.predicted_level)),
      el('td', {}, el('span', { class: 'meter' }, el('span', { class: 'meter-fill' })), formatPercent(row.p_down)),
      el('td', {}, trendPill(row.trend)),
      el('td', { class: 'num spend-at-risk' }, formatMoney(row.spend_at_risk)),
      el('td', { class: 'num' }, formatMoney(row.expected_spend)),
    ];
    cells[3].querySelector('.meter-fill').style.width = `${Math.round(row.p_down * 100)}%`;
    if (hasNextPurchase) cells.push(el('td', {}, row.next_purchase_date || '–'));
    const open = () => { location.hash = customerHash(row.customer_id); };
    const onkeydown = (event) => { if (event.key === 'Enter') open(); };
    const tr = el('tr', { tabindex: 0, onclick: open, onkeydown }, cells);
    tr.dataset.customerId = row.customer_id;
    return tr;
  });
  if (rows.length === 0) {
    rows.push(el('tr', {}, el('td', { class: 'empty', colspan: columns.length }, 'No at-risk customer matches.')));
  }
  fill($('at-risk-body'), rows);

  const first = atRisk.matching ? atRisk.offset + 1 : 0;
  const last = atRisk.offset + atRisk.rows.length;
  $('at-risk-range').textContent = `${formatCount(first)}–${formatCount(last)} of ${formatCount(atRisk.matching)}`;
  $('at-risk-prev').disabled = atRisk.offset === 0;
  $('at-risk-next').disabled = last >= atRisk.matching;
}

// Enter in the search box: an exact id opens the customer; otherwise the list stays filtered by prefix.
async function openSearchedCustomer() {
  const id = $('at-risk-q').value.trim();
  if (!id) return;
  try {
    await api(`/v1/customers/${encodeURIComponent(id)}`);
    location.hash = customerHash(id);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    $('search-note').textContent = `No customer has the id “${id}”; `
      + 'the list shows at-risk customers whose id starts with it.';
  }
}

function bindAtRiskControls() {
  let typing = null;
  $('at-risk-q').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => updateAtRisk({ q: $('at-risk-q').value.trim(), offset: 0 }), 250);
  });
  $('at-risk-form').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    openSearchedCustomer().catch(reportError);
  });
  $('at-risk-sort').addEventListener('change', (event) => updateAtRisk({ sort: event.target.value, offset: 0 }));
  $('at-risk-level').addEventListener('change', (event) => updateAtRisk({ level: event.target.value, offset: 0 }));
  $('at-risk-limit').addEventListener('change',
    (event) => updateAtRisk({ limit: Number(event.target.value), offset: 0 }));
  $('at-risk-prev').addEventListener('click', () =>
    updateAtRisk({ offset: Math.max(0, state.atRisk.offset - state.atRisk.limit) }));
  $('at-risk-next').addEventListener('click', () => updateAtRisk({ offset: state.atRisk.offset + state.atRisk.limit }));
}

// ---- One customer ----

const NOT_WITHOUT_INPUT = 'not available: the server was started without --input';

function renderCustomer(customer) {
  $('customer-id').textContent = customer.customer_id;
  fill($('customer-trend'), trendPill(customer.trend));
  $('customer-move').textContent = `Level now ${levelName(customer.current_level)}; most probable next month ` +
    `${levelName(customer.predicted_level)}.`;
  fill($('customer-kpis'),
    kpi('Expected spend', formatMoney(customer.expected_spend), 'mean of the forecast', 'customer-expected'),
    kpi('Median spend (p50)', formatMoney(customer.p50), 'as likely below as above', 'customer-p50'),
    kpi('80% interval', `${formatMoney(customer.p10)} – ${formatMoney(customer.p90)}`, 'p10 to p90',
      'customer-interval'),
    kpi('P(buy)', formatPercent(customer.p_buy), `buys in ${monthOf(state.run.scored_as_of)}`, 'customer-p-buy'),
    kpi('Current monthly spend', formatMoney(customer.current_monthly_spend), null, 'customer-current'),
    kpi('Spend at risk', formatMoney(customer.spend_at_risk), `P(fall) ${formatPercent(customer.p_down)}`,
      'customer-spend-at-risk'));
  renderHistory(customer);
  renderLevelProbabilities(customer);
  renderBtyd(customer);
  renderReasons(customer);
}

function renderHistory(customer) {
  const history = customer.history || [];
  const forecastLabel = state.run.horizon_months === 1 ? `${monthOf(state.run.scored_as_of)} (forecast)`
    : `${monthOf(state.run.scored_as_of)} + ${state.run.horizon_months} months (forecast)`;
  const labels = [...history.map((point) => point.month), forecastLabel];
  const atForecast = (value) => [...history.map(() => null), value];
  $('history-note').textContent = customer.history
    ? 'Bars: spend per month; at the right: next month\'s 80% interval, median and mean.'
    : `Monthly history ${NOT_WITHOUT_INPUT}. Shown: next month's 80% interval, median and mean.`;
  const marker = (label, value, color, style, radius) => ({
    type: 'line', label, data: atForecast(value), showLine: false, pointStyle: style,
    pointRadius: radius, pointHoverRadius: radius + 1, borderColor: color, backgroundColor: color, borderWidth: 3,
  });
  const datasets = [
    { label: '80% interval (p10–p90)', data: atForecast([customer.p10, customer.p90]), backgroundColor: COLORS.band,
      borderColor: COLORS.predicted, borderWidth: 1, grouped: false, maxBarThickness: 72 },
    marker('Median (p50)', customer.p50, COLORS.predicted, 'line', 18),
    marker('Expected', customer.expected_spend, COLORS.actual, 'rectRot', 7),
  ];
  if (customer.history) {
    datasets.unshift({ label: 'Monthly spend', data: [...history.map((point) => point.spend), null],
      backgroundColor: COLORS.now, grouped: false, maxBarThickness: 72 });
  }
  drawChart('history-chart', {
    type: 'bar',
    data: { labels, datasets },
    options: {
      scales: { x: axis('', { grid: { display: false } }), y: axis('spend', { beginAtZero: true }) },
      plugins: tooltipLabel((item) => (Array.isArray(item.raw)
        ? `${item.dataset.label}: ${formatMoney(item.raw[0])} – ${formatMoney(item.raw[1])}`
        : `${item.dataset.label}: ${formatMoney(item.raw)}`)),
    },
  });
}

function renderLevelProbabilities(customer) {
  const probabilities = customer.level_probabilities;
  let labels;
  let values;
  let colors;
  if (probabilities) {
    $('levels-title').textContent = 'Probability of each level next month';
    $('levels-note').textContent = `Level now: ${levelName(customer.current_level)} (darker bar).`;
    labels = probabilities.map((_, level) => levelLabel(level));
    values = probabilities;
    colors = probabilities.map((_, level) => (level === customer.current_level ? COLORS.predicted : COLORS.expected));
  } else {
    $('levels-title').textContent = 'Fall, keep or rise a level';
    $('levels-note').textContent = `Probability of each level ${NOT_WITHOUT_INPUT}.`;
    labels = ['Fall', 'Keep', 'Rise'];
    values = [customer.p_down, customer.p_same, customer.p_up];
    colors = [COLORS.down, COLORS.now, COLORS.up];
  }
  drawChart('customer-levels-chart', {
    type: 'bar',
    data: { labels, datasets: [{ label: 'probability', data: values, backgroundColor: colors }] },
    options: {
      scales: {
        x: levelAxis(),
        y: axis('probability', { beginAtZero: true, suggestedMax: 1, ticks: percentTicks }),
      },
      plugins: { legend: { display: false }, ...tooltipLabel((item) => formatPercent(item.raw)) },
    },
  });
}

function renderBtyd(customer) {
  const facts = $('btyd-facts');
  const fields = [
    ['P(alive)', customer.p_alive, formatPercent],
    ['Expected purchases', customer.expected_purchases, (value) => formatNumber(value, 2)],
    ['Next purchase', customer.next_purchase_date, String],
  ];
  const present = fields.filter(([, value]) => value !== undefined && value !== null);
  facts.hidden = present.length === 0;
  fill(facts, present.map(([label, value, format]) => fact(label, format(value))));
}

const PART_NAMES = { p_buy: 'P(buy)', spend_if_buying: 'Spend if buying', spend: 'Spend' };

function renderReasons(customer) {
  const box = $('reasons');
  for (const canvasId of [...state.graphs.keys()].filter((id) => id.startsWith('reason-'))) clearChart(canvasId);
  if (!customer.contributions) {
    $('reasons-note').textContent = state.run.has_history
      ? 'The server sent no reasons for this customer: they need a tree model (xgboost, hurdle, stack).'
      : `Reasons are ${NOT_WITHOUT_INPUT}.`;
    fill(box);
    return;
  }
  $('reasons-note').textContent = 'Each feature\'s contribution (XGBoost SHAP value) to a part of the forecast, ' +
    'on the part\'s scale: to the right raises it, to the left lowers it.';
  fill(box, customer.contributions.map((part, index) => {
    const canvas = el('canvas', { id: `reason-${index}` });
    const top = part.top || [];
    const panel = el('div', { class: 'reason' },
      el('h3', {}, PART_NAMES[part.part] || part.part),
      el('p', { class: 'muted' },
        `scale: ${part.scale} · base ${formatNumber(part.base, 2)} → this customer ${formatNumber(part.value, 2)}`),
      el('div', { class: 'chart-box reason-box' }, canvas));
    panel.querySelector('.reason-box').style.height = `${40 + 26 * top.length}px`;
    return panel;
  }));
  customer.contributions.forEach((part, index) => {
    const top = part.top || [];
    drawChart(`reason-${index}`, {
      type: 'bar',
      data: {
        labels: top.map((item) => item.feature),
        datasets: [{
          label: 'contribution', data: top.map((item) => item.value),
          backgroundColor: top.map((item) => (item.value >= 0 ? COLORS.up : COLORS.down)),
        }],
      },
      options: {
        indexAxis: 'y',
        scales: { x: axis(part.scale), y: axis('', { grid: { display: false }, ticks: { color: COLORS.ink } }) },
        plugins: { legend: { display: false }, ...tooltipLabel((item) => formatNumber(item.raw, 3)) },
      },
    });
  });
}

async function showCustomer(id) {
  $('customer-back').href = `#/at-risk?${atRiskQuery()}`;
  try {
    renderCustomer(await api(`/v1/customers/${encodeURIComponent(id)}`));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) throw new Error(`No customer has the id “${id}”.`);
    throw error;
  }
}

// ---- Model quality charts ----

function diagonal(label) {
  return { type: 'line', label, data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: COLORS.now, borderDash: [5, 4],
    borderWidth: 1, pointRadius: 0 };
}

// Axes from 0 to 100% for a chart of shares or probabilities against each other.
function unitSquare(xTitle, yTitle) {
  return {
    x: axis(xTitle, { type: 'linear', min: 0, max: 1, ticks: percentTicks }),
    y: axis(yTitle, { min: 0, max: 1, ticks: percentTicks }),
  };
}

// Draws the chart that CONFIG makes of ROWS, or says that the run has no such chart.
function drawRunChart(canvasId, rows, config) {
  const box = $(canvasId).parentElement;
  const present = Array.isArray(rows) && rows.length > 0;
  box.classList.toggle('unavailable', !present);
  box.dataset.note = 'Not in this run.';
  if (present) drawChart(canvasId, config(rows));
  else clearChart(canvasId);
}

function reliabilityChart(label) {
  return (bins) => {
    const largest = Math.max(...bins.map((bin) => bin.count));
    return {
      type: 'line',
      data: {
        datasets: [
          diagonal('perfectly calibrated'),
          { label, data: bins.map((bin) => ({ x: bin.mean_predicted, y: bin.observed_rate, count: bin.count })),
            borderColor: COLORS.predicted, backgroundColor: COLORS.predicted, clip: 10,
            pointRadius: bins.map((bin) => 2.5 + 5 * Math.sqrt(bin.count / largest)) },
        ],
      },
      options: {
        scales: unitSquare('predicted probability', 'observed rate'),
        plugins: tooltipLabel((item) => (item.raw.count === undefined ? item.dataset.label
          : `predicted ${formatPercent(item.raw.x)}, observed ${formatPercent(item.raw.y)} `
            + `(${formatCount(item.raw.count)} customers)`)),
      },
    };
  };
}

function decilesChart(deciles) {
  return {
    type: 'bar',
    data: {
      labels: deciles.map((row) => `${row.decile}`),
      datasets: [
        { label: 'Mean predicted', data: deciles.map((row) => row.mean_predicted), backgroundColor: COLORS.predicted },
        { label: 'Mean actual', data: deciles.map((row) => row.mean_actual), backgroundColor: COLORS.actual },
      ],
    },
    options: {
      scales: {
        x: axis('decile of predicted spend', { grid: { display: false } }),
        y: axis('spend', { beginAtZero: true }),
      },
      plugins: tooltipLabel((item) => `${item.dataset.label}: ${formatMoney(item.raw)}`),
    },
  };
}

function gainChart(gain) {
  return {
    type: 'line',
    data: {
      datasets: [
        diagonal('customers at random'),
        { label: 'customers ranked by the model',
          data: gain.map((row) => ({ x: row.customer_share, y: row.spend_share })),
          borderColor: COLORS.predicted, backgroundColor: COLORS.band, fill: '-1', pointRadius: 0, borderWidth: 2 },
      ],
    },
    options: {
      scales: unitSquare('share of customers', 'share of actual spend'),
      plugins: tooltipLabel((item) => `top ${formatPercent(item.raw.x)} of customers: `
        + `${formatPercent(item.raw.y)} of spend`),
    },
  };
}

function renderQuality(charts) {
  drawRunChart('deciles-chart', charts.deciles, decilesChart);
  drawRunChart('gain-chart', charts.gain, gainChart);
  drawRunChart('reliability-p-buy-chart', charts.reliability_p_buy, reliabilityChart('P(buy)'));
  drawRunChart('reliability-p-down-chart', charts.reliability_p_down, reliabilityChart('P(fall)'));
}

async function showQuality() {
  if (!state.charts) state.charts = await api('/v1/charts');
  renderQuality(state.charts);
}

// ---- Routing: #/overview, #/at-risk?..., #/customer/<id>, #/quality ----

function reportError(error) {
  showBanner(error instanceof ApiError ? `The server answered ${error.status}: ${error.message}` : error.message);
}

async function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const [view, ...rest] = path.split('/');
  const name = ['at-risk', 'customer', 'quality'].includes(view) ? view : 'overview';
  for (const element of document.querySelectorAll('.view')) element.hidden = element.id !== `view-${name}`;
  for (const tab of document.querySelectorAll('.tabs a')) {
    const tabView = name === 'customer' ? 'at-risk' : name;
    tab.classList.toggle('active', tab.dataset.view === tabView);
  }
  showBanner('');
  delete document.body.dataset.ready;
  const section = $(`view-${name}`);
  section.classList.add('loading');
  try {
    if (name === 'overview') await showOverview();
    else if (name === 'at-risk') {
      readAtRiskRoute(query);
      await loadAtRisk();
    } else if (name === 'customer') await showCustomer(decodeURIComponent(rest.join('/')));
    else await showQuality();
    document.body.dataset.ready = name;
  } catch (error) {
    section.hidden = true;
    reportError(error);
  } finally {
    section.classList.remove('loading');
  }
}

async function start() {
  setChartDefaults();
  bindAtRiskControls();
  for (;;) {
    try {
      state.run = await api('/v1/run');
      break;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 503) {
        reportError(error);
        return;
      }
      showBanner('The server is still loading the run; retrying…');
      await new Promise((resolve) => { setTimeout(resolve, 2000); });
    }
  }
  renderRunHeader();
  fillLevelOptions();
  window.addEventListener('hashchange', route);
  await route();
}

start();
