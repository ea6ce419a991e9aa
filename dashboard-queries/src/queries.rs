//! The public questions: `stats`, `breakdown`, `time_series`.

use crate::buckets::intervals;
use crate::engine::{aggregate, identity, GroupBy};
use crate::model::{
    Dimension, Interval, Scope, Stats, StatsFilter, StatsGroup, StatsPoint, Window,
};
use crate::sql::{resolve, Resolved, Sql};
use crate::Error;
use chrono::{DateTime, Utc};
use entities::{CaseKind, Channel};
use sea_orm::{ConnectionTrait, DbBackend};
use std::collections::{HashMap, HashSet};

/// Every metric for the cases of `scope` and `filter` submitted in the window, as of
/// `window.as_of`.
pub async fn stats<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    filter: &StatsFilter,
    window: &Window,
) -> Result<Stats, Error> {
    window.validate()?;
    let w = window.normalized();
    let r = resolve(db, scope, filter).await?;
    let mut groups = aggregate(db, &r, &w, &[], GroupBy::Nothing, &identity).await?;
    Ok(groups.remove(&(0, None)).unwrap_or_default())
}

/// The metrics split by `by` (see [`Dimension`] for what each groups on). Regions,
/// channels, kinds and categories list every possible group, zero-filled; departments
/// list those with cases. Order: by key (enum declaration order for channel and kind).
pub async fn breakdown<C: ConnectionTrait>(
    db: &C,
    by: Dimension,
    scope: &Scope,
    filter: &StatsFilter,
    window: &Window,
) -> Result<Vec<StatsGroup>, Error> {
    window.validate()?;
    let w = window.normalized();
    let r = resolve(db, scope, filter).await?;
    let mut series = grouped(db, &r, &w, &[], by).await?;
    Ok(series.pop().unwrap_or_default())
}

/// The metrics per day, ISO week or month (Asia/Shanghai) of the window: every interval
/// present, zero-filled. Each point counts the cases submitted in its interval and in
/// the window, all seen at the same `as_of`.
pub async fn time_series<C: ConnectionTrait>(
    db: &C,
    interval: Interval,
    scope: &Scope,
    filter: &StatsFilter,
    window: &Window,
) -> Result<Vec<StatsPoint>, Error> {
    window.validate()?;
    let w = window.normalized();
    let spans = intervals(interval, w.from, w.to)?;
    let r = resolve(db, scope, filter).await?;
    let boundaries: Vec<DateTime<Utc>> = spans.iter().skip(1).map(|s| s.0).collect();
    let mut groups = aggregate(db, &r, &w, &boundaries, GroupBy::Nothing, &identity).await?;
    Ok(spans
        .into_iter()
        .enumerate()
        .map(|(i, (start, end))| StatsPoint {
            start,
            end,
            stats: groups.remove(&(i as i64, None)).unwrap_or_default(),
        })
        .collect())
}

/// One breakdown per interval of the window, in one statement: the groups of each
/// interval are those [`breakdown`] gives for that interval alone (same `as_of`). Used
/// by small-cell suppression, which must see a series' siblings interval by interval.
pub async fn breakdown_series<C: ConnectionTrait>(
    db: &C,
    by: Dimension,
    interval: Interval,
    scope: &Scope,
    filter: &StatsFilter,
    window: &Window,
) -> Result<Vec<Vec<StatsGroup>>, Error> {
    window.validate()?;
    let w = window.normalized();
    let spans = intervals(interval, w.from, w.to)?;
    let r = resolve(db, scope, filter).await?;
    let boundaries: Vec<DateTime<Utc>> = spans.iter().skip(1).map(|s| s.0).collect();
    grouped(db, &r, &w, &boundaries, by).await
}

/// Whether department groups are labelled with their names here, or left with an
/// empty label for a caller that keeps only a few of them (ranking ends) and names
/// those (names are one query per 1,000 departments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Labels {
    Named,
    Later,
}

/// The groups of `by` for each time bucket (`boundaries` are the starts of buckets
/// 1..n; none → one bucket). Used by breakdown, ranking history and hot topics.
pub(crate) async fn grouped<C: ConnectionTrait>(
    db: &C,
    r: &Resolved,
    w: &Window,
    boundaries: &[DateTime<Utc>],
    by: Dimension,
) -> Result<Vec<Vec<StatsGroup>>, Error> {
    grouped_labelled(db, r, w, boundaries, by, Labels::Named).await
}

