// The leader dashboard (领导驾驶舱): scope, window and as-of pickers, KPI tiles, a
// zero-filled series, breakdowns, the department ranking, hot topics and the overdue
// list, all read through the public GraphQL API with the tab's API key (if any).
// The page's state lives in its URL, so a view can be bookmarked and shared.
import {
  statusLabel, applyLabels, asOfEndOfDay, formatCount, formatInstant, formatRate, gql, h, headerControls,
  shanghaiDate, showError, sortableTable, t, windowOf,
} from "./common.js";

const STATS_FIELDS = "received due replyRate onTimeRate completionRate satisfactionRate overdueNow suppressed";

/** The KPI tiles: metric, kind (a count or a rate). */
const KPIS = [
  ["received", "count"],
  ["due", "count"],
  ["replyRate", "rate"],
  ["onTimeRate", "rate"],
  ["completionRate", "rate"],
  ["satisfactionRate", "rate"],
  ["overdueNow", "count"],
];

const DIMENSIONS = ["REGION", "DEPARTMENT", "CATEGORY", "CHANNEL", "KIND"];

const charts = {};

/** The view's state, read from and written to the URL. */
function readState() {
  const params = new URLSearchParams(location.search);
  return {
    region: params.get("region") || null,
    department: params.get("department") || null,
    preset: params.get("window") || "thisMonth",
    from: params.get("from") || "",
    to: params.get("to") || "",
    asOf: params.get("asOf") || "",
    by: params.get("by") || "REGION",
  };
}

