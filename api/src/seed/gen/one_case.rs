//! One generated case: its row, its citizen (new or a returning one), its text in the
//! citizen's words, and whether it repeats a recent case.

use super::*;

impl Generator {
    fn recent_pick(
        &mut self,
        min_age: TimeDelta,
        max_age: TimeDelta,
        now: DateTime<Utc>,
    ) -> Option<Recent> {
        // The deque is in submission order: the age range is one slice of it.
        let lo = self
            .recent
            .partition_point(|r| now - r.submitted_at > max_age);
        let hi = self
            .recent
            .partition_point(|r| now - r.submitted_at >= min_age);
        if lo >= hi {
            return None;
        }
        for _ in 0..8 {
            let i = self.rng.random_range(lo..hi);
            if self.recent.get(i).is_some_and(|r| r.handled) {
                return self.recent.get(i).cloned();
            }
        }
        None
    }

    fn new_citizen(&mut self, region: usize, full_place: &str, chunk: &mut Chunk) -> i64 {
        let r = &self.geo.regions[region];
        let area = r
            .county_code
            .clone()
            .or_else(|| r.city_code.clone())
            .unwrap_or_else(|| r.province_code.clone());
        let p = person(&mut self.rng, full_place, &area, self.params.from);
        let id = self.next.citizen;
        self.next.citizen += 1;
        self.citizen_names.insert(id, p.name.clone());
        chunk.citizens.push(citizen::Model {
            id,
            name: p.name,
            phone: p.phone,
            id_number: p.id_number,
            email: p.email,
            address: p.address,
        });
        id
    }