/// [`grouped`], with department names read here or [`Labels::Later`].
pub(crate) async fn grouped_labelled<C: ConnectionTrait>(
    db: &C,
    r: &Resolved,
    w: &Window,
    boundaries: &[DateTime<Utc>],
    by: Dimension,
    labels: Labels,
) -> Result<Vec<Vec<StatsGroup>>, Error> {
    let listed = listed_groups(db, r, by).await?;
    let mut found = match by {
        Dimension::Region => {
            // Codes that are not children of the scope region (cases at the scope's own
            // level) fold into one group, keyed None.
            let children: HashSet<String> = listed.iter().map(|g| g.1.clone()).collect();
            let fold = move |k: Option<String>| k.filter(|k| children.contains(k));
            aggregate(db, r, w, boundaries, GroupBy::ChildRegion, &fold).await?
        }
        Dimension::Category if r.filter.category_id.is_none() => {
            // Sub-categories fold into their top-level category.
            let top = top_categories(db).await?;
            let fold = move |k: Option<String>| k.map(|k| top.get(&k).cloned().unwrap_or(k));
            aggregate(db, r, w, boundaries, GroupBy::Category, &fold).await?
        }
        Dimension::Category => {
            aggregate(db, r, w, boundaries, GroupBy::Category, &identity).await?
        }
        Dimension::Department => {
            aggregate(db, r, w, boundaries, GroupBy::Department, &identity).await?
        }
        Dimension::Channel => aggregate(db, r, w, boundaries, GroupBy::Channel, &identity).await?,
        Dimension::Kind => aggregate(db, r, w, boundaries, GroupBy::Kind, &identity).await?,
    };
    let keys: Vec<Option<String>> = {
        let mut k: Vec<Option<String>> = found.keys().map(|(_, g)| g.clone()).collect();
        k.sort();
        k.dedup();
        k
    };
    let groups = group_list(db, r, by, &keys, listed, labels).await?;
    let buckets = boundaries.len() + 1;
    let mut out = Vec::with_capacity(buckets);
    for b in 0..buckets {
        let mut list = Vec::with_capacity(groups.len());
        for (keys, key, label, always) in &groups {
            let mut stats: Option<Stats> = None;
            for k in keys {
                if let Some(s) = found.remove(&(b as i64, k.clone())) {
                    stats = Some(s);
                }
            }
            if stats.is_some() || *always {
                list.push(StatsGroup {
                    key: key.clone(),
                    label: label.clone(),
                    stats: stats.unwrap_or_default(),
                });
            }
        }
        out.push(list);
    }
    Ok(out)
}

/// (query keys folded into this group, key, label, listed even when empty).
type GroupSpec = (Vec<Option<String>>, String, String, bool);

/// The groups of a dimension, in display order, given the keys the query found.
async fn group_list<C: ConnectionTrait>(
    db: &C,
    r: &Resolved,
    by: Dimension,
    found: &[Option<String>],
    listed: Vec<GroupSpec>,
    labels: Labels,
) -> Result<Vec<GroupSpec>, Error> {
    let mut out: Vec<GroupSpec> = listed;
    match by {
        Dimension::Channel => {
            for c in Channel::ALL {
                let k = c.as_str().to_string();
                out.push((vec![Some(k.clone())], k, channel_label(*c).into(), true));
            }
        }
        Dimension::Kind => {
            for c in CaseKind::ALL {
                let k = c.as_str().to_string();
                out.push((vec![Some(k.clone())], k, kind_label(*c).into(), true));
            }
        }
        Dimension::Region => {
            // Cases at the scope's own level (not under any listed child) form one
            // extra group named after the scope.
            if found.contains(&None) {
                let (key, label) = match &r.region {
                    Some(region) => (region.code.clone(), format!("{}（本级）", region.name)),
                    None => ("other".into(), "（其他）".into()),
                };
                out.push((vec![None], key, label, false));
            }
        }
        Dimension::Department => {
            let ids: Vec<i32> = found
                .iter()
                .flatten()
                .filter_map(|k| k.parse().ok())
                .collect();
            let names = match labels {
                Labels::Named => names_by_id(db, "departments", &ids).await?,
                Labels::Later => HashMap::new(),
            };
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            for id in sorted {
                let label = match labels {
                    Labels::Named => department_label(&names, id),
                    Labels::Later => String::new(),
                };
                out.push((vec![Some(id.to_string())], id.to_string(), label, false));
            }
            if found.contains(&None) {
                out.push((vec![None], "none".into(), "（未交办）".into(), false));
            }
        }
        Dimension::Category => {
            if found.contains(&None) {
                out.push((vec![None], "none".into(), "（未分类）".into(), false));
            }
        }
    }
    Ok(out)
}

