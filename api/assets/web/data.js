// The open-data portal: a search over published cases (GraphQL, public role), export
// links with filters, the Open311 endpoints, the DCAT catalog with its releases and
// checksums, and the data dictionary. Everything here is what a visitor without a key
// may read; the page sends no key even if the tab holds one.
import { statusLabel, applyLabels, formatCount, formatInstant, h, headerControls, showError, t } from "./common.js";

/** GraphQL as the public sees it: this page never sends the tab's key. */
async function publicGql(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const error = new Error(body.errors[0].message);
    error.code = (body.errors[0].extensions || {}).code;
    throw error;
  }
  return body.data;
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function main() {
  applyLabels();
  document.title = t("portalTitle");
  document.getElementById("header-controls").replaceChildren(...headerControls(() => location.reload()).slice(1, 2));
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search(document.getElementById("search-text").value.trim());
  });
  document.getElementById("export-form").addEventListener("input", exportLinks);
  exportLinks();
  open311Links();
  await Promise.all([search(""), catalog(), dictionary()]);
  document.body.dataset.loaded = "1";
}

async function search(text) {
  const container = document.getElementById("search-results");
  try {
    const data = await publicGql(
      `query($filter: CaseFilter) { cases(filter: $filter, first: 20) { totalCount
         nodes { id trackingNumber title status submittedAt region { name } department { name } } } }`,
      { filter: text ? { search: text } : {} }
    );
    document.getElementById("published-total").textContent = `${t("published")}: ${formatCount(data.cases.totalCount)}`;
    container.replaceChildren(
      h("table", { id: "search-table" },
        h("thead", {}, h("tr", {}, ...["trackingNumber", "title", "scope", "department", "status", "submittedAt"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, ...data.cases.nodes.map((c) => h("tr", { dataset: { caseId: c.id } },
          h("td", {}, c.trackingNumber), h("td", {}, c.title), h("td", {}, c.region ? c.region.name : "—"),
          h("td", {}, c.department ? c.department.name : "—"), h("td", {}, statusLabel(c.status)), h("td", {}, formatInstant(c.submittedAt))))))
    );
  } catch (error) {
    showError(container, error);
  }
}

/** Export URLs with the form's filters as query parameters (the CaseFilter names). */
function exportLinks() {
  const params = new URLSearchParams();
  const region = document.getElementById("export-region").value.trim();
  const from = document.getElementById("export-from").value;
  const to = document.getElementById("export-to").value;
  if (region) params.set("regionCode", region);
  if (from) params.set("submittedFrom", `${from}T00:00:00+08:00`);
  if (to) params.set("submittedTo", `${to}T23:59:59+08:00`);
  if (document.getElementById("export-bom").checked) params.set("bom", "1");
  const query = params.toString() ? `?${params}` : "";
  document.getElementById("export-links").replaceChildren(
    ...["csv", "ndjson"].map((format) => {
      const url = `/exports/cases.${format}${query}`;
      return h("li", {}, h("a", { href: url, class: `export-${format}` }, url));
    }),
    h("li", {}, h("a", { href: "/exports/dictionary.json" }, "/exports/dictionary.json"))
  );
}

function open311Links() {
  const links = [
    "/open311/v2/services.json",
    "/open311/v2/services.xml",
    "/open311/v2/requests.json",
    "/open311/v2/requests.xml",
  ];
  document.getElementById("open311-links").replaceChildren(...links.map((url) => h("li", {}, h("a", { href: url }, url))));
}

/** Values of a JSON-LD property that may be one value, a list, or absent. */
function many(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function text(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (Array.isArray(value)) {
    const preferred = value.find((v) => v["@language"] && v["@language"].startsWith(document.documentElement.lang.slice(0, 2)));
    return text(preferred || value[0]);
  }
  return value["@value"] !== undefined ? String(value["@value"]) : value["@id"] || "";
}

function prop(node, ...names) {
  for (const name of names) if (node[name] !== undefined) return node[name];
  return undefined;
}

async function catalog() {
  const container = document.getElementById("catalog");
  const releases = document.getElementById("releases");
  try {
    const doc = await fetchJson("/catalog.jsonld");
    const datasets = many(prop(doc, "dataset", "dcat:dataset"));
    const rows = [];
    const releaseRows = [];
    for (const dataset of datasets) {
      const title = text(prop(dataset, "title", "dct:title"));
      for (const dist of many(prop(dataset, "distribution", "dcat:distribution"))) {
        const url = text(prop(dist, "downloadURL", "dcat:downloadURL", "accessURL", "dcat:accessURL"));
        const size = text(prop(dist, "byteSize", "dcat:byteSize"));
        const checksum = prop(dist, "checksum", "spdx:checksum");
        const sum = checksum ? text(prop(checksum, "checksumValue", "spdx:checksumValue")) : "";
        const row = h("tr", {},
          h("td", {}, title),
          h("td", {}, url ? h("a", { href: url }, url) : "—"),
          h("td", {}, text(prop(dist, "mediaType", "dcat:mediaType")).replace(/^.*\/media-types\//, "")),
          h("td", { class: "num" }, size ? formatCount(Number(size)) : "—"),
          h("td", { class: "checksum" }, sum || "—"));
        (sum ? releaseRows : rows).push(row);
      }
    }
    const head = () => h("thead", {}, h("tr", {}, ...["name", "download", "type", "size", "checksum"].map((k) => h("th", { scope: "col" }, t(k)))));
    container.replaceChildren(h("table", { id: "catalog-table" }, head(), h("tbody", {}, ...rows)));
    releases.replaceChildren(
      releaseRows.length ? h("table", { id: "releases-table" }, head(), h("tbody", {}, ...releaseRows)) : h("p", {}, t("none"))
    );
  } catch (error) {
    showError(container, error);
    releases.replaceChildren();
  }
}

async function dictionary() {
  const container = document.getElementById("dictionary");
  try {
    const doc = await fetchJson("/exports/dictionary.json");
    const columns = Array.isArray(doc) ? doc : doc.columns || [];
    const english = document.documentElement.lang === "en";
    // `meaning` is { zh, en } (docs/DATA_DICTIONARY.md).
    const meaning = (c) => (c.meaning ? (english ? c.meaning.en : c.meaning.zh) || "" : "");
    container.replaceChildren(
      h("table", { id: "dictionary-table" },
        h("thead", {}, h("tr", {}, ...["column", "type", "meaning"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, ...columns.map((c) => h("tr", {}, h("td", {}, h("code", {}, c.name)), h("td", {}, c.type || ""), h("td", {}, meaning(c))))))
    );
  } catch (error) {
    showError(container, error);
  }
}

main();