function writeState(state) {
  const params = new URLSearchParams();
  if (state.region) params.set("region", state.region);
  if (state.department) params.set("department", state.department);
  if (state.preset !== "thisMonth") params.set("window", state.preset);
  if (state.preset === "custom") {
    params.set("from", state.from);
    params.set("to", state.to);
  }
  if (state.asOf) params.set("asOf", state.asOf);
  if (state.by !== "REGION") params.set("by", state.by);
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

let state = readState();
let viewer = null;

function scopeInput() {
  return { regionCode: state.region, departmentId: state.department };
}

function currentWindow() {
  return windowOf(state.preset, state.from, state.to);
}

function variables(extra = {}) {
  const window = currentWindow();
  return { scope: scopeInput(), from: window.from, to: window.to, asOf: asOfEndOfDay(state.asOf), ...extra };
}

async function main() {
  applyLabels();
  document.title = t("dashboardTitle");
  document.getElementById("header-controls").replaceChildren(...headerControls(() => location.reload()));
  try {
    viewer = (await gql("{ viewer { role region { code name } department { id name } } }")).viewer;
  } catch (error) {
    showError(document.getElementById("status"), error);
    return;
  }
  // A scoped key starts at its own region; it cannot look above it.
  if (!state.region && viewer.region) state.region = viewer.region.code;
  if (!state.department && viewer.department) state.department = viewer.department.id;
  bindControls();
  await refresh();
}

function bindControls() {
  const preset = document.getElementById("window-preset");
  const custom = document.getElementById("custom-window");
  const from = document.getElementById("custom-from");
  const to = document.getElementById("custom-to");
  const asOf = document.getElementById("as-of");
  preset.value = state.preset;
  custom.hidden = state.preset !== "custom";
  from.value = state.from;
  to.value = state.to;
  asOf.value = state.asOf;
  asOf.max = `${shanghaiDate().y}-12-31`;
  preset.addEventListener("change", () => {
    state.preset = preset.value;
    custom.hidden = state.preset !== "custom";
    if (state.preset !== "custom" || (state.from && state.to)) refresh();
  });
  for (const input of [from, to]) {
    input.addEventListener("change", () => {
      state.from = from.value;
      state.to = to.value;
      if (state.from && state.to) refresh();
    });
  }
  asOf.addEventListener("change", () => {
    state.asOf = asOf.value;
    refresh();
  });
  document.getElementById("scope-child").addEventListener("change", (event) => {
    if (!event.target.value) return;
    state.region = event.target.value;
    state.department = viewer.department ? viewer.department.id : null;
    refresh();
  });
  document.getElementById("department").addEventListener("change", (event) => {
    state.department = event.target.value || null;
    refresh();
  });
  document.getElementById("ranking-form").addEventListener("change", () => loadRanking());
}

/** Reloads every panel for the current state. */
async function refresh() {
  writeState(state);
  const status = document.getElementById("status");
  status.textContent = "…";
  updateBulletinLink();
  await Promise.all([
    loadScope(), loadDepartments(), loadKpis(), loadSeries(), loadBreakdown(), loadRanking(),
    loadHotTopics(), loadOverdue(),
  ]);
  status.textContent = "";
  document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
}

// ---------------------------------------------------------------------------
// Scope: a breadcrumb from the key's root (or the country) down to the current region,
// and a picker of the current region's children.

async function loadScope() {
  const path = document.getElementById("scope-path");
  const picker = document.getElementById("scope-child");
  const rootCode = viewer.region ? viewer.region.code : null;
  const crumbs = [];
  try {
    if (state.region) {
      const data = await gql(
        `query($code: String!) { region(code: $code) { code name level
           parent { code name parent { code name parent { code name } } } } }`,
        { code: state.region }
      );
      let node = data.region;
      while (node) {
        crumbs.unshift(node);
        if (node.code === rootCode) break;
        node = node.parent;
      }
    }
    const children = (
      await gql("query($parent: String) { regions(parentCode: $parent) { code name } }", { parent: state.region })
    ).regions;
    const items = [];
    if (!rootCode) items.push(crumbButton(t("allRegions"), null));
    for (const crumb of crumbs) items.push(crumbButton(crumb.name, crumb.code));
    path.replaceChildren(...items);
    picker.replaceChildren(
      h("option", { value: "" }, children.length ? `${t("REGION")}…` : "—"),
      ...children.map((c) => h("option", { value: c.code }, c.name))
    );
    picker.disabled = children.length === 0;
    const tab = document.querySelector('[data-dimension="REGION"]');
    if (tab) tab.disabled = children.length === 0;
  } catch (error) {
    showError(path, error);
  }
}

function crumbButton(label, code) {
  const current = (code || null) === (state.region || null);
  return h(
    "button",
    {
      type: "button",
      class: "crumb",
      "aria-current": current ? "page" : null,
      dataset: { code: code || "" },
      onclick: () => {
        state.region = code;
        refresh();
      },
    },
    label
  );
}

async function loadDepartments() {
  const select = document.getElementById("department");
  try {
    const data = await gql(
      "query($region: String) { departments(regionCode: $region, first: 100) { edges { node { id name } } } }",
      { region: state.region }
    );
    const options = data.departments.edges.map((e) => h("option", { value: e.node.id }, e.node.name));
    const all = viewer.department ? [] : [h("option", { value: "" }, t("allDepartments"))];
    select.replaceChildren(...all, ...options);
    select.value = state.department || "";
  } catch (error) {
    select.replaceChildren(h("option", { value: "" }, t("loadFailed")));
  }
}

// ---------------------------------------------------------------------------
// KPI tiles with the change against the previous period.

async function loadKpis() {
  const container = document.getElementById("kpis");
  const window = currentWindow();
  try {
    const data = await gql(
      `query($scope: ScopeInput, $from: DateTime!, $to: DateTime!, $pFrom: DateTime!, $pTo: DateTime!, $asOf: DateTime) {
         current: stats(scope: $scope, from: $from, to: $to, asOf: $asOf) { ${STATS_FIELDS} }
         previous: stats(scope: $scope, from: $pFrom, to: $pTo, asOf: $asOf) { ${STATS_FIELDS} } }`,
      variables({ pFrom: window.previous.from, pTo: window.previous.to })
    );
    container.replaceChildren(...KPIS.map(([metric, kind]) => kpiTile(metric, kind, data.current, data.previous)));
  } catch (error) {
    showError(container, error);
  }
}

function kpiTile(metric, kind, current, previous) {
  const value = current[metric];
  const before = previous[metric];
  const hidden = current.suppressed && value === null;
  const format = kind === "rate" ? formatRate : formatCount;
  let delta = "";
  if (value !== null && before !== null && !hidden) {
    if (kind === "rate") {
      const points = (value - before) * 100;
      delta = `${points >= 0 ? "+" : ""}${points.toFixed(1)} pt`;
    } else if (before > 0) {
      const change = ((value - before) / before) * 100;
      delta = `${change >= 0 ? "+" : ""}${change.toFixed(1)}%`;
    }
  }
  return h(
    "div",
    { class: "kpi", id: `kpi-${metric}`, dataset: { metric, value: value === null ? "" : String(value) } },
    h("span", { class: "label" }, t(metric)),
    h("span", { class: hidden ? "value hidden-value" : "value" }, hidden ? t("suppressed") : format(value)),
    h("span", { class: "delta", title: t("vsPrevious") }, delta ? `${delta} ${t("vsPrevious")}` : "")
  );
}

// ---------------------------------------------------------------------------
// The time series (every interval present, zero-filled by the API).

async function loadSeries() {
  const container = document.getElementById("series-chart");
  const window = currentWindow();
  try {
    const data = await gql(
      `query($interval: Interval!, $scope: ScopeInput, $from: DateTime!, $to: DateTime!, $asOf: DateTime) {
         timeSeries(interval: $interval, scope: $scope, from: $from, to: $to, asOf: $asOf) {
           start stats { received replyRate satisfactionRate } } }`,
      variables({ interval: window.interval })
    );
    const points = data.timeSeries;
    container.dataset.points = String(points.length);
    const labels = points.map((p) => formatInstant(p.start).slice(0, window.interval === "MONTH" ? 7 : 10));
    drawChart("series", container, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t("received"), t("replyRate"), t("satisfactionRate")] },
      grid: { left: 50, right: 50, top: 40, bottom: 30 },
      xAxis: { type: "category", data: labels },
      yAxis: [{ type: "value" }, { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => `${v * 100}%` } }],
      series: [
        { name: t("received"), type: "bar", data: points.map((p) => p.stats.received) },
        { name: t("replyRate"), type: "line", yAxisIndex: 1, data: points.map((p) => p.stats.replyRate) },
        { name: t("satisfactionRate"), type: "line", yAxisIndex: 1, data: points.map((p) => p.stats.satisfactionRate) },
      ],
    });
  } catch (error) {
    showError(container, error);
  }
}