/// The groups a dimension always lists (regions and categories, zero-filled), read
/// before the aggregate so that it can fold its keys onto them. Others: empty.
async fn listed_groups<C: ConnectionTrait>(
    db: &C,
    r: &Resolved,
    by: Dimension,
) -> Result<Vec<GroupSpec>, Error> {
    let backend = db.get_database_backend();
    let mut out: Vec<GroupSpec> = Vec::new();
    match by {
        Dimension::Region => {
            let mut q = Sql::new(backend);
            match &r.region {
                Some(region) => {
                    q.push("SELECT code, name FROM regions WHERE parent_code = ")
                        .bind(region.code.clone());
                }
                None => {
                    q.push("SELECT code, name FROM regions WHERE level = ")
                        .bind("province");
                }
            }
            q.push(" ORDER BY code");
            for row in db.query_all_raw(q.build()).await? {
                let code: String = row.try_get("", "code")?;
                let name: String = row.try_get("", "name")?;
                out.push((vec![Some(code.clone())], code, name, true));
            }
        }
        Dimension::Category => {
            let mut q = Sql::new(backend);
            q.push("SELECT id, name FROM categories WHERE ");
            match r.filter.category_id {
                Some(id) => {
                    q.push("id = ").bind(id).push(" OR parent_id = ").bind(id);
                }
                None => {
                    q.push("parent_id IS NULL");
                }
            }
            q.push(" ORDER BY code");
            for row in db.query_all_raw(q.build()).await? {
                let id: i32 = row.try_get("", "id")?;
                let name: String = row.try_get("", "name")?;
                // The filter's own category is listed only when cases sit on it directly.
                let always = r.filter.category_id != Some(id);
                out.push((vec![Some(id.to_string())], id.to_string(), name, always));
            }
        }
        _ => {}
    }
    Ok(out)
}

/// `category id → its top-level category id` for the sub-categories (as text keys).
async fn top_categories<C: ConnectionTrait>(db: &C) -> Result<HashMap<String, String>, Error> {
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT id, parent_id FROM categories WHERE parent_id IS NOT NULL");
    let mut out = HashMap::new();
    for row in db.query_all_raw(q.build()).await? {
        let id: i32 = row.try_get("", "id")?;
        let parent: i32 = row.try_get("", "parent_id")?;
        out.insert(id.to_string(), parent.to_string());
    }
    Ok(out)
}

/// A department's label: its name, or `#id` for an id no department row has.
pub(crate) fn department_label(names: &HashMap<i32, String>, id: i32) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
}

/// `id → name` of the given rows of a table with integer ids (one query).
pub(crate) async fn names_by_id<C: ConnectionTrait>(
    db: &C,
    table: &str,
    ids: &[i32],
) -> Result<HashMap<i32, String>, Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // One statement whatever the count (a province's ranking names ~6,900 units): the
    // ids travel as one list value instead of a parameter each, so the text is the same
    // every time (prepared once) and SQLite's parameter limit never splits it.
    let list = ids
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let backend = db.get_database_backend();
    let mut q = Sql::new(backend);
    q.push("SELECT id, name FROM ").push(table);
    match backend {
        DbBackend::Postgres => q
            .push(" WHERE id = ANY(CAST(")
            .bind(format!("{{{list}}}"))
            .push(" AS INTEGER[]))"),
        _ => q
            .push(" WHERE id IN (SELECT value FROM json_each(")
            .bind(format!("[{list}]"))
            .push("))"),
    };
    let mut out = HashMap::with_capacity(ids.len());
    for row in db.query_all_raw(q.build()).await? {
        out.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    }
    Ok(out)
}

/// The display name of a channel (Chinese, as on the boards).
pub fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::LeaderBoard => "领导留言板",
        Channel::Mailbox => "领导信箱",
        Channel::Hotline => "12345热线",
        Channel::Website => "网站",
        Channel::Wechat => "微信",
        Channel::Weibo => "微博",
        Channel::Alipay => "支付宝",
        Channel::App => "App",
        Channel::Video => "视频",
        Channel::Visit => "来访",
    }
}

/// The display name of a case kind.
pub fn kind_label(k: CaseKind) -> &'static str {
    match k {
        CaseKind::Complaint => "投诉",
        CaseKind::HelpRequest => "求助",
        CaseKind::Consultation => "咨询",
        CaseKind::Suggestion => "建议",
        CaseKind::Report => "举报",
        CaseKind::Praise => "表扬",
    }
}
