//! A generated case's handling: the timeline from acceptance to archive (assignment,
//! transfers, replies, ratings, reopening) drawn from the generator's stream.

use super::*;

impl Generator {
    /// Accept → assign (→ transfer) → claim → respond → reply → rate → close → archive,
    /// with reminders, extensions, supervision and reopening where they apply.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle(
        &mut self,
        tl: &mut Timeline,
        ratings: &mut Vec<rating::Model>,
        replies: &mut Vec<String>,
        case_id: i64,
        kind: CaseKind,
        channel: Channel,
        region: usize,
        department: Option<i32>,
        repeat: bool,
    ) {
        let rng_delay = |g: &mut Self, median: i64, cap: i64| {
            lognormal(&mut g.rng, median as f64, 1.0, cap as f64)
        };
        let Some(submitted) = tl.last_at() else {
            return;
        };
        let days: u32 = if matches!(kind, CaseKind::Consultation | CaseKind::Praise) {
            3
        } else {
            7
        };

        let t = {
            let at0 = submitted + rng_delay(self, 40 * MINUTE, 2 * DAY);
            office(&mut self.rng, at0)
        };
        let due = self.calendar.add_working_days(t, days);
        let Some(accepted) = tl.push(
            t,
            CaseAction::Accept,
            Some(CaseStatus::Accepted),
            None,
            Some(due),
            None,
        ) else {
            return;
        };

        // Leader-board and mailbox messages go to the leader's office first, which passes
        // them on; a few cases reach the wrong bureau first.
        let leader_first =
            matches!(channel, Channel::LeaderBoard | Channel::Mailbox) && self.rng.random_bool(0.5);
        let misrouted = !leader_first && self.rng.random_bool(mix::MISROUTED);
        let first_unit = if leader_first {
            let chain = self.chain(region);
            let unit = if self.rng.random_bool(0.4) {
                Unit::SecretaryMailbox
            } else {
                Unit::MayorMailbox
            };
            chain
                .iter()
                .find_map(|&r| self.org.unit(&self.geo.regions[r].code, unit))
        } else if misrouted {
            let unit = [
                Unit::Housing,
                Unit::UrbanManagement,
                Unit::Market,
                Unit::CivilAffairs,
            ][self.rng.random_range(0..4)];
            self.handler(region, unit)
                .filter(|d| Some(*d) != department)
        } else {
            None
        };
        let t = {
            let at0 = accepted + between(&mut self.rng, 5 * MINUTE, 2 * HOUR);
            office(&mut self.rng, at0)
        };
        let Some(mut at) = tl.push(
            t,
            CaseAction::Assign,
            Some(CaseStatus::Assigned),
            first_unit.or(department),
            None,
            None,
        ) else {
            return;
        };
        if first_unit.is_some() && department.is_some() {
            let t = {
                let at0 = at + between(&mut self.rng, HOUR, 30 * HOUR);
                office(&mut self.rng, at0)
            };
            let note = if leader_first {
                "领导批示：请相关部门认真办理"
            } else {
                "不属于本单位职责，申请转办"
            };
            match tl.push(
                t,
                CaseAction::Transfer,
                Some(CaseStatus::Assigned),
                department,
                None,
                Some(note.to_string()),
            ) {
                Some(t) => at = t,
                None => return,
            }
        }
        let t = {
            let at0 = at + rng_delay(self, 90 * MINUTE, DAY);
            office(&mut self.rng, at0)
        };
        let Some(claimed) = tl.push(
            t,
            CaseAction::Claim,
            Some(CaseStatus::InProgress),
            None,
            None,
            None,
        ) else {
            return;
        };
        if self.rng.random_bool(0.9) {
            let t = {
                let at0 = claimed + rng_delay(self, 50 * MINUTE, DAY);
                office(&mut self.rng, at0)
            };
            if tl
                .push(
                    t,
                    CaseAction::Respond,
                    None,
                    None,
                    None,
                    Some("已电话联系诉求人，了解详细情况".into()),
                )
                .is_none()
            {
                return;
            }
        }
        if repeat && self.rng.random_bool(0.5) {
            let t = claimed + between(&mut self.rng, 10 * MINUTE, 4 * HOUR);
            tl.push(
                t,
                CaseAction::Supervise,
                None,
                None,
                None,
                Some("重复反映未解决，列入督办".into()),
            );
        }

        // The first reply: on time, late, extended, or not at all within the window.
        let u: f64 = self.rng.random();
        let mut due_now = due;
        let reply_at = if u < mix::STUCK {
            None
        } else if u < mix::STUCK + mix::LATE {
            if self.rng.random_bool(mix::EXTENDED) {
                let t = (due - between(&mut self.rng, 6 * HOUR, 2 * DAY))
                    .max(claimed + TimeDelta::hours(1));
                let extended = self.calendar.add_working_days(due, 5);
                tl.push(
                    t,
                    CaseAction::Extend,
                    None,
                    None,
                    Some(extended),
                    Some("情况复杂，申请延期5个工作日".into()),
                );
                due_now = extended;
                Some(
                    due + between(
                        &mut self.rng,
                        HOUR,
                        (extended - due).num_seconds().max(HOUR),
                    ),
                )
            } else {
                Some(due + lognormal(&mut self.rng, 5.0 * DAY as f64, 1.2, 150.0 * DAY as f64))
            }
        } else {
            let span = (due - claimed).num_seconds().max(HOUR);
            let f: f64 = self.rng.random::<f64>().powf(1.4).clamp(0.02, 0.995);
            Some(
                office(
                    &mut self.rng,
                    claimed + TimeDelta::seconds((span as f64 * f) as i64),
                )
                .min(due),
            )
        };
        let late = reply_at.is_none_or(|r| r > due_now);
        let slow = reply_at.is_none_or(|r| r > due_now - TimeDelta::days(2));
        if slow {
            let t = (due_now - TimeDelta::days(1)).max(claimed + TimeDelta::hours(1));
            if reply_at.is_none_or(|r| t < r) {
                tl.push(
                    t,
                    CaseAction::Remind,
                    None,
                    None,
                    None,
                    Some("请于办理期限内答复".into()),
                );
            }
        }
        if late {
            let t = due_now + between(&mut self.rng, DAY, 3 * DAY);
            if reply_at.is_none_or(|r| t < r) {
                tl.push(
                    t,
                    CaseAction::Remind,
                    None,
                    None,
                    None,
                    Some("已超期，请尽快答复".into()),
                );
            }
            let t = due_now + between(&mut self.rng, 5 * DAY, 7 * DAY);
            if reply_at.is_none_or(|r| t < r) {
                tl.push(
                    t,
                    CaseAction::Supervise,
                    None,
                    None,
                    None,
                    Some("超期未答复，列入督办".into()),
                );
            }
        } else if !repeat && self.rng.random_bool(0.01) {
            let t = claimed + between(&mut self.rng, HOUR, DAY);
            if reply_at.is_none_or(|r| t < r) {
                tl.push(
                    t,
                    CaseAction::Supervise,
                    None,
                    None,
                    None,
                    Some("领导批示督办".into()),
                );
            }
        }
        let Some(reply_at) = reply_at else { return };
        let Some(replied) = tl.push(
            reply_at,
            CaseAction::Reply,
            Some(CaseStatus::Replied),
            None,
            None,
            None,
        ) else {
            return;
        };
        replies.push(text::reply(&mut self.rng, kind, 0));
        if self.rng.random_bool(mix::PUBLISHED) {
            let t = replied + between(&mut self.rng, 10 * MINUTE, DAY);
            tl.push(t, CaseAction::Publish, None, None, None, None);
        }

        let mut last = replied;
        let mut reopened = false;
        let mut round_late = late;
        loop {
            // The citizen's rating, then closing (or reopening after a dissatisfied one).
            let rated_share = if reopened { 0.55 } else { mix::RATED };
            let mut level = None;
            if self.rng.random_bool(rated_share) {
                let t = last + lognormal(&mut self.rng, DAY as f64, 1.0, 15.0 * DAY as f64);
                let shares: [u32; 3] = match (reopened, round_late) {
                    (true, _) => [52, 32, 16],
                    (false, false) => [66, 23, 11],
                    (false, true) => [42, 30, 28],
                };
                let l = weighted(
                    &mut self.rng,
                    &[
                        (RatingLevel::Satisfied, shares[0]),
                        (RatingLevel::BasicallySatisfied, shares[1]),
                        (RatingLevel::Dissatisfied, shares[2]),
                    ],
                );
                let Some(rated) = tl.push(
                    t,
                    CaseAction::Rate,
                    None,
                    None,
                    None,
                    Some(rating_label(l).into()),
                ) else {
                    return;
                };
                ratings.push(self.rating(case_id, l, rated));
                last = rated;
                level = Some(l);
            }
            let dissatisfied = level == Some(RatingLevel::Dissatisfied);
            let v: f64 = self.rng.random();
            let reopen_from_replied = dissatisfied && !reopened && v < 0.4;
            let reopen_after_close = dissatisfied && !reopened && (0.4..0.55).contains(&v);
            if !reopen_from_replied {
                let t = match level {
                    Some(_) => last + between(&mut self.rng, 30 * MINUTE, DAY),
                    None => last + between(&mut self.rng, 7 * DAY, 10 * DAY),
                };
                let note = if level.is_none() {
                    Some("回访期满，自动办结".to_string())
                } else {
                    None
                };
                let Some(closed) = tl.push(
                    t,
                    CaseAction::Close,
                    Some(CaseStatus::Closed),
                    None,
                    None,
                    note,
                ) else {
                    return;
                };
                last = closed;
                if !reopen_after_close {
                    if self.rng.random_bool(mix::ARCHIVED) {
                        let t = closed + between(&mut self.rng, 30 * DAY, 60 * DAY);
                        tl.push(
                            t,
                            CaseAction::Archive,
                            Some(CaseStatus::Archived),
                            None,
                            None,
                            None,
                        );
                    }
                    return;
                }
            }
            // Reopen with a fresh deadline; the second reply is mostly on time.
            let t = {
                let at0 = last + between(&mut self.rng, 2 * HOUR, 3 * DAY);
                office(&mut self.rng, at0)
            };
            let due2 = self.calendar.add_working_days(t, days);
            let Some(reopened_at) = tl.push(
                t,
                CaseAction::Reopen,
                Some(CaseStatus::InProgress),
                None,
                Some(due2),
                Some("诉求人不满意，重新办理".into()),
            ) else {
                return;
            };
            let t = if self.rng.random_bool(0.9) {
                let span = (due2 - reopened_at).num_seconds().max(HOUR);
                let f: f64 = self.rng.random::<f64>().clamp(0.05, 0.99);
                (reopened_at + TimeDelta::seconds((span as f64 * f) as i64)).min(due2)
            } else {
                due2 + lognormal(&mut self.rng, 3.0 * DAY as f64, 1.0, 60.0 * DAY as f64)
            };
            round_late = t > due2;
            let Some(replied) = tl.push(
                t,
                CaseAction::Reply,
                Some(CaseStatus::Replied),
                None,
                None,
                None,
            ) else {
                return;
            };
            replies.push(text::reply(&mut self.rng, kind, 1));
            last = replied;
            reopened = true;
        }
    }

    fn rating(&mut self, case_id: i64, level: RatingLevel, at: DateTime<Utc>) -> rating::Model {
        let id = self.next.rating;
        self.next.rating += 1;
        let base: i16 = match level {
            RatingLevel::Satisfied => 5,
            RatingLevel::BasicallySatisfied => 4,
            RatingLevel::Dissatisfied => 2,
        };
        let score = |rng: &mut ChaCha8Rng| (base - rng.random_range(0..2)).clamp(1, 5);
        let detailed = self.rng.random_bool(0.7);
        let comment = self.rng.random_bool(0.3).then(|| {
            let options = match level {
                RatingLevel::Satisfied => &text::RATING_COMMENTS[0..2],
                RatingLevel::BasicallySatisfied => &text::RATING_COMMENTS[2..3],
                RatingLevel::Dissatisfied => &text::RATING_COMMENTS[3..5],
            };
            options[self.rng.random_range(0..options.len())].to_string()
        });
        rating::Model {
            id,
            case_id,
            level,
            timeliness: detailed.then(|| score(&mut self.rng)),
            attitude: detailed.then(|| score(&mut self.rng)),
            result: detailed.then(|| score(&mut self.rng)),
            comment,
            rated_at: at,
            public_comment: None,
        }
    }
}

fn rating_label(level: RatingLevel) -> &'static str {
    match level {
        RatingLevel::Satisfied => "满意",
        RatingLevel::BasicallySatisfied => "基本满意",
        RatingLevel::Dissatisfied => "不满意",
    }
}
