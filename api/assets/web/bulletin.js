// The monthly bulletin (月度通报): one month of one region as of a frozen instant. The
// URL carries the month, the region and `asOf`, so the page shows the same numbers
// whenever it is opened again; without `asOf` it freezes "now" into the URL first.
import {
  applyLabels, formatCount, formatInstant, formatRate, gql, h, headerControls, shanghaiMidnight,
  showError, t,
} from "./common.js";

const ROWS = [
  ["received", "count"], ["accepted", "count"], ["due", "count"], ["repliedWhenDue", "count"],
  ["replyRate", "rate"], ["onTimeRate", "rate"], ["closed", "count"], ["completionRate", "rate"],
  ["rated", "count"], ["satisfactionRate", "rate"], ["participationRate", "rate"],
  ["overdueNow", "count"], ["repeatRate", "rate"],
];

async function main() {
  applyLabels();
  document.getElementById("header-controls").replaceChildren(...headerControls(() => location.reload()));
  document.getElementById("print-button").addEventListener("click", () => window.print());
  const params = new URLSearchParams(location.search);
  const month = /^(\d{4})-(\d{2})$/.exec(params.get("month") || "");
  const meta = document.getElementById("bulletin-meta");
  if (!month) {
    showError(meta, new Error("month=YYYY-MM"));
    return;
  }
  if (!params.get("asOf")) {
    params.set("asOf", new Date(Math.floor(Date.now() / 60000) * 60000).toISOString());
    history.replaceState(null, "", `?${params}`);
  }
  const y = Number(month[1]);
  const m = Number(month[2]);
  const from = shanghaiMidnight(y, m, 1);
  const to = m === 12 ? shanghaiMidnight(y + 1, 1, 1) : shanghaiMidnight(y, m + 1, 1);
  const vars = { scope: { regionCode: params.get("region") }, from, to, asOf: params.get("asOf") };
  const fields = ROWS.map(([name]) => name).join(" ") + " suppressed";
  try {
    const data = await gql(
      `query($scope: ScopeInput, $from: DateTime!, $to: DateTime!, $asOf: DateTime, $code: String!, $hasRegion: Boolean!) {
         region(code: $code) @include(if: $hasRegion) { name }
         stats(scope: $scope, from: $from, to: $to, asOf: $asOf) { ${fields} }
         regions: breakdown(by: REGION, scope: $scope, from: $from, to: $to, asOf: $asOf) { key label stats { ${fields} } }
         ranking(unit: DEPARTMENT, scope: $scope, from: $from, to: $to, asOf: $asOf, minCases: 10) {
           rank unit { id name } score eligible bottomAlert stats { received replyRate onTimeRate satisfactionRate } } }`,
      { ...vars, code: params.get("region") || "", hasRegion: Boolean(params.get("region")) }
    );
    const place = data.region ? data.region.name : t("allRegions");
    document.getElementById("bulletin-title").textContent = `${place} ${y}-${String(m).padStart(2, "0")} ${t("bulletinTitle")}`;
    meta.replaceChildren(`${t("asOf")} ${formatInstant(vars.asOf)}（UTC+8）`);
    const value = (stats, name, kind) =>
      stats.suppressed && stats[name] === null ? t("suppressed") : kind === "rate" ? formatRate(stats[name]) : formatCount(stats[name]);
    document.getElementById("bulletin-kpis").replaceChildren(
      h("table", { id: "bulletin-kpi-table" }, h("tbody", {}, ...ROWS.map(([name, kind]) =>
        h("tr", { dataset: { metric: name } }, h("th", { scope: "row" }, t(name)), h("td", { class: "num" }, value(data.stats, name, kind)))
      )))
    );
    const columns = ["received", "replyRate", "onTimeRate", "completionRate", "satisfactionRate"];
    document.getElementById("bulletin-regions").replaceChildren(
      h("table", {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("name")), ...columns.map((c) => h("th", { scope: "col" }, t(c))))),
        h("tbody", {}, ...data.regions.map((g) => h("tr", {}, h("td", {}, g.label),
          ...columns.map((c) => h("td", { class: "num" }, value(g.stats, c, c === "received" ? "count" : "rate")))))))
    );
    document.getElementById("bulletin-ranking").replaceChildren(
      h("table", {},
        h("thead", {}, h("tr", {}, ...["rank", "department", "score", "received", "replyRate", "onTimeRate", "satisfactionRate"].map((c) => h("th", { scope: "col" }, t(c))))),
        h("tbody", {}, ...data.ranking.filter((r) => r.eligible).map((r) => h("tr", { class: r.bottomAlert ? "alert" : null },
          h("td", { class: "num" }, String(r.rank)), h("td", {}, r.unit.name),
          h("td", { class: "num" }, (r.score * 100).toFixed(1)), h("td", { class: "num" }, formatCount(r.stats.received)),
          h("td", { class: "num" }, formatRate(r.stats.replyRate)), h("td", { class: "num" }, formatRate(r.stats.onTimeRate)),
          h("td", { class: "num" }, formatRate(r.stats.satisfactionRate))))))
    );
    document.body.dataset.loaded = "1";
  } catch (error) {
    showError(meta, error);
  }
}

main();