function drawChart(name, container, option) {
  if (charts[name]) charts[name].dispose();
  container.replaceChildren();
  charts[name] = echarts.init(container);
  // No animation: a wall screen refreshes without flicker, and a screenshot shows the
  // final picture rather than a frame of the transition.
  charts[name].setOption({ animation: false, ...option });
}

window.addEventListener("resize", () => Object.values(charts).forEach((chart) => chart.resize()));

// ---------------------------------------------------------------------------
// Breakdowns: tabs, a sortable table and a bar chart.

async function loadBreakdown() {
  const tabs = document.getElementById("breakdown-tabs");
  if (!tabs.childElementCount) {
    tabs.replaceChildren(
      ...DIMENSIONS.map((dimension) =>
        h(
          "button",
          {
            type: "button",
            role: "tab",
            dataset: { dimension },
            onclick: () => {
              state.by = dimension;
              writeState(state);
              loadBreakdown();
            },
          },
          t(dimension)
        )
      )
    );
  }
  for (const tab of tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.dimension === state.by));
  const table = document.getElementById("breakdown-table");
  const chart = document.getElementById("breakdown-chart");
  try {
    const data = await gql(
      `query($by: Dimension!, $scope: ScopeInput, $from: DateTime!, $to: DateTime!, $asOf: DateTime) {
         breakdown(by: $by, scope: $scope, from: $from, to: $to, asOf: $asOf) { key label stats { ${STATS_FIELDS} } } }`,
      variables({ by: state.by })
    );
    const groups = data.breakdown;
    const count = (metric) => (g) => g.stats[metric];
    const cell = (metric, format) => (g) =>
      g.stats.suppressed && g.stats[metric] === null ? h("span", { class: "suppressed", title: t("suppressed") }, "＊") : format(g.stats[metric]);
    table.replaceChildren(
      sortableTable(
        [
          { label: t("name"), cell: (g) => g.label, sort: (g) => g.label },
          ...KPIS.map(([metric, kind]) => ({
            label: t(metric),
            numeric: true,
            cell: cell(metric, kind === "rate" ? formatRate : formatCount),
            sort: count(metric),
          })),
        ],
        groups,
        { id: "breakdown-rows" }
      )
    );
    const shown = groups.filter((g) => g.stats.received !== null).slice(0, 30);
    drawChart("breakdown", chart, {
      tooltip: { trigger: "axis" },
      grid: { left: 120, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: shown.map((g) => g.label) },
      series: [{ name: t("received"), type: "bar", data: shown.map((g) => g.stats.received) }],
    });
  } catch (error) {
    showError(table, error);
    chart.replaceChildren();
  }
}

