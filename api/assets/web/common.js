// What every minyi page shares: the GraphQL client (with the leader's key from session
// storage), the Chinese/English labels, windows in Asia/Shanghai and number formats.
// Plain ES module, no framework: the pages talk to the same public API as any client.

const KEY_STORAGE = "minyi.apiKey";
const LANG_STORAGE = "minyi.lang";

/** The API key kept for this browser tab (never in local storage: it outlives the tab). */
export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key.trim());
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** A GraphQL error carried to the page: its message and `extensions.code`. */
export class GraphqlError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** Runs a query against /graphql; throws GraphqlError on any error. */
export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = "Bearer " + key;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch (_) {
    throw new GraphqlError("HTTP " + response.status, "INTERNAL");
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new GraphqlError(first.message, (first.extensions || {}).code || "INTERNAL");
  }
  return body.data;
}

// ---------------------------------------------------------------------------
// Labels.

const LABELS = {
  zh: {
    dashboardTitle: "民意 · 领导驾驶舱",
    portalTitle: "民意 · 开放数据",
    bulletinTitle: "民意 · 月度通报",
    keyMetrics: "主要指标",
    print: "打印 / 存为 PDF",
    language: "English",
    enterKey: "输入密钥",
    signOut: "退出密钥",
    keyPrompt: "请输入 API 密钥（只保存在本标签页）",
    publicView: "公众视图",
    keyedView: "已用密钥登录",
    scope: "范围",
    allRegions: "全国",
    department: "部门",
    allDepartments: "全部部门",
    window: "时段",
    thisMonth: "本月",
    lastMonth: "上月",
    thisYear: "今年",
    custom: "自定义",
    from: "起",
    to: "止",
    asOf: "截至",
    now: "现在",
    bulletin: "下载月度通报",
    received: "来件量",
    due: "到期应回复",
    replyRate: "回复率",
    onTimeRate: "按期回复率",
    completionRate: "办结率",
    satisfactionRate: "满意率",
    overdueNow: "当前超期",
    accepted: "受理",
    repliedWhenDue: "到期已答复",
    closed: "办结",
    rated: "已评价",
    participationRate: "参评率",
    repeatRate: "重复件率",
    vsPrevious: "较上期",
    series: "走势",
    breakdown: "分布",
    REGION: "下级地区",
    DEPARTMENT: "部门",
    CATEGORY: "类别",
    CHANNEL: "渠道",
    KIND: "类型",
    name: "名称",
    ranking: "部门排名",
    rank: "名次",
    score: "综合得分",
    weights: "权重",
    minCases: "最少件数",
    bottomAlert: "连续两月倒数",
    eligible: "参与排名",
    notEligible: "件数不足",
    hotTopics: "热点",
    count: "件数",
    baseline: "基线",
    ratio: "倍数",
    overdueList: "超期清单",
    trackingNumber: "编号",
    title: "标题",
    status: "状态",
    submittedAt: "提交时间",
    replyDueAt: "答复期限",
    caseView: "留言详情",
    events: "办理过程",
    rating: "评价",
    reply: "答复",
    close: "关闭",
    suppressed: "小于阈值，已隐藏",
    outOfScope: "超出密钥的权限范围",
    loadFailed: "加载失败",
    none: "无",
    search: "搜索已公开留言",
    catalog: "数据目录",
    dictionary: "数据字典",
    exports: "批量下载",
    open311: "Open311 接口",
    releases: "数据版本",
    published: "已公开",
    column: "字段",
    type: "类型",
    meaning: "含义",
    checksum: "校验和",
    rows: "行数",
    size: "大小",
    filters: "筛选",
    download: "下载",
    printed: "生成时间",
    definitions: "指标定义见 docs/METRICS.md",
  },
  en: {
    dashboardTitle: "minyi · leader dashboard",
    portalTitle: "minyi · open data",
    bulletinTitle: "minyi · monthly bulletin",
    keyMetrics: "Key figures",
    print: "Print / save as PDF",
    language: "中文",
    enterKey: "Enter key",
    signOut: "Forget key",
    keyPrompt: "API key (kept in this tab only)",
    publicView: "Public view",
    keyedView: "Signed in with a key",
    scope: "Scope",
    allRegions: "Whole country",
    department: "Department",
    allDepartments: "All departments",
    window: "Window",
    thisMonth: "This month",
    lastMonth: "Last month",
    thisYear: "This year",
    custom: "Custom",
    from: "From",
    to: "To",
    asOf: "As of",
    now: "now",
    bulletin: "Monthly bulletin",
    received: "Received",
    due: "Due",
    replyRate: "Reply rate",
    onTimeRate: "On-time rate",
    completionRate: "Completion rate",
    satisfactionRate: "Satisfaction rate",
    overdueNow: "Overdue now",
    accepted: "Accepted",
    repliedWhenDue: "Replied when due",
    closed: "Closed",
    rated: "Rated",
    participationRate: "Participation rate",
    repeatRate: "Repeat rate",
    vsPrevious: "vs previous period",
    series: "Trend",
    breakdown: "Breakdown",
    REGION: "Child regions",
    DEPARTMENT: "Departments",
    CATEGORY: "Categories",
    CHANNEL: "Channels",
    KIND: "Kinds",
    name: "Name",
    ranking: "Department ranking",
    rank: "Rank",
    score: "Score",
    weights: "Weights",
    minCases: "Min. cases",
    bottomAlert: "Bottom two months running",
    eligible: "Ranked",
    notEligible: "Too few cases",
    hotTopics: "Hot topics",
    count: "Count",
    baseline: "Baseline",
    ratio: "Ratio",
    overdueList: "Overdue cases",
    trackingNumber: "Number",
    title: "Title",
    status: "Status",
    submittedAt: "Submitted",
    replyDueAt: "Reply due",
    caseView: "Case",
    events: "Timeline",
    rating: "Rating",
    reply: "Reply",
    close: "Close",
    suppressed: "below the threshold, hidden",
    outOfScope: "outside your key's scope",
    loadFailed: "Failed to load",
    none: "None",
    search: "Search published cases",
    catalog: "Catalog",
    dictionary: "Data dictionary",
    exports: "Bulk downloads",
    open311: "Open311 API",
    releases: "Releases",
    published: "Published",
    column: "Column",
    type: "Type",
    meaning: "Meaning",
    checksum: "Checksum",
    rows: "Rows",
    size: "Size",
    filters: "Filters",
    download: "Download",
    printed: "Generated",
    definitions: "Metric definitions: docs/METRICS.md",
  },
};