    pub(super) fn one_case(&mut self, submitted_at: DateTime<Utc>, chunk: &mut Chunk) {
        let id = self.next.case;
        self.next.case += 1;
        let tracking = format!("MY{}{:06}", self.day.format("%Y%m%d"), self.day_seq);
        let channel = weighted(&mut self.rng, CHANNELS);
        let u: f64 = self.rng.random();

        // A duplicate of a recent case, or a citizen's repeat of an earlier one.
        let duplicate_of = if u < mix::DUPLICATE {
            self.recent_pick(TimeDelta::hours(1), TimeDelta::days(20), submitted_at)
        } else {
            None
        };
        let repeat_of = if duplicate_of.is_none()
            && (mix::DUPLICATE..mix::DUPLICATE + mix::REPEAT).contains(&u)
        {
            self.recent_pick(TimeDelta::days(7), TimeDelta::days(90), submitted_at)
                .filter(|r| r.citizen_id.is_some())
        } else {
            None
        };
        let earlier = duplicate_of.as_ref().or(repeat_of.as_ref());

        let (category, region, kind) = match earlier {
            Some(e) => (e.category, e.region, e.kind),
            None => {
                let category = weighted(&mut self.rng, &self.category_weights);
                let region = self.pick_region();
                let kind = weighted(&mut self.rng, KINDS);
                (category, region, kind)
            }
        };
        let (topic, leaf_id, parent_id) = {
            let c = &self.categories[category];
            (c.topic, c.id, c.parent_id)
        };
        let category_id = match earlier {
            Some(e) => e.category_id,
            // A few writers pick only the top-level topic.
            None if self.rng.random_bool(0.03) => parent_id.or(Some(leaf_id)),
            None => Some(leaf_id),
        };
        let (place, county, city, full_place) = self.places(region);

        // The praised unit is named in the text, so choose it first.
        let praised = if kind == CaseKind::Praise {
            self.handler(region, topic.unit)
        } else {
            None
        };
        let praised_name = praised.and_then(|d| self.org.name(d)).map(str::to_string);
        let places = Places {
            place: &place,
            county: &county,
            city: &city,
        };
        let (title, body, unit) = match (&duplicate_of, &repeat_of) {
            (Some(d), _) => (
                d.title.clone(),
                format!(
                    "此前已有人就“{}”反映过（{}），问题至今仍未解决，现通过其他渠道再次反映，请尽快处理。",
                    d.title, d.tracking
                ),
                topic.unit,
            ),
            (None, Some(r)) => {
                let t = compose(&mut self.rng, topic, kind, &places, praised_name.as_deref());
                (
                    format!("再次反映：{}", r.title),
                    format!("我于{}反映的问题（{}）至今没有得到实质解决。{}", r.submitted_at.with_timezone(&Shanghai).format("%Y年%m月%d日"), r.tracking, t.body),
                    t.unit,
                )
            }
            (None, None) => {
                let t = compose(&mut self.rng, topic, kind, &places, praised_name.as_deref());
                (t.title, t.body, t.unit)
            }
        };

        let citizen_id = match earlier {
            Some(e) if repeat_of.is_some() || self.rng.random_bool(0.5) => e.citizen_id,
            _ => {
                let v: f64 = self.rng.random();
                if v < 0.04 {
                    None
                } else if v < 0.08 {
                    let back = self.recent.len().min(500);
                    let pick_i = self
                        .recent
                        .len()
                        .saturating_sub(1 + self.rng.random_range(0..back.max(1)));
                    match self.recent.get(pick_i).and_then(|r| r.citizen_id) {
                        Some(c) => Some(c),
                        None => Some(self.new_citizen(region, &full_place, chunk)),
                    }
                } else {
                    Some(self.new_citizen(region, &full_place, chunk))
                }
            }
        };

        let department = match (&repeat_of, praised) {
            (Some(r), _) if r.department_id.is_some() => r.department_id,
            (_, Some(p)) => Some(p),
            _ => self.handler(region, unit),
        };

        let r = &self.geo.regions[region];
        let mut row = case::Model {
            id,
            tracking_number: tracking.clone(),
            title: title.clone(),
            body,
            channel,
            kind,
            category_id,
            region_code: r.code.clone(),
            province_code: r.province_code.clone(),
            city_code: r.city_code.clone(),
            county_code: r.county_code.clone(),
            department_id: None,
            citizen_id,
            status: CaseStatus::Submitted,
            submitted_at,
            accepted_at: None,
            rejected_at: None,
            respond_due_at: Some(submitted_at + TimeDelta::hours(8)),
            responded_at: None,
            reply_due_at: None,
            first_reply_due_at: None,
            first_replied_at: None,
            replied_at: None,
            closed_at: None,
            archived_at: None,
            reply: None,
            rating_level: None,
            duplicate_of: duplicate_of.as_ref().map(|d| d.id),
            repeat_of: repeat_of.as_ref().map(|r| r.id),
            published: false,
            supervised: false,
            reopen_count: 0,
            version: 0,
            idempotency_key: None,
            updated_at: submitted_at,
            public_title: None,
            public_body: None,
            public_reply: None,
            external_id: None,
            address: None,
            latitude: None,
            longitude: None,
        };

        let first_rating = chunk.ratings.len();
        let mut tl = Timeline::new(self.end);
        tl.push(
            submitted_at,
            CaseAction::Submit,
            Some(CaseStatus::Submitted),
            None,
            None,
            None,
        );
        let mut replies: Vec<String> = Vec::new();
        let handled = if let Some(d) = &duplicate_of {
            let at = submitted_at + between(&mut self.rng, 30 * MINUTE, 30 * HOUR);
            tl.push(
                at,
                CaseAction::Merge,
                Some(CaseStatus::Closed),
                None,
                None,
                Some(format!("与{}重复，已合并办理", d.tracking)),
            );
            false
        } else if self.rng.random_bool(mix::REJECT) {
            let at = {
                let at0 = submitted_at
                    + lognormal(&mut self.rng, 3.0 * HOUR as f64, 1.0, 3.0 * DAY as f64);
                office(&mut self.rng, at0)
            };
            let reason = pick(&mut self.rng, text::REJECT_REASONS).to_string();
            tl.push(
                at,
                CaseAction::Reject,
                Some(CaseStatus::Rejected),
                None,
                None,
                Some(reason),
            );
            false
        } else {
            self.handle(
                &mut tl,
                &mut chunk.ratings,
                &mut replies,
                id,
                kind,
                channel,
                region,
                department,
                repeat_of.is_some(),
            );
            true
        };

        replay(&mut row, &tl.events, &chunk.ratings[first_rating..]);
        row.reply = replies.pop();
        // Stored redacted like every writer does, so public reads never redact.
        let name = citizen_id
            .and_then(|c| self.citizen_names.get(&c))
            .map(String::as_str);
        row.public_title = Some(public_text(&row.title, name));
        row.public_body = Some(public_text(&row.body, name));
        row.public_reply = row.reply.as_deref().map(|r| public_text(r, name));
        for r in &mut chunk.ratings[first_rating..] {
            r.public_comment = r.comment.as_deref().map(|c| public_text(c, name));
        }
        for mut e in tl.events {
            e.id = self.next.event;
            self.next.event += 1;
            e.case_id = id;
            chunk.events.push(e);
        }
        if self.produced.is_multiple_of(self.stride) {
            let horizon = submitted_at - TimeDelta::days(91);
            while self
                .recent
                .front()
                .is_some_and(|r| r.submitted_at < horizon)
            {
                self.recent.pop_front();
            }
            self.recent.push_back(Recent {
                id,
                tracking,
                citizen_id,
                category,
                category_id,
                region,
                kind,
                title,
                submitted_at,
                handled: handled && repeat_of.is_none(),
                department_id: row.department_id,
            });
        }
        chunk.cases.push(row);
    }
}