// ---------------------------------------------------------------------------
// The department ranking with its weights, minimum cases and the bottom alert.

async function loadRanking() {
  const container = document.getElementById("ranking");
  const number = (id) => Number(document.getElementById(id).value) || 0;
  try {
    const data = await gql(
      `query($scope: ScopeInput, $from: DateTime!, $to: DateTime!, $asOf: DateTime, $weights: RankWeights, $minCases: Int) {
         ranking(unit: DEPARTMENT, weights: $weights, scope: $scope, from: $from, to: $to, asOf: $asOf, minCases: $minCases) {
           rank unit { id name } score eligible bottomAlert stats { received } } }`,
      variables({
        weights: { replyRate: number("w-reply"), onTimeRate: number("w-ontime"), satisfactionRate: number("w-satisfaction") },
        minCases: number("min-cases"),
      })
    );
    const rows = data.ranking.map((row) =>
      h(
        "tr",
        { dataset: { unitId: row.unit.id }, class: row.bottomAlert ? "alert" : null },
        h("td", { class: "num" }, row.rank === null ? "—" : String(row.rank)),
        h("td", {}, row.unit.name, row.bottomAlert ? h("span", { class: "badge", title: t("bottomAlert") }, ` ⚠ ${t("bottomAlert")}`) : null),
        h("td", { class: "num" }, row.score === null ? "—" : (row.score * 100).toFixed(1)),
        h("td", { class: "num" }, formatCount(row.stats.received)),
        h("td", {}, row.eligible ? t("eligible") : t("notEligible"))
      )
    );
    container.replaceChildren(
      h(
        "table",
        { id: "ranking-table" },
        h("thead", {}, h("tr", {}, ...["rank", "department", "score", "received", "eligible"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, ...rows)
      )
    );
  } catch (error) {
    showError(container, error);
  }
}

// ---------------------------------------------------------------------------
// Hot topics and the overdue list.

async function loadHotTopics() {
  const container = document.getElementById("hot-topics");
  try {
    const data = await gql(
      `query($scope: ScopeInput, $from: DateTime!, $to: DateTime!, $asOf: DateTime) {
         hotTopics(scope: $scope, from: $from, to: $to, asOf: $asOf) { dimension key label count baseline ratio } }`,
      variables()
    );
    container.replaceChildren(
      data.hotTopics.length
        ? sortableTable(
            [
              { label: t("name"), cell: (r) => `${r.label}（${t(r.dimension)}）`, sort: (r) => r.label },
              { label: t("count"), numeric: true, cell: (r) => formatCount(r.count), sort: (r) => r.count },
              { label: t("baseline"), numeric: true, cell: (r) => r.baseline.toFixed(1), sort: (r) => r.baseline },
              { label: t("ratio"), numeric: true, cell: (r) => (r.ratio === null ? "—" : `×${r.ratio.toFixed(2)}`), sort: (r) => r.ratio },
            ],
            data.hotTopics,
            { id: "hot-topics-table" }
          )
        : h("p", {}, t("none"))
    );
  } catch (error) {
    showError(container, error);
  }
}

async function loadOverdue() {
  const container = document.getElementById("overdue");
  try {
    const data = await gql(
      `query($filter: CaseFilter) { cases(filter: $filter, first: 20, orderBy: SUBMITTED_AT_ASC) {
         totalCount nodes { id trackingNumber title status submittedAt replyDueAt department { name } } } }`,
      { filter: { regionCode: state.region, departmentId: state.department, overdue: true } }
    );
    const rows = data.cases.nodes.map((c) =>
      h(
        "tr",
        { dataset: { caseId: c.id } },
        h("td", {}, h("a", { href: `#case-${c.id}`, onclick: (event) => { event.preventDefault(); openCase(c.id); } }, c.trackingNumber)),
        h("td", {}, c.title),
        h("td", {}, c.department ? c.department.name : "—"),
        h("td", {}, statusLabel(c.status)),
        h("td", {}, formatInstant(c.submittedAt)),
        h("td", {}, formatInstant(c.replyDueAt))
      )
    );
    container.replaceChildren(
      h("p", { id: "overdue-total" }, `${formatCount(data.cases.totalCount)}`),
      h(
        "table",
        { id: "overdue-table" },
        h("thead", {}, h("tr", {}, ...["trackingNumber", "title", "department", "status", "submittedAt", "replyDueAt"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, ...rows)
      )
    );
  } catch (error) {
    showError(container, error);
  }
}

/** The case view: its details, event timeline and rating. */
async function openCase(id) {
  const dialog = document.getElementById("case-dialog");
  const body = document.getElementById("case-body");
  body.replaceChildren("…");
  dialog.showModal();
  try {
    const { case: c } = await gql(
      `query($id: ID!) { case(id: $id) { trackingNumber title body status submittedAt replyDueAt reply
         region { name } department { name } category { name }
         events { at action fromStatus toStatus note department { name } }
         rating { level comment ratedAt } } }`,
      { id }
    );
    if (!c) {
      body.replaceChildren(t("outOfScope"));
      return;
    }
    body.replaceChildren(
      h("p", {}, h("strong", {}, c.trackingNumber), " ", c.title),
      h("p", {}, [c.region && c.region.name, c.department && c.department.name, c.category && c.category.name].filter(Boolean).join(" · ")),
      h("p", { class: "case-text" }, c.body),
      c.reply ? h("div", {}, h("h3", {}, t("reply")), h("p", { class: "case-text" }, c.reply)) : null,
      h("h3", {}, t("events")),
      h("ol", { class: "timeline" }, ...c.events.map((e) =>
        h("li", {}, `${formatInstant(e.at)} ${e.action}`, e.toStatus ? ` → ${e.toStatus}` : "", e.department ? ` · ${e.department.name}` : "", e.note ? ` · ${e.note}` : "")
      )),
      h("h3", {}, t("rating")),
      h("p", {}, c.rating ? `${c.rating.level} ${c.rating.comment || ""} (${formatInstant(c.rating.ratedAt)})` : t("none"))
    );
  } catch (error) {
    showError(body, error);
  }
}

// ---------------------------------------------------------------------------
// The monthly bulletin: a stable URL with the month and the as-of instant frozen now,
// so opening it later shows the same numbers.

function updateBulletinLink() {
  const link = document.getElementById("bulletin-link");
  const window = currentWindow();
  const start = new Date(Date.parse(state.preset === "thisMonth" ? window.previous.from : window.from));
  const month = formatInstant(start.toISOString()).slice(0, 7);
  const params = new URLSearchParams({ month });
  if (state.region) params.set("region", state.region);
  link.href = `/dashboard/bulletin?${params}`;
  link.onclick = () => {
    const asOf = asOfEndOfDay(state.asOf) || new Date(Math.floor(Date.now() / 60000) * 60000).toISOString();
    params.set("asOf", asOf);
    link.href = `/dashboard/bulletin?${params}`;
  };
}

main();