/** Case statuses as people say them (the API's enum values are the keys). */
const STATUSES = {
  zh: {
    SUBMITTED: "已登记", ACCEPTED: "已受理", REJECTED: "不予受理", ASSIGNED: "已交办",
    IN_PROGRESS: "办理中", REPLIED: "已答复", CLOSED: "已办结", ARCHIVED: "已归档",
  },
  en: {
    SUBMITTED: "Submitted", ACCEPTED: "Accepted", REJECTED: "Rejected", ASSIGNED: "Assigned",
    IN_PROGRESS: "In progress", REPLIED: "Replied", CLOSED: "Closed", ARCHIVED: "Archived",
  },
};

export function statusLabel(status) {
  return STATUSES[lang()][status] || status;
}

export function lang() {
  const stored = localStorage.getItem(LANG_STORAGE);
  return stored === "en" ? "en" : "zh";
}

export function toggleLang() {
  localStorage.setItem(LANG_STORAGE, lang() === "zh" ? "en" : "zh");
}

/** The label of `key` in the current language (the key itself when unknown). */
export function t(key) {
  return LABELS[lang()][key] || key;
}

/** Fills every `[data-label]` element's text and sets the document language. */
export function applyLabels(root = document) {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-label]")) el.textContent = t(el.dataset.label);
}

// ---------------------------------------------------------------------------
// Time: China has one zone and no daylight saving, so Asia/Shanghai is UTC+08:00.

const OFFSET_MS = 8 * 3600 * 1000;

/** The Shanghai calendar date (y, m 1-12, d) of an instant. */
export function shanghaiDate(instant = new Date()) {
  const shifted = new Date(instant.getTime() + OFFSET_MS);
  return { y: shifted.getUTCFullYear(), m: shifted.getUTCMonth() + 1, d: shifted.getUTCDate() };
}

/** Midnight of a Shanghai calendar date, as an ISO instant with its +08:00 offset. */
export function shanghaiMidnight(y, m, d) {
  const utc = new Date(Date.UTC(y, m - 1, d) - OFFSET_MS);
  return utc.toISOString().replace(".000Z", "Z");
}

