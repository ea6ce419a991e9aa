//! Small-cell suppression applied to the answers of public questions about
//! township/village units (rules: `open_data::suppression`, docs/OPEN_DATA.md).

use super::types::*;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ContextExt;
use crate::open_data::suppression::{self as sup, Count, Mask, Rate, Threshold};
use async_graphql::Context;
use dashboard_queries as dq;
use entities::{region, RegionLevel, Role};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::collections::HashMap;

/// Small-cell suppression for one public question about township/village units.
pub(super) struct Suppression {
    pub(super) threshold: i64,
    /// The scope's region (county level or below: above it nothing is suppressed).
    pub(super) region: region::Model,
    /// The duration summaries are not in the answer (their counts are all 0).
    pub(super) without_durations: bool,
}

/// Township and village cells are small enough to identify people.
pub(super) fn is_small_area(level: RegionLevel) -> bool {
    matches!(level, RegionLevel::Township | RegionLevel::Village)
}

impl Suppression {
    /// Applies to public callers whose scope is a county or lies below one.
    pub(super) async fn of(
        ctx: &Context<'_>,
        scope: &dq::Scope,
        w: &dq::Window,
    ) -> ApiResult<Option<Suppression>> {
        if ctx.principal()?.role != Role::Public {
            return Ok(None);
        }
        let Some(code) = &scope.region_code else {
            return Ok(None);
        };
        let threshold = ctx
            .data_opt::<Threshold>()
            .ok_or_else(|| {
                ApiError::Internal("schema data lacks the suppression threshold".into())
            })?
            .0;
        let region = region::Entity::find_by_id(code.clone())
            .one(ctx.db()?)
            .await?
            .ok_or_else(|| ApiError::bad_input(format!("unknown region code {code}")))?;
        let below_city = region.level == RegionLevel::County || is_small_area(region.level);
        Ok(below_city.then_some(Suppression {
            threshold,
            region,
            without_durations: !w.durations,
        }))
    }

    /// Is the scope itself a township/village (every cell of the answer is small)?
    pub(super) fn scope_is_small(&self) -> bool {
        is_small_area(self.region.level)
    }

    /// Drops what the answer does not contain from a mask.
    pub(super) fn answered(&self, mask: Mask) -> Mask {
        if self.without_durations {
            mask.without(&[Count::ReplyDurations, Count::ResponseDurations])
        } else {
            mask
        }
    }

    pub(super) fn siblings(&self, cells: &[&dq::Stats], parent: &Mask) -> Vec<Mask> {
        sup::suppress_siblings(cells, parent, self.threshold)
            .into_iter()
            .map(|m| self.answered(m))
            .collect()
    }

    /// The scope of the small region's parent (its siblings' common total).
    pub(super) fn parent_scope(&self, scope: &dq::Scope) -> ApiResult<dq::Scope> {
        let parent = self.region.parent_code.clone().ok_or_else(|| {
            ApiError::Internal(format!("region {} has no parent", self.region.code))
        })?;
        Ok(dq::Scope {
            region_code: Some(parent),
            department_id: scope.department_id,
        })
    }

    /// The mask of the small scope region as its parent's breakdown over the same window
    /// hides it, so `stats` never shows what `breakdown` hides.
    pub(super) async fn scope_mask(
        &self,
        db: &DatabaseConnection,
        scope: &dq::Scope,
        filter: &dq::StatsFilter,
        w: &dq::Window,
    ) -> ApiResult<Mask> {
        let parent = self.parent_scope(scope)?;
        let groups = dq::breakdown(db, dq::Dimension::Region, &parent, filter, w).await?;
        let cells: Vec<&dq::Stats> = groups.iter().map(|g| &g.stats).collect();
        let masks = self.siblings(&cells, &Mask::NONE);
        groups
            .iter()
            .position(|g| g.key == self.region.code)
            .map(|i| masks[i])
            .ok_or_else(|| {
                ApiError::Internal(format!(
                    "region {} is missing from its parent's breakdown",
                    self.region.code
                ))
            })
    }

    /// The masks of a breakdown of the scope, when its cells are township/village units:
    /// any breakdown of a small scope, or a county's breakdown by region.
    pub(super) async fn breakdown_masks(
        &self,
        db: &DatabaseConnection,
        by: Dimension,
        groups: &[dq::StatsGroup],
        scope: &dq::Scope,
        filter: &dq::StatsFilter,
        w: &dq::Window,
    ) -> ApiResult<Option<Vec<Mask>>> {
        let cells: Vec<&dq::Stats> = groups.iter().map(|g| &g.stats).collect();
        if self.scope_is_small() {
            let parent = self.scope_mask(db, scope, filter, w).await?;
            return Ok(Some(self.siblings(&cells, &parent)));
        }
        if by == Dimension::Region {
            return Ok(Some(self.siblings(&cells, &Mask::NONE)));
        }
        Ok(None)
    }

    /// The masks of a small scope region's time series: its cells and its siblings'
    /// interval by interval (each interval hides what that interval's breakdown
    /// hides), and along time against the window total.
    pub(super) async fn series_masks(
        &self,
        db: &DatabaseConnection,
        interval: dq::Interval,
        scope: &dq::Scope,
        filter: &dq::StatsFilter,
        w: &dq::Window,
    ) -> ApiResult<Vec<Mask>> {
        let parent = self.parent_scope(scope)?;
        let window_groups = dq::breakdown(db, dq::Dimension::Region, &parent, filter, w).await?;
        let cells: Vec<&dq::Stats> = window_groups.iter().map(|g| &g.stats).collect();
        let totals = sup::suppress_siblings(&cells, &Mask::NONE, self.threshold);
        let me = window_groups
            .iter()
            .position(|g| g.key == self.region.code)
            .ok_or_else(|| {
                ApiError::Internal(format!(
                    "region {} is missing from its parent's breakdown",
                    self.region.code
                ))
            })?;
        let series =
            dq::breakdown_series(db, dq::Dimension::Region, interval, &parent, filter, w).await?;
        let grid: Vec<Vec<Option<&dq::Stats>>> = series
            .iter()
            .map(|groups| {
                let by_key: HashMap<&str, &dq::Stats> =
                    groups.iter().map(|g| (g.key.as_str(), &g.stats)).collect();
                window_groups
                    .iter()
                    .map(|g| by_key.get(g.key.as_str()).copied())
                    .collect()
            })
            .collect();
        let masks = sup::suppress_grid(&grid, &totals, self.threshold);
        Ok(masks
            .into_iter()
            .map(|row| self.answered(row[me]))
            .collect())
    }
}

/// Is the composite score computed from a hidden rate?
pub(super) fn score_hidden(weights: &dq::RankWeights, mask: &Mask) -> bool {
    [
        (weights.reply_rate, Rate::Reply),
        (weights.on_time_rate, Rate::OnTime),
        (weights.satisfaction_rate, Rate::Satisfaction),
        (weights.completion_rate, Rate::Completion),
    ]
    .iter()
    .any(|(weight, rate)| *weight != 0.0 && mask.hides_rate(*rate))
}