/** `YYYY-MM-DD` of a Shanghai date. */
export function isoDay({ y, m, d }) {
  return `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

export function parseDay(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
  return match ? { y: +match[1], m: +match[2], d: +match[3] } : null;
}

/**
 * The window of a preset as [from, to) instants, and the period before it of the same
 * kind (the previous month or year, or the same length before a custom window).
 */
export function windowOf(preset, customFrom, customTo, today = shanghaiDate()) {
  const month = (y, m) => shanghaiMidnight(y, m, 1);
  const { y, m } = today;
  const prevMonth = m === 1 ? [y - 1, 12] : [y, m - 1];
  const prevPrevMonth = prevMonth[1] === 1 ? [prevMonth[0] - 1, 12] : [prevMonth[0], prevMonth[1] - 1];
  const nextMonth = m === 12 ? [y + 1, 1] : [y, m + 1];
  switch (preset) {
    case "lastMonth":
      return {
        from: month(...prevMonth),
        to: month(y, m),
        previous: { from: month(...prevPrevMonth), to: month(...prevMonth) },
        interval: "DAY",
      };
    case "thisYear":
      return {
        from: month(y, 1),
        to: month(y + 1, 1),
        previous: { from: month(y - 1, 1), to: month(y, 1) },
        interval: "MONTH",
      };
    case "custom": {
      const from = parseDay(customFrom);
      const to = parseDay(customTo);
      if (!from || !to) throw new Error("custom window needs two dates");
      const start = shanghaiMidnight(from.y, from.m, from.d);
      // Inclusive last day: the window ends at the next midnight.
      const end = new Date(Date.parse(shanghaiMidnight(to.y, to.m, to.d)) + 86400000).toISOString();
      const length = Date.parse(end) - Date.parse(start);
      if (length <= 0) throw new Error("the window ends before it starts");
      const before = new Date(Date.parse(start) - length).toISOString();
      return {
        from: start,
        to: end,
        previous: { from: before, to: start },
        interval: length > 62 * 86400000 ? "MONTH" : "DAY",
      };
    }
    default:
      return {
        from: month(y, m),
        to: month(...nextMonth),
        previous: { from: month(...prevMonth), to: month(y, m) },
        interval: "DAY",
      };
  }
}

/** The end of a Shanghai day as the `asOf` instant (`null` = now). */
export function asOfEndOfDay(text) {
  const day = parseDay(text);
  if (!day) return null;
  return new Date(Date.parse(shanghaiMidnight(day.y, day.m, day.d)) + 86400000).toISOString();
}

/** A timestamp shown in Shanghai time, `YYYY-MM-DD HH:MM`. */
export function formatInstant(iso) {
  if (!iso) return "—";
  const shifted = new Date(Date.parse(iso) + OFFSET_MS);
  return shifted.toISOString().slice(0, 16).replace("T", " ");
}

// ---------------------------------------------------------------------------
// Numbers.

export function formatCount(value) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString(lang() === "zh" ? "zh-CN" : "en-US");
}

/** A rate in 0–1 as a percentage with one decimal; `null` (no denominator) as "—". */
export function formatRate(value) {
  if (value === null || value === undefined) return "—";
  return (value * 100).toFixed(1) + "%";
}

// ---------------------------------------------------------------------------
// DOM.

/** Creates an element with attributes/properties and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A table whose columns sort when their header is clicked (or Enter is pressed on it). */
export function sortableTable(columns, rows, { id } = {}) {
  let sortIndex = -1;
  let ascending = true;
  const tbody = h("tbody");
  const render = () => {
    const sorted = [...rows];
    if (sortIndex >= 0) {
      const key = columns[sortIndex].sort;
      sorted.sort((a, b) => {
        const x = key(a);
        const y = key(b);
        const order = x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
        return ascending ? order : -order;
      });
    }
    tbody.replaceChildren(
      ...sorted.map((row) => h("tr", {}, ...columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell(row)))))
    );
  };
  const headers = columns.map((column, index) =>
    h(
      "th",
      {
        scope: "col",
        tabindex: column.sort ? "0" : null,
        "aria-sort": "none",
        class: column.numeric ? "num" : null,
        onclick: () => column.sort && sortBy(index),
        onkeydown: (event) => column.sort && event.key === "Enter" && sortBy(index),
      },
      column.label
    )
  );
  function sortBy(index) {
    ascending = sortIndex === index ? !ascending : false;
    sortIndex = index;
    headers.forEach((th, i) =>
      th.setAttribute("aria-sort", i === index ? (ascending ? "ascending" : "descending") : "none")
    );
    render();
  }
  render();
  return h("table", { id }, h("thead", {}, h("tr", {}, ...headers)), tbody);
}

/** Shows an error in `container` in place of content (never as zeros). */
export function showError(container, error) {
  const message =
    error && (error.code === "FORBIDDEN" || error.code === "NOT_FOUND")
      ? t("outOfScope")
      : `${t("loadFailed")}: ${error && error.message ? error.message : error}`;
  container.replaceChildren(h("p", { class: "error", role: "alert" }, message));
}

/** Header controls shared by the pages: the language switch and the key button. */
export function headerControls(onChange) {
  const langButton = h("button", { type: "button", id: "lang-switch", onclick: () => { toggleLang(); onChange(); } }, t("language"));
  const keyButton = apiKey()
    ? h("button", { type: "button", id: "key-button", onclick: () => { setApiKey(""); onChange(); } }, t("signOut"))
    : h("button", {
        type: "button",
        id: "key-button",
        onclick: () => {
          const key = window.prompt(t("keyPrompt"));
          if (key) {
            setApiKey(key);
            onChange();
          }
        },
      }, t("enterKey"));
  const who = h("span", { id: "who", class: "who" }, apiKey() ? t("keyedView") : t("publicView"));
  return [who, langButton, keyButton];
}
